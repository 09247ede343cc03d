package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/ksbuilder/ksbuilder/pkg/diag"
	"github.com/ksbuilder/ksbuilder/pkg/lint"
	"github.com/ksbuilder/ksbuilder/pkg/manifest"
	"github.com/ksbuilder/ksbuilder/pkg/output"
	"github.com/ksbuilder/ksbuilder/pkg/registry"
	"github.com/ksbuilder/ksbuilder/pkg/source"
	"github.com/ksbuilder/ksbuilder/pkg/values"
)

// The -o formats of lint for CI, besides text and json.
const (
	formatSARIF  output.Format = "sarif"
	formatGitHub output.Format = "github"
)

// informationURI is where SARIF readers send users for the tool.
const informationURI = "https://github.com/ksbuilder/ksbuilder"

type lintOptions struct {
	f *Factory

	Paths  []string
	Values values.Options
	Skip   []string
	Strict bool
	// FailOn is the least severe finding that fails the run; --strict
	// makes it at least diag.Warning.
	FailOn diag.Severity
	// Config names the configuration file; "" means look for one from
	// each PATH upward, unless NoConfig.
	Config   string
	NoConfig bool
	// ChangedSince is a git ref: only extensions with changes since it
	// are linted.
	ChangedSince string
	Quiet        bool
	ListRules    bool
	MaxSize      int64
	Output       output.Format
	// DependencyUpdate resolves the repository subcharts again.
	DependencyUpdate bool
}

// lintReport is what "lint -o json" prints; docs/lint.md documents it.
type lintReport struct {
	// Passed is false when an error was found, or a warning with --strict.
	Passed bool `json:"passed"`
	// Extensions counts the extensions linted, Failed those that failed.
	Extensions int          `json:"extensions"`
	Failed     int          `json:"failed"`
	Summary    lintSummary  `json:"summary"`
	Results    []lintResult `json:"results"`
}

type lintSummary struct {
	Errors   int `json:"errors"`
	Warnings int `json:"warnings"`
	Infos    int `json:"infos"`
}

func (s *lintSummary) add(o lintSummary) {
	s.Errors += o.Errors
	s.Warnings += o.Warnings
	s.Infos += o.Infos
}

type lintResult struct {
	// Path is the PATH argument as given.
	Path    string      `json:"path"`
	Name    string      `json:"name,omitempty"`
	Version string      `json:"version,omitempty"`
	Passed  bool        `json:"passed"`
	Summary lintSummary `json:"summary"`
	// Skipped counts the findings of the rules given to --skip or skipped
	// by the configuration file.
	Skipped int `json:"skipped"`
	// Config is the configuration file applied, if any.
	Config   string    `json:"config,omitempty"`
	Findings diag.List `json:"findings"`
}

