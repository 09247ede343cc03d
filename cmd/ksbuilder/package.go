package main

import (
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/ksbuilder/ksbuilder/pkg/diag"
	"github.com/ksbuilder/ksbuilder/pkg/output"
	"github.com/ksbuilder/ksbuilder/pkg/packager"
	"github.com/ksbuilder/ksbuilder/pkg/units"
)

type packageOptions struct {
	f *Factory

	Path        string
	Destination string
	MaxSize     int64
	ModTime     time.Time
	Output      output.Format
}

// packageResult is what "package -o json" prints.
type packageResult struct {
	Path     string    `json:"path"`
	Name     string    `json:"name"`
	Version  string    `json:"version"`
	Size     int64     `json:"size"`
	Files    int       `json:"files"`
	Warnings diag.List `json:"warnings"`
}

func newPackageCmd(f *Factory, runF func(*packageOptions) error) *cli.Command {
	return &cli.Command{
		Name:      "package",
		Usage:     "Package an extension into <name>-<version>.tgz",
		ArgsUsage: "[PATH]",
		Description: `Validates the extension at PATH (a directory or a .tgz; default ".") and
writes <name>-<version>.tgz: a Helm chart whose Chart.yaml is generated from
extension.yaml, with a local icon inlined as a data: URI. Files matched by
.helmignore, .git/ directories and .tgz files at the root are left out.

The package must fit in 1 MiB (KubeSphere Cloud's limit and a ConfigMap's);
over it, the command fails and lists the largest files. Archives are
reproducible: entries are sorted and carry fixed owners, modes and
SOURCE_DATE_EPOCH (or 0) as their time.

Examples:
  ksbuilder package ./hello
  ksbuilder package ./hello -d dist
  ksbuilder package hello-0.1.0.tgz -o json`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "destination", Aliases: []string{"d"}, Usage: "directory to write the package to", Value: "."},
			maxSizeFlag(),
			outputFlag("text or json"),
		},
		Action: func(c *cli.Context) error {
			opts := &packageOptions{f: f, Destination: c.String("destination")}
			var err error
			if opts.Path, err = pathArg(c); err != nil {
				return err
			}
			if opts.MaxSize, err = maxSize(c); err != nil {
				return err
			}
			if opts.Output, err = outputFormat(c, output.Text, output.JSON); err != nil {
				return err
			}
			if opts.ModTime, err = sourceDateEpoch(); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return packageRun(opts)
		},
	}
}

func packageRun(opts *packageOptions) error {
	f := opts.f
	start := f.Now()
	pkg, err := loadAndBuild(f, opts.Path, packager.Options{MaxSize: opts.MaxSize, ModTime: opts.ModTime})
	if err != nil {
		return err
	}
	dest, err := packager.WriteFile(pkg, opts.Destination)
	if err != nil {
		return err
	}
	if abs, err := filepath.Abs(dest); err == nil {
		dest = abs
	}
	f.Debugf("packaged in %s", f.Now().Sub(start))
	res := packageResult{
		Path: dest, Name: pkg.Extension.Name, Version: pkg.Extension.Version,
		Size: pkg.Size(), Files: len(pkg.Entries), Warnings: pkg.Warnings,
	}
	if res.Warnings == nil {
		res.Warnings = diag.List{}
	}
	return output.Write(f.IO.Out, opts.Output, res, func(w io.Writer) error {
		_, err := fmt.Fprintf(w, "%s (%s, %d files)\n", res.Path, units.FormatBytes(res.Size), res.Files)
		return err
	})
}

// printLargest lists the entries that weigh most in an oversized package.
func printLargest(f *Factory, e *packager.TooLargeError) {
	fmt.Fprintln(f.IO.ErrOut, "Largest files (compressed size, then uncompressed):")
	for _, l := range e.Largest(10) {
		fmt.Fprintf(f.IO.ErrOut, "  %10s  %10s  %s\n", units.FormatBytes(l.CompressedSize), units.FormatBytes(l.Size), l.Name)
	}
	fmt.Fprintln(f.IO.ErrOut, "List files the chart does not need in .helmignore, or serve large assets from a URL.")
}
