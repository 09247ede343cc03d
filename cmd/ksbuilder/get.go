package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/ksbuilder/ksbuilder/pkg/cloud"
	"github.com/ksbuilder/ksbuilder/pkg/output"
)

type getOptions struct {
	f *Factory

	Target *cloudTarget
	Name   string
	Output output.Format
}

// extensionDetail is what "get -o json" prints.
type extensionDetail struct {
	extensionItem
	Snapshots []snapshotItem `json:"snapshots"`
}

// snapshotItem is one snapshot in "get" output.
type snapshotItem struct {
	ID      string `json:"id"`
	Version string `json:"version"`
	Status  string `json:"status"`
	// UpdatedAt is the server's RFC 3339 time.
	UpdatedAt string `json:"updatedAt"`
}

func newGetCmd(f *Factory, runF func(*getOptions) error) *cli.Command {
	return &cli.Command{
		Name:      "get",
		Usage:     "Show an extension on KubeSphere Cloud and its snapshots",
		ArgsUsage: "[NAME]",
		Description: `Shows an extension's ID and status and, for each uploaded version
(snapshot), its ID, status (draft, submitted, active) and last update in
local time. Without NAME, the extension is the one in the current directory
(the name in ./extension.yaml).

Examples:
  ksbuilder get hello
  ksbuilder get hello -o yaml`,
		Flags: []cli.Flag{serverFlag(), cloudTimeoutFlag(), outputFlag("text, json or yaml")},
		Action: func(c *cli.Context) error {
			name, err := nameArg(c)
			if err != nil {
				return err
			}
			opts := &getOptions{f: f, Name: name}
			if opts.Output, err = outputFormat(c, output.Text, output.JSON, output.YAML); err != nil {
				return err
			}
			if opts.Target, err = f.cloudTarget(c); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return getRun(c, opts)
		},
	}
}

func getRun(c *cli.Context, opts *getOptions) error {
	f, t := opts.f, opts.Target
	client, err := f.loggedIn(t, false)
	if err != nil {
		return err
	}
	p := newProgress(f, "")
	defer p.Close()
	p.Wait("Reading " + opts.Name + " on " + t.Host)
	ext, err := client.ExtensionSummary(c.Context, opts.Name)
	if cloud.IsNotFound(err) {
		return fmt.Errorf("extension %q not found on %s (ksbuilder list shows yours)", opts.Name, t.Host)
	}
	if err != nil {
		return cloudError(t, err)
	}
	snaps, err := client.Snapshots(c.Context, opts.Name)
	p.Close()
	if err != nil {
		return cloudError(t, err)
	}
	d := extensionDetail{
		extensionItem: extensionItem{ID: string(ext.ID), Name: ext.Name, Status: ext.Status, LatestVersion: ext.Latest()},
		Snapshots:     make([]snapshotItem, 0, len(snaps)),
	}
	for _, s := range snaps {
		d.Snapshots = append(d.Snapshots, snapshotItem{ID: string(s.ID), Version: s.Metadata.Version, Status: s.Status, UpdatedAt: s.UpdatedAt})
	}
	return output.Write(f.IO.Out, opts.Output, d, func(w io.Writer) error { return writeExtensionDetail(w, d) })
}

// writeExtensionDetail prints key/value lines, then the snapshot table.
func writeExtensionDetail(w io.Writer, d extensionDetail) error {
	kv := tabwriter.NewWriter(w, 10, 0, 3, ' ', 0)
	fmt.Fprintf(kv, "Name:\t%s\n", d.Name)
	fmt.Fprintf(kv, "ID:\t%s\n", d.ID)
	fmt.Fprintf(kv, "Status:\t%s\n", d.Status)
	if d.LatestVersion != "" {
		fmt.Fprintf(kv, "Latest version:\t%s\n", d.LatestVersion)
	}
	if err := kv.Flush(); err != nil {
		return err
	}
	if len(d.Snapshots) == 0 {
		_, err := fmt.Fprintln(w, "\nNo snapshots.")
		return err
	}
	fmt.Fprintln(w)
	tbl := output.NewTable(w, "snapshot id", "version", "status", "update time")
	for _, s := range d.Snapshots {
		tbl.Row(s.ID, s.Version, s.Status, formatTime(s.UpdatedAt))
	}
	return tbl.Flush()
}
