// Package dependency fetches the subcharts an extension declares with a
// repository into its charts/ directory, as "helm dependency build" (from
// Chart.lock) and "helm dependency update" (resolving the constraints again)
// do, with Helm's repository configuration (repositories.yaml) and index
// cache. It is written here rather than with Helm's downloader, which links
// kubectl and kustomize into the binary.
package dependency

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"sigs.k8s.io/yaml"

	"github.com/ksbuilder/ksbuilder/pkg/extension"
	"github.com/ksbuilder/ksbuilder/pkg/packager"
	"github.com/ksbuilder/ksbuilder/pkg/registry"
	"github.com/ksbuilder/ksbuilder/pkg/source"
)

// LockFile is Helm's lock of the dependencies, next to extension.yaml.
const LockFile = "Chart.lock"

// Options tune Build.
type Options struct {
	// Update resolves the version constraints again against the
	// repositories ("helm dependency update") and rewrites Chart.lock;
	// without it the locked versions are fetched ("helm dependency build").
	Update bool
	// RepositoryConfig is repositories.yaml; DefaultRepositoryConfig when "".
	RepositoryConfig string
	// RepositoryCache holds the indexes; DefaultRepositoryCache when "".
	RepositoryCache string
	// Registry are the settings for oci:// dependencies; its Timeout also
	// bounds stalls of chart repositories.
	Registry registry.Options
	// Progress, when set, is told what is downloaded and written.
	Progress func(format string, args ...any)
	// Now stamps a new Chart.lock; time.Now when nil.
	Now func() time.Time
	// InMemory leaves the extension directory alone: the subcharts and a
	// new Chart.lock are returned in the Result, not written, and older
	// archives are listed in Result.Removed, not deleted. Helm's index
	// cache is still refreshed.
	InMemory bool
}

func (o *Options) progress(format string, args ...any) {
	if o.Progress != nil {
		o.Progress(format, args...)
	}
}

// Result is what Build did.
type Result struct {
	// Written are the charts/ archives downloaded, by slash path.
	Written map[string][]byte
	// Kept are the archives that were already there with the same content.
	Kept []string
	// Removed are older archives of the same charts, deleted.
	Removed []string
	// Lock is the new Chart.lock, when one was written.
	Lock []byte
}

// IsRemote reports whether a dependency's repository is a chart
// repository or a registry: neither empty (a subchart under charts/) nor
// file:// (a chart directory on disk).
func IsRemote(repository string) bool {
	r := strings.TrimSpace(repository)
	return r != "" && !strings.HasPrefix(r, "file://")
}

// Prepare fetches the remote dependencies of the extension directory src
// and adds them (and a new Chart.lock) to src, so the package holds them.
// It does nothing, beyond looking for the word "repository" in
// extension.yaml, for an archive, an extension without remote
// dependencies, or one without Chart.lock that already holds every remote
// subchart under charts/ (vendored; unless opts.Update), and leaves an
// extension.yaml with errors to the packager, which reports them.
func Prepare(ctx context.Context, src *source.Source, opts Options) (*Result, error) {
	if src.Kind != source.Directory {
		return nil, nil
	}
	data, ok := src.Read(extension.MetadataFile)
	if !ok || !bytes.Contains(data, []byte("repository")) {
		return nil, nil
	}
	ext, diags := packager.Validate(src)
	if ext == nil || diags.HasErrors() {
		return nil, nil
	}
	remote, vendored := false, true
	for _, d := range ext.Dependencies {
		if IsRemote(d.Repository) {
			remote = true
			vendored = vendored && hasSubchart(src, d.Name)
		}
	}
	if !remote || vendored && !opts.Update && !src.HasFile(LockFile) {
		return nil, nil
	}
	res, err := Build(ctx, src.Path, ext, opts)
	if err != nil {
		return nil, err
	}
	res.AddTo(src)
	return res, nil
}

