// Package verify checks that an installed KubeSphere extension works, past
// what its InstallPlan says: every release is Installed, every workload of
// every release becomes ready (judged as "kubectl rollout status" judges
// it), the extension's JSBundles, APIServices, ReverseProxies and
// ExtensionEntries are Available, and the chart's Helm test hooks succeed
// when run as "helm test" runs them. It backs "ksbuilder test", and its log
// reading backs "ksbuilder logs".
//
// Each check is a small value: a name and a function returning its outcome.
// A pod that keeps a workload from being ready names itself and why (an
// image that cannot be pulled, a crash loop with its restart count and last
// log lines, the scheduler's message, a failing probe).
package verify

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"k8s.io/client-go/rest"

	"github.com/ksbuilder/ksbuilder/pkg/cluster"
	"github.com/ksbuilder/ksbuilder/pkg/kubesphere"
)

// Status is the outcome of a check.
type Status string

// The outcomes of a check.
const (
	// Passed: the check holds.
	Passed Status = "ok"
	// Failed: the check does not hold; the reason says why.
	Failed Status = "fail"
	// Skipped: the check does not apply (the reason says why).
	Skipped Status = "skipped"
	// NotChecked: the check could not be made (a cluster that cannot be
	// reached). It is never counted as passed.
	NotChecked Status = "not checked"
)

// Outcome is what a check's run found.
type Outcome struct {
	Status Status `json:"status"`
	// Reason says why a check failed or was skipped, or what passed.
	Reason string `json:"reason,omitempty"`
	// Logs are the log lines that explain a failure.
	Logs []LogLine `json:"logs,omitempty"`
}

// Check is one check: a name, the cluster it is about, and its run.
type Check struct {
	// Name says what holds when the check passes, e.g. "Deployment
	// extension-hello/hello is ready".
	Name string
	// Cluster is the cluster the check reads; "" for the host.
	Cluster string
	// Run makes the check.
	Run func(ctx context.Context) Outcome
}

// Result is a check's outcome.
type Result struct {
	Check   string `json:"check"`
	Cluster string `json:"cluster,omitempty"`
	// Phase is set for the checks made before an upgrade.
	Phase   string `json:"phase,omitempty"`
	Outcome `json:",inline"`
	// Seconds is how long the check took.
	Seconds float64 `json:"seconds"`
}

// Report is the outcome of every check.
type Report struct {
	Extension string   `json:"extension"`
	Version   string   `json:"version"`
	Results   []Result `json:"checks"`
	Summary   Summary  `json:"summary"`
}

// Summary counts the results by status.
type Summary struct {
	Passed     int     `json:"passed"`
	Failed     int     `json:"failed"`
	Skipped    int     `json:"skipped"`
	NotChecked int     `json:"notChecked"`
	Seconds    float64 `json:"seconds"`
}

// OK reports whether no check failed.
func (r *Report) OK() bool { return r.Summary.Failed == 0 }

func (r *Report) add(res Result) {
	r.Results = append(r.Results, res)
	switch res.Status {
	case Passed:
		r.Summary.Passed++
	case Failed:
		r.Summary.Failed++
	case Skipped:
		r.Summary.Skipped++
	case NotChecked:
		r.Summary.NotChecked++
	}
}

// merge appends the results of a later report (nil r: the later one).
func (r *Report) merge(later *Report) *Report {
	if r == nil {
		return later
	}
	out := &Report{Extension: later.Extension, Version: later.Version, Results: []Result{}}
	for _, res := range slices.Concat(r.Results, later.Results) {
		out.add(res)
	}
	out.Summary.Seconds = r.Summary.Seconds + later.Summary.Seconds
	return out
}

// Options say what to check and how long to wait.
type Options struct {
	// Name is the extension.
	Name string
	// Timeout bounds the wait for the workloads and the extension's
	// objects, and separately each test hook's run (default 5m).
	Timeout time.Duration
	// Interval is how often a condition that does not hold yet is read
	// again (default 2s).
	Interval time.Duration
	// LogLines is how many lines of a failing container's log are kept
	// (default 20).
	LogLines int
	// Logs reads container logs; nil reads them from each cluster's API
	// server.
	Logs LogSource
	// Member connects to a member cluster an agent is placed on; nil, or an
	// error, leaves that cluster's checks "not checked" (unless Gateway
	// reaches it).
	Member func(ctx context.Context, cluster string) (*rest.Config, error)
	// Gateway, when set, adds the checks made through KubeSphere's API
	// gateway (bundles served, APIServices and ReverseProxies answering),
	// and reaches the member clusters Member does not through its
	// multicluster proxy.
	Gateway *Gateway
	// Clusters, when set, limit the agents checked to those on these
	// clusters.
	Clusters []string
	// Phase labels every result (see Result.Phase).
	Phase string
	// OnResult, when set, receives each result as soon as it is known.
	OnResult func(Result)
}

