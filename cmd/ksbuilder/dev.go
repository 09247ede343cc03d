package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/ksbuilder/ksbuilder/pkg/cluster"
	"github.com/ksbuilder/ksbuilder/pkg/dependency"
	"github.com/ksbuilder/ksbuilder/pkg/dev"
	"github.com/ksbuilder/ksbuilder/pkg/diag"
	"github.com/ksbuilder/ksbuilder/pkg/kubesphere"
	"github.com/ksbuilder/ksbuilder/pkg/units"
	"github.com/ksbuilder/ksbuilder/pkg/values"
)

type devOptions struct {
	f *Factory

	Dev     dev.Options
	Connect cluster.ConnectOptions
}

func newDevCmd(f *Factory, runF func(*devOptions) error) *cli.Command {
	return &cli.Command{
		Name:      "dev",
		Usage:     "Install an extension, then re-install it on every saved change",
		ArgsUsage: "[PATH]",
		Description: `Publishes and installs the extension at PATH (default ".") on a KubeSphere
cluster, then watches its files. On every change (once the files have been
quiet for --debounce) it checks the extension (extension.yaml, the templates
parse, the chart renders), packages it, publishes it as a development version
VERSION-dev.N and upgrades the InstallPlan to that version, so KubeSphere
really installs the new chart. N follows the highest development version
already published, so a restarted session never reuses one. Subcharts
declared with a repository are fetched as Chart.lock locks them, into memory
(charts/ is not written), and again only when the lock or the dependencies
change. A subchart in an OCI registry (oci://) is pulled with the registry
flags and logins ("ksbuilder registry login"), as "package" and "publish" do.

A change of values only (the values.yaml at the top of the extension, or a
file given with -f) keeps the version and updates the InstallPlan's config:
the values that turn the published values.yaml into the edited one, then the
values flags.

Multicluster extensions: --cluster-values CLUSTER=FILE and --cluster-set
CLUSTER:KEY=VALUE (repeatable) are written as that cluster's override
(spec.clusterScheduling.overrides.CLUSTER) by every installation; each
cluster must be in the placement. A change to a --cluster-values file is a
change of values only: the plan's override is updated and KubeSphere
upgrades that cluster's agent. Without these flags the plan's overrides are
kept.

Files ignored by .helmignore and editors' temporary files (*.swp, *~, 4913,
.#*) do not count. A change that does not pass the checks prints the
problems and leaves the cluster alone; fix it and save again. KubeSphere's
progress is shown as it happens, and a failed installation prints its
conditions and the executor job's log. Only the last --keep development
versions stay published; the one the InstallPlan uses is always kept.

With --frontend FILE (the bundle the console's tooling writes: "yarn build:ext
NAME" writes extensions/NAME/dist/index.js), a change of that file alone
updates the installed JSBundle's ConfigMap (spec.rawFrom.configMapKeyRef) in
place by server-side apply, with no new version: ks-apiserver serves the new
bundle at once. The bundle is also copied into the chart file the ConfigMap is
rendered from (for example charts/frontend/files/index.js read with
.Files.Get), so the next change publishes it; if no file of the extension
holds what the ConfigMap held, only the ConfigMap is updated, with a warning.

Ctrl-C stops watching (exit status 130). With --cleanup, the extension is
then uninstalled and its development versions unpublished; a second Ctrl-C
stops at once.

Examples:
  ksbuilder dev ./hello
  ksbuilder dev ./hello -f values-dev.yaml --set frontend.replicaCount=1
  ksbuilder dev ./hello --frontend ../console/extensions/hello/dist/index.js
  ksbuilder dev ./network --cluster host --context kind-ks --cleanup
  ksbuilder dev ./network --cluster host --cluster-values host=host-dev.yaml`,
		Flags: append(append([]cli.Flag{
			&cli.StringSliceFlag{Name: "cluster", Usage: "Multicluster extensions: place the agent on `CLUSTER` (repeatable; default the host cluster)"},
			&cli.StringFlag{Name: "frontend", Usage: "the bundle `FILE` the console's tooling writes (extensions/NAME/dist/index.js): a change of it alone updates the installed bundle's ConfigMap, with no new version"},
			&cli.BoolFlag{Name: "cleanup", Usage: "after Ctrl-C, uninstall the extension and unpublish its development versions"},
			&cli.IntFlag{Name: "keep", Usage: "keep the last `N` development versions published", Value: dev.DefaultKeep},
			&cli.DurationFlag{Name: "debounce", Usage: "apply a change once the files have been untouched for `DURATION`", Value: dev.DefaultDebounce},
			&cli.DurationFlag{Name: flagTimeout, Usage: "how long to wait for each installation (`DURATION`); 0 waits forever", Value: 10 * time.Minute, Category: "Waiting"},
		}, append(valuesFlags(), clusterValuesFlags(writtenAsOverride+" by every installation")...)...), append(clusterFlags(), registryFlags()...)...),
		Action: func(c *cli.Context) error {
			path, err := pathArg(c)
			if err != nil {
				return err
			}
			vals := valueOptions(c)
			for _, v := range vals.ValueFiles {
				if strings.TrimSpace(v) == "-" {
					return usageErrorf("-f - (values from stdin) cannot be watched; put the values in a file")
				}
			}
			if c.Int("keep") < 1 {
				return usageErrorf("--keep must be at least 1")
			}
			if _, err := mergeValues(vals, f.IO.In); err != nil {
				return err
			}
			byCluster, err := clusterValueOptions(c)
			if err != nil {
				return err
			}
			for cl, o := range byCluster {
				if slices.ContainsFunc(o.ValueFiles, func(v string) bool { return strings.TrimSpace(v) == "-" }) {
					return usageErrorf("--%s %s=- (values from stdin) cannot be watched; put the values in a file", flagClusterValues, cl)
				}
			}
			if _, err := values.MergeClusters(byCluster, f.IO.In); err != nil {
				return usageErrorf("%v", err)
			}
			if len(byCluster) == 0 {
				byCluster = nil
			}
			// The registry flags serve the oci:// subcharts.
			reg, err := registryOptions(c)
			if err != nil {
				return err
			}
			modTime, err := sourceDateEpoch()
			if err != nil {
				return err
			}
			opts := &devOptions{f: f, Connect: connectOptions(c), Dev: dev.Options{
				Dir: path, Values: vals, ClusterValues: byCluster, Frontend: c.String("frontend"), Clusters: c.StringSlice("cluster"), Cleanup: c.Bool("cleanup"),
				Keep: c.Int("keep"), Debounce: c.Duration("debounce"), ModTime: modTime, Now: f.Now,
				Wait:         cluster.WaitOptions{Timeout: c.Duration(flagTimeout)},
				Dependencies: dependency.Options{Registry: reg},
			}}
			if runF != nil {
				return runF(opts)
			}
			return devRun(c, opts)
		},
	}
}