// AddTo makes src what Build left on disk: the older archives removed,
// the archives downloaded and the new Chart.lock added (but for files
// .helmignore hides). Prepare calls it; a caller that keeps a Result can
// add it again to a source read later from the same directory.
func (r *Result) AddTo(src *source.Source) {
	if r == nil {
		return
	}
	for _, name := range r.Removed {
		src.Remove(name)
	}
	for name, data := range r.Written {
		if _, _, hidden := src.HiddenBy(name); !hidden {
			src.Write(name, data)
		}
	}
	if r.Lock != nil {
		if _, _, hidden := src.HiddenBy(LockFile); !hidden {
			src.Write(LockFile, r.Lock)
		}
	}
}

// hasSubchart reports whether charts/ holds the chart name: as the
// directory charts/NAME or an archive charts/NAME-VERSION.tgz.
func hasSubchart(src *source.Source, name string) bool {
	if src.HasDir("charts/" + name) {
		return true
	}
	for _, f := range src.Names() {
		if dir, base := path.Split(f); dir == "charts/" && archiveChartName(base) == name {
			return true
		}
	}
	return false
}

// Build fetches the remote dependencies of the extension in dir into
// dir/charts as NAME-VERSION.tgz: the versions of Chart.lock, or, with
// opts.Update or without a Chart.lock, the newest versions matching the
// constraints, then written to Chart.lock as Helm writes it. Archives
// already there with the same content are kept; older versions of the same
// charts are removed. Everything is downloaded and checked before anything
// is written, and every file is written whole (a temporary file renamed).
func Build(ctx context.Context, dir string, ext *extension.Extension, opts Options) (*Result, error) {
	if opts.RepositoryConfig == "" {
		opts.RepositoryConfig = DefaultRepositoryConfig()
	}
	if opts.RepositoryCache == "" {
		opts.RepositoryCache = DefaultRepositoryCache()
	}
	cfg, err := loadRepoConfig(opts.RepositoryConfig)
	if err != nil {
		return nil, err
	}
	req, err := requirements(ext)
	if err != nil {
		return nil, err
	}
	if err := resolveNames(ext, req, cfg); err != nil {
		return nil, err
	}
	lock, err := readLock(dir)
	if err != nil {
		return nil, err
	}
	b := &builder{dir: dir, cfg: cfg, opts: opts, indexes: map[string]*index{}}
	if lock != nil && !opts.Update {
		if sum := hashReq(req, lock.Dependencies); sum != lock.Digest {
			return nil, &OutOfSyncError{}
		}
		return b.download(ctx, lock.Dependencies)
	}
	if err := b.refresh(ctx, req); err != nil {
		return nil, err
	}
	locked, err := b.resolve(ctx, ext, req)
	if err != nil {
		return nil, err
	}
	res, err := b.download(ctx, locked)
	if err != nil {
		return nil, err
	}
	digest := hashReq(req, locked)
	if lock != nil && lock.Digest == digest {
		return res, nil // unchanged, as Helm leaves it
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	data, err := yaml.Marshal(&chart.Lock{Generated: now(), Digest: digest, Dependencies: locked})
	if err != nil {
		return nil, err
	}
	res.Lock = data
	if opts.InMemory {
		return res, nil
	}
	if err := writeAtomic(filepath.Join(dir, LockFile), data); err != nil {
		return nil, err
	}
	opts.progress("Wrote %s", LockFile)
	return res, nil
}

// OutOfSyncError is a Chart.lock that does not match the dependencies of
// extension.yaml.
type OutOfSyncError struct{}

func (e *OutOfSyncError) Error() string {
	return LockFile + " is out of sync with the dependencies of extension.yaml (its digest differs); resolve them again with --dependency-update"
}

// requirements are the dependencies as Helm reads them from the generated
// Chart.yaml.
func requirements(ext *extension.Extension) ([]*chart.Dependency, error) {
	data, err := json.Marshal(ext.ChartMetadata("").Dependencies)
	if err != nil {
		return nil, err
	}
	var deps []*chart.Dependency
	err = json.Unmarshal(data, &deps)
	return deps, err
}

// resolveNames replaces "@NAME" and "alias:NAME" repositories with the
// URL repositories.yaml gives, as Helm does before hashing.
func resolveNames(ext *extension.Extension, req []*chart.Dependency, cfg *repoConfig) error {
	for i, d := range req {
		if !IsRemote(d.Repository) || registry.IsOCI(d.Repository) {
			continue
		}
		field := fmt.Sprintf("dependencies[%d].repository", i)
		line, _ := ext.Position(field)
		where := fmt.Sprintf("%s:%d: %s", extension.MetadataFile, line, field)
		name, named := strings.CutPrefix(d.Repository, "@")
		if !named {
			name, named = strings.CutPrefix(d.Repository, "alias:")
		}
		if named {
			entry := cfg.byName(name)
			if entry == nil {
				return fmt.Errorf("%s: no repository named %q in %s (add it with \"helm repo add %s URL\")", where, name, cfg.file, name)
			}
			d.Repository = entry.URL
			continue
		}
		if u, err := url.ParseRequestURI(d.Repository); err != nil || u.Host == "" || u.Scheme != "http" && u.Scheme != "https" {
			return fmt.Errorf("%s: %q is neither a URL (https://..., oci://...) nor a repository name (@NAME)", where, d.Repository)
		}
	}
	return nil
}

// readLock reads Chart.lock; nil when there is none.
func readLock(dir string) (*chart.Lock, error) {
	file := filepath.Join(dir, LockFile)
	data, err := readBounded(file, maxIndexSize)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var lock chart.Lock
	if err := yaml.Unmarshal(data, &lock); err != nil {
		return nil, fmt.Errorf("%s: %s (resolve the dependencies again with --dependency-update)", file, strings.ReplaceAll(err.Error(), "\n", " "))
	}
	for i, d := range lock.Dependencies {
		if d == nil || d.Name == "" {
			return nil, fmt.Errorf("%s: dependencies[%d] has no name (resolve the dependencies again with --dependency-update)", file, i)
		}
	}
	return &lock, nil
}

// hashReq is Helm's digest of the dependencies and their lock: the SHA-256
// of the JSON array [requirements, locked].
func hashReq(req, lock []*chart.Dependency) string {
	data, _ := json.Marshal([2][]*chart.Dependency{req, lock}) // plain data: cannot fail
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// builder holds what one Build shares between dependencies.
type builder struct {
	dir     string
	cfg     *repoConfig
	opts    Options
	indexes map[string]*index // by repository URL
	oci     *registry.Client
}

// entry is the repositories.yaml entry of a URL, or one with the URL alone.
func (b *builder) entry(repoURL string) (e *repoEntry, named bool) {
	if e := b.cfg.byURL(repoURL); e != nil {
		return e, true
	}
	return &repoEntry{URL: repoURL}, false
}

// cacheFile is Helm's cached index of a named repository.
func (b *builder) cacheFile(name string) string {
	return filepath.Join(b.opts.RepositoryCache, name+"-index.yaml")
}

// refresh downloads the index of every named repository the dependencies
// use into Helm's cache. A repository that cannot be reached keeps its
// cached index (with a note); without one, the error stands.
func (b *builder) refresh(ctx context.Context, req []*chart.Dependency) error {
	done := map[string]bool{}
	for _, d := range req {
		if !IsRemote(d.Repository) || registry.IsOCI(d.Repository) {
			continue
		}
		e, named := b.entry(d.Repository)
		if !named || done[e.Name] {
			continue
		}
		done[e.Name] = true
		f, err := newFetcher(e, b.opts.Registry)
		if err != nil {
			return err
		}
		data, err := f.get(ctx, f.indexURL(), maxIndexSize)
		if err == nil {
			var idx *index
			if idx, err = parseIndex(data, f.indexURL()); err == nil {
				b.indexes[e.URL] = idx
				if err := os.MkdirAll(b.opts.RepositoryCache, 0o755); err != nil {
					return err
				}
				if err := writeAtomic(b.cacheFile(e.Name), data); err != nil {
					return err
				}
				continue
			}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if _, statErr := os.Stat(b.cacheFile(e.Name)); statErr != nil {
			return err
		}
		b.opts.progress("Could not update repository %s, using its cached index: %v", e.label(), err)
	}
	return nil
}

// index returns the index of a repository: a named one's from Helm's
// cache, another's downloaded.
func (b *builder) index(ctx context.Context, e *repoEntry, named bool) (*index, error) {
	if idx, ok := b.indexes[e.URL]; ok {
		return idx, nil
	}
	var idx *index
	if named {
		file := b.cacheFile(e.Name)
		data, err := readBounded(file, maxIndexSize)
		if errors.Is(err, os.ErrNotExist) {
			return nil, &Error{Kind: NoCache, Repository: e.label(), Err: fmt.Errorf("no cached index %s (run \"helm repo update %s\", or pass --dependency-update, when online)", file, e.Name)}
		}
		if err != nil {
			return nil, &Error{Repository: e.label(), Err: err}
		}
		if idx, err = parseIndex(data, file); err != nil {
			return nil, &Error{Repository: e.label(), Err: fmt.Errorf("%w (run \"helm repo update %s\")", err, e.Name)}
		}
	} else {
		f, err := newFetcher(e, b.opts.Registry)
		if err != nil {
			return nil, err
		}
		data, err := f.get(ctx, f.indexURL(), maxIndexSize)
		if err != nil {
			return nil, err
		}
		if idx, err = parseIndex(data, f.indexURL()); err != nil {
			return nil, &Error{Repository: e.label(), Err: err}
		}
	}
	b.indexes[e.URL] = idx
	return idx, nil
}

// resolve locks every dependency as Helm's resolver does: a subchart under
// charts/ keeps its constraint, a file:// chart its version, a chart of a
// repository or a registry the newest version matching the constraint
// (from the cached index of a repository of repositories.yaml, the
// downloaded index of another).
func (b *builder) resolve(ctx context.Context, ext *extension.Extension, req []*chart.Dependency) ([]*chart.Dependency, error) {
	locked := make([]*chart.Dependency, len(req))
	var missing []string
	for i, d := range req {
		if d.Repository == "" && d.Version == "" {
			// A subchart under charts/ without a constraint, as the
			// scaffold writes them: Helm's update refuses it; it is
			// locked at the version it has, which Helm's build accepts.
			v, err := vendoredVersion(b.dir, d.Name)
			if err != nil {
				field := fmt.Sprintf("dependencies[%d]", i)
				line, _ := ext.Position(field)
				return nil, fmt.Errorf("%s:%d: %s: subchart %q has no version and %v (give it a version constraint, e.g. version: \">=0.0.0-0\")", extension.MetadataFile, line, field, d.Name, err)
			}
			locked[i] = &chart.Dependency{Name: d.Name, Version: v}
			continue
		}
		constraint, err := semver.NewConstraint(d.Version)
		if err != nil {
			field := fmt.Sprintf("dependencies[%d].version", i)
			line, _ := ext.Position(field)
			return nil, fmt.Errorf("%s:%d: %s: %q is not a version or a constraint (e.g. 1.2.3, ^1.2.0, ~1.2)", extension.MetadataFile, line, field, d.Version)
		}
		locked[i] = &chart.Dependency{Name: d.Name, Repository: d.Repository, Version: d.Version}
		switch {
		case d.Repository == "":
		case strings.HasPrefix(d.Repository, "file://"):
			p := strings.TrimPrefix(d.Repository, "file://")
			if !filepath.IsAbs(p) {
				p = filepath.Join(b.dir, p)
			}
			ch, err := loader.LoadDir(p)
			if err != nil {
				return nil, fmt.Errorf("dependency %q (%s): %w", d.Name, d.Repository, err)
			}
			v, err := semver.NewVersion(ch.Metadata.Version)
			if err != nil {
				continue
			}
			if !constraint.Check(v) {
				missing = append(missing, fmt.Sprintf("%q (repository %q, version %q)", d.Name, d.Repository, d.Version))
			}
			locked[i].Version = ch.Metadata.Version
		case registry.IsOCI(d.Repository):
			if _, err := semver.NewVersion(d.Version); err == nil {
				continue // an explicit version: its tag
			}
			tags, err := b.ociTags(d)
			if err != nil {
				return nil, err
			}
			found := false
			for _, t := range tags {
				if v, err := semver.NewVersion(t); err == nil && constraint.Check(v) {
					locked[i].Version, found = v.Original(), true
					break
				}
			}
			if !found {
				missing = append(missing, fmt.Sprintf("%q (repository %q, version %q)", d.Name, d.Repository, d.Version))
			}
		default:
			e, named := b.entry(d.Repository)
			idx, err := b.index(ctx, e, named)
			if err != nil {
				return nil, err
			}
			if _, ok := idx.Entries[d.Name]; !ok {
				return nil, &Error{Repository: e.label(), Err: fmt.Errorf("no chart %q in its index", d.Name)}
			}
			found := false
			for _, v := range idx.Entries[d.Name] {
				if len(v.URLs) > 0 && constraint.Check(v.semver) {
					locked[i].Version, found = v.semver.Original(), true
					break
				}
			}
			if !found {
				missing = append(missing, fmt.Sprintf("%q (repository %q, version %q)", d.Name, d.Repository, d.Version))
			}
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("no version matches for %d subchart(s): %s (check that the repository has a matching version, or change the constraint in extension.yaml)", len(missing), strings.Join(missing, ", "))
	}
	return locked, nil
}

// ociClient is the registry client, made once.
func (b *builder) ociClient() (*registry.Client, error) {
	if b.oci == nil {
		c, err := registry.New(b.opts.Registry)
		if err != nil {
			return nil, err
		}
		b.oci = c
	}
	return b.oci, nil
}

// ociRef is the reference of a dependency in a registry.
func ociRef(d *chart.Dependency) (registry.Reference, error) {
	repo, err := registry.ParseReference(strings.TrimSuffix(d.Repository, "/"))
	if err != nil {
		return registry.Reference{}, fmt.Errorf("dependency %q: %w", d.Name, err)
	}
	if repo.Tag != "" || repo.Digest != "" {
		return registry.Reference{}, fmt.Errorf("dependency %q: repository %s names a tag or digest; give the repository and put the version in version", d.Name, d.Repository)
	}
	return repo.Child(d.Name), nil
}

func (b *builder) ociTags(d *chart.Dependency) ([]string, error) {
	ref, err := ociRef(d)
	if err != nil {
		return nil, err
	}
	c, err := b.ociClient()
	if err != nil {
		return nil, err
	}
	return c.Tags(ref)
}

// fetched is a chart downloaded and checked, not yet written.
type fetched struct {
	name string // charts/NAME-VERSION.tgz
	data []byte
}

// download fetches the remote dependencies of a lock into memory, checks
// them, then writes them and removes the older versions of the same charts.
func (b *builder) download(ctx context.Context, deps []*chart.Dependency) (*Result, error) {
	res := &Result{Written: map[string][]byte{}}
	var todo []fetched
	names := map[string]bool{}
	for _, d := range deps {
		if d == nil || !IsRemote(d.Repository) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		f, kept, err := b.fetch(ctx, d)
		if err != nil {
			return nil, err
		}
		names[d.Name] = true
		if kept {
			res.Kept = append(res.Kept, f.name)
			continue
		}
		todo = append(todo, f)
	}
	if len(todo) == 0 && len(res.Kept) == 0 {
		return res, nil
	}
	charts := filepath.Join(b.dir, "charts")
	if !b.opts.InMemory {
		if err := os.MkdirAll(charts, 0o755); err != nil {
			return nil, err
		}
	}
	for _, f := range todo {
		if !b.opts.InMemory {
			if err := writeAtomic(filepath.Join(b.dir, filepath.FromSlash(f.name)), f.data); err != nil {
				return nil, err
			}
		}
		res.Written[f.name] = f.data
	}
	keep := map[string]bool{}
	for _, f := range todo {
		keep[f.name] = true
	}
	for _, k := range res.Kept {
		keep[k] = true
	}
	entries, err := os.ReadDir(charts)
	if err != nil && !(b.opts.InMemory && errors.Is(err, os.ErrNotExist)) {
		return nil, err
	}
	for _, e := range entries {
		name := "charts/" + e.Name()
		if e.IsDir() || keep[name] || !names[archiveChartName(e.Name())] {
			continue
		}
		if !b.opts.InMemory {
			if err := os.Remove(filepath.Join(charts, e.Name())); err != nil {
				return nil, err
			}
			b.opts.progress("Removed %s, an older version", name)
		}
		res.Removed = append(res.Removed, name)
	}
	sort.Strings(res.Removed)
	return res, nil
}

// vendoredVersion is the version of the subchart name under dir/charts:
// the directory charts/NAME or an archive charts/NAME-VERSION.tgz.
func vendoredVersion(dir, name string) (string, error) {
	charts := filepath.Join(dir, "charts")
	if ch, err := loader.LoadDir(filepath.Join(charts, name)); err == nil {
		return ch.Metadata.Version, nil
	}
	entries, _ := os.ReadDir(charts)
	for _, e := range entries {
		if stem, ok := strings.CutSuffix(e.Name(), ".tgz"); ok && !e.IsDir() && archiveChartName(e.Name()) == name {
			return strings.TrimPrefix(stem, name+"-"), nil
		}
	}
	return "", fmt.Errorf("is not under charts/")
}

// archiveChartName is the NAME of NAME-VERSION.tgz (VERSION a semantic
// version), "" for other names.
func archiveChartName(base string) string {
	stem, ok := strings.CutSuffix(base, ".tgz")
	for i := 1; ok && i < len(stem); i++ {
		if stem[i-1] != '-' {
			continue
		}
		if _, err := semver.StrictNewVersion(strings.TrimPrefix(stem[i:], "v")); err == nil {
			return stem[:i-1]
		}
	}
	return ""
}

// fetch gets one dependency: kept when charts/ already has it with the
// same content, else downloaded and checked.
func (b *builder) fetch(ctx context.Context, d *chart.Dependency) (fetched, bool, error) {
	if registry.IsOCI(d.Repository) {
		return b.fetchOCI(d)
	}
	e, named := b.entry(d.Repository)
	exact := exactVersion(d.Version)
	target := ""
	var have []byte
	if exact {
		target = "charts/" + d.Name + "-" + d.Version + ".tgz"
		have, _ = readBounded(filepath.Join(b.dir, filepath.FromSlash(target)), maxChartSize)
		if have != nil && (!named || b.cachedDigestMatches(ctx, e, d, have)) && checkChart(have, target, d.Name, d.Version) == nil {
			return fetched{name: target}, true, nil
		}
	}
	idx, err := b.index(ctx, e, named)
	if err != nil {
		return fetched{}, false, err
	}
	v, err := idx.find(d.Name, d.Version)
	if err != nil {
		return fetched{}, false, &Error{Kind: NotFound, Repository: e.label(), Err: fmt.Errorf("%s %s: %w (run with --dependency-update to resolve the versions again)", d.Name, d.Version, err)}
	}
	target = "charts/" + d.Name + "-" + v.Version + ".tgz"
	f, err := newFetcher(e, b.opts.Registry)
	if err != nil {
		return fetched{}, false, err
	}
	u, err := f.chartURL(v.URLs[0])
	if err != nil {
		return fetched{}, false, &Error{Repository: e.label(), Err: err}
	}
	b.opts.progress("Downloading %s %s from repository %s", d.Name, v.Version, e.label())
	data, err := f.get(ctx, u, maxChartSize)
	if err != nil {
		return fetched{}, false, err
	}
	if v.Digest != "" && sha256Hex(data) != strings.TrimPrefix(v.Digest, "sha256:") {
		return fetched{}, false, &Error{Repository: e.label(), URL: u, Err: fmt.Errorf("checksum mismatch: the index gives sha256 %s, the download is %s", v.Digest, sha256Hex(data))}
	}
	if err := checkChart(data, u, d.Name, v.Version); err != nil {
		return fetched{}, false, &Error{Repository: e.label(), Err: err}
	}
	return fetched{name: target, data: data}, false, nil
}

// cachedDigestMatches reports whether the index (only when at hand without
// the network: cached or fetched already) gives data's digest for the
// dependency, or gives none.
func (b *builder) cachedDigestMatches(ctx context.Context, e *repoEntry, d *chart.Dependency, data []byte) bool {
	idx, err := b.index(ctx, e, true)
	if err != nil {
		return true // offline: what is there was checked when written
	}
	v, err := idx.find(d.Name, d.Version)
	if err != nil || v.Digest == "" {
		return true // nothing to compare with: keep what was locked
	}
	return strings.TrimPrefix(v.Digest, "sha256:") == sha256Hex(data)
}

// fetchOCI pulls a dependency from a registry, or keeps the archive there.
func (b *builder) fetchOCI(d *chart.Dependency) (fetched, bool, error) {
	target := "charts/" + d.Name + "-" + d.Version + ".tgz"
	if have, _ := readBounded(filepath.Join(b.dir, filepath.FromSlash(target)), maxChartSize); have != nil && checkChart(have, target, d.Name, d.Version) == nil {
		return fetched{name: target}, true, nil
	}
	ref, err := ociRef(d)
	if err != nil {
		return fetched{}, false, err
	}
	c, err := b.ociClient()
	if err != nil {
		return fetched{}, false, err
	}
	ref = ref.WithTag(d.Version)
	b.opts.progress("Pulling %s", ref)
	pulled, err := c.Pull(ref)
	if err != nil {
		return fetched{}, false, err
	}
	if err := checkChart(pulled.Data, ref.String(), d.Name, d.Version); err != nil {
		return fetched{}, false, err
	}
	return fetched{name: target, data: pulled.Data}, false, nil
}

// exactVersion reports whether a locked version is a version rather than
// the constraint Helm locks for a repository it does not know.
func exactVersion(v string) bool {
	_, err := semver.StrictNewVersion(strings.TrimPrefix(v, "v"))
	return err == nil
}

// checkChart reads a chart archive within the reader's limits and checks
// that it is the chart named, at the version named.
func checkChart(data []byte, what, name, version string) error {
	src, err := source.ReadArchive(bytes.NewReader(data), what, source.DefaultLimits)
	if err != nil {
		return err
	}
	chartYAML, ok := src.Read("Chart.yaml")
	if !ok {
		return fmt.Errorf("%s: not a chart: no Chart.yaml", what)
	}
	var md chart.Metadata
	if err := yaml.Unmarshal(chartYAML, &md); err != nil {
		return fmt.Errorf("%s: Chart.yaml: %s", what, strings.ReplaceAll(err.Error(), "\n", " "))
	}
	want, err := semver.NewVersion(version)
	got, gotErr := semver.NewVersion(md.Version)
	if md.Name != name || err != nil || gotErr != nil || !want.Equal(got) {
		return fmt.Errorf("%s: holds chart %s %s, not %s %s", what, md.Name, md.Version, name, version)
	}
	return nil
}

// writeAtomic writes a file through a temporary file in its directory,
// renamed over it: readers see the old content or the new, never a part.
func writeAtomic(file string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(file), source.TempFilePattern(os.Getpid(), path.Base(filepath.ToSlash(file))))
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a successful rename, a no-op
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), file)
}
