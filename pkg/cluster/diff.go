package cluster

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"

	"github.com/pmezard/go-difflib/difflib"
	"helm.sh/helm/v3/pkg/chart"
	"sigs.k8s.io/yaml"

	"github.com/ksbuilder/ksbuilder/pkg/kubesphere"
	"github.com/ksbuilder/ksbuilder/pkg/manifest"
)

// ObjectDiff is one object that an install or upgrade would change.
type ObjectDiff struct {
	// Release is the release the object belongs to: the extension's, or
	// "<name>-agent on CLUSTER".
	Release   string `json:"release"`
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
	// Change is "added", "removed" or "changed".
	Change string `json:"change"`
	// Diff is the unified diff of the object's YAML, Secret data masked.
	Diff string `json:"diff"`
}

// DiffResult is what Diff found.
type DiffResult struct {
	// Plan is the unified diff of the InstallPlan's spec; empty when the
	// spec stays the same.
	Plan    string       `json:"plan"`
	Objects []ObjectDiff `json:"objects"`
}

// Changed reports whether anything would change.
func (d *DiffResult) Changed() bool { return d.Plan != "" || len(d.Objects) > 0 }

// Diff renders what is installed (the plan's version and config, from the
// published chart) and what Install with opts would install, and diffs
// them per object, for the host release and each placed cluster's agent.
// Nothing is written: Install runs as a dry run, with all its checks.
func (c *Client) Diff(ctx context.Context, opts InstallOptions) (*DiffResult, error) {
	opts.DryRun = true
	var current *kubesphere.InstallPlan
	if p, err := c.Plan(ctx, opts.Name); err == nil {
		current = p
	}
	res, err := c.Install(ctx, opts)
	if err != nil {
		return nil, err
	}
	next := res.Plan
	out := &DiffResult{Objects: []ObjectDiff{}}

	var oldSpec kubesphere.InstallPlanSpec
	oldObjects := map[string]renderedObject{}
	if current != nil {
		oldSpec = current.Spec
		if oldObjects, err = c.renderSpec(ctx, current.Spec, nil, nil); err != nil {
			return nil, fmt.Errorf("rendering what is installed (%s %s): %w", current.Spec.Extension.Name, current.Spec.Extension.Version, err)
		}
	}
	var (
		newChart   *chart.Chart
		newVersion *kubesphere.ExtensionVersion
	)
	if opts.Publication != nil {
		newChart, newVersion = opts.Publication.Chart, opts.Publication.Version
	}
	newObjects, err := c.renderSpec(ctx, next.Spec, newChart, newVersion)
	if err != nil {
		return nil, err
	}
	if out.Plan, err = specDiff(oldSpec, next.Spec, current != nil); err != nil {
		return nil, err
	}
	keys := map[string]bool{}
	for k := range oldObjects {
		keys[k] = true
	}
	for k := range newObjects {
		keys[k] = true
	}
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	for _, k := range sorted {
		before, had := oldObjects[k]
		after, has := newObjects[k]
		if had && has && before.text == after.text {
			continue
		}
		ref := after
		change := "changed"
		switch {
		case !had:
			change = "added"
		case !has:
			change, ref = "removed", before
		}
		label := ref.release + ": " + ref.kind + " " + qualified(ref.namespace, ref.name)
		text, err := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
			A: difflib.SplitLines(before.text), B: difflib.SplitLines(after.text),
			FromFile: label + " (installed)", ToFile: label + " (new)", Context: 3,
		})
		if err != nil {
			return nil, err
		}
		out.Objects = append(out.Objects, ObjectDiff{Release: ref.release, Kind: ref.kind, Namespace: ref.namespace, Name: ref.name, Change: change, Diff: text})
	}
	return out, nil
}

func qualified(ns, name string) string {
	if ns == "" {
		return name
	}
	return ns + "/" + name
}

// renderedObject is one object of a render, keyed by release, kind,
// namespace and name.
type renderedObject struct {
	release, kind, namespace, name, text string
}