func (o *Options) defaults() {
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Minute
	}
	if o.Interval <= 0 {
		o.Interval = 2 * time.Second
	}
	if o.LogLines <= 0 {
		o.LogLines = 20
	}
}

// Run checks the installed extension opts.Name on the cluster of c and its
// agents' clusters. It returns an error only when the checks cannot start
// (the extension is not installed, the cluster cannot be read); every
// problem with the extension is a failed check in the report.
func Run(ctx context.Context, c *cluster.Client, opts Options) (*Report, error) {
	opts.defaults()
	plan, err := c.Plan(ctx, opts.Name)
	if err != nil {
		return nil, err
	}
	hostName, err := c.HostCluster(ctx)
	if err != nil {
		return nil, err
	}
	host, err := newConn(c.RESTConfig(), "", orDefault(hostName, "host"), opts.Logs)
	if err != nil {
		return nil, err
	}
	r := &runner{opts: opts, report: &Report{Extension: opts.Name, Version: plan.Spec.Extension.Version, Results: []Result{}}}
	var gatewayCfg *rest.Config
	if opts.Gateway != nil {
		if gatewayCfg, err = GatewayConfig(c.RESTConfig(), *opts.Gateway); err != nil {
			return nil, err
		}
		if r.gateway, err = newGateway(gatewayCfg); err != nil {
			return nil, err
		}
	}
	r.routes = memberRoutes(opts.Member, gatewayCfg)
	start := time.Now()
	r.run(ctx, planCheck(plan, ""))
	agents := sortedClusters(plan)
	if len(opts.Clusters) > 0 {
		agents = slices.DeleteFunc(agents, func(cl string) bool { return !slices.Contains(opts.Clusters, cl) })
	}
	for _, cl := range agents {
		r.run(ctx, planCheck(plan, cl))
	}

	// Workloads and the extension's objects share one deadline, as Helm's
	// --wait does; each test hook gets the whole timeout.
	r.deadline = time.Now().Add(opts.Timeout)
	releases := []releaseRef{{conn: host, name: releaseName(plan), namespace: plan.Status.TargetNamespace}}
	kindConns := []*conn{host}
	for _, cl := range agents {
		st := plan.Status.ClusterSchedulingStatuses[cl]
		ref := releaseRef{name: orDefault(st.ReleaseName, opts.Name+"-agent"), namespace: orDefault(st.TargetNamespace, plan.Status.TargetNamespace)}
		if cl == hostName {
			ref.conn = host.on(cl)
		} else {
			member, why := r.member(ctx, cl)
			if member == nil {
				r.add(Result{Check: fmt.Sprintf("agent release %s on cluster %s", ref.name, cl), Cluster: cl,
					Outcome: Outcome{Status: NotChecked, Reason: why}})
				continue
			}
			ref.conn = member
			kindConns = append(kindConns, member)
		}
		releases = append(releases, ref)
	}
	var hooked []loadedRelease
	for _, ref := range releases {
		rel, ok := r.loadRelease(ctx, ref)
		if !ok {
			continue
		}
		for _, w := range workloadsOf(rel) {
			r.run(ctx, workloadCheck(ref.conn, w, r))
		}
		hooked = append(hooked, rel)
	}
	for _, cn := range kindConns {
		for _, chk := range extensionObjectChecks(ctx, cn, opts.Name, r) {
			r.run(ctx, chk)
		}
	}
	if r.gateway != nil {
		for _, cn := range kindConns {
			prefix := ""
			if cn.cluster != "" {
				prefix = "/clusters/" + cn.cluster
			}
			for _, chk := range gatewayChecks(ctx, r.gateway, cn, opts.Name, prefix, r) {
				r.run(ctx, chk)
			}
		}
	}
	for _, rel := range hooked {
		for _, chk := range testHookChecks(rel, r) {
			r.run(ctx, chk)
		}
	}
	r.report.Summary.Seconds = time.Since(start).Seconds()
	return r.report, ctx.Err()
}

// runner runs checks and collects their results.
type runner struct {
	opts     Options
	report   *Report
	deadline time.Time
	// routes reach member clusters, tried in order.
	routes []memberRoute
	// gateway is KubeSphere's API gateway; nil when none was given.
	gateway *gateway
}

func (r *runner) run(ctx context.Context, chk Check) {
	if ctx.Err() != nil {
		return
	}
	start := time.Now()
	out := chk.Run(ctx)
	if ctx.Err() != nil && out.Status != Passed {
		// Interrupted: the check was not made, whatever it saw so far.
		return
	}
	r.add(Result{Check: chk.Name, Cluster: chk.Cluster, Outcome: out, Seconds: time.Since(start).Seconds()})
}

func (r *runner) add(res Result) {
	res.Phase = r.opts.Phase
	r.report.add(res)
	if r.opts.OnResult != nil {
		r.opts.OnResult(res)
	}
}

