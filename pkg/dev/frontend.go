package dev

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/ksbuilder/ksbuilder/pkg/kubesphere/extensions"
	"github.com/ksbuilder/ksbuilder/pkg/source"
)

// BundleUpdate is a bundle's ConfigMap updated after a change of the
// bundle file (Options.Frontend) alone.
type BundleUpdate struct {
	// JSBundle is the bundle served from the ConfigMap.
	JSBundle string
	// Namespace, ConfigMap and Key say what was updated.
	Namespace, ConfigMap, Key string
	// Size is the bundle's size in bytes.
	Size int
	// ChartFile is the extension's file the ConfigMap is rendered from,
	// now holding a copy of the bundle (relative to the directory); ""
	// when no file of the extension holds what the ConfigMap held, and
	// only the ConfigMap was updated.
	ChartFile string
	// Elapsed is ksbuilder's own time from the start of the change (after
	// the debounce) to the ConfigMap updated.
	Elapsed time.Duration
}

// bundleTarget is where a changed bundle file goes: the installed
// JSBundle's ConfigMap key, and the chart file it is rendered from.
type bundleTarget struct {
	bundle string
	ref    extensions.KeyRef
	// chartFile is relative to the extension directory (slash separated);
	// "" when not found.
	chartFile string
}

// frontendFile checks the --frontend file and makes it absolute: it need
// not exist yet (the console's tooling writes it), but it must not be a
// directory.
func frontendFile(name string) (string, error) {
	if name == "" {
		return "", nil
	}
	abs, err := filepath.Abs(name)
	if err != nil {
		return "", err
	}
	if fi, err := os.Stat(abs); err == nil && fi.IsDir() {
		return "", fmt.Errorf("--frontend %s: a directory; name the bundle file the console's tooling writes (extensions/NAME/dist/index.js)", name)
	}
	return abs, nil
}

// updateBundle puts the bundle file into the installed JSBundle's
// ConfigMap, with no new version: ks-apiserver reads ConfigMaps from its
// informer cache and serves the new bundle at once. The chart file the
// ConfigMap is rendered from gets a copy, so that the next version
// published carries it; until then every change is published in full
// (the release's next upgrade would otherwise put the old bundle back).
func (s *session) updateBundle(ctx context.Context, start time.Time) error {
	data, err := os.ReadFile(s.frontend)
	if err != nil {
		return fmt.Errorf("--frontend %s: %w", s.opts.Frontend, err)
	}
	t, err := s.bundleTarget(ctx)
	if err != nil {
		return err
	}
	if err := s.client.ApplyConfigMapKey(ctx, t.ref.Namespace, t.ref.Name, t.ref.Key, data); err != nil {
		s.bundle = nil
		if apierrors.IsNotFound(err) {
			return fmt.Errorf("ConfigMap %s/%s of JSBundle %s is not on the cluster: wait until KubeSphere has installed %s (\"ksbuilder status %s\"), then save the bundle again",
				t.ref.Namespace, t.ref.Name, t.bundle, s.name, s.name)
		}
		return err
	}
	up := BundleUpdate{JSBundle: t.bundle, Namespace: t.ref.Namespace, ConfigMap: t.ref.Name, Key: t.ref.Key, Size: len(data), Elapsed: s.clk.Since(start)}
	if t.chartFile == "" {
		s.rep.Warn(fmt.Sprintf("no file of %s holds what ConfigMap %s/%s key %s held, so only the ConfigMap was updated: the next version published puts the chart's bundle back; keep the bundle in a chart file read with .Files.Get to have it copied there",
			s.opts.Dir, t.ref.Namespace, t.ref.Name, t.ref.Key))
	} else if err := s.writeChartFile(t.chartFile, data); err != nil {
		s.rep.Warn(fmt.Sprintf("the ConfigMap was updated, but copying the bundle into %s failed: %v", t.chartFile, err))
	} else {
		up.ChartFile = t.chartFile
		s.pendingFull = true
	}
	s.rep.BundleUpdated(up)
	return nil
}

// copyBundle copies the bundle file into the chart file, before a change
// that also touches other files is published.
func (s *session) copyBundle(ctx context.Context) error {
	if s.name == "" {
		return nil // not installed yet: no JSBundle to find the file by
	}
	data, err := os.ReadFile(s.frontend)
	if err != nil {
		return fmt.Errorf("--frontend %s: %w", s.opts.Frontend, err)
	}
	t, err := s.bundleTarget(ctx)
	if err != nil || t.chartFile == "" {
		return err
	}
	return s.writeChartFile(t.chartFile, data)
}

