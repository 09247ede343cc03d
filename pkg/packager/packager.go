// Package packager turns an extension into the .tgz that KubeSphere installs:
// a Helm chart whose Chart.yaml is generated from extension.yaml, with the
// local icon inlined as a data URI. Archives are reproducible: the same input
// gives the same bytes.
package packager

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"

	"github.com/ksbuilder/ksbuilder/pkg/diag"
	"github.com/ksbuilder/ksbuilder/pkg/extension"
	"github.com/ksbuilder/ksbuilder/pkg/manifest"
	"github.com/ksbuilder/ksbuilder/pkg/source"
	"github.com/ksbuilder/ksbuilder/pkg/units"
)

// MaxSize is the largest package KubeSphere accepts: KubeSphere Cloud refuses
// pushes over 1 MB, and a published chart is stored in a ConfigMap, which
// etcd limits to 1 MiB in total. We use 1 MiB for both.
const MaxSize = units.MiB

// WarnSize is where a warning starts: the installer copies the chart into a
// second ConfigMap next to values and a kubeconfig, so leave headroom.
const WarnSize = 900 * units.KiB

// Diagnostic codes of the packager.
const (
	CodeMissingMetadata    = "missing-metadata"
	CodeMissingPermissions = "missing-permissions"
	CodeChart              = "chart"
	CodeDependencyMissing  = "dependency-missing"
	CodePackageSize        = "package-size"
	// CodeRender is a chart that Helm cannot render: a template that does
	// not parse. "ksbuilder lint" reports render failures under the same
	// rule.
	CodeRender = "render"
)

// Options tune Build.
type Options struct {
	// MaxSize is the size limit in bytes; 0 means MaxSize.
	MaxSize int64
	// ModTime is the modification time stored for every entry
	// (SOURCE_DATE_EPOCH); the zero value means the Unix epoch.
	ModTime time.Time
	// Target is where the package goes: the cluster (default) or the
	// marketplace; it names the limit in messages.
	Target Target
	// Version, when set, replaces extension.yaml's version in the package
	// (Chart.yaml and the package's Extension): "ksbuilder dev" publishes
	// development versions this way. It must be a semantic version.
	Version string
}

// Package is a built extension package.
type Package struct {
	Extension *extension.Extension
	Chart     *chart.Chart
	// Data is the .tgz.
	Data []byte
	// Entries are the archive's files, in archive order.
	Entries []Entry
	// Warnings are the non-fatal problems found while validating.
	Warnings diag.List
}

// Entry is one file of the archive.
type Entry struct {
	Name string `json:"name"`
	Size int64  `json:"size"`

	data []byte
}

// FileName returns "<name>-<version>.tgz".
func (p *Package) FileName() string {
	return fmt.Sprintf("%s-%s.tgz", p.Extension.Name, p.Extension.Version)
}

// Size returns the size of the archive in bytes.
func (p *Package) Size() int64 { return int64(len(p.Data)) }

// Validate parses and checks everything Build needs, without building:
// extension.yaml (syntax, fields, referenced files) and permissions.yaml.
// The extension is nil only when extension.yaml is missing.
func Validate(src *source.Source) (*extension.Extension, diag.List) {
	data, ok := src.Read(extension.MetadataFile)
	if line, rule, hidden := src.HiddenBy(extension.MetadataFile); !ok && hidden {
		return nil, diag.List{{
			Severity: diag.Error, Code: CodeMissingMetadata, File: ".helmignore", Line: line,
			Message: fmt.Sprintf("%q leaves extension.yaml out of the extension", rule),
			Hint:    `remove or narrow the line; a "!" line ignores every file it does not match`,
		}}
	}
	if !ok {
		return nil, diag.List{{
			Severity: diag.Error, Code: CodeMissingMetadata, File: extension.MetadataFile,
			Message: fmt.Sprintf("not found in %s", src.Path),
			Hint:    "give the directory that holds extension.yaml, or run ksbuilder create to start one",
		}}
	}
	ext, diags := extension.Check(data, src)
	if perm, ok := src.Read(extension.PermissionsFile); ok {
		_, pd := extension.ParsePermissions(perm)
		diags = append(diags, pd...)
	} else {
		diags.Add(diag.Diagnostic{
			Severity: diag.Warning, Code: CodeMissingPermissions, File: extension.PermissionsFile,
			Message: "not found; the installer will get no cluster-scoped permissions",
			Hint:    "add permissions.yaml with the ClusterRole and Role rules the chart needs",
		})
	}
	diags.Sort()
	return ext, diags
}

