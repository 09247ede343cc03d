package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/ksbuilder/ksbuilder/pkg/cluster"
	"github.com/ksbuilder/ksbuilder/pkg/output"
	"github.com/ksbuilder/ksbuilder/pkg/packager"
	"github.com/ksbuilder/ksbuilder/pkg/registry"
	"github.com/ksbuilder/ksbuilder/pkg/safetext"
	"github.com/ksbuilder/ksbuilder/pkg/verify"
)

// formatJUnit is test's JUnit XML output.
const formatJUnit output.Format = "junit"

type testOptions struct {
	f *Factory

	// Path is set for a package to install first, Name for an installed
	// extension.
	Path   string
	Name   string
	Values map[string]any
	// Clusters place the agent (with a PATH) and limit the agents checked.
	Clusters []string
	// Contexts map a member cluster to the kubeconfig context that reaches
	// it.
	Contexts map[string]string
	// UpgradeFrom is the VERSION (published) or PATH to install and check
	// before upgrading to Path.
	UpgradeFrom string
	// UpgradeFromOCI is set when UpgradeFrom is an oci:// reference, with
	// Registry the flags to pull it.
	UpgradeFromOCI *registry.Reference
	Registry       registry.Options
	// Gateway is set with --ks-apiserver.
	Gateway *verify.Gateway
	Cleanup bool
	Timeout time.Duration
	Output  output.Format
	Connect cluster.ConnectOptions
}

// The flags of the KubeSphere API gateway (registry flags keep Helm's
// names --ca-file and --insecure-skip-tls-verify).
const (
	flagKSAPIServer   = "ks-apiserver"
	flagKSCAFile      = "ks-ca-file"
	flagKSInsecureTLS = "ks-insecure-skip-tls-verify"
)

func newTestCmd(f *Factory, runF func(*testOptions) error) *cli.Command {
	return &cli.Command{
		Name:      "test",
		Usage:     "Check that an installed extension works: workloads ready, console objects Available, Helm test hooks pass",
		ArgsUsage: "[PATH|NAME]",
		Description: `Checks what "install" does not: that the extension works once KubeSphere says
Installed. Given a PATH (a directory or .tgz) it is installed first, as
"ksbuilder install PATH" does (upgrading when another version is installed);
given a NAME, what is installed is checked. Without either, PATH is the
current directory.

For the host release and every agent whose cluster can be reached:
  - the InstallPlan's release is Installed and its Helm release deployed;
  - every Deployment, StatefulSet, DaemonSet and Job of the release becomes
    ready within --timeout, judged as "kubectl rollout status" judges it; a
    pod that is not ready is named with why: an image that cannot be pulled
    (which image, which node), CrashLoopBackOff (restart count and the last
    log lines), Pending (the scheduler's message), a failing probe;
  - the extension's JSBundles, APIServices, ReverseProxies and
    ExtensionEntries (labelled kubesphere.io/extension-ref) are Available;
  - the chart's Helm test hooks (helm.sh/hook: test) of kind Pod or Job run
    as "helm test" runs them: in weight order, in the release's namespace,
    their delete policies honoured (before-hook-creation by default), with
    the logs of a failed one.

With --ks-apiserver URL (KubeSphere's API server, the console's gateway), also,
with the kubeconfig's credentials:
  - each JSBundle's link (/dist/NAME/index.js) returns JavaScript: 200, a
    JavaScript Content-Type, not empty, not an HTML page;
  - each APIService (GET /kapis/GROUP/VERSION/ksbuilder-probe) and each
    ReverseProxy (GET its path) is handed to a backend that answers: not
    ks-apiserver's 502 (backend unreachable) or 503 (not Available), nor its
    own 404 (routed nowhere); any answer of the backend, even a 404, passes;
    401 or 403 name the refused credentials.

Agents on the host cluster are checked through the same connection; a member
cluster is reached through the kubeconfig context named after it, or the one
--cluster-context names, else, with --ks-apiserver, through KubeSphere's
multicluster proxy (URL/clusters/NAME). A cluster that cannot be reached is
reported "not checked", never as passed.

One line per check on stdout, then a summary; -o json prints one object per
check (-o yaml the same as YAML), -o junit a JUnit XML report for CI.
--upgrade-from (a published VERSION, a PATH, or an oci:// reference pulled
with the registry flags) installs and checks that version first, then upgrades to PATH
and checks again; --cleanup uninstalls at the end (also after a failure or
Ctrl-C) and unpublishes the versions this run published.

Exit status: 0 every check passed, 1 a check failed (or the installation, or
the cleanup), 2 usage, 130 interrupted.

Examples:
  ksbuilder test ./hello
  ksbuilder test hello --timeout 2m
  ksbuilder test hello -o junit > report.xml
  ksbuilder test network --cluster-context member1=kind-member1
  ksbuilder test hello --ks-apiserver https://ks.example.com
  ksbuilder test ./hello --upgrade-from oci://registry.example.com/charts/hello:0.1.0`,
		Flags: append(append([]cli.Flag{
			&cli.StringSliceFlag{Name: "cluster", Usage: "Multicluster extensions: with a PATH, place the agent on `CLUSTER`; check only the agents on these clusters (repeatable)"},
			&cli.StringSliceFlag{Name: "cluster-context", Usage: "reach member cluster CLUSTER through kubeconfig context CONTEXT (`CLUSTER=CONTEXT`, repeatable; default: the context named after the cluster)"},
			&cli.StringFlag{Name: "upgrade-from", Usage: "with a PATH: install `VERSION|PATH|oci://REF` first (a published version, a package, or one in an OCI registry), check it, then upgrade to PATH and check again"},
			gatewayURLFlag("also check through KubeSphere's API server at `URL` that bundles are served and APIServices and ReverseProxies answer; reach member clusters through its proxy"),
			&cli.BoolFlag{Name: "cleanup", Usage: "uninstall the extension at the end (also after a failure or Ctrl-C) and unpublish the versions this test published"},
			&cli.DurationFlag{Name: flagTimeout, Usage: "how long to wait for the installation, for the workloads and objects to become ready, and for each test hook (`DURATION`)", Value: 5 * time.Minute},
			outputFlag("text, json, yaml or junit"),
		}, valuesFlags()...), slices.Concat(gatewayTLSFlags(), clusterFlags(), registryFlags())...),
		Action: func(c *cli.Context) error {
			arg, err := pathOrNameArg(c)
			if err != nil {
				return err
			}
			opts := &testOptions{f: f, Clusters: c.StringSlice("cluster"), UpgradeFrom: c.String("upgrade-from"), Cleanup: c.Bool("cleanup"),
				Timeout: c.Duration(flagTimeout), Connect: connectOptions(c)}
			if isPath(arg) {
				opts.Path = arg
				if run := runOf(c); run != nil {
					run.Path = arg
				}
			} else {
				opts.Name = arg
			}
			if opts.Contexts, err = clusterContexts(c.StringSlice("cluster-context")); err != nil {
				return err
			}
			if opts.UpgradeFrom != "" && opts.Path == "" {
				return usageErrorf("--upgrade-from needs the PATH of the version to upgrade to; %s is an installed extension", arg)
			}
			if registry.IsOCI(opts.UpgradeFrom) {
				ref, err := parseOCIRef("--upgrade-from", opts.UpgradeFrom)
				if err != nil {
					return err
				}
				opts.UpgradeFromOCI = &ref
			}
			if opts.Registry, err = registryOptions(c); err != nil {
				return err
			}
			if opts.Gateway, err = gatewayOptions(c); err != nil {
				return err
			}
			vals := valueOptions(c)
			if !vals.Empty() && opts.Path == "" {
				return usageErrorf("values flags apply when installing a PATH; %s is tested as installed (install it with other values first)", arg)
			}
			if opts.Values, err = mergeValues(vals, f.IO.In); err != nil {
				return err
			}
			if opts.Output, err = outputFormat(c, output.Text, output.JSON, output.YAML, formatJUnit); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return testRun(c, opts)
		},
	}
}

