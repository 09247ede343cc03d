package main

import (
	"fmt"
	"io"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/ksbuilder/ksbuilder/pkg/cloud"
	"github.com/ksbuilder/ksbuilder/pkg/output"
	"github.com/ksbuilder/ksbuilder/pkg/packager"
	"github.com/ksbuilder/ksbuilder/pkg/source"
)

type unpushOptions struct {
	f *Factory

	Target *cloudTarget
	// SnapshotID is set when the argument is a snapshot ID, Path otherwise.
	SnapshotID string
	Path       string
	Output     output.Format
}

// unpushResult is what "unpush -o json" prints.
type unpushResult struct {
	SnapshotID string `json:"snapshotID"`
	Name       string `json:"name,omitempty"`
	Version    string `json:"version,omitempty"`
	Status     string `json:"status"`
}

func newUnpushCmd(f *Factory, runF func(*unpushOptions) error) *cli.Command {
	return &cli.Command{
		Name:      "unpush",
		Usage:     "Withdraw a snapshot submitted for review",
		ArgsUsage: "SNAPSHOT_ID|PATH",
		Description: `Cancels the review of a submitted snapshot, which goes back to draft. Give
the snapshot ID (from "ksbuilder push" or "ksbuilder get NAME"), or the
extension's directory or package: its name and version in extension.yaml
find the snapshot. An all-digit argument is a snapshot ID unless a file or
directory of that name exists.

Examples:
  ksbuilder unpush 516955082311396155
  ksbuilder unpush ./hello
  ksbuilder unpush hello-0.1.0.tgz -o json`,
		Flags: []cli.Flag{serverFlag(), cloudTimeoutFlag(), outputFlag("text, json or yaml")},
		Action: func(c *cli.Context) error {
			if err := exactArgs(c, "SNAPSHOT_ID|PATH"); err != nil {
				return err
			}
			opts := &unpushOptions{f: f}
			arg := c.Args().First()
			if isSnapshotID(arg) {
				if _, err := os.Stat(arg); err == nil {
					f.Infof("%s is an existing path; using it as the extension, not as a snapshot ID", arg)
					opts.Path = arg
				} else {
					opts.SnapshotID = arg
				}
			} else {
				opts.Path = arg
			}
			var err error
			if opts.Output, err = outputFormat(c, output.Text, output.JSON, output.YAML); err != nil {
				return err
			}
			if opts.Target, err = f.cloudTarget(c); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return unpushRun(c, opts)
		},
	}
}

// isSnapshotID reports whether s is all digits.
func isSnapshotID(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

func unpushRun(c *cli.Context, opts *unpushOptions) error {
	f, t := opts.f, opts.Target
	res := unpushResult{SnapshotID: opts.SnapshotID, Status: cloud.StatusDraft}
	if opts.Path != "" {
		src, err := source.Load(opts.Path)
		if err != nil {
			return err
		}
		ext, diags := packager.Validate(src)
		if err := diags.Err(); err != nil {
			return err
		}
		res.Name, res.Version = ext.Name, ext.Version
	}
	client, err := f.loggedIn(t, false)
	if err != nil {
		return err
	}
	if res.SnapshotID == "" {
		snap, err := client.SnapshotOf(c.Context, res.Name, res.Version)
		if cloud.IsNotFound(err) {
			return fmt.Errorf("%s %s has no snapshot on %s (ksbuilder get %s lists them)", res.Name, res.Version, t.Host, res.Name)
		}
		if err != nil {
			return cloudError(t, err)
		}
		res.SnapshotID = string(snap.ID)
		switch snap.Status {
		case cloud.StatusDraft:
			// Already where unpush leads: nothing to do, and not a failure,
			// so clean-up scripts can run it unconditionally.
			f.Infof("Note: %s %s (snapshot %s) is a draft, not submitted; there is no review to withdraw.", res.Name, res.Version, res.SnapshotID)
			return writeUnpushResult(f, opts.Output, res, "is a draft; nothing was changed")
		case cloud.StatusActive:
			return fmt.Errorf("%s %s (snapshot %s) is published; unpush withdraws only a review in progress (push a new version to replace it)", res.Name, res.Version, res.SnapshotID)
		}
		f.Infof("Found snapshot %s of %s %s (%s)", res.SnapshotID, res.Name, res.Version, snap.Status)
	}
	if err := client.CancelSubmit(c.Context, res.SnapshotID); err != nil {
		return cloudError(t, err)
	}
	return writeUnpushResult(f, opts.Output, res, "is back to draft; the review was cancelled")
}

// writeUnpushResult prints the result, or "Snapshot ID (NAME VERSION) what."
// as text.
func writeUnpushResult(f *Factory, format output.Format, res unpushResult, what string) error {
	return output.Write(f.IO.Out, format, res, func(w io.Writer) error {
		subject := "Snapshot " + res.SnapshotID
		if res.Name != "" {
			subject += fmt.Sprintf(" (%s %s)", res.Name, res.Version)
		}
		_, err := fmt.Fprintf(w, "%s %s.\n", subject, what)
		return err
	})
}
