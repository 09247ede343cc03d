package lint

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
	helmlint "helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"
	"sigs.k8s.io/yaml"

	"github.com/ksbuilder/ksbuilder/pkg/diag"
	"github.com/ksbuilder/ksbuilder/pkg/manifest"
)

// helmLint runs Helm's linter on the generated chart, with the user's
// values, and on every subchart, with the values its parent passes it. Helm
// lints a directory, so the chart is written to a temporary directory that
// is always removed. It only reads the linter's state, so it can run while
// the releases render; the findings are returned. vals must not be shared
// with the renders.
func (l *linter) helmLint(vals map[string]any) (diag.List, error) {
	dir, err := os.MkdirTemp(l.opts.TempDir, "ksbuilder-lint-")
	if err != nil {
		return nil, fmt.Errorf("creating a directory for Helm's linter: %w", err)
	}
	defer os.RemoveAll(dir)
	if err := writeChartDir(l.chart, dir); err != nil {
		return nil, fmt.Errorf("writing the chart for Helm's linter: %w", err)
	}
	var out diag.List
	l.helmLintChart(&out, dir, l.chart, l.chart.Name(), vals)
	return out, nil
}

// helmLintChart lints one chart of the tree, then its subcharts. chartPath
// is the chart's path in the tree ("ext/charts/backend").
func (l *linter) helmLintChart(out *diag.List, root string, c *chart.Chart, chartPath string, vals map[string]any) {
	if l.ctx.Err() != nil {
		return // the run is cancelled; Lint returns the context's error
	}
	chartDir := filepath.Join(root, filepath.FromSlash(chartPath))
	ns := l.ext.TargetNamespace()
	// Helm's values rule coalesces values.yaml into the maps nested in
	// the values it is given: give it a copy, so vals stays as given for
	// the subcharts.
	result := helmlint.AllWithKubeVersionAndSchemaValidation(chartDir, manifest.CopyValues(vals), ns, nil, false)
	top := chartPath == l.chart.Name()
	for _, m := range result.Messages {
		if m.Path == chartutil.ChartfileName {
			if top {
				// The top Chart.yaml is generated from extension.yaml,
				// whose rules cover each of Helm's Chart.yaml checks.
				continue
			}
			if m.Severity == support.InfoSev && strings.HasPrefix(m.Err.Error(), "icon is recommended") {
				continue // KubeSphere shows the extension's icon, never a subchart's
			}
		}
		out.Add(l.helmMessage(root, chartDir, chartPath, m))
	}
	if len(c.Dependencies()) == 0 {
		return
	}
	coalesced, err := chartutil.CoalesceValues(c, vals)
	if err != nil {
		return // Helm's values rule has reported it
	}
	for _, sub := range c.Dependencies() {
		subVals, _ := coalesced[sub.Name()].(map[string]any)
		if subVals == nil {
			subVals = map[string]any{}
		}
		l.helmLintChart(out, root, sub, chartPath+"/charts/"+sub.Name(), subVals)
	}
}

// helmMessage maps one of Helm's lint messages to a finding at the
// extension's file, keeping Helm's severity.
func (l *linter) helmMessage(root, chartDir, chartPath string, m support.Message) diag.Diagnostic {
	sev := diag.Error
	switch m.Severity {
	case support.WarningSev:
		sev = diag.Warning
	case support.InfoSev:
		sev = diag.Info
	}
	rel := m.Path
	if rel == "" || filepath.IsAbs(rel) {
		rel = "Chart.yaml" // the dependency rules report on the chart as a whole
	}
	msg := strings.ReplaceAll(m.Err.Error(), chartDir+string(filepath.Separator), "")
	msg = strings.ReplaceAll(msg, root+string(filepath.Separator), "")
	if strings.HasPrefix(rel, "templates") {
		// Render errors name the template and line: point there. Helm
		// names templates from the linted chart, so resolve them from
		// its parent.
		if d, ok := l.loc.TemplateDiagnostic(sev, RuleHelmLint, path.Dir(chartPath), msg, ""); ok {
			return d
		}
	}
	return l.loc.Locate(path.Join(chartPath, rel)).Diagnostic(sev, RuleHelmLint, "", msg, "")
}

// writeChartDir writes a chart under parent/<name>, with its subcharts as
// directories under charts/, as Helm's linter expects.
func writeChartDir(c *chart.Chart, parent string) error {
	dir := filepath.Join(parent, c.Name())
	if !filepath.IsLocal(c.Name()) || strings.ContainsAny(c.Name(), `/\`) {
		return fmt.Errorf("chart name %q cannot be used as a directory name", c.Name())
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	// As chartutil.SaveChartfile, but on a copy: the chart is rendered at
	// the same time.
	md := *c.Metadata
	if md.APIVersion == chart.APIVersionV1 {
		md.Dependencies = nil // v1 charts keep them in requirements.yaml
	}
	chartYAML, err := yaml.Marshal(&md)
	if err != nil {
		return err
	}
	files := []*chart.File{{Name: chartutil.ChartfileName, Data: chartYAML}}
	for _, f := range c.Raw {
		if f.Name == chartutil.ValuesfileName {
			files = append(files, f)
		}
	}
	if c.Schema != nil {
		files = append(files, &chart.File{Name: chartutil.SchemafileName, Data: c.Schema})
	}
	files = append(files, c.Templates...)
	files = append(files, c.Files...)
	for _, f := range files {
		if !filepath.IsLocal(filepath.FromSlash(f.Name)) {
			return fmt.Errorf("%s: file %q leaves the chart directory", c.Name(), f.Name)
		}
		p := filepath.Join(dir, filepath.FromSlash(f.Name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			return err
		}
	}
	for _, sub := range c.Dependencies() {
		if err := writeChartDir(sub, filepath.Join(dir, "charts")); err != nil {
			return err
		}
	}
	return nil
}
