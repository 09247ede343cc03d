package repo

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"sigs.k8s.io/yaml"

	"github.com/ksbuilder/ksbuilder/pkg/source"

	"github.com/ksbuilder/ksbuilder/pkg/config"
)

// The index is written here rather than with helm.sh/helm/v3/pkg/repo:
// that package links Helm's downloaders and through them kubectl,
// kustomize and every typed Kubernetes client, whose initialisation every
// ksbuilder command would pay at start-up. The format is Helm's.

// indexFile is a Helm repository's index.yaml.
type indexFile struct {
	ServerInfo  map[string]any             `json:"serverInfo,omitempty"`
	APIVersion  string                     `json:"apiVersion"`
	Generated   time.Time                  `json:"generated"`
	Entries     map[string][]*chartVersion `json:"entries"`
	PublicKeys  []string                   `json:"publicKeys,omitempty"`
	Annotations map[string]string          `json:"annotations,omitempty"`
}

// chartVersion is one package of the index: the chart's metadata and
// where to download it.
type chartVersion struct {
	*chart.Metadata
	URLs    []string  `json:"urls"`
	Created time.Time `json:"created,omitempty"`
	Removed bool      `json:"removed,omitempty"`
	Digest  string    `json:"digest,omitempty"`
	// Fields of older indexes, kept when an index is merged.
	Checksum      string `json:"checksum,omitempty"`
	Engine        string `json:"engine,omitempty"`
	TillerVersion string `json:"tillerVersion,omitempty"`
	URL           string `json:"url,omitempty"`
}

// indexDirectory indexes the chart packages (*.tgz) of opts.Dir and of
// its subdirectories one level down, served under opts.URL (relative URLs
// without it). Files that are not charts are recorded in res.Skipped; a
// chart whose metadata is invalid is an error.
func indexDirectory(opts Options, res *Result) (*indexFile, error) {
	top, err := filepath.Glob(filepath.Join(opts.Dir, "*.tgz"))
	if err != nil {
		return nil, err
	}
	nested, err := filepath.Glob(filepath.Join(opts.Dir, "*", "*.tgz"))
	if err != nil {
		return nil, err
	}
	index := &indexFile{APIVersion: "v1", Entries: map[string][]*chartVersion{}}
	for _, archive := range append(top, nested...) {
		rel, err := filepath.Rel(opts.Dir, archive)
		if err != nil {
			return nil, err
		}
		skip := func(reason string) { res.Skipped = append(res.Skipped, Skipped{Path: archive, Reason: reason}) }
		if info, err := os.Stat(archive); err == nil && info.Size() > source.DefaultLimits.MaxTotalSize {
			skip(fmt.Sprintf("%d bytes is larger than any chart Helm installs", info.Size()))
			continue
		}
		data, err := os.ReadFile(archive)
		if err != nil {
			skip(err.Error())
			continue
		}
		// The bounded reader first: Helm's loader expands nested chart
		// archives without limits of ours.
		if _, err := source.ReadArchive(bytes.NewReader(data), archive, source.DefaultLimits); err != nil {
			skip("not a chart: " + strings.TrimPrefix(err.Error(), archive+": "))
			continue
		}
		c, err := loader.LoadArchive(bytes.NewReader(data))
		if err != nil {
			skip("not a chart: " + err.Error())
			continue
		}
		created := opts.Stamp
		if created.IsZero() {
			if created, err = packageTime(archive, data); err != nil {
				skip("not a chart: " + err.Error())
				continue
			}
		}
		md := c.Metadata
		if md.APIVersion == "" {
			md.APIVersion = chart.APIVersionV1
		}
		if err := md.Validate(); err != nil {
			return nil, fmt.Errorf("%s: %w", rel, err)
		}
		sum := sha256.Sum256(data)
		u, err := joinURL(opts.URL, filepath.ToSlash(rel))
		if err != nil {
			return nil, err
		}
		index.Entries[md.Name] = append(index.Entries[md.Name], &chartVersion{Metadata: md, URLs: []string{u},
			Digest: hex.EncodeToString(sum[:]), Created: created.UTC().Truncate(time.Second)})
	}
	return index, nil
}

// packageTime is the newest modification time in a package, or the
// file's own when the package has none (ksbuilder package without
// SOURCE_DATE_EPOCH stamps every entry with the Unix epoch).
func packageTime(path string, data []byte) (time.Time, error) {
	t, err := newestModTime(data)
	if err != nil || t.Unix() > 0 {
		return t, err
	}
	info, err := os.Stat(path)
	if err != nil {
		return time.Time{}, err
	}
	return info.ModTime(), nil
}

