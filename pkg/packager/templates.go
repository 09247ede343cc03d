package packager

import (
	"fmt"

	"helm.sh/helm/v3/pkg/chart"

	"github.com/ksbuilder/ksbuilder/pkg/diag"
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
