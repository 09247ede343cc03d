package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ksbuilder/ksbuilder/pkg/cluster"
	"github.com/ksbuilder/ksbuilder/pkg/output"
)

type statusOptions struct {
	f *Factory

	Name    string
	Watch   bool
	Output  output.Format
	Connect cluster.ConnectOptions
}

func newStatusCmd(f *Factory, runF func(*statusOptions) error) *cli.Command {
	return &cli.Command{
		Name:      "status",
		Usage:     "Show the installation state of an extension",
		ArgsUsage: "[NAME]",
		Description: `Shows the extension's InstallPlan: its state, the planned version and the
version KubeSphere recorded, the target namespace, the Helm release, the last
executor job, the conditions, the state history, the extension's JSBundles,
APIServices, ReverseProxies and ExtensionEntries with the state KubeSphere
gave them (Available, Disabled; None until the release is installed) and the
link, API or path each serves, and, for a Multicluster extension, the agent's
state on each cluster.

With --watch it follows the plan like "install" does, until every release is
Installed (exit 0), one fails (exit 1, with the job's logs), the plan is
deleted, or --timeout passes; then it prints the status. This is how to
resume waiting after Ctrl-C. Without NAME, the extension is the one in the
current directory (the name in ./extension.yaml).

Examples:
  ksbuilder status hello
  ksbuilder status hello --watch
  ksbuilder status hello -o json`,
		Flags: append([]cli.Flag{
			&cli.BoolFlag{Name: "watch", Aliases: []string{"w"}, Usage: "follow the plan until it settles"},
			&cli.DurationFlag{Name: flagTimeout, Usage: "with --watch: how long to wait (`DURATION`); 0 waits forever", Value: 10 * time.Minute},
			outputFlag("text, json or yaml"),
		}, clusterFlags()...),
		Action: func(c *cli.Context) error {
			name, err := nameArg(c)
			if err != nil {
				return err
			}
			opts := &statusOptions{f: f, Name: name, Watch: c.Bool("watch"), Connect: connectOptions(c)}
			if opts.Output, err = outputFormat(c, output.Text, output.JSON, output.YAML); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return statusRun(c, opts)
		},
	}
}

func statusRun(c *cli.Context, opts *statusOptions) error {
	f := opts.f
	p := newProgress(f, opts.Name)
	res, err := cluster.Status(c.Context, cluster.StatusRequest{
		Target: target(opts.Connect), Name: opts.Name, Watch: opts.Watch,
		Wait: waitOptions(c, p), Progress: p,
	})
	p.Close()
	switch {
	case res == nil:
		return clusterError(err)
	case err != nil:
		return reportWaitError(f, opts.Name, err)
	case res.Uninstalled:
		_, err = fmt.Fprintf(f.IO.Out, "%s is uninstalled\n", opts.Name)
		return err
	}
	st := cluster.StatusOf(res.Plan)
	st.ImagePull = res.ImagePull
	st.Objects = cluster.ObjectStatuses(res.Objects)
	return output.Write(f.IO.Out, opts.Output, st, func(w io.Writer) error { return writeStatusText(w, st) })
}

// writeStatusText prints a status for people.
func writeStatusText(w io.Writer, s *cluster.PlanStatus) error {
	var b strings.Builder
	field := func(name, value string) {
		if value != "" {
			fmt.Fprintf(&b, "%-18s %s\n", name+":", value)
		}
	}
	field("Name", s.Name)
	field("Extension", s.Extension)
	field("Planned version", s.PlannedVersion)
	state := s.State
	if state == cluster.StatePending {
		state += ": " + cluster.PendingMeaning
	}
	if s.Deleting {
		state += " (being deleted)"
	}
	field("State", state)
	field("Recorded version", s.Version)
	field("Namespace", s.Namespace)
	field("Release", s.Release)
	field("Job", s.Job)
	field("Enabled", fmt.Sprint(s.Enabled))
	field("Retrying", s.Retrying)
	field("Placement", strings.Join(s.Clusters, ", "))
	field("Overrides", strings.Join(s.Overridden, ", "))
	writeConditions(&b, "", s.Conditions)
	writeHistory(&b, "", s.History)
	if len(s.ImagePull) > 0 {
		b.WriteString("Image pull errors:\n")
		for _, e := range s.ImagePull {
			fmt.Fprintf(&b, "  %s\n", e.Error())
		}
	}
	if len(s.Objects) > 0 {
		b.WriteString("Served by KubeSphere:\n")
		for _, o := range s.Objects {
			fmt.Fprintf(&b, "  %-14s %-24s %-9s %s\n", o.Kind, o.Name, o.State, o.Serves)
		}
	}
	for _, a := range s.Agents {
		fmt.Fprintf(&b, "Agent on cluster %s:\n", a.Cluster)
		agentState := a.State
		if agentState == cluster.StatePending {
			agentState += ": " + cluster.PendingMeaning
		}
		fmt.Fprintf(&b, "  %-16s %s\n", "State:", agentState)
		for _, kv := range [][2]string{{"Recorded version", a.Version}, {"Release", a.Release}, {"Job", a.Job}} {
			if kv[1] != "" {
				fmt.Fprintf(&b, "  %-16s %s\n", kv[0]+":", kv[1])
			}
		}
		writeConditions(&b, "  ", a.Conditions)
		writeHistory(&b, "  ", a.History)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeConditions(b *strings.Builder, indent string, conds []metav1.Condition) {
	if len(conds) == 0 {
		return
	}
	fmt.Fprintf(b, "%sConditions:\n", indent)
	for _, c := range conds {
		fmt.Fprintf(b, "%s  %s  %s=%s  %s: %s\n", indent, c.LastTransitionTime.UTC().Format(time.RFC3339), c.Type, c.Status, c.Reason, strings.Join(strings.Fields(c.Message), " "))
	}
}

func writeHistory(b *strings.Builder, indent string, history []cluster.StateChange) {
	if len(history) == 0 {
		return
	}
	fmt.Fprintf(b, "%sHistory:\n", indent)
	for _, h := range history {
		fmt.Fprintf(b, "%s  %s  %s\n", indent, h.Time.UTC().Format(time.RFC3339), h.State)
	}
}
