package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/urfave/cli/v2"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/ksbuilder/ksbuilder/pkg/cluster"
)

// Flags shared by the commands that talk to a cluster.
const (
	flagKubeconfig = "kubeconfig"
	flagContext    = "context"
	flagTimeout    = "timeout"
	flagNoWait     = "no-wait"
	flagDryRun     = "dry-run"
)

// clusterFlags select the cluster, as kubectl's flags do.
func clusterFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: flagKubeconfig, Usage: "kubeconfig `FILE` (default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account)", Category: "Cluster"},
		&cli.StringFlag{Name: flagContext, Usage: "kubeconfig `CONTEXT` to use (default: the current context)", Category: "Cluster"},
	}
}

func connectOptions(c *cli.Context) cluster.ConnectOptions {
	return cluster.ConnectOptions{Kubeconfig: c.String(flagKubeconfig), Context: c.String(flagContext)}
}

// connect returns a client for the cluster the flags select, with the
// library's configuration errors put in terms of the flags.
func connect(opts cluster.ConnectOptions) (*cluster.Client, error) {
	client, err := cluster.Connect(opts)
	return client, clusterError(err)
}

// clusterError puts the library's errors that are about flags in terms of
// the flags; other errors are returned as they are.
func clusterError(err error) error {
	var (
		missing  *cluster.KubeconfigNotFoundError
		mismatch *cluster.VersionMismatchError
		notMC    *cluster.NotMulticlusterError
		other    *cluster.InstalledVersionError
		noCtx    *cluster.ContextNotFoundError
		check    *cluster.CheckError
		override *cluster.OverrideClusterError
	)
	switch {
	case err == nil:
		return nil
	case errors.As(err, &noCtx) && noCtx.Explicit:
		return usageErrorf("--%s %s: no such context in the kubeconfig (contexts: %s); pick one with --%s NAME", flagContext, noCtx.Name, strings.Join(noCtx.Known, ", "), flagContext)
	case errors.As(err, &noCtx):
		return fmt.Errorf("%w; pick one with --%s NAME, or kubectl config use-context NAME", err, flagContext)
	case errors.As(err, &check) && check.Clusters != nil:
		clusters := strings.Join(check.Clusters, ", ")
		if clusters == "" {
			clusters = "none is Ready"
		}
		return fmt.Errorf("%w; choose the clusters with --cluster NAME (repeatable; clusters that take agents: %s)", err, clusters)
	case apierrors.IsForbidden(err):
		return fmt.Errorf("%w; your user lacks this permission: \"ksbuilder doctor\" lists every permission publish, install, status and uninstall need; ask a cluster administrator for them (e.g. KubeSphere's platform-admin role)", err)
	case errors.Is(err, cluster.ErrNoConfig):
		return fmt.Errorf("%w: set KUBECONFIG, pass --%s, or create ~/.kube/config", err, flagKubeconfig)
	case errors.As(err, &missing) && !missing.FromEnv:
		return fmt.Errorf("--%s %s: the file does not exist", flagKubeconfig, strings.Join(missing.Paths, ", "))
	case errors.As(err, &mismatch):
		return usageErrorf("--version %s does not match the package, which is %s %s", mismatch.Requested, mismatch.Name, mismatch.Version)
	case errors.As(err, &other):
		return fmt.Errorf("%s %s is installed; to change the version run \"ksbuilder upgrade %s --version %s\"", other.Name, other.Installed, other.Name, other.Requested)
	case errors.As(err, &override):
		return &usageError{err: err}
	case errors.As(err, &notMC):
		return usageErrorf("--cluster, --cluster-values and --cluster-set only apply to Multicluster extensions; %s %s is %s", notMC.Name, notMC.Version, notMC.Mode)
	}
	return err
}

// target is the cluster the flags select.
func target(opts cluster.ConnectOptions) cluster.Target {
	return cluster.Target{Connect: opts}
}

