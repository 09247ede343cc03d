package main

import (
	"fmt"
	"io"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/ksbuilder/ksbuilder/pkg/cluster"
	"github.com/ksbuilder/ksbuilder/pkg/extension"
	"github.com/ksbuilder/ksbuilder/pkg/kubesphere"
	"github.com/ksbuilder/ksbuilder/pkg/manifest"
	"github.com/ksbuilder/ksbuilder/pkg/output"
)

type installOptions struct {
	f *Factory

	// Path is set for a package on disk, Name for a published extension.
	Path    string
	Name    string
	Version string
	Values  map[string]any
	// ValueSource names the flag behind each of Values.
	ValueSource manifest.ValueSource
	ResetValues bool
	Clusters    []string
	// ClusterValues are the per-cluster overrides (--cluster-values,
	// --cluster-set).
	ClusterValues map[string]map[string]any
	Upgrade       bool
	NoWait        bool
	DryRun        bool
	Offline       bool
	// Diff prints what would change instead of installing; with
	// DetailedExitCode, differences exit with exitDifferences.
	Diff             bool
	DetailedExitCode bool
	Wait             cluster.WaitOptions
	Output           output.Format
	Connect          cluster.ConnectOptions
}

// installChecks, installPlanText and installWaitText are the parts of
// install's and upgrade's help that the two share; installOfflineText is
// install's own.
const (
	installChecks = `Before writing anything it checks that the version is published, that the
required externalDependencies are installed at a matching version (optional
ones only warn), that the Kubernetes and KubeSphere versions match kubeVersion
and ksVersion, and that the chart renders with the values.`

	installPlanText = `A version synced from a KubeSphere Repository is named on stderr ("NAME
VERSION is served by Repository REPO (URL)").

The InstallPlan is named after the extension, asks for the exact version with
enabled: true and upgradeStrategy: Manual, and carries the values flags as
spec.config. Without values flags the current config is kept (none for a new
plan); --reset-values drops it. Only a Multicluster extension gets
clusterScheduling: its agent goes to the clusters named by --cluster, by
default the host cluster.`

	installWaitText = `While waiting, each state change is shown with its time. A failure prints the
conditions and the last lines of the executor job's log (or why the log
cannot be read, and the kubectl command that reads it). Ctrl-C stops waiting,
not the installation: resume with "ksbuilder status NAME --watch".

--dry-run runs the same checks (they read the cluster) and prints the
objects that would be written (a PATH's publication, then the InstallPlan)
as YAML, or JSON with -o json, without writing anything.`

	installOfflineText = `install --dry-run --offline contacts no cluster: it prints the InstallPlan a
first installation writes (after the render check, for a PATH, and preceded
by the PATH's publication objects), for a GitOps repository to commit.`
)

func newInstallCmd(f *Factory, runF func(*installOptions) error) *cli.Command {
	return &cli.Command{
		Name:      "install",
		Usage:     "Install an extension on a KubeSphere cluster and wait until it runs",
		ArgsUsage: "[PATH|NAME]",
		Description: `Creates or updates the extension's InstallPlan, the way the KubeSphere
console does, and waits until KubeSphere has installed it. Given a PATH (a
directory or .tgz), the extension is published first ("ksbuilder publish");
given a NAME, the published version --version is used. Without either, the
extension in the current directory is installed (PATH ".").

` + installChecks + `

` + installPlanText + `

Running install again with other values updates the config, and KubeSphere
upgrades the release; to change the version use "ksbuilder upgrade".

` + installWaitText + `
` + installOfflineText + `

Exit status: 0 installed, 1 failed or timed out, 2 usage, 130 interrupted.

Examples:
  ksbuilder install ./hello
  ksbuilder install ./hello --dry-run --offline -f prod.yaml > gitops/hello.yaml
  ksbuilder install hello --version 0.1.0 --set frontend.replicaCount=2
  ksbuilder install ./network -f values-dev.yaml --cluster host --cluster member1
  ksbuilder install ./hello --no-wait && ksbuilder status hello --watch`,
		Flags:  installFlags(false),
		Action: func(c *cli.Context) error { return installAction(f, c, false, runF) },
	}
}