func devRun(c *cli.Context, opts *devOptions) error {
	f := opts.f
	p := newProgress(f, "")
	defer p.Close()
	opts.Dev.Target = target(opts.Connect)
	opts.Dev.Reporter = &devReporter{f: f, progress: p}
	err := dev.Run(c.Context, opts.Dev)
	p.Close()
	var cleanup *dev.CleanupError
	if errors.As(err, &cleanup) {
		printError(f, "", clusterError(cleanup.Err))
	}
	return clusterError(err)
}

// devReporter renders a dev session: progress on stderr, each installed
// version on stdout.
type devReporter struct {
	f *Factory
	*progress
}

// Change announces a change set.
func (r *devReporter) Change(ch dev.Change) {
	what := "publishing a development version"
	switch {
	case ch.ValuesOnly && len(ch.Clusters) > 0:
		what = "updating the values (the override of cluster " + strings.Join(ch.Clusters, ", ") + ")"
	case ch.ValuesOnly:
		what = "updating the config"
	case ch.Frontend:
		what = "updating the bundle's ConfigMap"
	}
	switch {
	case len(ch.Files) == 0:
		r.line("Installing the extension: " + what)
	default:
		r.line(fmt.Sprintf("Changed: %s: %s", strings.Join(ch.Files, ", "), what))
	}
}

// lock takes the output and clears the live line, for several lines
// written at once.
func (r *devReporter) lock() {
	r.progress.mu.Lock()
	if r.progress.stop != nil {
		fmt.Fprint(r.f.IO.ErrOut, "\r\x1b[K")
	}
}

// Problem prints why a change was not applied.
func (r *devReporter) Problem(err error) {
	r.lock()
	if list, ok := diag.AsErrors(err); ok {
		printDiagnostics(r.f, list)
	} else {
		fmt.Fprintf(r.f.IO.ErrOut, "%s %s\n", r.f.colorize("error:", colorRed), clusterError(err))
	}
	fmt.Fprintln(r.f.IO.ErrOut, "Not applied; watching for changes.")
	r.progress.mu.Unlock()
}

// Warnings prints a build's warnings.
func (r *devReporter) Warnings(list diag.List) {
	r.lock()
	printDiagnostics(r.f, list)
	r.progress.mu.Unlock()
}

// Applied reports the InstallPlan written.
func (r *devReporter) Applied(a dev.Applied) {
	for _, o := range a.Pruned {
		r.line(o.String())
	}
	r.line(fmt.Sprintf("InstallPlan %s asks for %s (%s in %s); waiting for KubeSphere", a.Name, a.Version, a.Action, a.Elapsed.Round(time.Millisecond)))
}

// BundleUpdated reports a bundle's ConfigMap updated.
func (r *devReporter) BundleUpdated(u dev.BundleUpdate) {
	line := fmt.Sprintf("ConfigMap %s/%s key %s updated (%s, JSBundle %s) in %s", u.Namespace, u.ConfigMap, u.Key,
		units.FormatBytes(int64(u.Size)), u.JSBundle, u.Elapsed.Round(time.Millisecond))
	if u.ChartFile != "" {
		line += "; copied into " + u.ChartFile
	}
	r.line(line)
}

// Settled reports the end of an installation.
func (r *devReporter) Settled(plan *kubesphere.InstallPlan, err error) {
	r.lock()
	defer r.progress.mu.Unlock()
	r.progress.current = "" // nothing in progress: no live line while idle
	f := r.f
	var failed *cluster.FailedError
	switch {
	case err == nil:
		fmt.Fprintf(f.IO.Out, "%s %s is installed in namespace %s\n", plan.Name, plan.Spec.Extension.Version, plan.Status.TargetNamespace)
	case errors.As(err, &failed):
		fmt.Fprintf(f.IO.ErrOut, "%s %s\n", f.colorize("error:", colorRed), err)
		printDiagnosis(f, failed.Diagnosis)
	default:
		fmt.Fprintf(f.IO.ErrOut, "%s %s\n", f.colorize("error:", colorRed), err)
	}
	fmt.Fprintln(f.IO.ErrOut, "Watching for changes; Ctrl-C stops.")
}