func newLintCmd(f *Factory, runF func(*lintOptions) error) *cli.Command {
	return &cli.Command{
		Name:      "lint",
		Usage:     "Check extensions for problems KubeSphere would run into",
		ArgsUsage: "[PATH...]",
		Description: `Checks each PATH (an extension directory or a packaged .tgz; default ".")
and reports findings with a rule ID, a severity and the file, line and field.
A PATH that is not an extension (no extension.yaml) stands for every
extension below it, linted in parallel; --changed-since REF keeps those with
changes since a git ref. The rules:

  metadata     extension.yaml and the package (the checks of "ksbuilder
               package"), READMEs, remote dependencies
  permissions  permissions.yaml: valid rules, wildcards, sensitive resources,
               delete where the chart creates nothing, and every object the
               chart renders covered by the installer's permissions
  chart        Helm's own linter on the generated chart and each subchart;
               the host release (and the agent release of Multicluster
               extensions) rendered with the installer's values, and checked
               for global.imageRegistry, global.nodeSelector, the
               kubesphere.io/managed label, the images list, subchart tags

The values flags set the values an InstallPlan's config would. Exits 1 when
an error is found (with --strict, also a warning; see --fail-on), 0
otherwise. Rules can be listed with --list-rules and skipped with --skip;
.ksbuilder-lint.yaml (found from each PATH up to the git root) skips or
re-grades them with a reason. docs/lint.md explains them.

Examples:
  ksbuilder lint
  ksbuilder lint ./hello ./world --strict
  ksbuilder lint hello-0.1.0.tgz -o json
  ksbuilder lint --skip permissions-wildcard -f prod-values.yaml
  ksbuilder lint . --changed-since origin/main -o github
  ksbuilder lint --list-rules`,
		Flags: append([]cli.Flag{
			&cli.BoolFlag{Name: "strict", Usage: "fail on warnings too (--fail-on warning)"},
			&cli.StringFlag{Name: "fail-on", Value: "error", Usage: "fail on findings of `SEVERITY` or worse: error, warning or info"},
			&cli.StringFlag{Name: "config", Usage: "read the configuration `FILE` instead of looking for " + lint.ConfigFileName},
			&cli.BoolFlag{Name: "no-config", Usage: "apply no configuration file"},
			&cli.StringFlag{Name: "changed-since", Usage: "lint only the extensions with changes since the git `REF` (committed since its merge base with HEAD, or in the work tree)"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "leave out info findings, and the summary when nothing is wrong"},
			&cli.StringSliceFlag{Name: "skip", Usage: "skip the rule `RULE` (repeatable or comma-separated); see --list-rules"},
			&cli.BoolFlag{Name: "list-rules", Usage: "list the rules and exit"},
			// Upstream's spelling; ksbuilder always lints every subchart.
			&cli.BoolFlag{Name: "with-subcharts", Hidden: true},
			maxSizeFlag(),
			dependencyUpdateFlag(),
			outputFlag("text, json, yaml, sarif (for code scanning) or github (Actions annotations)"),
		}, valuesFlags()...),
		Action: func(c *cli.Context) error {
			opts := &lintOptions{
				f: f, Paths: c.Args().Slice(), Values: valueOptions(c),
				Strict: c.Bool("strict"), Quiet: c.Bool("quiet"), ListRules: c.Bool("list-rules"),
				Config: c.String("config"), NoConfig: c.Bool("no-config"), ChangedSince: c.String("changed-since"),
				DependencyUpdate: c.Bool(flagDependencyUpdate),
			}
			if c.Bool("with-subcharts") {
				f.Infof("--with-subcharts: subcharts are always linted; the flag is not needed")
			}
			failOn := strings.ToLower(strings.TrimSpace(c.String("fail-on")))
			switch failOn {
			case "error", "warning", "info":
				opts.FailOn, _ = diag.ParseSeverity(failOn)
			default:
				return usageErrorf("--fail-on: %q is not a severity (write error, warning or info)", c.String("fail-on"))
			}
			if opts.Strict && opts.FailOn == diag.Error {
				opts.FailOn = diag.Warning
			}
			if opts.Config != "" && opts.NoConfig {
				return usageErrorf("--config and --no-config cannot be used together")
			}
			if len(opts.Paths) == 0 {
				opts.Paths = []string{"."}
			}
			for _, s := range c.StringSlice("skip") {
				id := strings.TrimSpace(s)
				if _, ok := lint.LookupRule(id); !ok {
					return usageErrorf("--skip: %q is not a rule (ksbuilder lint --list-rules lists them)", id)
				}
				opts.Skip = append(opts.Skip, id)
			}
			var err error
			if opts.MaxSize, err = maxSize(c); err != nil {
				return err
			}
			if opts.Output, err = outputFormat(c, output.Text, output.JSON, output.YAML, formatSARIF, formatGitHub); err != nil {
				return err
			}
			if opts.ListRules && c.NArg() > 0 {
				return usageErrorf("--list-rules takes no PATH")
			}
			if runF != nil {
				return runF(opts)
			}
			return lintRun(c.Context, opts)
		},
	}
}

