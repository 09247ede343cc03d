package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/ksbuilder/ksbuilder/pkg/cloud"
	"github.com/ksbuilder/ksbuilder/pkg/output"
	"github.com/ksbuilder/ksbuilder/pkg/packager"
	"github.com/ksbuilder/ksbuilder/pkg/push"
	"github.com/ksbuilder/ksbuilder/pkg/source"
	"github.com/ksbuilder/ksbuilder/pkg/units"
)

type pushOptions struct {
	f *Factory

	Target   *cloudTarget
	Path     string
	DryRun   bool
	NoSubmit bool
	MaxSize  int64
	ModTime  time.Time
	Output   output.Format
}

func newPushCmd(f *Factory, runF func(*pushOptions) error) *cli.Command {
	return &cli.Command{
		Name:      "push",
		Usage:     "Upload an extension to KubeSphere Cloud and submit it for review",
		ArgsUsage: "[PATH]",
		Description: `Publishes the extension at PATH (a directory or a .tgz; default ".") to the
KubeSphere marketplace:

  1. validates it as "ksbuilder validate" does and renders it as the
     installer and "ksbuilder lint" do, all before the login is checked
     and before any request;
  2. looks the version up, and stops if it is already published (a
     published version is never replaced: bump the version), before any
     upload;
  3. uploads the icon and screenshots that extension.yaml names as local
     files, in order, each under a unique name;
  4. rewrites extension.yaml to the returned URLs, keeping its comments and
     key order (Chart.yaml's icon becomes the URL too);
  5. leaves staticFileDirectory out of the package and packages the rest;
  6. checks the 1 MiB limit on that final package, naming the largest files
     when it is over, before any package upload;
  7. uploads the package (replacing an earlier upload of the same version)
     and submits the snapshot for review, once.

Follow the review with "ksbuilder get NAME"; withdraw it with
"ksbuilder unpush". --dry-run does steps 1 and 4-6 locally, with placeholder URLs,
and shows what would be sent without contacting the server. --no-submit
stops after the upload, leaving a draft.

Examples:
  ksbuilder push ./hello
  ksbuilder push hello-0.1.0.tgz --no-submit
  ksbuilder push ./hello --dry-run
  ksbuilder push ./hello -o json`,
		Flags: []cli.Flag{
			serverFlag(),
			cloudTimeoutFlag(),
			&cli.BoolFlag{Name: "dry-run", Usage: "do everything locally and show what would be sent"},
			&cli.BoolFlag{Name: "no-submit", Usage: "upload without submitting for review"},
			maxSizeFlag(),
			outputFlag("text, json or yaml"),
		},
		Action: func(c *cli.Context) error {
			opts := &pushOptions{f: f, DryRun: c.Bool("dry-run"), NoSubmit: c.Bool("no-submit")}
			var err error
			if opts.Path, err = pathArg(c); err != nil {
				return err
			}
			if opts.MaxSize, err = maxSize(c); err != nil {
				return err
			}
			if opts.Output, err = outputFormat(c, output.Text, output.JSON, output.YAML); err != nil {
				return err
			}
			if opts.ModTime, err = sourceDateEpoch(); err != nil {
				return err
			}
			if opts.Target, err = f.cloudTarget(c); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return pushRun(c, opts)
		},
	}
}

func pushRun(c *cli.Context, opts *pushOptions) error {
	f, t := opts.f, opts.Target
	// Everything local comes first: a wrong path or a broken extension fails
	// before the token is read and before any request.
	src, err := source.Load(opts.Path)
	if err != nil {
		return err
	}
	if err := fetchLockedDependencies(c.Context, f, src); err != nil {
		return err
	}
	plan, err := push.NewPlan(src)
	if err != nil {
		return err
	}
	var client *cloud.Client
	if !opts.DryRun {
		if client, err = f.loggedIn(t, true); err != nil {
			return err
		}
	}
	printDiagnostics(f, plan.Warnings)
	pkgOpts := packager.Options{MaxSize: opts.MaxSize, ModTime: opts.ModTime}

	var res *push.Result
	if opts.DryRun {
		res, err = plan.DryRun(pkgOpts)
	} else {
		res, err = push.Run(c.Context, plan, client, push.Options{Package: pkgOpts, Submit: !opts.NoSubmit, Now: f.Now}, f)
	}
	var (
		tooLarge  *packager.TooLargeError
		submitErr *push.SubmitError
	)
	switch {
	case errors.As(err, &tooLarge):
		printLargest(f, tooLarge)
		return fmt.Errorf("%w; the package was not uploaded", err)
	case errors.As(err, &submitErr):
		f.Warnf("the package is on %s as draft snapshot %s, but the submission failed; "+
			"check with: ksbuilder get %s, then push again to retry", t.Host, submitErr.SnapshotID, plan.Name)
		return cloudError(t, err)
	case err != nil:
		return cloudError(t, err)
	}

	if opts.Output != output.Text {
		return output.Write(f.IO.Out, opts.Output, res, nil)
	}
	if opts.DryRun {
		f.Infof("Dry run: nothing was sent to %s.", t.URL)
		return writeDryRun(f.IO.Out, res, opts.NoSubmit, opts.MaxSize)
	}
	if err := writePushResult(f.IO.Out, res); err != nil {
		return err
	}
	if res.Status == cloud.StatusSubmitted {
		f.Infof("Submitted for review; follow it with: ksbuilder get %s", res.Name)
	} else {
		f.Infof("Uploaded as a draft; not submitted (--no-submit).")
	}
	return nil
}

func writePushResult(w io.Writer, res *push.Result) error {
	kv := tabwriter.NewWriter(w, 10, 0, 3, ' ', 0)
	fmt.Fprintf(kv, "Name:\t%s\n", res.Name)
	fmt.Fprintf(kv, "Version:\t%s\n", res.Version)
	fmt.Fprintf(kv, "Snapshot ID:\t%s\n", res.SnapshotID)
	fmt.Fprintf(kv, "Status:\t%s\n", res.Status)
	return kv.Flush()
}

// writeDryRun shows what a push would send.
func writeDryRun(w io.Writer, res *push.Result, noSubmit bool, limit int64) error {
	if len(res.Assets) == 0 {
		fmt.Fprintln(w, "Files to upload: none")
	} else {
		fmt.Fprintln(w, "Files to upload (the URLs are placeholders; the server assigns the real ones):")
		tbl := output.NewTable(w, "file", "size", "upload as", "used by")
		for _, a := range res.Assets {
			tbl.Row(a.Path, units.FormatBytes(a.Size), a.Name, strings.Join(a.Fields, ", "))
		}
		if err := tbl.Flush(); err != nil {
			return err
		}
	}
	if res.StaticDir != "" {
		fmt.Fprintf(w, "Left out of the package: %s/ (staticFileDirectory)\n", res.StaticDir)
	}
	fmt.Fprintln(w, "\nextension.yaml as uploaded:")
	for _, line := range strings.SplitAfter(strings.TrimRight(res.Metadata, "\n"), "\n") {
		fmt.Fprint(w, "  "+line)
	}
	fmt.Fprintf(w, "\n\nPackage: %s-%s.tgz, %s, %d files (limit %s)\n",
		res.Name, res.Version, units.FormatBytes(res.Size), res.Files, units.FormatBytes(limit))
	next := "Then: submit the snapshot for review."
	if noSubmit {
		next = "Then: leave the snapshot as a draft (--no-submit)."
	}
	_, err := fmt.Fprintln(w, next)
	return err
}
