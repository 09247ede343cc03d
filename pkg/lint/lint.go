// Package lint checks a KubeSphere extension the way KubeSphere will treat
// it: extension.yaml and the package (the checks shared with "ksbuilder
// package"), permissions.yaml against what the chart creates, Helm's own
// linter on the generated chart and every subchart, and the manifests of the
// host and agent releases rendered with the installer's values. Findings are
// diag.Diagnostics whose Code is the rule ID; Rules lists them all.
package lint

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"

	"helm.sh/helm/v3/pkg/chart"

	"github.com/ksbuilder/ksbuilder/pkg/diag"
	"github.com/ksbuilder/ksbuilder/pkg/extension"
	"github.com/ksbuilder/ksbuilder/pkg/manifest"
	"github.com/ksbuilder/ksbuilder/pkg/packager"
	"github.com/ksbuilder/ksbuilder/pkg/source"
)

// Options tune a lint run.
type Options struct {
	// Values are the user's values, as an InstallPlan's spec.config would
	// give them; the installer's overrides are set over them.
	Values map[string]any
	// ValueSource, when set, says how the user gave a value of Values
	// ("--set replicas=3"), for the findings about values the chart's
	// values.schema.json refuses.
	ValueSource manifest.ValueSource
	// Skip lists rule IDs whose findings are left out of the result; they
	// are counted in Result.Skipped.
	Skip []string
	// Adjust, when set, re-grades each finding (the configuration file's
	// severities) or, returning false, skips it like Skip does.
	Adjust func(diag.Diagnostic) (diag.Diagnostic, bool)
	// MaxSize is the package size limit in bytes; 0 means packager.MaxSize.
	MaxSize int64
	// Prepare, when set, runs on the extension once it is read, before it
	// is linted: the CLI fetches the subcharts declared with a repository
	// into it. Its error stops the lint of that extension.
	Prepare func(context.Context, *source.Source) error
	// TempDir is where Helm's linter gets its copy of the chart (removed
	// afterwards); "" means the system's temporary directory.
	TempDir string
}

// Result is the outcome of linting one extension.
type Result struct {
	// Name and Version come from extension.yaml, when it could be read.
	Name    string `json:"name,omitempty"`
	Version string `json:"version,omitempty"`
	// Findings are sorted by file, line, column, severity and rule.
	Findings diag.List `json:"findings"`
	// Skipped is the number of findings left out because their rule was
	// skipped.
	Skipped int `json:"skipped"`
}

// Count returns the number of findings of a severity.
func (r *Result) Count(s diag.Severity) int {
	return len(r.Findings.Filter(s))
}

// Failed reports whether the findings fail the run: any error, or with
// strict any warning too.
func (r *Result) Failed(strict bool) bool {
	if strict {
		return r.FailsAt(diag.Warning)
	}
	return r.FailsAt(diag.Error)
}

// FailsAt reports whether a finding is at least as severe as threshold.
func (r *Result) FailsAt(threshold diag.Severity) bool {
	for _, d := range r.Findings {
		if d.Severity <= threshold {
			return true
		}
	}
	return false
}

// Lint runs every rule on an extension. Problems of the extension are
// findings; the error is for failures of the run itself, such as a
// temporary directory that cannot be written.
func Lint(src *source.Source, opts Options) (*Result, error) {
	return lintContext(context.Background(), src, opts)
}

