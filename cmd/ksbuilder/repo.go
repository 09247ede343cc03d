package main

import (
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/ksbuilder/ksbuilder/pkg/output"
	"github.com/ksbuilder/ksbuilder/pkg/repo"
	"github.com/ksbuilder/ksbuilder/pkg/safetext"
)

func newRepoCmd(f *Factory) *cli.Command {
	return &cli.Command{
		Name:  "repo",
		Usage: "Build a Helm chart repository of extension packages",
		Description: `Builds a Helm chart repository that a KubeSphere Repository (spec.url) can
sync extensions from.

Examples:
  ksbuilder repo index dist --url https://charts.example.com`,
		Subcommands: []*cli.Command{
			newRepoIndexCmd(f),
		},
	}
}

func newRepoIndexCmd(f *Factory) *cli.Command {
	return &cli.Command{
		Name:      "index",
		Usage:     "Write the index.yaml of a directory of packages",
		ArgsUsage: "DIR",
		Description: `Writes DIR/index.yaml, a Helm repository index of the packages (*.tgz) in
DIR and its subdirectories, with each chart's URL under --url (relative to
the index without it). Serve DIR at that URL and point a KubeSphere
Repository (spec.url) at it: KubeSphere creates an ExtensionVersion for
each entry. --merge keeps the entries of an existing index (for versions no
longer in DIR); entries of DIR win. Files that are not charts are named on
stderr and skipped. The index is written atomically, and is reproducible:
its time stamps come from SOURCE_DATE_EPOCH, else from the packages.

Examples:
  ksbuilder package ./hello -d dist
  ksbuilder repo index dist --url https://charts.example.com
  ksbuilder repo index dist --url https://charts.example.com --merge old-index.yaml`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "url", Usage: "`URL` the directory is served at (default: URLs relative to the index)"},
			&cli.StringFlag{Name: "merge", Usage: "keep the entries of the index `FILE`"},
			outputFlag("text, json or yaml"),
		},
		Action: func(c *cli.Context) error {
			if err := exactArgs(c, "DIR"); err != nil {
				return err
			}
			format, err := outputFormat(c, output.Text, output.JSON, output.YAML)
			if err != nil {
				return err
			}
			stamp, err := sourceDateEpoch()
			if err != nil {
				return err
			}
			opts := repo.Options{Dir: c.Args().First(), URL: c.String("url"), Merge: c.String("merge"), Stamp: stamp}
			// Reading and hashing the packages does not watch the context;
			// Index checks it before writing.
			res, err := untilInterrupted(c.Context, func() (*repo.Result, error) { return repo.Index(c.Context, opts) })
			if err != nil {
				return err
			}
			for _, s := range res.Skipped {
				f.Warnf("skipped %s", s)
			}
			for _, w := range res.Warnings {
				f.Warnf("%s", w)
			}
			if format == output.Text {
				f.Infof("Wrote %s (%d entries)", res.Path, len(res.Entries))
			}
			return output.Write(f.IO.Out, format, res, func(w io.Writer) error {
				for _, e := range res.Entries {
					// Merged entries come from a file fetched from elsewhere.
					name, ver, url := safetext.Line(e.Name, 0), safetext.Line(e.Version, 0), safetext.Line(e.URLs[0], 0)
					if _, err := fmt.Fprintf(w, "%s %s %s\n", name, ver, url); err != nil {
						return err
					}
				}
				return nil
			})
		},
	}
}