// waitFlags control how long a command follows KubeSphere's work.
func waitFlags(what, returnWhen string) []cli.Flag {
	return []cli.Flag{
		&cli.DurationFlag{Name: flagTimeout, Usage: "how long to wait for the " + what + " (`DURATION`); 0 waits forever", Value: 10 * time.Minute, Category: "Waiting"},
		&cli.BoolFlag{Name: flagNoWait, Usage: "return " + returnWhen + ", without waiting for the " + what, Category: "Waiting"},
	}
}

// progress shows wait events on stderr: timestamped lines when stderr is
// not a terminal; on a terminal, the same lines above a live line with a
// spinner and the time spent in the current state.
type progress struct {
	f    *Factory
	name string

	mu      sync.Mutex
	current string
	since   time.Time
	stop    chan struct{}
	done    chan struct{}
	closed  sync.Once
}

func newProgress(f *Factory, name string) *progress {
	p := &progress{f: f, name: name}
	if f.IO.IsStderrTTY() {
		p.stop, p.done = make(chan struct{}), make(chan struct{})
		go p.spin()
	}
	return p
}

// Wait shows on the live line what the command is waiting for, with the
// time spent, until the next line or Close; nothing when stderr is not a
// terminal.
func (p *progress) Wait(what string) {
	if p.stop == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.current, p.since = what, time.Now()
	fmt.Fprintf(p.f.IO.ErrOut, "\r\x1b[K%s %s", spinnerFrames[0], what)
}

// Step prints a step of a workflow.
func (p *progress) Step(msg string) { p.line(msg) }

// Warn prints a warning.
func (p *progress) Warn(msg string) {
	p.line(fmt.Sprintf("%s %s", p.f.colorize("warning:", colorYellow), msg))
}

// line prints a line above the live line.
func (p *progress) line(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stop != nil {
		fmt.Fprint(p.f.IO.ErrOut, "\r\x1b[K")
	}
	fmt.Fprintln(p.f.IO.ErrOut, s)
}

// Event prints one event; a live event only sets the live line.
func (p *progress) Event(e cluster.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if e.Live != "" {
		p.current, p.since = e.Live, e.Time
		return
	}
	who := p.name
	if e.Name != "" {
		who = e.Name
	}
	if e.Cluster != "" {
		who = fmt.Sprintf("%s (agent on %s)", who, e.Cluster)
	}
	var line string
	if e.State == "" {
		line = fmt.Sprintf("%s %s %s", e.Time.Format("15:04:05"), p.f.colorize("warning:", colorYellow), e.Detail)
	} else {
		line = fmt.Sprintf("%s %s: %s", e.Time.Format("15:04:05"), who, e.State)
		if e.Detail != "" {
			line += " (" + e.Detail + ")"
		}
		p.current, p.since = fmt.Sprintf("%s: %s", who, e.State), e.Time
	}
	if p.stop != nil {
		fmt.Fprint(p.f.IO.ErrOut, "\r\x1b[K")
	}
	fmt.Fprintln(p.f.IO.ErrOut, line)
}

// spinnerFrames animate the live line.
var spinnerFrames = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

func (p *progress) spin() {
	defer close(p.done)
	frames := spinnerFrames
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case <-p.stop:
			p.mu.Lock()
			fmt.Fprint(p.f.IO.ErrOut, "\r\x1b[K")
			p.mu.Unlock()
			return
		case <-tick.C:
			p.mu.Lock()
			if p.current != "" {
				fmt.Fprintf(p.f.IO.ErrOut, "\r\x1b[K%s %s %s", frames[i%len(frames)], p.current, clockDuration(time.Since(p.since)))
			}
			p.mu.Unlock()
		}
	}
}

