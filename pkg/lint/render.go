package lint

import (
	"errors"
	"fmt"

	"helm.sh/helm/v3/pkg/chartutil"

	"github.com/ksbuilder/ksbuilder/pkg/diag"
	"github.com/ksbuilder/ksbuilder/pkg/extension"
	"github.com/ksbuilder/ksbuilder/pkg/manifest"
)

// release is one rendered release of the extension.
type release struct {
	side      manifest.Side
	namespace string
	// opts are the options it was rendered with, to render it again for
	// other Kubernetes versions.
	opts manifest.RenderOptions
	// objects are the objects of the templates, hooks and tests included.
	objects []manifest.Object
	// crds are the objects of the crds/ directories.
	crds []manifest.Object
}

// installed returns the objects Helm creates on install, CRDs first: every
// object but the tests, which only "helm test" creates.
func (r *release) installed() []manifest.Object {
	out := append([]manifest.Object(nil), r.crds...)
	for _, o := range r.objects {
		if !o.IsTestHook() {
			out = append(out, o)
		}
	}
	return out
}

// render renders the host release and, for Multicluster extensions, the
// agent release, as the installer does, with the marker set as
// global.imageRegistry and global.nodeSelector (the installer sets them from
// KubeSphere's configuration). HostOnly extensions have no agent release.
func (l *linter) render() {
	sides := []manifest.Side{manifest.Host}
	if l.ext.Mode() == extension.Multicluster {
		sides = append(sides, manifest.Agent)
	}
	for _, side := range sides {
		if l.ctx.Err() != nil {
			return
		}
		opts, err := manifest.InstallerRelease(l.ext, l.chart, side, l.opts.Values)
		if err != nil {
			l.add(diag.Diagnostic{Severity: diag.Error, Code: RuleRender, File: extension.MetadataFile, Message: err.Error()})
			continue
		}
		setValue(opts.Values, l.marker, "global", "imageRegistry")
		setValue(opts.Values, l.marker, "global", "nodeSelector", "kubernetes.io/os")
		prefix := fmt.Sprintf("%s release %q: ", side, opts.ReleaseName)
		rendered, err := manifest.RenderRelease(l.chart, opts)
		var schemaErr *manifest.SchemaError
		if errors.As(err, &schemaErr) {
			// Reported once for both releases: the findings of a schema
			// problem do not name the release.
			l.add(l.loc.SchemaDiagnostics(schemaErr, RuleValuesSchema, l.valueSource())...)
			continue
		}
		if err != nil {
			d, ok := l.loc.TemplateDiagnostic(diag.Error, RuleRender, "", prefix+err.Error(), "")
			if !ok {
				d = diag.Diagnostic{Severity: diag.Error, Code: RuleRender, Message: prefix + err.Error()}
			}
			l.add(d)
			continue
		}
		r, bad := newRelease(side, opts, rendered)
		for _, e := range bad {
			l.add(l.loc.Locate(e.File).Diagnostic(diag.Error, RuleRender, "",
				fmt.Sprintf("%sdocument %d is not a valid object: %v", prefix, e.Index+1, e.Err),
				"Helm fails the install on it; run ksbuilder template to see the output"))
		}
		l.releases = append(l.releases, r)
	}
}

// newRelease reads the objects of a rendered release back, and returns the
// documents that are not objects.
func newRelease(side manifest.Side, opts manifest.RenderOptions, rendered *manifest.Release) (*release, []*manifest.DocumentError) {
	r := &release{side: side, namespace: opts.Namespace, opts: opts}
	objects, bad := manifest.ParseObjects(rendered.Templates)
	crds, badCRDs := manifest.ParseObjects(rendered.CRDs)
	r.objects, r.crds = objects, crds
	return r, append(bad, badCRDs...)
}

// renderAgain renders the templates of capabilityReaders again, from the
// release p prepared from versionedChart, as a cluster with caps would
// install them, and returns their objects. A render that fails reports
// nothing: the render at Helm's default capabilities reports the errors of
// the templates.
func renderAgain(p *manifest.Prepared, readers map[string]bool, caps *chartutil.Capabilities) ([]manifest.Object, bool) {
	rendered, err := p.Render(caps)
	if err != nil {
		return nil, false
	}
	for name := range rendered.Templates {
		if !readers[name] {
			delete(rendered.Templates, name) // rendered for its defines only
		}
	}
	objects, _ := manifest.ParseObjects(rendered.Templates)
	return objects, true
}

// setValue sets a nested value, replacing whatever is in the way.
func setValue(vals map[string]any, v any, keys ...string) {
	cur := vals
	for _, k := range keys[:len(keys)-1] {
		next, ok := cur[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			cur[k] = next
		}
		cur = next
	}
	cur[keys[len(keys)-1]] = v
}

// valueSource says which values the user gave: Options.ValueSource, or
// the values of the run as a whole.
func (l *linter) valueSource() manifest.ValueSource {
	if l.opts.ValueSource != nil {
		return l.opts.ValueSource
	}
	return manifest.GivenIn(l.opts.Values, "the values given to lint")
}