// Build validates an extension, checks that its templates parse and
// packages it in memory. A package over the size limit is returned together
// with a *TooLargeError.
func Build(src *source.Source, opts Options) (*Package, error) {
	ext, diags := Validate(src)
	if err := diags.Err(); err != nil {
		return nil, err
	}
	if opts.Version != "" {
		ext.Version = opts.Version
	}
	c, err := LoadChart(src, ext)
	if err != nil {
		return nil, err
	}
	if err := CheckTemplates(src, c).Err(); err != nil {
		return nil, err
	}
	if err := manifest.NewLocator(src, c).SchemaSyntaxDiagnostics().Err(); err != nil {
		return nil, err // Helm refuses to write such a chart
	}
	chartYAML, err := extension.MarshalChartYAML(c.Metadata)
	if err != nil {
		return nil, fmt.Errorf("generating Chart.yaml: %w", err)
	}

	data, entries, err := writeArchive(c, chartYAML, opts.ModTime)
	if err != nil {
		return nil, err
	}
	if err := checkReadable(ext, entries).Err(); err != nil {
		return nil, err
	}
	pkg := &Package{Extension: ext, Chart: c, Data: data, Entries: entries, Warnings: diags}
	limit := opts.MaxSize
	if limit <= 0 {
		limit = MaxSize
	}
	switch size := pkg.Size(); {
	case size > limit:
		return pkg, &TooLargeError{Size: size, Limit: limit, Target: opts.Target, pkg: pkg}
	case size > WarnSize && limit >= MaxSize:
		pkg.Warnings.Add(diag.Diagnostic{
			Severity: diag.Warning, Code: CodePackageSize,
			Message: fmt.Sprintf("the package is %s, close to the %s %s", units.FormatBytes(size), units.FormatBytes(limit), opts.Target.limitName()),
			Hint:    pkg.sizeAdvice(opts.Target),
		})
	}
	return pkg, nil
}

// checkReadable refuses a package that "ksbuilder validate" or Helm's
// loader (hence KubeSphere's installer) would refuse: over the reader's
// limits (a Chart.yaml over Helm's 5 MiB per file, with an icon inlined),
// or with a name tar cannot extract.
func checkReadable(ext *extension.Extension, entries []Entry) diag.List {
	files := make([]source.FileInfo, len(entries))
	for i, e := range entries {
		files[i] = source.FileInfo{Name: e.Name, Size: e.Size}
	}
	err := source.CheckFiles(source.DefaultLimits, files)
	if err == nil {
		return nil
	}
	hint := "list files the chart does not need in .helmignore"
	var large *source.FileTooLargeError
	if errors.As(err, &large) && large.Name == ext.Name+"/Chart.yaml" && extension.IsLocal(ext.Icon) {
		hint = fmt.Sprintf("the icon %s is inlined into Chart.yaml as a data URI: use a smaller icon, or a URL", ext.Icon)
	}
	return diag.List{{Severity: diag.Error, Code: CodeChart, Message: "in the package, " + err.Error() + "; Helm's loader would refuse it", Hint: hint}}
}

// LoadChart builds the extension's Helm chart in memory: Chart.yaml
// generated from ext (a local icon inlined as a data URI, a Chart.yaml in the
// source ignored) and every other file of src. Declared dependencies missing
// from charts/ are diagnostics of code CodeDependencyMissing.
func LoadChart(src *source.Source, ext *extension.Extension) (*chart.Chart, error) {
	icon := ext.Icon
	if extension.IsLocal(icon) {
		p, _ := extension.LocalPath(icon) // checked by ValidateFiles
		data, _ := src.Read(p)
		icon = extension.DataURI(p, data)
	}
	md := ext.ChartMetadata(icon)
	// Helm's loader parses and checks Chart.yaml. A data-URI icon can be
	// hundreds of KB that it would only parse, so it loads the metadata
	// without it and the icon is set afterwards.
	light := *md
	if strings.HasPrefix(light.Icon, "data:") {
		light.Icon = ""
	}
	chartYAML, err := extension.MarshalChartYAML(&light)
	if err != nil {
		return nil, fmt.Errorf("generating Chart.yaml: %w", err)
	}

	files := []*loader.BufferedFile{{Name: "Chart.yaml", Data: chartYAML}}
	for _, f := range src.Files() {
		if f.Name == "Chart.yaml" {
			continue // always generated from extension.yaml
		}
		files = append(files, &loader.BufferedFile{Name: f.Name, Data: f.Data})
	}
	c, err := loader.LoadFiles(files)
	if err != nil {
		return nil, diag.List{{Severity: diag.Error, Code: CodeChart, Message: chartError(err)}}.Err()
	}
	c.Metadata.Icon = md.Icon
	if err := checkDependencies(ext, c).Err(); err != nil {
		return nil, err
	}
	return c, nil
}

// chartError rewrites Helm's loader errors into one line.
func chartError(err error) string {
	msg := strings.ReplaceAll(err.Error(), "\n", " ")
	return "the chart cannot be loaded: " + msg
}

// checkDependencies reports declared dependencies that have no subchart in
// charts/ (matched by the subchart's Chart.yaml name, as Helm does).
func checkDependencies(ext *extension.Extension, c *chart.Chart) diag.List {
	have := map[string]bool{}
	for _, sub := range c.Dependencies() {
		have[sub.Name()] = true
	}
	var out diag.List
	for i, d := range ext.Dependencies {
		if have[d.Name] {
			continue
		}
		field := fmt.Sprintf("dependencies[%d].name", i)
		line, col := ext.Position(field)
		hint := "add it under charts/ as a directory or a .tgz whose Chart.yaml name matches"
		if d.Repository != "" && !strings.HasPrefix(d.Repository, "file://") {
			hint = "ksbuilder fetches it into charts/ when it packages the extension directory (as Chart.lock locks it); a package must hold it under charts/"
		} else if d.Repository != "" {
			hint = "file:// charts are not fetched: add it under charts/ as a directory or a .tgz whose Chart.yaml name matches"
		}
		out.Add(diag.Diagnostic{
			Severity: diag.Error, Code: CodeDependencyMissing, File: extension.MetadataFile,
			Line: line, Column: col, Field: field,
			Message: fmt.Sprintf("subchart %q is declared but not found under charts/", d.Name), Hint: hint,
		})
	}
	return out
}