// clockDuration writes a duration as a clock does: 0:42, 12:05, 1:02:03.
func clockDuration(d time.Duration) string {
	s := int(d.Round(time.Second) / time.Second)
	if s < 0 {
		s = 0
	}
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// Close removes the live line. It may be called more than once.
func (p *progress) Close() {
	if p.stop == nil {
		return
	}
	p.closed.Do(func() {
		close(p.stop)
		<-p.done
	})
}

// waitOptions are the wait settings of a command.
func waitOptions(c *cli.Context, p *progress) cluster.WaitOptions {
	return cluster.WaitOptions{Timeout: c.Duration(flagTimeout), Notify: p.Event}
}

// reportWaitError prints what a failed wait needs to say beyond its error
// line and returns the error to end the command with.
func reportWaitError(f *Factory, name string, err error) error {
	var (
		failed  *cluster.FailedError
		timeout *cluster.TimeoutError
		busy    *cluster.PlanBusyError
		down    *cluster.ControllerDownError
	)
	switch {
	case errors.As(err, &down):
		printError(f, "", err)
		fmt.Fprintf(f.IO.ErrOut, "%s the InstallPlan stays as written and KubeSphere acts on it once its controller runs; \"ksbuilder doctor\" checks the cluster, \"ksbuilder status %s --watch\" follows the plan\n", f.colorize("hint:", colorCyan), name)
		return &silentError{code: exitFailure}
	case errors.As(err, &busy):
		return fmt.Errorf("%w; follow it with \"ksbuilder status %s --watch\"", err, name)
	case errors.Is(err, context.Canceled):
		fmt.Fprintf(f.IO.ErrOut, "Stopped waiting; KubeSphere carries on in the cluster. Follow it with: ksbuilder status %s --watch\n", name)
	case errors.As(err, &failed):
		printError(f, "", err)
		printDiagnosis(f, failed.Diagnosis)
		hint := failed.Hint
		if hint == cluster.ForceHint {
			hint = fmt.Sprintf("force the removal with \"ksbuilder uninstall %s --force\" (helm uninstall without hooks)", name)
		}
		if hint != "" {
			fmt.Fprintf(f.IO.ErrOut, "%s %s\n", f.colorize("hint:", colorCyan), hint)
		}
		return &silentError{code: exitFailure}
	case errors.As(err, &timeout):
		printError(f, "", err)
		switch {
		case timeout.Untouched:
			fmt.Fprintf(f.IO.ErrOut, "%s KubeSphere never started on the plan, so nothing is under way: check its controller with \"ksbuilder doctor\"\n", f.colorize("hint:", colorCyan))
		case timeout.ClockSkew == nil:
			fmt.Fprintf(f.IO.ErrOut, "%s KubeSphere may still finish; follow it with: ksbuilder status %s --watch\n", f.colorize("hint:", colorCyan), name)
		}
		return &silentError{code: exitFailure}
	}
	return err
}

// printDiagnosis writes a failed release's conditions, job and logs.
func printDiagnosis(f *Factory, d *cluster.Diagnosis) {
	if d == nil {
		return
	}
	w := f.IO.ErrOut
	if len(d.Conditions) > 0 {
		fmt.Fprintln(w, "Conditions:")
		for _, cond := range d.Conditions {
			fmt.Fprintf(w, "  %s  %s=%s  %s: %s\n", cond.LastTransitionTime.UTC().Format(time.RFC3339), cond.Type, cond.Status, cond.Reason, strings.Join(strings.Fields(cond.Message), " "))
		}
	}
	if d.Job != "" {
		fmt.Fprintf(w, "Executor job %s in namespace %s: %s\n", d.Job, d.Namespace, d.JobStatus)
	}
	for _, e := range d.ImagePull {
		fmt.Fprintf(w, "%s %s\n", f.colorize("hint:", colorCyan), e.Error())
	}
	for _, l := range d.Logs {
		fmt.Fprintf(w, "Log of %s/%s (last %d lines):\n", l.Pod, l.Container, cluster.LogLines)
		for _, line := range strings.Split(strings.TrimRight(l.Log, "\n"), "\n") {
			fmt.Fprintln(w, "  "+line)
		}
	}
	if d.LogsUnavailable != "" {
		fmt.Fprintf(w, "No logs: %s\n", d.LogsUnavailable)
	}
	if d.LogsCommand != "" && len(d.Logs) == 0 {
		fmt.Fprintf(w, "Read the logs with: %s\n", d.LogsCommand)
	}
}

// isPath reports whether an install argument names a package on disk
// rather than a published extension.
func isPath(arg string) bool {
	if _, err := os.Stat(arg); err == nil {
		return true
	}
	return strings.ContainsAny(arg, `/\`) || strings.HasSuffix(arg, ".tgz") || arg == "."
}