func lintRun(ctx context.Context, opts *lintOptions) error {
	f := opts.f
	if opts.ListRules {
		return listRules(f, opts.Output)
	}
	vals, valueSource, err := opts.Values.MergeSources(f.IO.In)
	if err != nil {
		return &usageError{err: err}
	}
	// When linting, Helm's template engine reports missing required values
	// through the standard logger; the findings already cover them.
	defer log.SetOutput(log.Writer())
	log.SetOutput(io.Discard)
	if f.debug {
		log.SetOutput(f.IO.ErrOut)
	}
	// The extensions, the git changes and every configuration file are
	// read before anything is linted, so a bad ref or a broken file stops
	// the run before any output.
	paths, err := lintTargets(opts)
	if err != nil {
		return err
	}
	configs, err := lintConfigs(opts, paths)
	if err != nil {
		return err
	}
	deps := dependencyOptions(f, opts.DependencyUpdate, registry.Options{})
	prepare := func(ctx context.Context, src *source.Source) error {
		if opts.DependencyUpdate && src.Kind != source.Directory {
			return nil // a package among directories: it has its subcharts
		}
		return prepareDependencies(ctx, src, deps)
	}
	targets := make([]lint.Target, len(paths))
	for i, p := range paths {
		targets[i] = lint.Target{Path: p, Options: lint.Options{Values: manifest.CopyValues(vals), ValueSource: valueSource, Skip: opts.Skip, MaxSize: opts.MaxSize, Prepare: prepare}}
		if cfg := configs[p]; cfg != nil {
			targets[i].Options.Adjust = cfg.Adjuster(p)
		}
	}
	start := f.Now()
	f.Debugf("linting %d extensions", len(targets))
	results, err := lint.LintAll(ctx, targets, 0)
	if err != nil {
		return err
	}
	f.Debugf("linted %d extensions in %s", len(targets), f.Now().Sub(start))
	report := lintReport{Passed: true, Results: []lintResult{}}
	for i, res := range results {
		p := paths[i]
		r := lintResult{Path: p, Name: res.Name, Version: res.Version, Passed: !res.FailsAt(opts.FailOn), Skipped: res.Skipped, Findings: diag.List{}}
		if cfg := configs[p]; cfg != nil {
			r.Config = filepath.ToSlash(cfg.File)
		}
		for _, d := range res.Findings {
			if opts.Quiet && d.Severity == diag.Info {
				continue
			}
			r.Findings = append(r.Findings, d)
		}
		r.Summary = summarize(r.Findings)
		report.Summary.add(r.Summary)
		report.Passed = report.Passed && r.Passed
		report.Extensions++
		if !r.Passed {
			report.Failed++
		}
		report.Results = append(report.Results, r)
	}
	many := len(report.Results) != 1 || len(opts.Paths) != 1 || paths[0] != opts.Paths[0]
	switch opts.Output {
	case output.JSON, output.YAML:
		if err := output.Write(f.IO.Out, opts.Output, report, nil); err != nil {
			return err
		}
	case formatSARIF:
		if err := output.WriteJSON(f.IO.Out, lintSARIF(f, report, opts)); err != nil {
			return err
		}
	case formatGitHub:
		printGitHubAnnotations(f, report, opts)
	default:
		printLintReport(f, report, opts)
	}
	if many && (opts.Output == output.Text || opts.Output == formatGitHub) {
		fmt.Fprintf(f.IO.Out, "%s, %d failed\n", plural(report.Extensions, "extension"), report.Failed)
	}
	if !report.Passed {
		return &silentError{code: exitFailure}
	}
	return nil
}

