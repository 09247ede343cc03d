package manifest

import (
	"fmt"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/releaseutil"

	"github.com/ksbuilder/ksbuilder/pkg/extension"
)

// Document is one manifest of a release, as "helm template" prints it.
type Document struct {
	// Source is the chart path of the file it came from
	// ("ext/charts/backend/templates/deployment.yaml").
	Source  string
	Content string
	// Kind is "crd", "manifest" or "hook".
	Kind string
}

// Kinds of documents.
const (
	DocumentCRD      = "crd"
	DocumentManifest = "manifest"
	DocumentHook     = "hook"
)

// Manifests is what the installer applies for one release.
type Manifests struct {
	ReleaseName string
	Namespace   string
	// Overrides are the --set expressions the installer adds.
	Overrides []string
	Documents []Document
}

// String renders the documents as "helm template" does: each preceded by
// "---" and a "# Source:" comment.
func (m *Manifests) String() string {
	var b strings.Builder
	for _, d := range m.Documents {
		fmt.Fprintf(&b, "---\n# Source: %s\n%s\n", d.Source, d.Content)
	}
	return b.String()
}

// ManifestOptions tune InstallerManifests.
type ManifestOptions struct {
	// IncludeCRDs puts the CRDs of the crds/ directories first.
	IncludeCRDs bool
	// Capabilities are the cluster's (nil: Helm's defaults).
	Capabilities *chartutil.Capabilities
	// Cluster is the cluster an agent release is rendered for (the zero
	// value: the host cluster).
	Cluster ClusterInfo
}

// InstallerManifests renders one side of an extension exactly as
// KubeSphere's installer would (release name, namespace, tags, conditions
// and cluster info of InstallerReleaseOn, over the user's values) and
// orders the result like Helm's install: CRDs first when mo.IncludeCRDs is
// set, then the manifests in Helm's install order, then the hooks. Tests
// are left out: the installer never runs them.
func InstallerManifests(ext *extension.Extension, c *chart.Chart, side Side, values map[string]any, mo ManifestOptions) (*Manifests, error) {
	opts, err := InstallerReleaseOn(ext, c, side, values, mo.Cluster)
	if err != nil {
		return nil, err
	}
	opts.Capabilities = mo.Capabilities
	rel, err := RenderRelease(c, opts)
	if err != nil {
		return nil, err
	}
	out := &Manifests{ReleaseName: opts.ReleaseName, Namespace: opts.Namespace, Overrides: InstallerOverrides(c, side, mo.Cluster)}
	if mo.IncludeCRDs {
		names := make([]string, 0, len(rel.CRDs))
		for n := range rel.CRDs {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			out.Documents = append(out.Documents, Document{Source: n, Content: strings.TrimSpace(rel.CRDs[n]), Kind: DocumentCRD})
		}
	}
	files := map[string]string{}
	for name, text := range rel.Templates {
		if IsManifestFile(name) {
			files[name] = text
		}
	}
	hooks, manifests, err := releaseutil.SortManifests(files, chartutil.VersionSet{}, releaseutil.InstallOrder)
	if err != nil {
		return nil, err
	}
	for _, m := range manifests {
		out.Documents = append(out.Documents, Document{Source: m.Name, Content: m.Content, Kind: DocumentManifest})
	}
	for _, h := range hooks {
		if isTest(h) {
			continue
		}
		out.Documents = append(out.Documents, Document{Source: h.Path, Content: h.Manifest, Kind: DocumentHook})
	}
	return out, nil
}

func isTest(h *release.Hook) bool {
	for _, e := range h.Events {
		if e == release.HookTest {
			return true
		}
	}
	return false
}

// ShowOnly keeps the documents rendered from the given templates, as
// "helm template --show-only" does: each pattern is a path in the chart
// without the chart's own name ("templates/service.yaml",
// "charts/backend/templates/*.yaml"), matched with path.Match. A pattern
// that matches no document is an error naming it.
func (m *Manifests) ShowOnly(patterns []string) error {
	if len(patterns) == 0 {
		return nil
	}
	matched := make([]bool, len(patterns))
	var kept []Document
	for _, d := range m.Documents {
		_, rel, ok := strings.Cut(d.Source, "/")
		if !ok {
			continue
		}
		keep := false
		for i, p := range patterns {
			if ok, err := path.Match(filepath.ToSlash(p), rel); err != nil {
				return fmt.Errorf("--show-only %q: %w", p, err)
			} else if ok {
				matched[i], keep = true, true
			}
		}
		if keep {
			kept = append(kept, d)
		}
	}
	for i, p := range patterns {
		if !matched[i] {
			return fmt.Errorf("could not find template %s in the %s release: give a path in the chart, e.g. templates/deployment.yaml or charts/NAME/templates/*.yaml", p, m.ReleaseName)
		}
	}
	m.Documents = kept
	return nil
}