// lintContext is Lint stopping early, with ctx's error, once ctx is
// cancelled: between charts for Helm's linter, between the releases and
// between the rule groups. Helm's linter's temporary directory is removed
// before it returns.
func lintContext(ctx context.Context, src *source.Source, opts Options) (*Result, error) {
	l := &linter{ctx: ctx, src: src, opts: opts}
	ext, diags := packager.Validate(src)
	l.add(diags...)
	if ext == nil {
		return l.result(), nil
	}
	l.ext = ext
	// An installation mode KubeSphere does not know, or a value that is not
	// a string at all, leaves open which releases are installed: rules that
	// depend on it stop.
	l.modeKnown = !hasError(diags, extension.CodeInstallationMode) && !hasFieldError(diags, "installationMode")
	l.marker = markerFor(ext)
	l.packageRules()
	if l.loadChart(diags.HasErrors()) {
		l.loc = manifest.NewLocator(src, l.chart)
		l.subchartTags()
		// Helm's linter and the renders are independent: run them side by
		// side. Helm's linter coalesces chart defaults into the values it
		// is given, so it gets its own deep copy; the renders copy theirs
		// (manifest.InstallerRelease) and clone the chart before Helm's
		// dependency processing mutates it.
		helmVals := manifest.CopyValues(l.opts.Values)
		var (
			helmFindings diag.List
			helmErr      error
			done         = make(chan struct{})
		)
		go func() {
			defer close(done)
			defer func() {
				// A bug in Helm's linter must not take the process down
				// from this goroutine; report it as a finding instead.
				if r := recover(); r != nil {
					helmFindings = diag.List{{Severity: diag.Error, Code: RuleHelmLint,
						Message: fmt.Sprintf("Helm's linter failed: %v", r), Hint: "run helm lint on the packaged chart to see more"}}
				}
			}()
			helmFindings, helmErr = l.helmLint(helmVals)
		}()
		l.render()
		for _, rules := range []func(){l.workloadRules, l.kubeAPIRules, l.kindRules, l.imageRules, l.crdUpgrade} {
			if ctx.Err() != nil {
				break
			}
			rules()
		}
		<-done
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if helmErr != nil && l.enabled(RuleHelmLint) {
			return nil, helmErr
		}
		l.add(helmFindings...)
	}
	l.permissionRules()
	return l.result(), nil
}

// linter carries the state of one run.
type linter struct {
	// ctx stops the run when cancelled.
	ctx  context.Context
	src  *source.Source
	opts Options
	ext  *extension.Extension
	// chart is the generated chart, nil when it could not be built.
	chart *chart.Chart
	loc   *manifest.Locator
	// modeKnown is false when installationMode is not a mode KubeSphere
	// knows.
	modeKnown bool
	// marker is the value set as global.imageRegistry and as the
	// kubernetes.io/os node selector, to see where they reach.
	marker   string
	releases []*release
	findings diag.List
}

// add records findings, those of skipped rules too: result leaves them
// out and counts them once duplicates are gone.
func (l *linter) add(ds ...diag.Diagnostic) {
	l.findings = append(l.findings, ds...)
}

// enabled reports whether a rule was not skipped.
func (l *linter) enabled(rule string) bool {
	return !slices.Contains(l.opts.Skip, rule)
}

// result keeps one finding per problem among the rules that run, and
// counts the problems only skipped rules found.
func (l *linter) result() *Result {
	var shown, skipped diag.List
	for _, d := range l.findings {
		keep := l.enabled(d.Code)
		if keep && l.opts.Adjust != nil {
			d, keep = l.opts.Adjust(d)
		}
		if keep {
			shown = append(shown, d)
		} else {
			skipped = append(skipped, d)
		}
	}
	r := &Result{Findings: dedupe(shown)}
	r.Skipped = len(dedupe(append(slices.Clone(r.Findings), skipped...))) - len(r.Findings)
	if r.Findings == nil {
		r.Findings = diag.List{}
	}
	if l.ext != nil {
		r.Name, r.Version = l.ext.Name, l.ext.Version
	}
	return r
}

// dedupe keeps one finding per problem and sorts them. It drops exact
// repeats (the host and agent releases often render the same objects), and
// reports a template error once: the render, Helm's linter on the
// extension's chart and again on the subchart all stop at the same
// template position. The first finding at a position is kept; the renders
// are recorded before Helm's linter, whose findings name the chart as its
// parent sees it first, so the most precise one stays.
func dedupe(list diag.List) diag.List {
	type position struct {
		file         string
		line, column int
	}
	seen := make(map[diag.Diagnostic]bool, len(list))
	templateErrors := map[position]bool{}
	var out diag.List
	for _, d := range list {
		if seen[d] {
			continue
		}
		seen[d] = true
		if (d.Code == RuleRender || d.Code == RuleHelmLint) && d.Line > 0 {
			p := position{d.File, d.Line, d.Column}
			if templateErrors[p] {
				continue
			}
			templateErrors[p] = true
		}
		out = append(out, d)
	}
	out.Sort()
	return out
}