func newUpgradeCmd(f *Factory, runF func(*installOptions) error) *cli.Command {
	return &cli.Command{
		Name:      "upgrade",
		Usage:     "Upgrade an installed extension to another version and wait",
		ArgsUsage: "[PATH|NAME]",
		Description: `Changes the version of an installed extension's InstallPlan (a JSON merge
patch of its spec), and waits until KubeSphere has upgraded it. Given a PATH
(a directory or .tgz), the new version is published first ("ksbuilder
publish"); given a NAME, --version names a published version; without
either, PATH is the current directory. The plan must
exist: install first with "ksbuilder install". A version lower than the
installed one is a downgrade: Helm installs the older chart over the newer
release, and ksbuilder warns.

` + installChecks + `

The values are kept unless values flags or --reset-values are given; the
clusters of a Multicluster extension's agents are kept unless --cluster is.

` + installWaitText + `
Exit status: 0 upgraded, 1 failed or timed out, 2 usage, 130 interrupted.

Examples:
  ksbuilder upgrade ./hello
  ksbuilder upgrade hello --version 0.2.0
  ksbuilder upgrade hello --version 0.2.0 -f values.yaml --timeout 20m`,
		Flags:  installFlags(true),
		Action: func(c *cli.Context) error { return installAction(f, c, true, runF) },
	}
}

// pathOrNameArg returns install's and upgrade's argument; without one, the
// extension in the current directory (".") when it has extension.yaml.
func pathOrNameArg(c *cli.Context) (string, error) {
	if c.NArg() > 0 {
		return c.Args().First(), exactArgs(c, "PATH|NAME")
	}
	if _, err := os.Stat(extension.MetadataFile); err != nil {
		return "", usageErrorf("missing argument PATH|NAME (or run it in the extension's directory, where %s is)", extension.MetadataFile)
	}
	return ".", nil
}

func installFlags(upgrade bool) []cli.Flag {
	what, waitFor := "install", "installation"
	if upgrade {
		what, waitFor = "upgrade to", "upgrade"
	}
	var offline []cli.Flag
	if !upgrade {
		offline = append(offline, &cli.BoolFlag{Name: "offline", Usage: "with --dry-run: contact no cluster, and print the InstallPlan of a first installation"})
	}
	flags := []cli.Flag{
		&cli.StringFlag{Name: "version", Usage: "`VERSION` to " + what + "; required with a NAME, checked against a PATH's version"},
		&cli.StringSliceFlag{Name: "cluster", Usage: "Multicluster extensions: place the agent on `CLUSTER` (repeatable; default the host cluster)"},
		outputFlag("text, json or yaml (the final status; with --dry-run the objects, as YAML or JSON)"),
		&cli.BoolFlag{Name: flagDryRun, Usage: "run the checks and print the objects that would be written, without writing them"},
		&cli.BoolFlag{Name: "diff", Usage: "print what would change in the cluster (the installed release against the new one, per object) and the InstallPlan change, without writing anything"},
		&cli.BoolFlag{Name: "detailed-exitcode", Usage: "with --diff: exit 0 with no differences, 3 with differences (1 stays a failure, 2 a usage error)"},
	}
	flags = append(flags, offline...)
	flags = append(flags, valuesFlags()...)
	flags = append(flags, clusterValuesFlags(writtenAsOverride)...)
	flags = append(flags, &cli.BoolFlag{Name: "reset-values", Usage: "drop the values the InstallPlan has (without other values flags)", Category: valuesCategory})
	flags = append(flags, waitFlags(waitFor, "once the InstallPlan is written")...)
	return append(flags, clusterFlags()...)
}