// gatewayURLFlag is --ks-apiserver, with what it does for the command.
func gatewayURLFlag(usage string) cli.Flag {
	return &cli.StringFlag{Name: flagKSAPIServer, Usage: usage, Category: "KubeSphere API gateway"}
}

// gatewayTLSFlags verify the KubeSphere API server.
func gatewayTLSFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: flagKSCAFile, Usage: "verify the KubeSphere API server with the CA certificates in `FILE` (default: the kubeconfig's when on the same host, else the system's)", Category: "KubeSphere API gateway"},
		&cli.BoolFlag{Name: flagKSInsecureTLS, Usage: "accept any KubeSphere API server certificate", Category: "KubeSphere API gateway"},
	}
}

// gatewayOptions reads --ks-apiserver and its TLS flags; nil without it.
func gatewayOptions(c *cli.Context) (*verify.Gateway, error) {
	u := c.String(flagKSAPIServer)
	if u == "" {
		if c.IsSet(flagKSCAFile) || c.IsSet(flagKSInsecureTLS) {
			return nil, usageErrorf("--%s and --%s apply to --%s URL, which is not given", flagKSCAFile, flagKSInsecureTLS, flagKSAPIServer)
		}
		return nil, nil
	}
	g := &verify.Gateway{URL: u, CAFile: c.String(flagKSCAFile), Insecure: c.Bool(flagKSInsecureTLS)}
	if err := g.Check(); err != nil {
		return nil, usageErrorf("--%s: %v", flagKSAPIServer, err)
	}
	if g.CAFile != "" && g.Insecure {
		return nil, usageErrorf("--%s and --%s contradict each other: give one", flagKSCAFile, flagKSInsecureTLS)
	}
	return g, nil
}

// clusterContexts reads --cluster-context CLUSTER=CONTEXT flags.
func clusterContexts(flags []string) (map[string]string, error) {
	out := map[string]string{}
	for _, fl := range flags {
		name, ctx, ok := strings.Cut(fl, "=")
		if !ok || name == "" || ctx == "" {
			return nil, usageErrorf("--cluster-context %q: want CLUSTER=CONTEXT, such as member1=kind-member1", fl)
		}
		out[name] = ctx
	}
	return out, nil
}