// renderSpec renders an InstallPlan spec's releases as the installer
// would: ch of version ev (a publication not yet on the cluster), or when
// they are nil the published version of the spec and its chart.
func (c *Client) renderSpec(ctx context.Context, spec kubesphere.InstallPlanSpec, ch *chart.Chart, ev *kubesphere.ExtensionVersion) (map[string]renderedObject, error) {
	name := spec.Extension.Name
	if ev == nil {
		ev = &kubesphere.ExtensionVersion{}
		if err := c.get(ctx, kubesphere.ResourceExtensionVersions, kubesphere.ExtensionVersionName(name, spec.Extension.Version), ev); err != nil {
			return nil, err
		}
	}
	if ch == nil {
		var err error
		if ch, err = c.publishedChart(ctx, ev); err != nil {
			return nil, err
		}
		if ch == nil {
			return nil, fmt.Errorf("%s %s is published by URL (%s): diffing needs the chart in the cluster", name, spec.Extension.Version, ev.Spec.ChartURL)
		}
	}
	namespace := ev.TargetNamespace(name)
	out := map[string]renderedObject{}
	// add renders one release; label names it in the diff.
	add := func(release, label string, vals map[string]any) error {
		rel, err := manifest.RenderRelease(ch, manifest.RenderOptions{ReleaseName: release, Namespace: namespace, Values: vals})
		if err != nil {
			return err
		}
		objs, err := manifest.Objects(rel.Templates)
		if err != nil {
			return err
		}
		for _, o := range objs {
			ns := o.Namespace
			if ns == "" && !clusterScoped(o) {
				ns = namespace
			}
			text, err := maskedYAML(o)
			if err != nil {
				return err
			}
			key := strings.Join([]string{label, o.Kind, ns, o.Name}, "\x00")
			out[key] = renderedObject{release: label, kind: o.Kind, namespace: ns, name: o.Name, text: text}
		}
		return nil
	}
	vals, err := HostValues(ch, spec.Config)
	if err != nil {
		return nil, err
	}
	if err := add(name, name, vals); err != nil {
		return nil, err
	}
	for _, cl := range placedClusters(&spec) {
		vals, err := AgentValues(ch, spec.Config, overrideOf(&spec, cl), cl, RoleHost)
		if err != nil {
			return nil, err
		}
		agent := kubesphere.AgentReleaseName(name)
		if err := add(agent, agent+" on "+cl, vals); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// clusterScoped reports whether an object's kind is known to be
// cluster-scoped.
func clusterScoped(o manifest.Object) bool {
	group, _, _ := strings.Cut(o.APIVersion, "/")
	if !strings.Contains(o.APIVersion, "/") {
		group = ""
	}
	r, ok := manifest.LookupKind(group, o.Kind)
	return ok && !r.Namespaced
}

// maskedYAML is an object's YAML with each value of a Secret's data and
// stringData replaced by a digest prefix, so a change shows without the
// secret.
func maskedYAML(o manifest.Object) (string, error) {
	content := o.Content
	if o.Kind == "Secret" && (o.APIVersion == "v1") {
		content = manifest.CopyValues(o.Content)
		for _, field := range []string{"data", "stringData"} {
			m, ok := content[field].(map[string]any)
			if !ok {
				continue
			}
			for k, v := range m {
				sum := sha256.Sum256([]byte(fmt.Sprint(v)))
				m[k] = "(masked, sha256:" + hex.EncodeToString(sum[:4]) + ")"
			}
		}
	}
	data, err := yaml.Marshal(content)
	return string(data), err
}

// specDiff is the unified diff of two InstallPlan specs as YAML; empty
// when they are the same.
func specDiff(before, after kubesphere.InstallPlanSpec, existed bool) (string, error) {
	a, err := yaml.Marshal(before)
	if err != nil {
		return "", err
	}
	if !existed {
		a = nil
	}
	b, err := yaml.Marshal(after)
	if err != nil {
		return "", err
	}
	if string(a) == string(b) {
		return "", nil
	}
	return difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A: difflib.SplitLines(string(a)), B: difflib.SplitLines(string(b)),
		FromFile: "InstallPlan " + after.Extension.Name + " spec (installed)", ToFile: "InstallPlan " + after.Extension.Name + " spec (new)", Context: 3,
	})
}
