package main

import (
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/ksbuilder/ksbuilder/pkg/images"
	"github.com/ksbuilder/ksbuilder/pkg/output"
	"github.com/ksbuilder/ksbuilder/pkg/packager"
	"github.com/ksbuilder/ksbuilder/pkg/source"
)

func newImagesCmd(f *Factory) *cli.Command {
	return &cli.Command{
		Name:      "images",
		Usage:     "List the container images installing an extension pulls",
		ArgsUsage: "[PATH]",
		Description: `Renders the extension at PATH (a directory or a .tgz; default ".") as
KubeSphere's installer would (the host release and, for a Multicluster
extension, the agent release) with your values, and lists every container
image of the manifests and hooks, the images of extension.yaml and the
executor hook images of its annotations: deduplicated and sorted, one per
line. -o json adds where each image comes from.

Examples:
  ksbuilder images ./hello
  ksbuilder images ./hello --set global.imageRegistry=registry.example.com -o json`,
		Flags: append([]cli.Flag{outputFlag("text or json")}, valuesFlags()...),
		Action: func(c *cli.Context) error {
			path, err := pathArg(c)
			if err != nil {
				return err
			}
			format, err := outputFormat(c, output.Text, output.JSON)
			if err != nil {
				return err
			}
			vals, err := valueOptions(c).Merge(f.IO.In)
			if err != nil {
				return &usageError{err: err}
			}
			src, err := source.Load(path)
			if err != nil {
				return err
			}
			ext, diags := packager.Validate(src)
			if err := diags.Err(); err != nil {
				return err
			}
			chrt, err := packager.LoadChart(src, ext)
			if err != nil {
				return err
			}
			list, err := images.List(ext, chrt, vals)
			if err != nil {
				return err
			}
			return output.Write(f.IO.Out, format, list, func(w io.Writer) error {
				for _, img := range list {
					if _, err := fmt.Fprintln(w, img.Image); err != nil {
						return err
					}
				}
				return nil
			})
		},
	}
}