// member connects to a member cluster, or says why it cannot.
func (r *runner) member(ctx context.Context, name string) (*conn, string) {
	return connectMember(ctx, r.routes, r.opts.Logs, name)
}

// memberRoute is one way to reach member clusters.
type memberRoute struct {
	// via says how, in the reason a cluster is not reached ("" for the
	// kubeconfig).
	via     string
	connect func(ctx context.Context, cluster string) (*rest.Config, error)
}

// memberRoutes are the ways to reach member clusters: member, then
// KubeSphere's multicluster proxy when gateway (its REST config) is set.
func memberRoutes(member func(context.Context, string) (*rest.Config, error), gateway *rest.Config) []memberRoute {
	var routes []memberRoute
	if member != nil {
		routes = append(routes, memberRoute{connect: member})
	}
	if gateway != nil {
		routes = append(routes, memberRoute{via: "through KubeSphere's multicluster proxy", connect: func(_ context.Context, name string) (*rest.Config, error) {
			return gatewayMember(gateway, name), nil
		}})
	}
	return routes
}

// connectMember connects to a member cluster through the first route that
// reaches it (one whose cluster answers); otherwise it says why the
// cluster is not checked.
func connectMember(ctx context.Context, routes []memberRoute, logs LogSource, name string) (*conn, string) {
	if len(routes) == 0 {
		return nil, fmt.Sprintf("ksbuilder cannot reach member cluster %s", name)
	}
	var whys []string
	for _, route := range routes {
		cn, err := tryMember(ctx, route.connect, logs, name)
		if err == nil {
			return cn, ""
		}
		if route.via != "" {
			err = fmt.Errorf("%s: %w", route.via, err)
		}
		whys = append(whys, err.Error())
	}
	return nil, fmt.Sprintf("cluster %s cannot be reached: %s", name, strings.Join(whys, "; "))
}

// tryMember connects to a member cluster and checks that it answers.
func tryMember(ctx context.Context, connect func(context.Context, string) (*rest.Config, error), logs LogSource, name string) (*conn, error) {
	cfg, err := connect(ctx, name)
	if err != nil {
		return nil, err
	}
	cn, err := newConn(cfg, name, name, logs)
	if err != nil {
		return nil, err
	}
	probe, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := cn.core.RESTClient().Get().AbsPath("/version").Do(probe).Error(); err != nil {
		return nil, err
	}
	return cn, nil
}

// poll calls probe until it is done or the deadline passes; the last
// outcome is returned.
func (r *runner) poll(ctx context.Context, deadline time.Time, probe func() (bool, Outcome)) Outcome {
	for {
		done, out := probe()
		if done || !time.Now().Before(deadline) {
			return out
		}
		select {
		case <-ctx.Done():
			return out
		case <-time.After(min(r.opts.Interval, time.Until(deadline))):
		}
	}
}

// planCheck checks that a release of the plan (cluster "" for the host) is
// Installed.
func planCheck(plan *kubesphere.InstallPlan, cl string) Check {
	name := fmt.Sprintf("InstallPlan %s is Installed", plan.Name)
	st := plan.Status.InstallationStatus
	if cl != "" {
		name = fmt.Sprintf("InstallPlan %s: agent on cluster %s is Installed", plan.Name, cl)
		st = plan.Status.ClusterSchedulingStatuses[cl]
	}
	return Check{Name: name, Cluster: cl, Run: func(context.Context) Outcome {
		if st.State == kubesphere.StateInstalled {
			return Outcome{Status: Passed, Reason: "version " + st.Version}
		}
		why := "state " + orDefault(st.State, "Pending (KubeSphere has not acted on it)")
		if msg := latestMessage(st); msg != "" {
			why += ": " + msg
		}
		return Outcome{Status: Failed, Reason: why + fmt.Sprintf(" (ksbuilder status %s shows more)", plan.Name)}
	}}
}

// latestMessage is the message of the newest condition.
func latestMessage(st kubesphere.InstallationStatus) string {
	var msg string
	var at time.Time
	for _, c := range st.Conditions {
		if c.Message != "" && !c.LastTransitionTime.Time.Before(at) {
			msg, at = c.Message, c.LastTransitionTime.Time
		}
	}
	return oneLine(msg)
}

func sortedClusters(plan *kubesphere.InstallPlan) []string {
	out := make([]string, 0, len(plan.Status.ClusterSchedulingStatuses))
	for cl := range plan.Status.ClusterSchedulingStatuses {
		out = append(out, cl)
	}
	slices.Sort(out)
	return out
}

// releaseName is the host release's name: the extension's.
func releaseName(plan *kubesphere.InstallPlan) string {
	return orDefault(plan.Status.ReleaseName, plan.Spec.Extension.Name)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// oneLine joins the lines of a message.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