// lintTargets expands the PATHs into the extensions to lint: a PATH that
// is not an extension stands for every extension below it (in path order,
// or itself when there is none); with --changed-since, only the extensions
// with changes since the ref are kept.
func lintTargets(opts *lintOptions) ([]string, error) {
	var paths []string
	for _, p := range opts.Paths {
		if lint.IsExtension(p) {
			paths = append(paths, p)
			continue
		}
		found, err := lint.Discover(p)
		if err != nil {
			return nil, err
		}
		if len(found) == 0 {
			found = []string{p} // reported as missing extension.yaml
		}
		paths = append(paths, found...)
	}
	if opts.ChangedSince == "" {
		return paths, nil
	}
	// git runs in the first PATH's directory, so the repository is the
	// one the extensions are in.
	dir := opts.Paths[0]
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		dir = filepath.Dir(dir)
	}
	files, err := lint.ChangedFiles(dir, opts.ChangedSince)
	if err != nil {
		return nil, usageErrorf("--changed-since: %w", err)
	}
	var changed []string
	for _, p := range paths {
		if lint.Touched(p, files) {
			changed = append(changed, p)
		}
	}
	return changed, nil
}

// lintConfigs reads the configuration file of every PATH: the one --config
// names, or the one found from the PATH upward. A file that cannot be read
// or is wrong is a usage error naming its line.
func lintConfigs(opts *lintOptions, paths []string) (map[string]*lint.Config, error) {
	configs := map[string]*lint.Config{}
	if opts.NoConfig {
		return configs, nil
	}
	loaded := map[string]*lint.Config{}
	for _, p := range paths {
		file := opts.Config
		if file == "" {
			found, err := lint.FindConfig(p)
			if err != nil {
				return nil, err
			}
			if found == "" {
				continue
			}
			file = relToCwd(found)
		}
		cfg, ok := loaded[file]
		if !ok {
			var err error
			if cfg, err = lint.LoadConfig(file); err != nil {
				if _, isDiag := diag.AsErrors(err); isDiag {
					return nil, &usageError{err: err}
				}
				if opts.Config != "" {
					return nil, usageErrorf("--config: %w", err)
				}
				return nil, &usageError{err: err}
			}
			loaded[file] = cfg
		}
		configs[p] = cfg
	}
	return configs, nil
}

// relToCwd shortens an absolute path to one relative to the current
// directory when it lies below it.
func relToCwd(p string) string {
	wd, err := os.Getwd()
	if err != nil {
		return p
	}
	if rel, err := filepath.Rel(wd, p); err == nil && !strings.HasPrefix(rel, "..") {
		return rel
	}
	return p
}

func summarize(list diag.List) lintSummary {
	return lintSummary{
		Errors:   len(list.Filter(diag.Error)),
		Warnings: len(list.Filter(diag.Warning)),
		Infos:    len(list.Filter(diag.Info)),
	}
}

// printLintReport writes the findings grouped by file, one per line as
// "file:line:col: severity: field: message (hint) [rule]", a blank line
// between files, then a summary per PATH; with --skip it says how many
// findings the skipped rules had.
func printLintReport(f *Factory, report lintReport, opts *lintOptions) {
	w := f.IO.Out
	for _, r := range report.Results {
		last := "\x00"
		for _, d := range r.Findings {
			file := displayPath(r.Path, d.File)
			if file != last && last != "\x00" {
				fmt.Fprintln(w)
			}
			last = file
			fmt.Fprintln(w, formatDiagnostic(d, r.Path, func(s string, c color) string { return colorOut(f, s, c) }))
		}
		if len(r.Findings) > 0 {
			fmt.Fprintln(w)
		}
		printSummary(f, r, opts)
	}
}

// printSummaries writes the summary line of each PATH.
func printSummaries(f *Factory, report lintReport, opts *lintOptions) {
	for _, r := range report.Results {
		printSummary(f, r, opts)
	}
}

