package main

import (
	"io"

	"github.com/urfave/cli/v2"

	"github.com/ksbuilder/ksbuilder/pkg/output"
)

type listOptions struct {
	f *Factory

	Target *cloudTarget
	Output output.Format
}

// extensionItem is one extension in "list" and "get" output.
type extensionItem struct {
	ID            string `json:"id"`
	Name          string `json:"name"`
	Status        string `json:"status"`
	LatestVersion string `json:"latestVersion"`
}

func newListCmd(f *Factory, runF func(*listOptions) error) *cli.Command {
	return &cli.Command{
		Name:  "list",
		Usage: "List your extensions on KubeSphere Cloud",
		Description: `Lists the extensions of the logged-in account in every status, with the
latest approved version. Use "ksbuilder get NAME" for an extension's
snapshots.

Examples:
  ksbuilder list
  ksbuilder list -o json`,
		Flags: []cli.Flag{serverFlag(), cloudTimeoutFlag(), outputFlag("text, json or yaml")},
		Action: func(c *cli.Context) error {
			if err := exactArgs(c); err != nil {
				return err
			}
			opts := &listOptions{f: f}
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
			return listRun(c, opts)
		},
	}
}

func listRun(c *cli.Context, opts *listOptions) error {
	f, t := opts.f, opts.Target
	client, err := f.loggedIn(t, false)
	if err != nil {
		return err
	}
	p := newProgress(f, "")
	p.Wait("Listing your extensions on " + t.Host)
	list, err := client.MyExtensions(c.Context)
	p.Close()
	if err != nil {
		return cloudError(t, err)
	}
	items := make([]extensionItem, 0, len(list))
	for _, e := range list {
		items = append(items, extensionItem{ID: string(e.ID), Name: e.Name, Status: e.Status, LatestVersion: e.Latest()})
	}
	return output.Write(f.IO.Out, opts.Output, items, func(w io.Writer) error {
		if len(items) == 0 {
			f.Infof("No extensions on %s yet; publish one with ksbuilder push.", t.Host)
			return nil
		}
		tbl := output.NewTable(w, "id", "name", "status", "latest version")
		for _, it := range items {
			tbl.Row(it.ID, it.Name, it.Status, it.LatestVersion)
		}
		return tbl.Flush()
	})
}
