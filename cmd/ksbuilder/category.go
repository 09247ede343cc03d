package main

import (
	"io"

	"github.com/urfave/cli/v2"

	"github.com/ksbuilder/ksbuilder/pkg/extension"
	"github.com/ksbuilder/ksbuilder/pkg/output"
)

func newCategoryCmd(f *Factory) *cli.Command {
	return &cli.Command{
		Name:  "category",
		Usage: "List the built-in extension categories",
		Description: `Prints the categories KubeSphere ships. Use the NAME column as the value of
"category" in extension.yaml.

Examples:
  ksbuilder category
  ksbuilder category -o json`,
		Flags: []cli.Flag{outputFlag("text, json or yaml")},
		Action: func(c *cli.Context) error {
			if err := exactArgs(c); err != nil {
				return err
			}
			format, err := outputFormat(c, output.Text, output.JSON, output.YAML)
			if err != nil {
				return err
			}
			return output.Write(f.IO.Out, format, extension.Categories, func(w io.Writer) error {
				t := output.NewTable(w, "name", "display name")
				for _, cat := range extension.Categories {
					t.Row(cat.Name, cat.DisplayName)
				}
				return t.Flush()
			})
		},
	}
}