func installAction(f *Factory, c *cli.Context, upgrade bool, runF func(*installOptions) error) error {
	arg, err := pathOrNameArg(c)
	if err != nil {
		return err
	}
	opts := &installOptions{
		f: f, Version: c.String("version"), Clusters: c.StringSlice("cluster"), Upgrade: upgrade,
		ResetValues: c.Bool("reset-values"), NoWait: c.Bool(flagNoWait), DryRun: c.Bool(flagDryRun), Connect: connectOptions(c),
		Offline: c.Bool("offline"),
	}
	if opts.Offline && !opts.DryRun {
		return usageErrorf("--offline only goes with --dry-run: writing an InstallPlan needs a cluster")
	}
	opts.Diff, opts.DetailedExitCode = c.Bool("diff"), c.Bool("detailed-exitcode")
	if opts.DetailedExitCode && !opts.Diff {
		return usageErrorf("--detailed-exitcode only goes with --diff")
	}
	if opts.Diff && (opts.DryRun || opts.NoWait) {
		return usageErrorf("--diff writes nothing: it cannot be combined with --dry-run or --no-wait")
	}
	if isPath(arg) {
		opts.Path = arg
		if run := runOf(c); run != nil {
			run.Path = arg // diagnostics of the extension name its files under PATH
		}
	} else {
		opts.Name = arg
		if opts.Version == "" {
			return usageErrorf("--version is required with an extension NAME (see \"ksbuilder extension versions %s\"); or give the PATH of the extension", arg)
		}
	}
	vals := valueOptions(c)
	if opts.ResetValues && !vals.Empty() {
		return usageErrorf("--reset-values cannot be used with other values flags: the new values replace the old ones anyway")
	}
	if opts.Values, opts.ValueSource, err = mergeValueSources(vals, f.IO.In); err != nil {
		return err
	}
	if opts.ClusterValues, err = mergeClusterValues(c, f.IO.In); err != nil {
		return err
	}
	if opts.Output, err = outputFormat(c, output.Text, output.JSON, output.YAML); err != nil {
		return err
	}
	if runF != nil {
		return runF(opts)
	}
	if opts.Diff {
		return installDiffRun(c, opts)
	}
	p := newProgress(f, opts.Name)
	defer p.Close()
	opts.Wait = waitOptions(c, p)
	return installRun(c, opts, p)
}

func installRun(c *cli.Context, opts *installOptions, p *progress) error {
	f := opts.f
	req := cluster.InstallRequest{
		Target: target(opts.Connect),
		InstallOptions: cluster.InstallOptions{Name: opts.Name, Version: opts.Version, Values: opts.Values, ValueSource: opts.ValueSource,
			ResetValues: opts.ResetValues, Clusters: opts.Clusters, ClusterValues: opts.ClusterValues, Upgrade: opts.Upgrade, DryRun: opts.DryRun},
		Created:  f.Now(),
		NoWait:   opts.NoWait,
		Offline:  opts.Offline,
		Wait:     opts.Wait,
		Progress: p,
	}
	if opts.Path != "" {
		pkg, err := buildPackage(c.Context, f, opts.Path)
		if err != nil {
			return err
		}
		req.Package, p.name = pkg, pkg.Extension.Name
	}
	res, err := cluster.Install(c.Context, req)
	p.Close()
	if res == nil {
		return clusterError(err)
	}
	if err != nil {
		return reportWaitError(f, res.Name, err)
	}
	switch {
	case opts.Offline:
		f.Infof("InstallPlan %s of a first installation (offline dry run: no cluster was contacted)", res.Name)
		return writeObjects(f.IO.Out, opts.Output, res.Objects)
	case opts.DryRun:
		f.Infof("InstallPlan %s would be %s (dry run: nothing was written)", res.Name, res.Action)
		return writeObjects(f.IO.Out, opts.Output, res.Objects)
	case opts.NoWait:
		f.Infof("Not waiting; follow it with: ksbuilder status %s --watch", res.Name)
		return writeStatus(f, opts.Output, res.Plan)
	case opts.Output != output.Text:
		return writeStatus(f, opts.Output, res.Final)
	}
	_, err = fmt.Fprintf(f.IO.Out, "%s %s is installed in namespace %s\n", res.Name, res.Final.Spec.Extension.Version, res.Final.Status.TargetNamespace)
	return err
}

// writeStatus prints a plan's status.
func writeStatus(f *Factory, format output.Format, plan *kubesphere.InstallPlan) error {
	st := cluster.StatusOf(plan)
	return output.Write(f.IO.Out, format, st, func(w io.Writer) error { return writeStatusText(w, st) })
}
