package main

import (
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/ksbuilder/ksbuilder/pkg/cluster"
	"github.com/ksbuilder/ksbuilder/pkg/verify"
)

type logsOptions struct {
	f *Factory

	Name     string
	Cluster  string
	Follow   bool
	Since    time.Duration
	Contexts map[string]string
	// Gateway, with --ks-apiserver, reaches member clusters through
	// KubeSphere's multicluster proxy.
	Gateway *verify.Gateway
	Connect cluster.ConnectOptions
}

func newLogsCmd(f *Factory, runF func(*logsOptions) error) *cli.Command {
	return &cli.Command{
		Name:      "logs",
		Usage:     "Print the logs of an extension's pods and of its last executor job",
		ArgsUsage: "[NAME]",
		Description: `Prints the logs of every container of the extension's pods (the pods of the
Deployments, StatefulSets, DaemonSets and Jobs of its Helm release) and of its
last executor job (the pod that ran Helm for KubeSphere), each line prefixed
with CLUSTER/POD/CONTAINER, as stern prints them. "ksbuilder test" prints a
failing check's logs the same way.

--cluster reads the agent release on that cluster instead of the host
release (a member cluster is reached through the kubeconfig context named
after it, or the one --cluster-context names, else, with --ks-apiserver URL,
through KubeSphere's multicluster proxy); the executor jobs of agents
run on the host. -f follows the logs until Ctrl-C. Without NAME, the
extension is the one in the current directory.

Examples:
  ksbuilder logs hello
  ksbuilder logs hello -f --since 10m
  ksbuilder logs network --cluster member1`,
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "cluster", Usage: "read the agent release on `CLUSTER` (default: the host release)"},
			&cli.StringSliceFlag{Name: "cluster-context", Usage: "reach member cluster CLUSTER through kubeconfig context CONTEXT (`CLUSTER=CONTEXT`)"},
			&cli.BoolFlag{Name: "follow", Aliases: []string{"f"}, Usage: "stream new lines until interrupted"},
			&cli.DurationFlag{Name: "since", Usage: "only lines newer than `DURATION` (such as 10m)"},
			gatewayURLFlag("reach member clusters no kubeconfig context reaches through the multicluster proxy of KubeSphere's API server at `URL`"),
		}, append(gatewayTLSFlags(), clusterFlags()...)...),
		Action: func(c *cli.Context) error {
			name, err := nameArg(c)
			if err != nil {
				return err
			}
			if c.Duration("since") < 0 {
				return usageErrorf("--since %s: want a positive duration, such as 10m", c.Duration("since"))
			}
			opts := &logsOptions{f: f, Name: name, Cluster: c.String("cluster"), Follow: c.Bool("follow"), Since: c.Duration("since"), Connect: connectOptions(c)}
			if opts.Contexts, err = clusterContexts(c.StringSlice("cluster-context")); err != nil {
				return err
			}
			if opts.Gateway, err = gatewayOptions(c); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return logsRun(c, opts)
		},
	}
}

func logsRun(c *cli.Context, opts *logsOptions) error {
	f := opts.f
	client, err := connect(opts.Connect)
	if err != nil {
		return err
	}
	var writeErr error
	err = verify.Logs(c.Context, client, verify.LogsOptions{
		Name: opts.Name, Cluster: opts.Cluster, Follow: opts.Follow, Since: opts.Since,
		Member:  verify.ContextMembers(opts.Connect.Kubeconfig, opts.Contexts),
		Gateway: opts.Gateway,
		OnLine: func(l verify.LogLine) {
			if _, err := fmt.Fprintln(f.IO.Out, l.String()); err != nil && writeErr == nil {
				writeErr = err
			}
		},
		OnProblem: func(msg string) { f.Infof("%s %s", f.colorize("warning:", colorYellow), msg) },
	})
	if err != nil {
		return clusterError(err)
	}
	return writeErr
}
