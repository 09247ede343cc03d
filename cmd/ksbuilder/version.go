package main

import (
	"fmt"
	"io"
	"runtime"

	"github.com/urfave/cli/v2"

	"github.com/ksbuilder/ksbuilder/pkg/output"
)

// versionInfo is the data printed by "ksbuilder version".
type versionInfo struct {
	Version   string `json:"version"`
	GoVersion string `json:"goVersion"`
	Platform  string `json:"platform"`
}

func newVersionCmd(f *Factory) *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "Print the version of ksbuilder",
		Description: `Examples:
  ksbuilder version
  ksbuilder version -o json`,
		Flags: []cli.Flag{outputFlag("text, json or yaml")},
		Action: func(c *cli.Context) error {
			if err := exactArgs(c); err != nil {
				return err
			}
			format, err := outputFormat(c, output.Text, output.JSON, output.YAML)
			if err != nil {
				return err
			}
			info := versionInfo{Version: f.Version, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
			return output.Write(f.IO.Out, format, info, func(w io.Writer) error {
				_, err := fmt.Fprintln(w, info.Version)
				return err
			})
		},
	}
}
