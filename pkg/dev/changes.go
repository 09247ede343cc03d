package dev

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"helm.sh/helm/v3/pkg/ignore"
	"k8s.io/utils/clock"

	"github.com/ksbuilder/ksbuilder/pkg/source"
)

// change is one changed file that matters.
type change struct {
	// Name is the file relative to the extension directory (slash
	// separated), or its absolute path for a values file outside it.
	Name string
	// Values is true for the top chart's values.yaml, the values files
	// given with -f and the files given with --set-file: changing only
	// those updates the InstallPlan's config.
	Values bool
	// Frontend is true for the bundle file given with --frontend: changing
	// only that updates the bundle's ConfigMap.
	Frontend bool
	// Clusters are the clusters a per-cluster values file
	// (--cluster-values) gives values to.
	Clusters []string
}

// valuesFile is the top chart's values, the one file whose change only
// needs a new config.
const valuesFile = "values.yaml"

// filter decides which changed paths matter: not ignored by .helmignore
// (and source's built-in rules), not an editor's temporary file, inside
// the extension directory or one of the values files (-f, --set-file).
type filter struct {
	root       string
	valueFiles map[string]bool
	// clusterFiles are the per-cluster values files (--cluster-values),
	// absolute, with the clusters each gives values to.
	clusterFiles map[string][]string
	// frontend is the bundle file (--frontend), absolute; "" for none.
	frontend string

	mu    sync.Mutex
	rules *source.IgnoreRules
}

// newFilter reads the extension's .helmignore. valueFiles are absolute.
func newFilter(root string, valueFiles []string) (*filter, error) {
	f := &filter{root: root, valueFiles: map[string]bool{}, clusterFiles: map[string][]string{}}
	for _, v := range valueFiles {
		f.valueFiles[filepath.Clean(v)] = true
	}
	return f, f.reload()
}

// reload reads .helmignore again.
func (f *filter) reload() error {
	data, err := os.ReadFile(filepath.Join(f.root, ignore.HelmIgnore))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	rules, err := source.ParseIgnore(data)
	if err != nil {
		return err
	}
	f.mu.Lock()
	f.rules = rules
	f.mu.Unlock()
	return nil
}

// match maps a changed absolute path to a change; ok is false when the
// path does not matter.
func (f *filter) match(p string) (change, bool) {
	p = filepath.Clean(p)
	if f.frontend != "" && p == f.frontend {
		name := p
		if rel, err := filepath.Rel(f.root, p); err == nil && within(f.root, p) {
			name = filepath.ToSlash(rel)
		}
		return change{Name: name, Frontend: true}, true
	}
	if clusters, isCluster := f.clusterFiles[p]; f.valueFiles[p] || isCluster {
		name := p
		if rel, err := filepath.Rel(f.root, p); err == nil && within(f.root, p) {
			name = filepath.ToSlash(rel)
		}
		return change{Name: name, Values: true, Clusters: clusters}, true
	}
	if !within(f.root, p) || p == f.root {
		return change{}, false
	}
	rel, err := filepath.Rel(f.root, p)
	if err != nil {
		return change{}, false
	}
	rel = filepath.ToSlash(rel)
	if editorTemp(path.Base(rel)) {
		return change{}, false
	}
	if rel == ignore.HelmIgnore {
		return change{Name: rel}, true
	}
	if f.ignored(rel) {
		return change{}, false
	}
	return change{Name: rel, Values: rel == valuesFile}, true
}

// rematch applies the current rules to a batch again: one matched before
// .helmignore was read again may hold files it now ignores.
func (f *filter) rematch(b batch) batch {
	var out batch
	for _, c := range b {
		p := c.Name
		if !filepath.IsAbs(p) {
			p = filepath.Join(f.root, filepath.FromSlash(p))
		}
		if c, ok := f.match(p); ok {
			out = append(out, c)
		}
	}
	return out
}

// ignored applies the ignore rules to a file and each directory above it.
func (f *filter) ignored(rel string) bool {
	f.mu.Lock()
	rules := f.rules
	f.mu.Unlock()
	parts := strings.Split(rel, "/")
	for i := 1; i < len(parts); i++ {
		if rules.Ignore(strings.Join(parts[:i], "/"), true) {
			return true
		}
	}
	return rules.Ignore(rel, false)
}