// newestModTime is the newest modification time of the entries of a
// gzipped tar archive.
func newestModTime(data []byte) (time.Time, error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return time.Time{}, err
	}
	tr := tar.NewReader(zr)
	var newest time.Time
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return newest, nil
		}
		if err != nil {
			return time.Time{}, err
		}
		if h.ModTime.After(newest) {
			newest = h.ModTime
		}
	}
}

// loadIndexFile reads an index.yaml (or its JSON form), leaving out, and
// listing, the entries Helm would skip (empty ones and those with invalid
// metadata) and those filed under another chart's name, which KubeSphere
// skips.
func loadIndexFile(name string) (*indexFile, []Skipped, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, nil, err
	}
	if len(data) == 0 {
		return nil, nil, fmt.Errorf("%s is empty", name)
	}
	index := &indexFile{}
	if json.Valid(data) {
		err = json.Unmarshal(data, index)
	} else {
		err = yaml.UnmarshalStrict(data, index)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	if index.APIVersion == "" {
		return nil, nil, fmt.Errorf("%s: no apiVersion", name)
	}
	var skipped []Skipped
	for _, chartName := range sortedKeys(index.Entries) {
		index.Entries[chartName] = slices.DeleteFunc(index.Entries[chartName], func(v *chartVersion) bool {
			if v == nil || v.Metadata == nil {
				skipped = append(skipped, Skipped{Path: name, Entry: chartName, Reason: "empty entry"})
				return true
			}
			if v.Name != chartName {
				skipped = append(skipped, Skipped{Path: name, Entry: chartName + " " + v.Version,
					Reason: fmt.Sprintf("its chart is named %q: KubeSphere skips it", v.Name)})
				return true
			}
			if v.APIVersion == "" {
				v.APIVersion = chart.APIVersionV1
			}
			if err := v.Validate(); skippedEntry(err) {
				skipped = append(skipped, Skipped{Path: name, Entry: chartName + " " + v.Version, Reason: err.Error()})
				return true
			}
			return false
		})
	}
	return index, skipped, nil
}

// sortedKeys lists the chart names of an index in order.
func sortedKeys(m map[string][]*chartVersion) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// skippedEntry reports whether an entry failing validation with err is
// left out; Helm keeps entries whose only problem is duplicate dependency
// names (some repositories strip the aliases).
func skippedEntry(err error) bool {
	var verr chart.ValidationError
	if err == nil || (errors.As(err, &verr) && strings.HasPrefix(verr.Error(), "validation: more than one dependency with name or alias")) {
		return false
	}
	return true
}

// merge adds the entries of old that index does not have, in a fixed
// order.
func (index *indexFile) merge(old *indexFile) {
	for _, name := range sortedKeys(old.Entries) {
		for _, v := range old.Entries[name] {
			if !index.has(v.Name, v.Version) {
				index.Entries[v.Name] = append(index.Entries[v.Name], v)
			}
		}
	}
}

// has reports whether the index holds the version of a chart, the same
// string or a semantic version that the string, as a constraint, allows.
func (index *indexFile) has(name, version string) bool {
	versions := index.Entries[name]
	for _, v := range versions {
		if v.Version == version {
			return true
		}
	}
	constraint, err := semver.NewConstraint(version)
	if err != nil {
		return false
	}
	for _, v := range versions {
		if sv, err := semver.NewVersion(v.Version); err == nil && constraint.Check(sv) {
			return true
		}
	}
	return false
}

// sortEntries orders each chart's versions newest first; versions that are
// not semantic versions go last.
func (index *indexFile) sortEntries() {
	for _, versions := range index.Entries {
		slices.SortStableFunc(versions, func(a, b *chartVersion) int {
			va, errA := semver.NewVersion(a.Version)
			vb, errB := semver.NewVersion(b.Version)
			switch {
			case errA != nil && errB != nil:
				return 0
			case errA != nil:
				return 1
			case errB != nil:
				return -1
			}
			return vb.Compare(va)
		})
	}
}

// newestCreated is the newest created time of the entries.
func (index *indexFile) newestCreated() time.Time {
	var newest time.Time
	for _, versions := range index.Entries {
		for _, v := range versions {
			if v.Created.After(newest) {
				newest = v.Created
			}
		}
	}
	return newest.UTC()
}

// writeFile writes the index as YAML, atomically.
func (index *indexFile) writeFile(name string) error {
	data, err := yaml.Marshal(index)
	if err != nil {
		return err
	}
	return config.WriteFileAtomic(name, data, 0o644)
}

// joinURL appends a slash-separated relative path to a base URL's path.
func joinURL(base, rel string) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	u.Path = path.Join(u.Path, rel)
	return u.String(), nil
}
