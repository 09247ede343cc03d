package lint

import (
	"bytes"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
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
//
// Helm's linter renders the chart it is given with all of its subcharts,
// but checks only that chart's own templates. So that each template is
// rendered once, not once per chart above it, the tree is written hollow
// (hollowFiles) and each chart is filled in (fillChartDir) just before it
// is linted, top down: the chart's templates can still include the helpers
// of its subcharts, and the values, conditions, imports and schemas of the
// subcharts still apply, but their own templates are rendered and checked
// in their turn. Each file is written at most twice.
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
	if err := l.helmLintChart(&out, dir, l.chart, l.chart.Name(), nil, vals); err != nil {
		return nil, err
	}
	return out, nil
}

// helmLintChart fills in one chart of the tree and lints it, then its
// subcharts. chartPath is the chart's path in the tree
// ("ext/charts/backend"), charts the names of the subcharts on it.
func (l *linter) helmLintChart(out *diag.List, root string, c *chart.Chart, chartPath string, charts []string, vals map[string]any) error {
	if l.ctx.Err() != nil {
		return nil // the run is cancelled; Lint returns the context's error
	}
	chartDir := filepath.Join(root, filepath.FromSlash(chartPath))
	if err := fillChartDir(c, chartDir); err != nil {
		return fmt.Errorf("writing the chart for Helm's linter: %w", err)
	}
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
		if schema, ok := l.helmSchemaMessage(c, charts, vals, m); ok {
			*out = append(*out, schema...)
			continue
		}
		out.Add(l.helmMessage(root, chartDir, chartPath, m))
	}
	if len(c.Dependencies()) == 0 {
		return nil
	}
	coalesced, err := chartutil.CoalesceValues(c, vals)
	if err != nil {
		return nil // Helm's values rule has reported it
	}
	for _, sub := range c.Dependencies() {
		subVals, _ := coalesced[sub.Name()].(map[string]any)
		if subVals == nil {
			subVals = map[string]any{}
		}
		if err := l.helmLintChart(out, root, sub, chartPath+"/charts/"+sub.Name(), append(slices.Clone(charts), sub.Name()), subVals); err != nil {
			return err
		}
	}
	return nil
}

// helmSchemaRefusal starts the error of Helm's templates rule when the
// values do not pass a schema of the chart or of a subchart.
const helmSchemaRefusal = "values don't meet the specifications of the schema(s)"

