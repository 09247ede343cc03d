package main

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/ksbuilder/ksbuilder/pkg/cluster"
	"github.com/ksbuilder/ksbuilder/pkg/output"
)

type uninstallOptions struct {
	f *Factory

	Name      string
	Force     bool
	Unpublish bool
	NoWait    bool
	DryRun    bool
	Wait      cluster.WaitOptions
	Connect   cluster.ConnectOptions
}

func newUninstallCmd(f *Factory, runF func(*uninstallOptions) error) *cli.Command {
	return &cli.Command{
		Name:      "uninstall",
		Usage:     "Uninstall an extension and wait until it is gone",
		ArgsUsage: "[NAME]",
		Description: `Deletes the extension's InstallPlan, which makes KubeSphere run
"helm uninstall" for its agents, then for the extension, and waits until the
plan is gone. KubeSphere keeps the target namespace and the installer's RBAC.

When the uninstall failed (state UninstallFailed), --force sets the
kubesphere.io/force-delete annotation first: KubeSphere then removes the
release in-process without running hooks, as the console's "force
uninstall" does. On a plan already being deleted that stays Uninstalling,
--force deletes its executor job, waits until it is gone, and removes the
plan's finalizer: the plan goes away without KubeSphere finishing the
uninstall, and a warning says what may be left behind.

With --unpublish, the published versions, their chart ConfigMaps and the
Extension are deleted once the plan is gone (see "ksbuilder unpublish").

--dry-run runs the checks and lists the objects that would be deleted,
without deleting anything.

Without NAME, the extension is the one in the current directory (the name
in ./extension.yaml).

Examples:
  ksbuilder uninstall hello
  ksbuilder uninstall hello --force
  ksbuilder uninstall hello --unpublish`,
		Flags: append(append([]cli.Flag{
			&cli.BoolFlag{Name: "force", Usage: "remove the release without hooks (after UninstallFailed); clear a plan stuck in Uninstalling"},
			&cli.BoolFlag{Name: "unpublish", Usage: "then delete the published versions and the Extension"},
			&cli.BoolFlag{Name: flagDryRun, Usage: "list what would be deleted, without deleting it"},
		}, waitFlags("uninstallation", "once the InstallPlan is marked for deletion")...), clusterFlags()...),
		Action: func(c *cli.Context) error {
			name, err := nameArg(c)
			if err != nil {
				return err
			}
			opts := &uninstallOptions{f: f, Name: name, Force: c.Bool("force"), Unpublish: c.Bool("unpublish"),
				NoWait: c.Bool(flagNoWait), DryRun: c.Bool(flagDryRun), Connect: connectOptions(c)}
			if opts.Unpublish && opts.NoWait {
				return usageErrorf("--unpublish needs to wait for the InstallPlan to be gone; drop --no-wait")
			}
			if runF != nil {
				return runF(opts)
			}
			p := newProgress(f, opts.Name)
			defer p.Close()
			opts.Wait = waitOptions(c, p)
			return uninstallRun(c, opts, p)
		},
	}
}

func uninstallRun(c *cli.Context, opts *uninstallOptions, p *progress) error {
	f := opts.f
	res, err := cluster.Uninstall(c.Context, cluster.UninstallRequest{
		Target:           target(opts.Connect),
		UninstallOptions: cluster.UninstallOptions{Name: opts.Name, Force: opts.Force, DryRun: opts.DryRun},
		Unpublish:        opts.Unpublish, NoWait: opts.NoWait, Wait: opts.Wait, Progress: p,
	})
	p.Close()
	if res == nil {
		return clusterError(err)
	}
	if res.Uninstalled {
		if _, werr := fmt.Fprintf(f.IO.Out, "%s is uninstalled\n", opts.Name); werr != nil {
			return werr
		}
	}
	if werr := writeObjectResults(f.IO.Out, res.Objects); werr != nil {
		return werr
	}
	switch {
	case err != nil:
		return reportWaitError(f, opts.Name, err)
	case res.Deleting:
		f.Infof("InstallPlan %s is being deleted; follow it with: ksbuilder status %s --watch", opts.Name, opts.Name)
	}
	return nil
}

type unpublishOptions struct {
	f *Factory

	Name      string
	Version   string
	Uninstall bool
	DryRun    bool
	Output    output.Format
	Wait      cluster.WaitOptions
	Connect   cluster.ConnectOptions
}

func newUnpublishCmd(f *Factory, runF func(*unpublishOptions) error) *cli.Command {
	return &cli.Command{
		Name:      "unpublish",
		Usage:     "Remove a published extension (or one version) from a cluster",
		ArgsUsage: "NAME",
		Description: `Deletes each published version of the extension (only --version's, when
given): its chart ConfigMap in kubesphere-system, then its ExtensionVersion;
and the Extension once no version is left. Versions synced from a Repository
are left alone: the repository would bring them back.

It refuses while the extension's InstallPlan uses a version it would delete:
KubeSphere needs the ExtensionVersion to process the plan's deletion, so
deleting it first leaves the plan stuck forever. --uninstall uninstalls the
extension first (as "ksbuilder uninstall" does) and waits until it is gone.

--dry-run runs the checks and lists the objects that would be deleted
(with --uninstall, the InstallPlan first), without deleting anything.

Examples:
  ksbuilder unpublish hello
  ksbuilder unpublish hello --version 0.1.0
  ksbuilder unpublish hello --uninstall`,
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "version", Usage: "unpublish only `VERSION`"},
			&cli.BoolFlag{Name: "uninstall", Usage: "uninstall the extension first, and wait"},
			&cli.BoolFlag{Name: flagDryRun, Usage: "list what would be deleted, without deleting it"},
			&cli.DurationFlag{Name: flagTimeout, Usage: "with --uninstall: how long to wait (`DURATION`); 0 waits forever", Value: 10 * time.Minute, Category: "Waiting"},
			outputFlag("text, json or yaml"),
		}, clusterFlags()...),
		Action: func(c *cli.Context) error {
			if err := exactArgs(c, "NAME"); err != nil {
				return err
			}
			opts := &unpublishOptions{f: f, Name: c.Args().First(), Version: c.String("version"), Uninstall: c.Bool("uninstall"),
				DryRun: c.Bool(flagDryRun), Connect: connectOptions(c)}
			var err error
			if opts.Output, err = outputFormat(c, output.Text, output.JSON, output.YAML); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			p := newProgress(f, opts.Name)
			defer p.Close()
			opts.Wait = waitOptions(c, p)
			return unpublishRun(c, opts, p)
		},
	}
}

func unpublishRun(c *cli.Context, opts *unpublishOptions, p *progress) error {
	f := opts.f
	results, err := cluster.Unpublish(c.Context, cluster.UnpublishRequest{
		Target:           target(opts.Connect),
		UnpublishOptions: cluster.UnpublishOptions{Name: opts.Name, Version: opts.Version, DryRun: opts.DryRun},
		Uninstall:        opts.Uninstall, Wait: opts.Wait, Progress: p,
	})
	p.Close()
	var inUse *cluster.PlanExistsError
	if err != nil {
		if len(results) > 0 {
			_ = writeObjectResults(f.IO.ErrOut, results)
		}
		if errors.As(err, &inUse) {
			return fmt.Errorf("%w; or pass --uninstall", err)
		}
		return reportWaitError(f, opts.Name, clusterError(err))
	}
	res := struct {
		Objects []cluster.ObjectResult `json:"objects"`
	}{results}
	return output.Write(f.IO.Out, opts.Output, res, func(w io.Writer) error { return writeObjectResults(w, results) })
}