// hasError reports whether a list holds an error of a rule.
func hasError(list diag.List, rule string) bool {
	return slices.ContainsFunc(list, func(d diag.Diagnostic) bool {
		return d.Code == rule && d.Severity == diag.Error
	})
}

// MaxChartDepth is how deep subcharts may nest: the extension's chart is
// level 0, charts/app level 1. Helm's linter renders each template once,
// but loads, for every chart, the Chart.yaml, values and helpers of the
// charts under it, so that part grows with the depth times the number of
// charts; real charts nest 3 or 4 levels.
const MaxChartDepth = 16

// hasFieldError reports whether list has an error about field.
func hasFieldError(list diag.List, field string) bool {
	return slices.ContainsFunc(list, func(d diag.Diagnostic) bool {
		return d.Field == field && d.Severity == diag.Error
	})
}

// loadChart builds the chart: with the package when extension.yaml is
// valid (for the size check), else directly, so the chart rules still run.
// A chart nested too deep is a finding, and the chart rules do not run.
func (l *linter) loadChart(metadataErrors bool) bool {
	if depth, deepest := chartDepth(l.src); depth > MaxChartDepth {
		l.add(diag.Diagnostic{Severity: diag.Error, Code: packager.CodeChart, File: deepest,
			Message: fmt.Sprintf("subcharts are nested %d levels deep; ksbuilder lints at most %d", depth, MaxChartDepth),
			Hint:    "flatten the chart: declare deep dependencies on a chart higher up"})
		return false
	}
	if metadataErrors {
		c, err := packager.LoadChart(l.src, l.ext)
		if err != nil {
			if l.ext.ChartMetadata("").Validate() != nil {
				// Chart.yaml is generated from extension.yaml, whose
				// errors are reported: Helm's complaints about it
				// ("chart.metadata.name is required") would repeat them.
				return false
			}
			list, ok := diag.AsErrors(err)
			if !ok {
				list = diag.List{{Severity: diag.Error, Code: packager.CodeChart, Message: err.Error()}}
			}
			l.add(list...)
			return false
		}
		l.chart = c
		return true
	}
	pkg, err := packager.Build(l.src, packager.Options{MaxSize: l.opts.MaxSize})
	var tooLarge *packager.TooLargeError
	switch {
	case err == nil:
	case errors.As(err, &tooLarge):
		l.add(diag.Diagnostic{Severity: diag.Error, Code: packager.CodePackageSize, Message: err.Error(), Hint: tooLarge.Hint()})
	default:
		list, ok := diag.AsErrors(err)
		if !ok {
			list = diag.List{{Severity: diag.Error, Code: packager.CodeChart, Message: err.Error()}}
		}
		l.add(list...)
		return false
	}
	for _, w := range pkg.Warnings {
		if w.Code == packager.CodePackageSize {
			l.add(w)
		}
	}
	l.chart = pkg.Chart
	return true
}

// chartDepth returns how deep the subcharts under the extension's
// charts/ nest (the "charts/NAME" pairs a file's path starts with) and the
// path of the deepest one. A subchart packed as a .tgz is one level.
func chartDepth(src *source.Source) (int, string) {
	depth, deepest := 0, ""
	for _, f := range src.Files() {
		parts := strings.Split(f.Name, "/")
		n := 0
		for 2*n+1 < len(parts) && parts[2*n] == "charts" {
			n++
		}
		if n > depth {
			depth, deepest = n, strings.Join(parts[:2*n], "/")
		}
	}
	return depth, deepest
}

// rendered reports whether every release of the extension rendered, so
// rules about what the chart does not create can trust the objects.
func (l *linter) rendered() bool {
	if !l.modeKnown {
		return false // the releases rendered may not be the ones installed
	}
	sides := 1
	if l.ext.Mode() == extension.Multicluster {
		sides = 2
	}
	return l.chart != nil && len(l.releases) == sides
}

// markerFor returns the value set as global.imageRegistry and
// global.nodeSelector: a registry host that cannot exist, derived from the
// extension so runs are reproducible.
func markerFor(ext *extension.Extension) string {
	h := fnv.New32a()
	h.Write([]byte(ext.Name + "@" + ext.Version))
	return fmt.Sprintf("lint-%08x.ksbuilder.invalid", h.Sum32())
}
