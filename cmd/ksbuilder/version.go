package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/ksbuilder/ksbuilder/pkg/output"
)

// versionInfo is the data printed by "ksbuilder version".
type versionInfo struct {
	Version string `json:"version"`
	// Commit is the VCS revision the binary was built from ("" when the
	// build recorded none, as with go install), with ".dirty" for
	// uncommitted changes.
	Commit string `json:"commit"`
	// BuildDate is the time of that commit (RFC 3339, UTC): a rebuild of the
	// same commit reports the same date, so release builds stay reproducible.
	BuildDate string `json:"buildDate"`
	GoVersion string `json:"goVersion"`
	Platform  string `json:"platform"`
}

// newVersionInfo describes the binary: version, and from the build
// information the commit and its date.
func newVersionInfo(version string, info *debug.BuildInfo) versionInfo {
	v := versionInfo{Version: version, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if info == nil {
		return v
	}
	if info.GoVersion != "" {
		v.GoVersion = info.GoVersion
	}
	dirty := false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Commit = s.Value
		case "vcs.time":
			v.BuildDate = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if dirty && v.Commit != "" {
		v.Commit += ".dirty"
	}
	return v
}

func newVersionCmd(f *Factory) *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "Print the version of ksbuilder",
		Description: `Prints the version of this ksbuilder binary on stdout, without a leading "v"
(e.g. 0.5.0). A release build reports its release; "go install ...@v0.5.0"
reports 0.5.0; a build from a checkout reports 0.0.0-dev+REVISION. With -o json
or -o yaml the commit, its date (the build date of a reproducible build), the
Go version and the platform (os/arch) are included too.
"ksbuilder --version" prints "ksbuilder version VERSION".

Examples:
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
			info := newVersionInfo(f.Version, buildInfo())
			return output.Write(f.IO.Out, format, info, func(w io.Writer) error {
				_, err := fmt.Fprintln(w, info.Version)
				return err
			})
		},
	}
}

// resolveVersion returns the version to report: the one set at link time
// (make build, goreleaser), else the module version recorded by go install,
// else a development version naming the VCS revision. Like goreleaser's
// {{ .Version }}, it has no leading "v".
func resolveVersion(linked string, info *debug.BuildInfo) string {
	if linked != "" {
		return strings.TrimPrefix(linked, "v")
	}
	if info == nil {
		return devVersion
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return strings.TrimPrefix(v, "v")
	}
	var revision, modified string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			revision = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if revision == "" {
		return devVersion
	}
	if len(revision) > 12 {
		revision = revision[:12]
	}
	if modified == "true" {
		revision += ".dirty"
	}
	return devVersion + "+" + revision
}

// devVersion is the version of a build from an untagged checkout.
const devVersion = "0.0.0-dev"

// buildInfo returns the running binary's build information, or nil.
func buildInfo() *debug.BuildInfo {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return nil
	}
	return info
}
