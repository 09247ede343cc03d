package packager

import (
	"errors"
	"fmt"
	"strings"

	"helm.sh/helm/v3/pkg/chart"

	"github.com/ksbuilder/ksbuilder/pkg/diag"
	"github.com/ksbuilder/ksbuilder/pkg/extension"
	"github.com/ksbuilder/ksbuilder/pkg/manifest"
	"github.com/ksbuilder/ksbuilder/pkg/source"
)

// CheckTemplates parses every template of the chart built from src (see
// LoadChart) and of its subcharts with Helm's engine, and reports each that
// does not parse at its file and line: Helm fails every install of such a
// chart, whatever the values.
func CheckTemplates(src *source.Source, c *chart.Chart) diag.List {
	var (
		out diag.List
		loc *manifest.Locator
	)
	manifest.ParseTemplates(c, func(chartPath string, err *manifest.TemplateError) {
		if loc == nil {
			loc = manifest.NewLocator(src, c)
		}
		at := loc.Locate(chartPath)
		msg := "the template does not parse: " + err.Message
		if at.Inner != "" && err.Line > 0 {
			at.Inner = fmt.Sprintf("%s:%d", at.Inner, err.Line)
		}
		d := at.Diagnostic(diag.Error, CodeRender, "", msg, "Helm refuses to install the chart until it parses")
		if at.Inner == "" {
			d.Line = err.Line
		}
		out.Add(d)
	})
	out.Sort()
	return out
}

// renderMarker is set as global.imageRegistry and the kubernetes.io/os node
// selector for CheckRender, as "ksbuilder lint" sets its own marker.
const renderMarker = "render.ksbuilder.invalid"

// CheckRender renders the host release and, for Multicluster extensions,
// the agent release with the chart's default values, as the installer and
// "ksbuilder lint" do: a template that does not parse or fails, or a
// document that is not a Kubernetes object, is an error (diag.AsErrors) at
// its file and line. ext must have passed Validate. push runs it so that
// nothing is submitted for review that cannot be installed.
func CheckRender(src *source.Source, ext *extension.Extension) error {
	c, err := LoadChart(src, ext)
	if err != nil {
		return err
	}
	if err := CheckTemplates(src, c).Err(); err != nil {
		return err
	}
	return CheckRenderChart(src, ext, c)
}

// CheckRenderChart is CheckRender on a chart already loaded from src
// whose templates parse (a built Package's Chart): it only renders.
func CheckRenderChart(src *source.Source, ext *extension.Extension, c *chart.Chart) error {
	loc := manifest.NewLocator(src, c)
	sides := []manifest.Side{manifest.Host}
	if ext.Mode() == extension.Multicluster {
		sides = append(sides, manifest.Agent)
	}
	const hint = "run ksbuilder lint to see every problem, and ksbuilder template to see the output"
	var out diag.List
	for _, side := range sides {
		opts, err := manifest.InstallerRelease(ext, c, side, map[string]any{
			"global": map[string]any{"imageRegistry": renderMarker, "nodeSelector": map[string]any{"kubernetes.io/os": renderMarker}},
		})
		if err != nil {
			out.Add(diag.Diagnostic{Severity: diag.Error, Code: CodeRender, File: extension.MetadataFile, Message: err.Error()})
			continue
		}
		prefix := fmt.Sprintf("%s release %q: ", side, opts.ReleaseName)
		rendered, err := manifest.RenderRelease(c, opts)
		var schemaErr *manifest.SchemaError
		if errors.As(err, &schemaErr) {
			out = append(out, loc.SchemaDiagnostics(schemaErr, manifest.CodeValuesSchema, nil)...)
			continue
		}
		if err != nil {
			d, ok := loc.TemplateDiagnostic(diag.Error, CodeRender, "", prefix+err.Error(), hint)
			if !ok {
				d = diag.Diagnostic{Severity: diag.Error, Code: CodeRender, Message: prefix + err.Error(), Hint: hint}
			}
			out.Add(d)
			continue
		}
		_, bad := manifest.ParseObjects(rendered.Templates)
		_, badCRDs := manifest.ParseObjects(rendered.CRDs)
		for _, e := range append(bad, badCRDs...) {
			out.Add(loc.Locate(e.File).Diagnostic(diag.Error, CodeRender, "",
				fmt.Sprintf("%sdocument %d is not a valid object: %v", prefix, e.Index+1, e.Err), hint))
		}
	}
	out.Sort()
	return out.Err()
}

// renderFields are the fields of extension.yaml that decide what the
// installer renders: the release name and namespace, the chart version and
// which subcharts each release gets.
var renderFields = []string{"name", "version", "namespace", "installationMode", "dependencies"}

// blocksRender reports whether a problem of the extension keeps its chart
// from being rendered as KubeSphere would: a syntax error, or an error in a
// field the render depends on.
func blocksRender(d diag.Diagnostic) bool {
	switch {
	case d.Severity != diag.Error || d.File != extension.MetadataFile:
		return false // permissions.yaml is not rendered
	case d.Field == "" || d.Code == extension.CodeYAMLSyntax || d.Code == extension.CodeDuplicateKey:
		return true // a missing or unreadable extension.yaml
	}
	for _, f := range renderFields {
		if d.Field == f || strings.HasPrefix(d.Field, f+".") || strings.HasPrefix(d.Field, f+"[") {
			return true
		}
	}
	return false
}

// LoadForRender validates the extension and loads its chart for commands
// that only render it (template, images): problems that do not change what
// is rendered, such as a missing icon, a screenshot or an unknown category,
// do not stop them and come back as warnings (ignored), for the caller to
// show; the other problems are the error (diag.AsErrors).
func LoadForRender(src *source.Source) (ext *extension.Extension, c *chart.Chart, ignored diag.List, err error) {
	ext, diags := Validate(src)
	var blocking diag.List
	for _, d := range diags {
		switch {
		case blocksRender(d):
			blocking.Add(d)
		case d.Severity == diag.Error:
			d.Severity = diag.Warning
			d.Message += " (ignored for rendering; package and publish refuse it)"
			ignored.Add(d)
		}
	}
	if err := blocking.Err(); err != nil {
		return nil, nil, nil, err
	}
	if c, err = LoadChart(src, ext); err != nil {
		return nil, nil, nil, err
	}
	return ext, c, ignored, nil
}