// bundleTarget finds, once, the installed JSBundle of the extension that
// reads its bundle from a ConfigMap, and the chart file holding what the
// ConfigMap holds.
func (s *session) bundleTarget(ctx context.Context) (*bundleTarget, error) {
	if s.bundle != nil && s.bundle.ref.Name != "" {
		return s.bundle, nil
	}
	bundles, err := s.client.JSBundles(ctx, s.name)
	if err != nil {
		return nil, err
	}
	var fromConfigMap []extensions.JSBundle
	for _, b := range bundles {
		if b.Spec.RawFrom != nil && b.Spec.RawFrom.ConfigMapKeyRef != nil {
			fromConfigMap = append(fromConfigMap, b)
		}
	}
	var chosen *extensions.JSBundle
	switch len(fromConfigMap) {
	case 0:
		return nil, fmt.Errorf("no JSBundle of %s on the cluster reads its bundle from a ConfigMap (spec.rawFrom.configMapKeyRef), which --frontend updates: add one to the chart (\"ksbuilder create\" scaffolds it), or drop --frontend", s.name)
	case 1:
		chosen = &fromConfigMap[0]
	default:
		for i := range fromConfigMap {
			if extensions.BundleLink(&fromConfigMap[i], s.name) == extensions.DefaultBundleLink(s.name) {
				chosen = &fromConfigMap[i]
			}
		}
		if chosen == nil {
			var names []string
			for _, b := range fromConfigMap {
				names = append(names, b.Name)
			}
			return nil, fmt.Errorf("several JSBundles of %s read their bundle from a ConfigMap (%s) and none serves %s: --frontend updates one", s.name, strings.Join(names, ", "), extensions.DefaultBundleLink(s.name))
		}
	}
	t := &bundleTarget{bundle: chosen.Name, ref: *chosen.Spec.RawFrom.ConfigMapKeyRef}
	if s.bundle != nil && s.bundle.chartFile != "" {
		if _, err := os.Stat(filepath.Join(s.root, filepath.FromSlash(s.bundle.chartFile))); err == nil {
			t.chartFile = s.bundle.chartFile
		}
	}
	if t.chartFile == "" {
		current, _, err := s.client.ConfigMapKey(ctx, t.ref.Namespace, t.ref.Name, t.ref.Key)
		if err != nil && !apierrors.IsNotFound(err) {
			return nil, err
		}
		if t.chartFile, err = s.chartFileHolding(current); err != nil {
			return nil, err
		}
	}
	s.bundle = t
	return t, nil
}

// forgetBundleRef makes the next bundle update look up the JSBundle again
// (a new version may read another ConfigMap); the chart file found is
// kept.
func (s *session) forgetBundleRef() {
	if s.bundle != nil {
		s.bundle.ref = extensions.KeyRef{}
	}
}

// chartFileHolding finds the file of the extension whose content is data,
// preferring one outside templates/ (read with .Files.Get); "" for none.
func (s *session) chartFileHolding(data []byte) (string, error) {
	if len(data) == 0 {
		return "", nil
	}
	src, err := source.LoadDir(s.root)
	if err != nil {
		return "", err
	}
	found := ""
	for _, f := range src.Files() {
		if !bytes.Equal(f.Data, data) {
			continue
		}
		if !strings.Contains("/"+path.Dir(f.Name)+"/", "/templates/") {
			return f.Name, nil
		}
		if found == "" {
			found = f.Name
		}
	}
	return found, nil
}

// writeChartFile replaces a file of the extension (through a temporary
// file renamed over it, so the watcher never sees it half written) and
// remembers what it wrote, so that its change event is not taken for the
// user's. Writing the bundle file onto itself does nothing.
func (s *session) writeChartFile(name string, data []byte) error {
	p := filepath.Join(s.root, filepath.FromSlash(name))
	if p == s.frontend {
		return nil
	}
	if current, err := os.ReadFile(p); err == nil && bytes.Equal(current, data) {
		return nil
	}
	fi, err := os.Stat(p)
	mode := fs.FileMode(0o644)
	if err == nil {
		mode = fi.Mode().Perm()
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".ksbuilder-bundle-*")
	if err != nil {
		return err
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr, os.Chmod(tmp.Name(), mode)); err != nil {
		_ = os.Remove(tmp.Name())
		return err
	}
	s.selfWritten[name] = sha256.Sum256(data)
	if err := os.Rename(tmp.Name(), p); err != nil {
		_ = os.Remove(tmp.Name())
		delete(s.selfWritten, name)
		return err
	}
	return nil
}

// dropSelfWritten leaves out of a batch the chart files the session wrote
// and nobody changed since.
func (s *session) dropSelfWritten(b batch) batch {
	if len(s.selfWritten) == 0 {
		return b
	}
	var out batch
	for _, c := range b {
		sum, ok := s.selfWritten[c.Name]
		if ok {
			data, err := os.ReadFile(filepath.Join(s.root, filepath.FromSlash(c.Name)))
			if err == nil && sha256.Sum256(data) == sum {
				continue
			}
			delete(s.selfWritten, c.Name)
		}
		out = append(out, c)
	}
	return out
}
