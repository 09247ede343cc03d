package main

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/ksbuilder/ksbuilder/pkg/bundle"
	"github.com/ksbuilder/ksbuilder/pkg/output"
	"github.com/ksbuilder/ksbuilder/pkg/units"
)

type bundleOptions struct {
	f *Factory

	bundle.ReplaceOptions
	Output output.Format
}

func newBundleCmd(f *Factory, runF func(*bundleOptions) error) *cli.Command {
	return &cli.Command{
		Name:      "bundle",
		Usage:     "Put a console UI bundle built by the console tooling into the extension's chart",
		ArgsUsage: "FILE [PATH]",
		Description: `Replaces the console UI bundle of the extension at PATH (a directory;
default ".") with FILE, the SystemJS module that "yarn build:ext NAME" writes
to extensions/NAME/dist/index.js in a console project (yarn create ks-project).

The file to replace is found from the chart: the JSBundle whose
spec.rawFrom.configMapKeyRef names a ConfigMap of the chart, and the file
of that chart the ConfigMap's key holds (charts/frontend/files/index.js in a
project made by ksbuilder create). With several, --jsbundle picks one.

FILE must be a non-empty UTF-8 SystemJS module (System.register); one that
still calls globals.context.registerExtension (KubeSphere 4.0's form) is
taken with a warning. A ConfigMap, like the package, holds at most 1 MiB:
a bigger bundle (or one that takes the package over 1 MiB) is refused, and
the error explains how to serve it from a Service (rawFrom.service)
instead. The file is replaced atomically; the path written goes to stdout.

To see a bundle on a running console without a new chart version, use
"ksbuilder dev --frontend FILE" (docs/frontend.md).

Examples:
  ksbuilder bundle ../console/extensions/hello/dist/index.js ./hello
  ksbuilder bundle dist/index.js --jsbundle hello-frontend -o json`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "jsbundle", Usage: "the JSBundle `NAME` whose bundle to replace, when several load one from a file"},
			outputFlag("text, json or yaml"),
		},
		Action: func(c *cli.Context) error {
			opts := &bundleOptions{f: f, ReplaceOptions: bundle.ReplaceOptions{Dir: ".", JSBundle: c.String("jsbundle")}}
			switch c.NArg() {
			case 1, 2:
				opts.File = c.Args().Get(0)
				if c.NArg() == 2 {
					opts.Dir = c.Args().Get(1)
				}
				if run := runOf(c); run != nil {
					run.Path = opts.Dir
				}
			default:
				return exactArgs(c, "FILE", "[PATH]")
			}
			var err error
			if opts.Output, err = outputFormat(c, output.Text, output.JSON, output.YAML); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return bundleRun(c.Context, opts)
		},
	}
}

func bundleRun(ctx context.Context, opts *bundleOptions) error {
	f := opts.f
	res, err := bundle.Replace(ctx, opts.ReplaceOptions)
	if err != nil {
		return err
	}
	for _, w := range res.Warnings {
		f.Warnf("%s", w)
	}
	if opts.Output != output.Text {
		return output.Write(f.IO.Out, opts.Output, res, nil)
	}
	written := filepath.Join(opts.Dir, filepath.FromSlash(res.File))
	verb := "Replaced"
	if res.Unchanged {
		verb = "Unchanged:"
	}
	f.Infof("%s %s (%s; JSBundle %s reads it from ConfigMap %s/%s, key %s; the package is %s).",
		verb, written, units.FormatBytes(res.Size), res.JSBundle, res.Namespace, res.ConfigMap, res.Key, units.FormatBytes(res.PackageSize))
	f.Infof("Next:\n  ksbuilder dev --frontend %s %s   # on a running console, no new version\n  ksbuilder package %s", opts.File, opts.Dir, opts.Dir)
	fmt.Fprintln(f.IO.Out, written)
	return nil
}