// skipDir reports whether a directory (absolute path) is not watched.
func (f *filter) skipDir(p string) bool {
	rel, err := filepath.Rel(f.root, p)
	if err != nil || rel == "." {
		return false
	}
	return f.dirIgnored(filepath.ToSlash(rel))
}

// dirIgnored applies the ignore rules to a directory and those above it.
func (f *filter) dirIgnored(rel string) bool {
	f.mu.Lock()
	rules := f.rules
	f.mu.Unlock()
	parts := strings.Split(rel, "/")
	for i := 1; i <= len(parts); i++ {
		if rules.Ignore(strings.Join(parts[:i], "/"), true) {
			return true
		}
	}
	return false
}

// editorTemp reports whether a file name is an editor's temporary or
// backup file: vim's swap files (*.swp, *.swx, ...) and its write test
// 4913, backups (*~), Emacs lock and auto-save files (.#*, #*#), and
// JetBrains' safe-write files.
func editorTemp(base string) bool {
	switch {
	case base == "4913",
		strings.HasSuffix(base, "~"),
		strings.HasPrefix(base, ".#"),
		strings.HasPrefix(base, "#") && strings.HasSuffix(base, "#"),
		strings.HasSuffix(base, "___jb_tmp___"), strings.HasSuffix(base, "___jb_old___"):
		return true
	}
	ext := path.Ext(base)
	return len(ext) == 4 && strings.HasPrefix(ext, ".sw") // .swp, .swo, .swx, ...
}

// batch is a debounced set of changes.
type batch []change

// valuesOnly reports whether every change is a values file.
func (b batch) valuesOnly() bool {
	for _, c := range b {
		if !c.Values {
			return false
		}
	}
	return len(b) > 0
}

// frontendOnly reports whether the only change is the bundle file.
func (b batch) frontendOnly() bool {
	for _, c := range b {
		if !c.Frontend {
			return false
		}
	}
	return len(b) > 0
}

// hasFrontend reports whether the bundle file is among the changes.
func (b batch) hasFrontend() bool {
	for _, c := range b {
		if c.Frontend {
			return true
		}
	}
	return false
}

// clusters lists the clusters whose values files changed, sorted.
func (b batch) clusters() []string {
	var out []string
	for _, c := range b {
		for _, cl := range c.Clusters {
			if !slices.Contains(out, cl) {
				out = append(out, cl)
			}
		}
	}
	sort.Strings(out)
	return out
}

// names lists the changed files, sorted.
func (b batch) names() []string {
	out := make([]string, len(b))
	for i, c := range b {
		out[i] = c.Name
	}
	sort.Strings(out)
	return out
}

// has reports whether a file is among the changes.
func (b batch) has(name string) bool {
	for _, c := range b {
		if c.Name == name {
			return true
		}
	}
	return false
}

// debounce collects changes from in and sends them to out as one batch
// once none has arrived for quiet. While out is not ready, changes keep
// being collected, and the quiet period starts again with each. It
// returns when ctx ends or in is closed (sending what is pending first).
func debounce(ctx context.Context, clk clock.Clock, quiet time.Duration, in <-chan change, out chan<- batch) {
	var (
		pending batch
		seen    = map[string]bool{}
		timer   clock.Timer
		fire    <-chan time.Time
		send    chan<- batch
	)
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case c, ok := <-in:
			if !ok {
				if len(pending) > 0 {
					select {
					case out <- pending:
					case <-ctx.Done():
					}
				}
				return
			}
			if !seen[c.Name] {
				seen[c.Name] = true
				pending = append(pending, c)
			}
			if timer == nil {
				timer = clk.NewTimer(quiet)
			} else {
				timer.Stop()
				timer.Reset(quiet)
			}
			fire, send = timer.C(), nil
		case <-fire:
			fire, send = nil, out
		case send <- pending:
			pending, seen, send = nil, map[string]bool{}, nil
		}
	}
}
