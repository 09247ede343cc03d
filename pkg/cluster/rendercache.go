package cluster

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"runtime"
	"sync"

	"helm.sh/helm/v3/pkg/chart"
	"sigs.k8s.io/yaml"

	"github.com/ksbuilder/ksbuilder/pkg/kubesphere"
	"github.com/ksbuilder/ksbuilder/pkg/kubesphere/extensions"
	"github.com/ksbuilder/ksbuilder/pkg/manifest"
)

// RenderCache remembers the renders that succeeded, keyed by the chart's
// content, the release, the namespace and the values, so that Install
// (InstallOptions.Renders) does not render again what its caller has just
// checked with CheckRender. A failed render is never remembered. It is
// safe for concurrent use; the zero value is ready.
type RenderCache struct {
	// Validate, when set, also checks what each render not in the cache
	// produced; a render it refuses is a failure, and not remembered. It is
	// called for several releases at once (the host's and the agents').
	Validate func(*manifest.Release) error

	mu sync.Mutex
	// ok holds, for each render that succeeded, the objects of
	// KubeSphere's extension kinds it produced.
	ok map[[32]byte]*extensions.Objects
}

// render renders c with opts unless the same render succeeded before, and
// returns the objects of KubeSphere's extension kinds it produced.
func (rc *RenderCache) render(c *chart.Chart, opts manifest.RenderOptions) (*extensions.Objects, error) {
	if rc == nil {
		rendered, err := manifest.RenderRelease(c, opts)
		if err != nil {
			return nil, err
		}
		return renderedKinds(rendered), nil
	}
	key, err := renderKey(c, opts)
	if err != nil {
		return nil, err
	}
	rc.mu.Lock()
	kinds, hit := rc.ok[key]
	rc.mu.Unlock()
	if hit {
		return kinds, nil
	}
	rendered, err := manifest.RenderRelease(c, opts)
	if err != nil {
		return nil, err
	}
	if rc.Validate != nil {
		if err := rc.Validate(rendered); err != nil {
			return nil, err
		}
	}
	kinds = renderedKinds(rendered)
	rc.mu.Lock()
	if rc.ok == nil {
		rc.ok = map[[32]byte]*extensions.Objects{}
	}
	rc.ok[key] = kinds
	rc.mu.Unlock()
	return kinds, nil
}

// renderKey identifies a render: the chart's content (dependencies
// included), the release, the namespace and the values.
func renderKey(c *chart.Chart, opts manifest.RenderOptions) ([32]byte, error) {
	h := sha256.New()
	if err := hashChart(h, c); err != nil {
		return [32]byte{}, err
	}
	vals, err := json.Marshal(opts.Values) // maps marshal with sorted keys
	if err != nil {
		return [32]byte{}, err
	}
	fmt.Fprintf(h, "release\x00%s\x00%s\x00%d\x00", opts.ReleaseName, opts.Namespace, len(vals))
	h.Write(vals)
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out, nil
}

// hashChart writes everything of a chart that a render reads.
func hashChart(h hash.Hash, c *chart.Chart) error {
	meta, err := json.Marshal(struct {
		Metadata *chart.Metadata
		Lock     *chart.Lock
		Values   map[string]any
	}{c.Metadata, c.Lock, c.Values})
	if err != nil {
		return err
	}
	fmt.Fprintf(h, "chart\x00%d\x00", len(meta))
	h.Write(meta)
	fmt.Fprintf(h, "schema\x00%d\x00", len(c.Schema))
	h.Write(c.Schema)
	for _, group := range [][]*chart.File{c.Templates, c.Files} {
		fmt.Fprintf(h, "files\x00%d\x00", len(group))
		for _, f := range group {
			fmt.Fprintf(h, "%s\x00%d\x00", f.Name, len(f.Data))
			h.Write(f.Data)
		}
	}
	deps := c.Dependencies()
	fmt.Fprintf(h, "deps\x00%d\x00", len(deps))
	for _, d := range deps {
		if err := hashChart(h, d); err != nil {
			return err
		}
	}
	return nil
}

// ConfigText is the InstallPlan's spec.config Install writes for values:
// "" for none.
func ConfigText(values map[string]any) (string, error) {
	if len(values) == 0 {
		return "", nil
	}
	config, err := yaml.Marshal(values)
	if err != nil {
		return "", err
	}
	return string(config), nil
}

// CheckRender renders a chart the way KubeSphere's installer will for an
// InstallPlan spec (spec.config; an agent release for each placed cluster,
// with its override), into namespace, as Install's checks do. With cache,
// the renders that succeed are remembered: an Install with the same cache
// (InstallOptions.Renders), chart and spec does not render again. given,
// when set, says where the values of spec.config came from (see
// InstallOptions.ValueSource).
func CheckRender(ch *chart.Chart, namespace string, spec kubesphere.InstallPlanSpec, cache *RenderCache, given manifest.ValueSource) error {
	_, err := checkRender(ch, namespace, spec, cache, given)
	return err
}

// checkRender is CheckRender; it also returns the objects of KubeSphere's
// extension kinds the host release renders. The releases render in
// parallel (a large chart's renders are the longest part of an
// installation's checks), and the first problem in the order host, then
// each placed cluster, is reported, as when they rendered one after the
// other.
func checkRender(ch *chart.Chart, namespace string, spec kubesphere.InstallPlanSpec, cache *RenderCache, given manifest.ValueSource) (*extensions.Objects, error) {
	name := spec.Extension.Name
	vals, err := HostValues(ch, spec.Config)
	if err != nil {
		return nil, fmt.Errorf("the values: %w", err)
	}
	placed := placedClusters(&spec)
	renders := make([]releaseRender, 1+len(placed))
	renders[0].opts = manifest.RenderOptions{ReleaseName: name, Namespace: namespace, Values: vals}
	for i, cluster := range placed {
		override := spec.ClusterScheduling.Overrides[cluster]
		r := &renders[1+i]
		vals, err := AgentValues(ch, spec.Config, override, cluster, RoleHost)
		if err != nil {
			r.valuesErr = fmt.Errorf("the values for cluster %s: %w", cluster, err)
			continue
		}
		r.opts = manifest.RenderOptions{ReleaseName: kubesphere.AgentReleaseName(name), Namespace: namespace, Values: vals}
	}
	renderAll(ch, renders, cache)
	if err := renders[0].err; err != nil {
		var schemaErr *manifest.SchemaError
		if given != nil && errors.As(err, &schemaErr) {
			err = schemaErr.WithValueSource(given)
		}
		return nil, fmt.Errorf("the chart does not render with these values: %s", oneLine(err))
	}
	for i, cluster := range placed {
		r := renders[1+i]
		switch {
		case r.valuesErr != nil:
			return nil, r.valuesErr
		case r.err != nil:
			return nil, fmt.Errorf("the agent chart does not render for cluster %s with these values: %s", cluster, oneLine(r.err))
		}
	}
	return renders[0].kinds, nil
}

// releaseRender is one release to render, unless its values could not be
// made (valuesErr), and the outcome of its render.
type releaseRender struct {
	opts      manifest.RenderOptions
	valuesErr error
	kinds     *extensions.Objects
	err       error
}

// renderAll renders each release that has values through cache, as many
// at a time as there are processors.
func renderAll(ch *chart.Chart, renders []releaseRender, cache *RenderCache) {
	slots := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for i := range renders {
		r := &renders[i]
		if r.valuesErr != nil {
			continue
		}
		slots <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-slots; wg.Done() }()
			r.kinds, r.err = cache.render(ch, r.opts)
		}()
	}
	wg.Wait()
}