// helmSchemaMessage explains one of Helm's lint messages that is a schema
// failure as values-schema findings, the same the renders report: its
// templates rule validates the chart's values as a release does
// (manifest.CheckValuesSchema), its values rule the values given over
// values.yaml against the chart's own schema (manifest.CheckChartSchema).
// ok is false for any other message, and when ksbuilder finds no problem
// to explain it (Helm's message is then kept as it is).
func (l *linter) helmSchemaMessage(c *chart.Chart, charts []string, vals map[string]any, m support.Message) (diag.List, bool) {
	if m.Severity != support.ErrorSev || m.Err == nil {
		return nil, false
	}
	var e *manifest.SchemaError
	switch {
	case m.Path == "templates/" && strings.HasPrefix(m.Err.Error(), helmSchemaRefusal):
		e = manifest.CheckValuesSchema(c, charts, vals)
	case m.Path == chartutil.ValuesfileName && c.Schema != nil && !strings.HasPrefix(m.Err.Error(), "unable to parse YAML"):
		e = manifest.CheckChartSchema(c, charts, vals)
	}
	if e == nil {
		return nil, false
	}
	return l.loc.SchemaDiagnostics(e, RuleValuesSchema, l.valueSource()), true
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

// writeChartDir writes a chart hollow under parent/<name>, with its
// subcharts as directories under charts/, as Helm's linter expects: the
// files of hollowFiles, and for each template that defines named templates
// a copy as a partial (definingTemplates).
func writeChartDir(c *chart.Chart, parent string) error {
	dir := filepath.Join(parent, c.Name())
	if !filepath.IsLocal(c.Name()) || strings.ContainsAny(c.Name(), `/\`) {
		return fmt.Errorf("chart name %q cannot be used as a directory name", c.Name())
	}
	files, err := hollowFiles(c)
	if err != nil {
		return err
	}
	for name, t := range definingTemplates(c) {
		files = append(files, &chart.File{Name: name, Data: t.Data})
	}
	if err := writeFiles(dir, c.Name(), files); err != nil {
		return err
	}
	for _, sub := range c.Dependencies() {
		if err := writeChartDir(sub, filepath.Join(dir, "charts")); err != nil {
			return err
		}
	}
	return nil
}

// hollowFiles returns the files of a chart that the charts above it need
// when Helm's linter renders them: Chart.yaml, values, schema, the v1
// dependency files, and the partials (templates named _*, which Helm
// parses but does not render) their templates may include.
func hollowFiles(c *chart.Chart) ([]*chart.File, error) {
	// As chartutil.SaveChartfile, but on a copy: the chart is rendered at
	// the same time.
	md := *c.Metadata
	if md.APIVersion == chart.APIVersionV1 {
		md.Dependencies = nil // v1 charts keep them in requirements.yaml
	}
	chartYAML, err := yaml.Marshal(&md)
	if err != nil {
		return nil, err
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
	for _, f := range c.Files {
		if dependencyFile(f.Name) {
			files = append(files, f)
		}
	}
	for _, t := range c.Templates {
		if isPartial(t.Name) {
			files = append(files, t)
		}
	}
	return files, nil
}

// fillChartDir turns the hollow copy of a chart at dir into the full
// chart: the partial copies of definingTemplates give way to the templates
// themselves, and every template and file is written.
func fillChartDir(c *chart.Chart, dir string) error {
	for name := range definingTemplates(c) {
		if err := os.Remove(filepath.Join(dir, filepath.FromSlash(name))); err != nil {
			return err
		}
	}
	var files []*chart.File
	for _, t := range c.Templates {
		if !isPartial(t.Name) {
			files = append(files, t)
		}
	}
	for _, f := range c.Files {
		if !dependencyFile(f.Name) {
			files = append(files, f)
		}
	}
	return writeFiles(dir, c.Name(), files)
}

// definingTemplates returns the templates of a chart that are not
// partials but define named templates ({{ define }} blocks are global to
// the whole tree), by the partial name their copy takes in the hollow
// chart: "_" added to the base name until no template has it. Library
// charts' other templates are left out, as Helm leaves them.
func definingTemplates(c *chart.Chart) map[string]*chart.File {
	if strings.EqualFold(c.Metadata.Type, "library") {
		return nil
	}
	taken := map[string]bool{}
	for _, t := range c.Templates {
		taken[t.Name] = true
	}
	out := map[string]*chart.File{}
	for _, t := range c.Templates {
		if isPartial(t.Name) || !bytes.Contains(t.Data, []byte("define")) {
			continue
		}
		name := t.Name
		for taken[name] {
			name = path.Join(path.Dir(name), "_"+path.Base(name))
		}
		taken[name] = true
		out[name] = t
	}
	return out
}

// isPartial reports whether Helm parses a template without rendering it.
func isPartial(name string) bool {
	return strings.HasPrefix(path.Base(name), "_")
}

// dependencyFile reports whether a chart file lists dependencies.
func dependencyFile(name string) bool {
	switch name {
	case "requirements.yaml", "requirements.lock", "Chart.lock":
		return true
	}
	return false
}

// writeFiles writes files of the chart name into dir.
func writeFiles(dir, name string, files []*chart.File) error {
	made := map[string]bool{}
	for _, f := range files {
		if !filepath.IsLocal(filepath.FromSlash(f.Name)) {
			return fmt.Errorf("%s: file %q leaves the chart directory", name, f.Name)
		}
		p := filepath.Join(dir, filepath.FromSlash(f.Name))
		if d := filepath.Dir(p); !made[d] {
			if err := os.MkdirAll(d, 0o755); err != nil {
				return err
			}
			made[d] = true
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			return err
		}
	}
	return nil
}
