package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/ksbuilder/ksbuilder/pkg/cluster"
	"github.com/ksbuilder/ksbuilder/pkg/output"
	"github.com/ksbuilder/ksbuilder/pkg/safetext"
)

// exitDifferences is --detailed-exitcode's exit status when --diff finds
// differences: 1 is a failure and 2 a usage error here, so neither can
// mean "changes" (terraform plan's 2, kubectl diff's 1).
const exitDifferences = 3

// installDiffRun is install/upgrade --diff: what would change, per object.
func installDiffRun(c *cli.Context, opts *installOptions) error {
	f := opts.f
	client, err := connect(opts.Connect)
	if err != nil {
		return err
	}
	in := cluster.InstallOptions{Name: opts.Name, Version: opts.Version, Values: opts.Values, ValueSource: opts.ValueSource, ResetValues: opts.ResetValues,
		Clusters: opts.Clusters, ClusterValues: opts.ClusterValues, Upgrade: opts.Upgrade}
	if opts.Path != "" {
		pkg, err := buildPackage(c.Context, f, opts.Path)
		if err != nil {
			return err
		}
		if in.Publication, err = cluster.NewPublication(pkg, f.Now()); err != nil {
			return err
		}
		if opts.Version != "" && opts.Version != pkg.Extension.Version {
			return usageErrorf("--version %s does not match the package, which is %s %s", opts.Version, pkg.Extension.Name, pkg.Extension.Version)
		}
		in.Name, in.Version = pkg.Extension.Name, pkg.Extension.Version
	}
	res, err := client.Diff(c.Context, in)
	if err != nil {
		return clusterError(err)
	}
	err = output.Write(f.IO.Out, opts.Output, res, func(w io.Writer) error {
		return writeDiffText(w, res, f.IO.ColorEnabled())
	})
	if err != nil {
		return err
	}
	if !res.Changed() {
		f.Infof("No differences: %s would stay as it is", in.Name)
		return nil
	}
	f.Infof("%d objects would change (diff: nothing was written)", len(res.Objects))
	if opts.DetailedExitCode {
		return &silentError{code: exitDifferences}
	}
	return nil
}

// writeDiffText prints the plan's diff, then each object's, colouring
// added and removed lines on a terminal.
func writeDiffText(w io.Writer, res *cluster.DiffResult, colour bool) error {
	texts := []string{res.Plan}
	for _, o := range res.Objects {
		texts = append(texts, o.Diff)
	}
	for _, text := range texts {
		for line := range strings.SplitSeq(strings.TrimRight(text, "\n"), "\n") {
			if line == "" && text == "" {
				continue
			}
			line = safetext.Printable(line)
			if colour {
				switch {
				case strings.HasPrefix(line, "+++"), strings.HasPrefix(line, "---"):
					line = "\x1b[1m" + line + "\x1b[0m"
				case strings.HasPrefix(line, "+"):
					line = "\x1b[32m" + line + "\x1b[0m"
				case strings.HasPrefix(line, "-"):
					line = "\x1b[31m" + line + "\x1b[0m"
				case strings.HasPrefix(line, "@@"):
					line = "\x1b[36m" + line + "\x1b[0m"
				}
			}
			if _, err := fmt.Fprintln(w, line); err != nil {
				return err
			}
		}
	}
	return nil
}
