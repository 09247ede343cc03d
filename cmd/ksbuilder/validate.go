package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/ksbuilder/ksbuilder/pkg/diag"
	"github.com/ksbuilder/ksbuilder/pkg/output"
	"github.com/ksbuilder/ksbuilder/pkg/packager"
	"github.com/ksbuilder/ksbuilder/pkg/registry"
	"github.com/ksbuilder/ksbuilder/pkg/source"
	"github.com/ksbuilder/ksbuilder/pkg/units"
)

type validateOptions struct {
	f   *Factory
	ctx context.Context

	Path    string
	MaxSize int64
	Output  output.Format
}

// validateResult is what "validate -o json" prints.
type validateResult struct {
	Valid       bool      `json:"valid"`
	Name        string    `json:"name,omitempty"`
	Version     string    `json:"version,omitempty"`
	Size        int64     `json:"size,omitempty"`
	Files       int       `json:"files,omitempty"`
	Diagnostics diag.List `json:"diagnostics"`
}

func newValidateCmd(f *Factory, runF func(*validateOptions) error) *cli.Command {
	return &cli.Command{
		Name:      "validate",
		Usage:     "Check that an extension can be packaged, without writing anything",
		ArgsUsage: "[PATH]",
		Description: `Runs every check of "ksbuilder package" on PATH (a directory or a .tgz;
default ".") in memory: extension.yaml and permissions.yaml, the files they
reference, the chart and its subcharts, and the size limit. Helm's limits
hold (5 MiB per file, under 100 MiB in all, subchart archives counted
expanded), sizes are checked before reading, and archive entries that could
escape a directory or that tar cannot extract are refused. Subcharts declared
with a repository are fetched as Chart.lock locks them (as package does), into
memory. Nothing is written to the extension's directory. Exits 1 when the
extension is not valid.

For style and best-practice checks, use "ksbuilder lint".

Examples:
  ksbuilder validate ./hello
  ksbuilder validate hello-0.1.0.tgz -o json`,
		Flags: []cli.Flag{
			maxSizeFlag(),
			outputFlag("text, json or yaml"),
		},
		Action: func(c *cli.Context) error {
			opts := &validateOptions{f: f, ctx: c.Context, Path: "."}
			var err error
			if opts.Path, err = pathArg(c); err != nil {
				return err
			}
			if opts.MaxSize, err = maxSize(c); err != nil {
				return err
			}
			if opts.Output, err = outputFormat(c, output.Text, output.JSON, output.YAML); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return validateRun(opts)
		},
	}
}

func validateRun(opts *validateOptions) error {
	f := opts.f
	src, err := source.Load(opts.Path)
	if err != nil {
		return err
	}
	deps := dependencyOptions(f, false, registry.Options{})
	deps.InMemory = true
	if err := prepareDependencies(opts.ctx, src, deps); err != nil {
		return err
	}
	res := validateResult{Diagnostics: diag.List{}}
	pkg, err := packager.Build(src, packager.Options{MaxSize: opts.MaxSize})
	var tooLarge *packager.TooLargeError
	switch {
	case err == nil:
		res.Diagnostics = append(res.Diagnostics, pkg.Warnings...)
	case errors.As(err, &tooLarge):
		res.Diagnostics = append(res.Diagnostics, pkg.Warnings...)
		res.Diagnostics.Add(diag.Diagnostic{Severity: diag.Error, Code: packager.CodePackageSize, Message: err.Error()})
	default:
		list, ok := diag.AsErrors(err)
		if !ok {
			return err
		}
		// Report the warnings too, so one run shows everything.
		_, all := packager.Validate(src)
		res.Diagnostics = mergeDiagnostics(all.Filter(diag.Warning), list)
	}
	if pkg != nil {
		res.Name, res.Version, res.Size, res.Files = pkg.Extension.Name, pkg.Extension.Version, pkg.Size(), len(pkg.Entries)
	}
	res.Valid = !res.Diagnostics.HasErrors()

	if opts.Output != output.Text {
		if err := output.Write(f.IO.Out, opts.Output, res, nil); err != nil {
			return err
		}
	} else {
		printDiagnostics(f, res.Diagnostics)
		if tooLarge != nil {
			printLargest(f, tooLarge)
		}
		if res.Valid {
			fmt.Fprintf(f.IO.Out, "%s %s is valid (%s packaged, %d files)\n", res.Name, res.Version, units.FormatBytes(res.Size), res.Files)
		}
	}
	if !res.Valid {
		return &silentError{code: exitFailure}
	}
	return nil
}

// mergeDiagnostics joins lists and sorts the result.
func mergeDiagnostics(lists ...diag.List) diag.List {
	out := diag.List{}
	for _, l := range lists {
		out = append(out, l...)
	}
	out.Sort()
	return out
}