// printSummary writes the summary line of a PATH: its name, whether it
// passed and the counts of its findings.
func printSummary(f *Factory, r lintResult, opts *lintOptions) {
	w := f.IO.Out
	if opts.Quiet && len(r.Findings) == 0 && r.Passed {
		return
	}
	name := r.Path
	if r.Name != "" {
		name = r.Name + " " + r.Version
		if filepath.Clean(r.Path) != "." {
			name += " (" + r.Path + ")"
		}
	}
	status := colorOut(f, "passed", colorGreen)
	if !r.Passed {
		status = colorOut(f, "failed", colorRed)
	}
	skipped := ""
	if len(opts.Skip) > 0 || r.Config != "" {
		skipped = fmt.Sprintf(" (%d skipped)", r.Skipped)
	}
	fmt.Fprintf(w, "%s %s: %s, %s, %s%s\n", name, status,
		plural(r.Summary.Errors, "error"), plural(r.Summary.Warnings, "warning"), plural(r.Summary.Infos, "info"), skipped)
}

// repoPath returns a PATH as SARIF and GitHub want it: relative to the
// current directory (the repository, in CI) and slash-separated.
func repoPath(p string) string {
	if filepath.IsAbs(p) {
		p = relToCwd(p)
	}
	return filepath.ToSlash(filepath.Clean(p))
}

// lintSARIF converts the report to SARIF 2.1.0.
func lintSARIF(f *Factory, report lintReport, opts *lintOptions) *lint.SARIFLog {
	inputs := make([]lint.SARIFInput, len(report.Results))
	for i, r := range report.Results {
		inputs[i] = lint.SARIFInput{Root: repoPath(r.Path), Package: isPackagePath(r.Path), Findings: r.Findings}
	}
	return lint.NewSARIF(f.Version, informationURI, inputs)
}

// isPackagePath reports whether a PATH names a packaged extension.
func isPackagePath(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir()
}

// printGitHubAnnotations writes one GitHub Actions workflow command per
// finding ("::error file=F,line=L,col=C,title=RULE::message"), then the
// summary line of each PATH.
func printGitHubAnnotations(f *Factory, report lintReport, opts *lintOptions) {
	w := f.IO.Out
	for _, r := range report.Results {
		root := repoPath(r.Path)
		pkg := isPackagePath(r.Path)
		for _, d := range r.Findings {
			level := "notice"
			switch d.Severity {
			case diag.Error:
				level = "error"
			case diag.Warning:
				level = "warning"
			}
			msg := d.Message
			if d.Field != "" {
				msg = d.Field + ": " + msg
			}
			if d.Hint != "" {
				msg += " (" + d.Hint + ")"
			}
			props := []string{}
			switch {
			case pkg:
				props = append(props, "file="+ghProperty(root))
				if d.File != "" {
					msg = d.File + ": " + msg
				}
			case d.File == "":
				props = append(props, "file="+ghProperty(path.Join(root, "extension.yaml")))
			default:
				props = append(props, "file="+ghProperty(path.Join(root, d.File)))
				if d.Line > 0 {
					props = append(props, fmt.Sprintf("line=%d", d.Line))
					if d.Column > 0 {
						props = append(props, fmt.Sprintf("col=%d", d.Column))
					}
				}
			}
			props = append(props, "title="+ghProperty(d.Code))
			fmt.Fprintf(w, "::%s %s::%s\n", level, strings.Join(props, ","), ghData(msg))
		}
	}
	printSummaries(f, report, opts)
}

// ghData escapes the message of a workflow command.
func ghData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// ghProperty escapes a property value of a workflow command.
func ghProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}

// colorOut wraps s in an ANSI colour when stdout is a colour terminal.
func colorOut(f *Factory, s string, c color) string {
	if !f.IO.ColorEnabled() {
		return s
	}
	return "\x1b[" + string(c) + "m" + s + "\x1b[0m"
}

func plural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// listRules prints the rule registry.
func listRules(f *Factory, format output.Format) error {
	rules := lint.Rules()
	return output.Write(f.IO.Out, format, rules, func(w io.Writer) error {
		t := output.NewTable(w, "rule", "severity", "group", "description")
		for _, r := range rules {
			t.Row(r.ID, r.Severity.String(), string(r.Group), r.Description)
		}
		return t.Flush()
	})
}