func testRun(c *cli.Context, opts *testOptions) error {
	f := opts.f
	p := newProgress(f, opts.Name)
	defer p.Close()
	req := verify.Request{
		Target: target(opts.Connect),
		Options: verify.Options{
			Name: opts.Name, Timeout: opts.Timeout, Clusters: opts.Clusters,
			Member:  verify.ContextMembers(opts.Connect.Kubeconfig, opts.Contexts),
			Gateway: opts.Gateway,
		},
	}
	if opts.Output == output.Text {
		req.OnResult = func(r verify.Result) { writeCheck(f, r) }
	}
	if opts.Path != "" {
		pkg, err := buildPackage(c.Context, f, opts.Path)
		if err != nil {
			return err
		}
		p.name = pkg.Extension.Name
		install := func(pkg *packager.Package, name, version string) *cluster.InstallRequest {
			return &cluster.InstallRequest{
				InstallOptions: cluster.InstallOptions{Name: name, Version: version, Values: opts.Values, Clusters: opts.Clusters},
				Package:        pkg, Created: f.Now(), Progress: p,
				Wait: cluster.WaitOptions{Timeout: opts.Timeout, Notify: p.Event},
			}
		}
		req.Install = install(pkg, "", "")
		switch {
		case opts.UpgradeFrom == "":
		case opts.UpgradeFromOCI != nil || isPath(opts.UpgradeFrom):
			var from *packager.Package
			if opts.UpgradeFromOCI != nil {
				from, _, err = pullPackage(f, *opts.UpgradeFromOCI, opts.Registry)
			} else {
				from, err = buildPackage(c.Context, f, opts.UpgradeFrom)
			}
			if err != nil {
				return err
			}
			if from.Extension.Name != pkg.Extension.Name {
				return usageErrorf("--upgrade-from %s is extension %s, not %s", opts.UpgradeFrom, from.Extension.Name, pkg.Extension.Name)
			}
			req.UpgradeFrom = install(from, "", "")
		default:
			req.UpgradeFrom = install(nil, pkg.Extension.Name, opts.UpgradeFrom)
		}
	}
	req.Cleanup, req.Progress = opts.Cleanup, p
	res, err := verify.Test(c.Context, req)
	p.Close()
	cleanupFailed := res != nil && res.CleanupErr != nil
	if cleanupFailed {
		fmt.Fprintf(f.IO.ErrOut, "%s cleanup: %s\n", f.colorize("error:", colorRed), safetext.Strip(clusterError(res.CleanupErr).Error()))
	}
	switch {
	case res == nil:
		return clusterError(err)
	case res.Report == nil && res.Install != nil:
		return reportWaitError(f, res.Install.Name, err)
	case res.Report == nil:
		return clusterError(err)
	case err != nil:
		return err
	}
	rep := res.Report
	if opts.Output == formatJUnit {
		err = rep.WriteJUnit(f.IO.Out)
	} else {
		err = output.Write(f.IO.Out, opts.Output, rep, func(w io.Writer) error {
			_, err := fmt.Fprintln(w, testSummary(rep))
			return err
		})
	}
	if err != nil {
		return err
	}
	if !rep.OK() || cleanupFailed {
		return &silentError{code: exitFailure}
	}
	return nil
}

// writeCheck prints one result: "ok   NAME (reason)", "FAIL NAME: reason"
// with its log lines, "skip NAME: reason", "not checked NAME: reason".
func writeCheck(f *Factory, r verify.Result) {
	var b strings.Builder
	name := r.Check
	if r.Cluster != "" {
		name = "[" + r.Cluster + "] " + name
	}
	if r.Phase != "" {
		name = "(" + r.Phase + ") " + name
	}
	switch r.Status {
	case verify.Passed:
		b.WriteString("ok   " + name)
		if r.Reason != "" {
			b.WriteString(" (" + r.Reason + ")")
		}
	case verify.Failed:
		b.WriteString("FAIL " + name + ": " + r.Reason)
	case verify.Skipped:
		b.WriteString("skip " + name + ": " + r.Reason)
	default:
		b.WriteString(string(r.Status) + " " + name + ": " + r.Reason)
	}
	b.WriteString("\n")
	for _, l := range r.Logs {
		b.WriteString("     " + l.String() + "\n")
	}
	_, _ = io.WriteString(f.IO.Out, b.String())
}

// testSummary is the last line of the text output.
func testSummary(rep *verify.Report) string {
	s := rep.Summary
	verdict := "PASS"
	if !rep.OK() {
		verdict = "FAIL"
	}
	line := fmt.Sprintf("%s %s %s: %d passed, %d failed", verdict, rep.Extension, rep.Version, s.Passed, s.Failed)
	if s.Skipped > 0 {
		line += fmt.Sprintf(", %d skipped", s.Skipped)
	}
	if s.NotChecked > 0 {
		line += fmt.Sprintf(", %d not checked", s.NotChecked)
	}
	return line + fmt.Sprintf(" (%s)", time.Duration(s.Seconds*float64(time.Second)).Round(100*time.Millisecond))
}
