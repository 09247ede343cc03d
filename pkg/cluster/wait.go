package cluster

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/utils/clock"

	"github.com/ksbuilder/ksbuilder/pkg/kubesphere"
)

// Defaults of WaitOptions.
const (
	DefaultStuckAfter = 2 * time.Minute
	DefaultSkewGrace  = 30 * time.Second
	DefaultInterval   = 2 * time.Second
	DefaultJobSettle  = 5 * time.Second
)

// WaitOptions tune Wait and WaitDeleted.
type WaitOptions struct {
	// Timeout ends the wait with a *TimeoutError; 0 means no limit.
	Timeout time.Duration
	// StuckAfter is how long KubeSphere may leave a release untouched or in
	// Preparing before a warning says it looks stuck.
	StuckAfter time.Duration
	// SkewGrace is how long a release may stay Installing or Upgrading after
	// its job finished before the wait ends with a *ClockSkewError.
	SkewGrace time.Duration
	// Interval is how often the plan is read again and jobs are checked,
	// besides watching the plan.
	Interval time.Duration
	// JobSettle is how long a failure report waits for the executor job to
	// end: KubeSphere reads the failure from the Helm release, which can
	// be written before the job has finished and its log is complete.
	JobSettle time.Duration
	// Notify receives progress events; nil discards them.
	Notify func(Event)
	// Clock measures the timeout, the intervals and the durations in
	// messages; nil means the real clock. Tests pass a fake one.
	Clock clock.WithTicker
}

func (o *WaitOptions) defaults() {
	if o.StuckAfter <= 0 {
		o.StuckAfter = DefaultStuckAfter
	}
	if o.SkewGrace <= 0 {
		o.SkewGrace = DefaultSkewGrace
	}
	if o.Interval <= 0 {
		o.Interval = DefaultInterval
	}
	if o.JobSettle <= 0 {
		o.JobSettle = DefaultJobSettle
	}
	if o.Notify == nil {
		o.Notify = func(Event) {}
	}
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
}

// now reads the wait's clock.
func (o *WaitOptions) now() time.Time { return o.Clock.Now() }

// Event is a change worth showing while waiting.
type Event struct {
	Time time.Time
	// Name is the extension's.
	Name string
	// Cluster is "" for the host release, else the cluster of an agent
	// release.
	Cluster string
	// State is the release's new state; empty for a warning.
	State string
	// Detail is the job, a condition message or a warning.
	Detail string
	// Live, when set, is no change but what the wait is doing now, for a
	// live line (e.g. "waiting for KubeSphere to pick up InstallPlan
	// hello"); State and Detail are then empty.
	Live string
}

// FailedError is a release that ended in a failure state.
type FailedError struct {
	Name string
	// Cluster is "" for the host release.
	Cluster   string
	State     string
	Diagnosis *Diagnosis
	// Hint says what to do next.
	Hint string
}

func (e *FailedError) Error() string {
	msg := fmt.Sprintf("%s: %s", releaseLabel(e.Name, e.Cluster), e.State)
	if m := e.Diagnosis.message(); m != "" {
		msg += ": " + m
	}
	return msg
}

// ForceHint is the hint of a failed uninstall.
const ForceHint = "force the removal: KubeSphere then runs helm uninstall without hooks"

// PlanBusyError ends an installation wait when KubeSphere is doing
// something else with the plan: deleting it, or uninstalling a release.
type PlanBusyError struct {
	Name    string
	Cluster string
	State   string
	// Deleting is true when the plan is being deleted.
	Deleting bool
}

func (e *PlanBusyError) Error() string {
	if e.Deleting {
		return fmt.Sprintf("InstallPlan %s is being deleted (state %s)", e.Name, orUnknown(e.State))
	}
	return fmt.Sprintf("%s is %s", releaseLabel(e.Name, e.Cluster), e.State)
}

// TimeoutError is a wait that ran out of time.
type TimeoutError struct {
	Name    string
	After   time.Duration
	Plan    *kubesphere.InstallPlan
	Reasons []string
	// ClockSkew is set when a release's executor job had finished while the
	// plan still said it was busy: the likely reason for the timeout. Its
	// text is among the Reasons, and errors.As finds it.
	ClockSkew *ClockSkewError
	// Untouched is true when KubeSphere never started on what was
	// expected of it: nothing is under way that could still finish.
	Untouched bool
}

func (e *TimeoutError) Error() string {
	msg := fmt.Sprintf("timed out after %s waiting for %s", e.After, e.Name)
	if len(e.Reasons) > 0 {
		msg += ": " + strings.Join(e.Reasons, "; ")
	}
	return msg
}

// Unwrap returns the clock skew found at the timeout, if any.
func (e *TimeoutError) Unwrap() error {
	if e.ClockSkew == nil {
		return nil
	}
	return e.ClockSkew
}

// ClockSkewError is a release whose job finished while the plan kept saying
// Installing or Upgrading: KubeSphere drops a state change stamped earlier
// than the last recorded one, which happens when node clocks disagree.
type ClockSkewError struct {
	Name          string
	Cluster       string
	State         string
	Job           string
	JobFinished   time.Time
	LastChange    time.Time
	JobSucceeded  bool
	StateRecorded bool
}

func (e *ClockSkewError) Error() string {
	outcome := "failed"
	if e.JobSucceeded {
		outcome = "succeeded"
	}
	msg := fmt.Sprintf("%s: the executor job %s %s at %s (cluster clock), but the InstallPlan still says %s",
		releaseLabel(e.Name, e.Cluster), e.Job, outcome, e.JobFinished.UTC().Format(time.RFC3339), e.State)
	if e.StateRecorded && e.LastChange.After(e.JobFinished) {
		msg += fmt.Sprintf(", recorded at %s, %s later. KubeSphere ignores a state change stamped earlier than the last one, so the clocks of the cluster's nodes differ by about that much",
			e.LastChange.UTC().Format(time.RFC3339), e.LastChange.Sub(e.JobFinished).Round(time.Second))
	} else {
		msg += ". KubeSphere ignores a state change stamped earlier than the last one; the clocks of the cluster's nodes probably differ"
	}
	return msg + ": synchronise them with NTP (chrony or systemd-timesyncd) on every node, then reinstall"
}

func releaseLabel(name, cluster string) string {
	if cluster == "" {
		return name
	}
	return fmt.Sprintf("%s (agent on cluster %s)", name, cluster)
}

// Wait follows an InstallPlan until every release it expects is Installed:
// the host release, then the agent on each placed cluster. start is the plan
// as written by Install (or as read, for "status --watch"); exp says which
// releases must first show that KubeSphere acted on the change.
//
// A *ControllerDownError ends it at once when KubeSphere's controller is
// missing or has no ready replica: nothing would act on the plan.
// It ends with a *FailedError (with a diagnosis) on a final failure; an
// InstallFailed before any job was created is retried by KubeSphere and
// waited out. A *ClockSkewError or *TimeoutError ends it too, and the
// context's error when the context ends.
func (c *Client) Wait(ctx context.Context, start *kubesphere.InstallPlan, exp Expectation, opts WaitOptions) (*kubesphere.InstallPlan, error) {
	opts.defaults()
	if down := c.controllerDown(ctx); down != nil {
		return start, down
	}
	t := newTracker(start, exp, opts)
	live := "following InstallPlan " + start.Name
	if exp.Host || len(exp.Clusters) > 0 {
		live = "waiting for KubeSphere to pick up InstallPlan " + start.Name
	}
	return c.follow(ctx, start, opts, live, func(plan *kubesphere.InstallPlan, deleted bool) (bool, error) {
		if deleted {
			return true, fmt.Errorf("InstallPlan %s was deleted while waiting for it", start.Name)
		}
		return t.installVerdict(ctx, c, plan)
	}, t.timeoutError(c))
}

// WaitDeleted follows an InstallPlan being deleted until it is gone. It
// ends with a *ControllerDownError, a *FailedError when a release's uninstall failed (and the plan
// is not marked for force deletion), a *TimeoutError, or the context's
// error.
func (c *Client) WaitDeleted(ctx context.Context, start *kubesphere.InstallPlan, opts WaitOptions) error {
	opts.defaults()
	if down := c.controllerDown(ctx); down != nil {
		return down
	}
	t := newTracker(start, Expectation{}, opts)
	_, err := c.follow(ctx, start, opts, "waiting for KubeSphere to uninstall "+start.Name, func(plan *kubesphere.InstallPlan, deleted bool) (bool, error) {
		if deleted {
			return true, nil
		}
		return t.deleteVerdict(ctx, c, plan)
	}, t.timeoutError(c))
	return err
}

// verdictFunc judges a version of the plan: done, or an error that ends the
// wait. deleted means the plan is gone.
type verdictFunc func(plan *kubesphere.InstallPlan, deleted bool) (bool, error)

// timeoutFunc builds the error that ends a wait when the time is up.
type timeoutFunc func(ctx context.Context, plan *kubesphere.InstallPlan) *TimeoutError

// follow watches a plan, reads it again every interval, and hands each
// version to judge until judge says done or fails, the time is up or ctx
// ends. live is the first live line: what the wait waits for.
func (c *Client) follow(ctx context.Context, start *kubesphere.InstallPlan, opts WaitOptions, live string, judge verdictFunc, timedOut timeoutFunc) (*kubesphere.InstallPlan, error) {
	var timeout <-chan time.Time
	if opts.Timeout > 0 {
		timer := opts.Clock.NewTimer(opts.Timeout)
		defer timer.Stop()
		timeout = timer.C()
	}
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	updates := make(chan watchUpdate, 16)
	go c.watchPlan(watchCtx, opts.Clock, start.Name, start.ResourceVersion, updates)
	ticker := opts.Clock.NewTicker(opts.Interval)
	defer ticker.Stop()

	plan, deleted := start, false
	unreachable := false
	// Executor jobs are watched too: a release can say Installed before
	// its job has finished, and the job's end settles it.
	jobChanges := make(chan struct{}, 1)
	jobsWatched := ""
	opts.Notify(Event{Time: opts.now(), Name: start.Name, Live: live})
	for {
		done, err := judge(plan, deleted)
		if err != nil || done {
			return plan, err
		}
		if ns := plan.Status.TargetNamespace; ns != "" && jobsWatched == "" {
			jobsWatched = ns
			go c.watchJobs(watchCtx, opts.Clock, ns, plan.Spec.Extension.Name, jobChanges)
		}
		select {
		case <-jobChanges:
		case <-ctx.Done():
			return plan, ctx.Err()
		case <-timeout:
			return plan, timedOut(ctx, plan)
		case u := <-updates:
			if newer(u.plan, plan) || u.deleted {
				plan, deleted = u.plan, u.deleted
			}
		case <-ticker.C():
			fresh := &kubesphere.InstallPlan{}
			err := c.get(ctx, kubesphere.ResourceInstallPlans, start.Name, fresh)
			switch {
			case apierrors.IsNotFound(err):
				deleted = true
			case err != nil:
				if ctx.Err() != nil {
					return plan, ctx.Err()
				}
				if !unreachable {
					opts.Notify(Event{Time: opts.now(), Name: start.Name, Detail: fmt.Sprintf("cannot read InstallPlan %s, retrying: %v", start.Name, err)})
				}
				unreachable = true
			default:
				unreachable = false
				if newer(fresh, plan) {
					plan = fresh
				}
			}
		}
	}
}

// newer reports whether a is a later version of the plan than b.
func newer(a, b *kubesphere.InstallPlan) bool {
	if a == nil || b == nil {
		return a != nil
	}
	return a.ResourceVersion != b.ResourceVersion
}

type watchUpdate struct {
	plan    *kubesphere.InstallPlan
	deleted bool
}

// watchPlan sends each change of the plan until ctx ends, re-opening the
// watch when the server closes it.
func (c *Client) watchPlan(ctx context.Context, clk clock.Clock, name, rv string, out chan<- watchUpdate) {
	for ctx.Err() == nil {
		opts := metav1.ListOptions{FieldSelector: "metadata.name=" + name, ResourceVersion: rv, Watch: true, AllowWatchBookmarks: true}
		w, err := c.watch.Get().Resource(kubesphere.ResourceInstallPlans).VersionedParams(&opts, c.params).Watch(ctx)
		if err != nil {
			// The periodic read keeps the wait going; retry the watch later.
			sleep(ctx, clk, time.Second)
			continue
		}
		for ev := range w.ResultChan() {
			switch ev.Type {
			case watch.Added, watch.Modified:
				if plan, ok := ev.Object.(*kubesphere.InstallPlan); ok {
					rv = plan.ResourceVersion
					send(ctx, out, watchUpdate{plan: plan})
				}
			case watch.Deleted:
				send(ctx, out, watchUpdate{deleted: true})
			case watch.Bookmark:
				if plan, ok := ev.Object.(*kubesphere.InstallPlan); ok {
					rv = plan.ResourceVersion
				}
			case watch.Error:
				rv = "" // too old or otherwise broken: start from the current state
			}
		}
		w.Stop()
	}
}

// watchJobs signals each change of an extension's executor jobs in a
// namespace until ctx ends; signals that find the channel full are
// dropped (one pending signal is enough).
func (c *Client) watchJobs(ctx context.Context, clk clock.Clock, ns, extension string, out chan<- struct{}) {
	for ctx.Err() == nil {
		w, err := c.core.BatchV1().Jobs(ns).Watch(ctx, metav1.ListOptions{LabelSelector: kubesphere.LabelExtensionRef + "=" + extension})
		if err != nil {
			sleep(ctx, clk, time.Second)
			continue
		}
		for range w.ResultChan() {
			select {
			case out <- struct{}{}:
			default:
			}
		}
		w.Stop()
	}
}

// awaitJob waits until an executor job has finished, at most limit on clk;
// it returns at once when the job is finished, gone or unreadable.
func (c *Client) awaitJob(ctx context.Context, clk clock.Clock, ns, name string, limit time.Duration) {
	if ns == "" || name == "" {
		return
	}
	job, err := c.core.BatchV1().Jobs(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return
	}
	if finished, _ := jobFinished(job); !finished.IsZero() {
		return
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	timer := clk.NewTimer(limit)
	defer timer.Stop()
	w, err := c.core.BatchV1().Jobs(ns).Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=" + name, ResourceVersion: job.ResourceVersion})
	if err != nil {
		return
	}
	defer w.Stop()
	for {
		select {
		case <-timer.C():
			return
		case <-ctx.Done():
			return
		case ev, ok := <-w.ResultChan():
			if !ok || ev.Type == watch.Deleted || ev.Type == watch.Error {
				return
			}
			if job, ok := ev.Object.(*batchv1.Job); ok {
				if finished, _ := jobFinished(job); !finished.IsZero() {
					return
				}
			}
		}
	}
}

func send(ctx context.Context, out chan<- watchUpdate, u watchUpdate) {
	select {
	case out <- u:
	case <-ctx.Done():
	}
}

func sleep(ctx context.Context, clk clock.Clock, d time.Duration) {
	t := clk.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C():
	case <-ctx.Done():
	}
}

// tracker keeps what a wait has seen of each release.
type tracker struct {
	name     string
	opts     WaitOptions
	started  time.Time
	releases map[string]*releaseTrack // by cluster; "" is the host
	// startRV is the plan's resource version when the wait began.
	startRV string
	// lastActivity is when KubeSphere last changed the plan's status.
	lastActivity time.Time
	warnedIdle   bool
}

type releaseTrack struct {
	expect bool
	// active: KubeSphere started an action after the wait began.
	active   bool
	baseline kubesphere.InstallationStatus
	state    string
	job      string
	since    time.Time
	// jobDone is when the wait first saw the job finished while the release
	// was still busy.
	jobDone     time.Time
	warnedStuck bool
	// warnedPull: an executor image pull failure was reported.
	warnedPull bool
	reported   bool
}

func newTracker(start *kubesphere.InstallPlan, exp Expectation, opts WaitOptions) *tracker {
	now := opts.now()
	t := &tracker{name: start.Name, opts: opts, started: now, startRV: start.ResourceVersion, lastActivity: now,
		releases: map[string]*releaseTrack{}}
	t.releases[""] = &releaseTrack{expect: exp.Host, baseline: *start.Status.InstallationStatus.DeepCopy(),
		state: start.Status.State, job: start.Status.JobName, since: now}
	for _, cl := range exp.Clusters {
		st := start.Status.ClusterSchedulingStatuses[cl]
		t.releases[cl] = &releaseTrack{expect: true, baseline: *st.DeepCopy(), state: st.State, job: st.JobName, since: now}
	}
	for cl, st := range start.Status.ClusterSchedulingStatuses {
		if _, ok := t.releases[cl]; !ok {
			t.releases[cl] = &releaseTrack{baseline: *st.DeepCopy(), state: st.State, job: st.JobName, since: now}
		}
	}
	return t
}

// observe records a release's status and reports its changes.
func (t *tracker) observe(cluster string, st kubesphere.InstallationStatus, fromStart bool) *releaseTrack {
	now := t.opts.now()
	r, ok := t.releases[cluster]
	if !ok {
		r = &releaseTrack{since: now}
		t.releases[cluster] = r
	}
	// Every action starts with Preparing and records a new job; a write after
	// the wait began is based on the current spec (KubeSphere's status
	// updates would conflict otherwise).
	if !fromStart && (st.State == kubesphere.StatePreparing || newPreparing(r.baseline, st) ||
		st.JobName != "" && st.JobName != r.baseline.JobName) {
		r.active = true
	}
	changed := st.State != r.state || st.JobName != r.job
	if changed || (!r.reported && st.State != "") {
		t.opts.Notify(Event{Time: now, Name: t.name, Cluster: cluster, State: orPending(st.State), Detail: stateDetail(st)})
	}
	r.reported = true
	if st.State != r.state {
		r.since, r.jobDone, r.warnedStuck = now, time.Time{}, false
	}
	if changed {
		r.state, r.job = st.State, st.JobName
		t.lastActivity = now
	}
	return r
}

// StatePending is what ksbuilder calls a release KubeSphere has not acted
// on yet (its status.state is empty); PendingMeaning says so in words.
const (
	StatePending   = "Pending"
	PendingMeaning = "KubeSphere has not acted on the plan yet"
)

func orPending(state string) string {
	if state == "" {
		return StatePending
	}
	return state
}

// newPreparing reports whether the history holds a Preparing entry that
// the baseline does not have, no older than the baseline's last entry: an
// action started even if the wait missed the event. Times are whole
// seconds, so a retry started in the second of the last failure has the
// same time as that failure.
func newPreparing(baseline, st kubesphere.InstallationStatus) bool {
	var last time.Time
	seen := map[time.Time]bool{}
	if n := len(baseline.StateHistory); n > 0 {
		last = baseline.StateHistory[n-1].LastTransitionTime.Time
	}
	for _, h := range baseline.StateHistory {
		if h.State == kubesphere.StatePreparing {
			seen[h.LastTransitionTime.UTC()] = true
		}
	}
	for _, h := range st.StateHistory {
		if h.State == kubesphere.StatePreparing && !h.LastTransitionTime.Time.Before(last) && !seen[h.LastTransitionTime.UTC()] {
			return true
		}
	}
	return false
}

// stateDetail is the short text shown next to a state.
func stateDetail(st kubesphere.InstallationStatus) string {
	switch st.State {
	case kubesphere.StateInstalling, kubesphere.StateUpgrading, kubesphere.StateUninstalling:
		if st.JobName != "" {
			return "job " + st.JobName
		}
	case kubesphere.StateInstalled:
		if st.Version != "" {
			return "version " + st.Version
		}
	case kubesphere.StateInstallFailed:
		if st.ConfigHash == "" {
			return "no job was started; KubeSphere retries: " + latestMessage(st.Conditions)
		}
		return latestMessage(st.Conditions)
	case kubesphere.StateUpgradeFailed, kubesphere.StateUninstallFailed:
		return latestMessage(st.Conditions)
	}
	return ""
}

// latestMessage returns the message of the most recent condition, on one
// line.
func latestMessage(conds []metav1.Condition) string {
	var best *metav1.Condition
	for i := range conds {
		if best == nil || conds[i].LastTransitionTime.After(best.LastTransitionTime.Time) {
			best = &conds[i]
		}
	}
	if best == nil {
		return ""
	}
	return strings.Join(strings.Fields(best.Message), " ")
}

// installVerdict judges a plan while waiting for an installation.
func (t *tracker) installVerdict(ctx context.Context, c *Client, plan *kubesphere.InstallPlan) (bool, error) {
	fromStart := plan.ResourceVersion == t.startRV
	if plan.DeletionTimestamp != nil {
		return true, &PlanBusyError{Name: t.name, State: plan.Status.State, Deleting: true}
	}
	host := t.observe("", plan.Status.InstallationStatus, fromStart)
	done, err := t.releaseVerdict(ctx, c, plan, "", host, plan.Status.InstallationStatus)
	if err != nil || !done {
		if err == nil {
			t.warnIdle(plan)
		}
		return false, err
	}
	clusters := placedClusters(&plan.Spec)
	if len(clusters) == 0 {
		for cl := range plan.Status.ClusterSchedulingStatuses {
			clusters = append(clusters, cl)
		}
		sort.Strings(clusters)
	}
	allDone := true
	for _, cl := range clusters {
		st, ok := plan.Status.ClusterSchedulingStatuses[cl]
		if !ok {
			allDone = false
			continue
		}
		r := t.observe(cl, st, fromStart)
		done, err := t.releaseVerdict(ctx, c, plan, cl, r, st)
		if err != nil {
			return false, err
		}
		allDone = allDone && done
	}
	t.warnIdle(plan)
	return allDone, nil
}

// releaseVerdict judges one release: done when Installed, an error on a
// final failure or clock skew.
func (t *tracker) releaseVerdict(ctx context.Context, c *Client, plan *kubesphere.InstallPlan, cluster string, r *releaseTrack, st kubesphere.InstallationStatus) (bool, error) {
	if r.expect && !r.active {
		return false, nil
	}
	switch st.State {
	case kubesphere.StateInstalled:
		return t.settled(ctx, c, plan, st), nil
	case kubesphere.StateInstallFailed, kubesphere.StateUpgradeFailed:
		if st.State == kubesphere.StateInstallFailed && st.ConfigHash == "" {
			return false, nil // failed before a job was created; KubeSphere retries at once
		}
		hint := "KubeSphere retries only when the version or the values change; fix the cause, then install again (ksbuilder changes a comment in the values to make KubeSphere re-run it), or upgrade"
		if loop := UpgradeLoop(&plan.Spec, st); loop != "" {
			hint = loop + fmt.Sprintf("; fix the cause and upgrade again, or upgrade back to %s (ksbuilder then changes a comment in the values, since KubeSphere sees nothing to do)", st.Version)
		}
		// KubeSphere reads the failure from the Helm release, which is
		// written before the executor job ends: let the job finish so the
		// report has its status and whole log.
		c.awaitJob(ctx, t.opts.Clock, plan.Status.TargetNamespace, st.JobName, t.opts.JobSettle)
		return false, &FailedError{Name: t.name, Cluster: cluster, State: st.State, Diagnosis: c.Diagnose(ctx, plan, cluster), Hint: hint}
	case kubesphere.StateUninstalling, kubesphere.StateUninstallFailed, kubesphere.StateUninstalled:
		return false, &PlanBusyError{Name: t.name, Cluster: cluster, State: st.State}
	case kubesphere.StatePreparing:
		t.warnStuckPreparing(cluster, r)
	case kubesphere.StateInstalling, kubesphere.StateUpgrading:
		return false, t.checkJob(ctx, c, plan, cluster, r, st)
	}
	return false, nil
}

// settled reports whether an Installed release is really done: at the
// planned version, with its last job finished. KubeSphere can briefly say
// Installed from the previous Helm revision while an upgrade job starts.
func (t *tracker) settled(ctx context.Context, c *Client, plan *kubesphere.InstallPlan, st kubesphere.InstallationStatus) bool {
	if st.Version != "" && st.Version != plan.Spec.Extension.Version {
		return false
	}
	ns := plan.Status.TargetNamespace
	if st.JobName == "" || ns == "" {
		return true
	}
	job, err := c.core.BatchV1().Jobs(ns).Get(ctx, st.JobName, metav1.GetOptions{})
	if err != nil {
		return true // gone or unreadable: nothing says it still runs
	}
	finished, succeeded := jobFinished(job)
	return !finished.IsZero() && succeeded
}

// deleteVerdict judges a plan while waiting for it to be deleted.
func (t *tracker) deleteVerdict(ctx context.Context, c *Client, plan *kubesphere.InstallPlan) (bool, error) {
	fromStart := plan.ResourceVersion == t.startRV
	_, forced := plan.Annotations[kubesphere.AnnotationForceDelete]
	statuses := map[string]kubesphere.InstallationStatus{"": plan.Status.InstallationStatus}
	for cl, st := range plan.Status.ClusterSchedulingStatuses {
		statuses[cl] = st
	}
	for _, cl := range sortedKeys(statuses) {
		st := statuses[cl]
		r := t.observe(cl, st, fromStart)
		switch st.State {
		case kubesphere.StateUninstallFailed:
			if !forced {
				c.awaitJob(ctx, t.opts.Clock, plan.Status.TargetNamespace, st.JobName, t.opts.JobSettle)
				return false, &FailedError{Name: t.name, Cluster: cl, State: st.State, Diagnosis: c.Diagnose(ctx, plan, cl),
					Hint: ForceHint}
			}
		case kubesphere.StateUninstalling:
			if err := t.checkJob(ctx, c, plan, cl, r, st); err != nil {
				return false, err
			}
		}
	}
	t.warnIdle(plan)
	return false, nil
}

func sortedKeys(m map[string]kubesphere.InstallationStatus) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// warnStuckPreparing warns once when a release stays in Preparing.
func (t *tracker) warnStuckPreparing(cluster string, r *releaseTrack) {
	if r.warnedStuck || t.opts.now().Sub(r.since) < t.opts.StuckAfter {
		return
	}
	r.warnedStuck = true
	t.opts.Notify(Event{Time: t.opts.now(), Name: t.name, Cluster: cluster, Detail: stuckPreparing(t.name, cluster, t.opts.now().Sub(r.since))})
}

func stuckPreparing(name, cluster string, d time.Duration) string {
	return fmt.Sprintf("%s has been Preparing for %s and no executor job was created: ks-controller-manager probably stopped in the middle, and KubeSphere does not resume a Preparing release by itself. Check \"kubectl -n kubesphere-system logs deploy/ks-controller-manager\", then run \"ksbuilder uninstall %s\" and install again",
		releaseLabel(name, cluster), d.Round(time.Second), name)
}

// warnIdle warns once when KubeSphere has not touched the plan for a while
// although something is expected of it.
func (t *tracker) warnIdle(plan *kubesphere.InstallPlan) {
	if t.warnedIdle || t.opts.now().Sub(t.lastActivity) < t.opts.StuckAfter {
		return
	}
	for _, r := range t.releases {
		if r.expect && !r.active || r.state == "" {
			t.warnedIdle = true
			t.opts.Notify(Event{Time: t.opts.now(), Name: t.name, Detail: idleMessage(plan, t.opts.now().Sub(t.lastActivity))})
			return
		}
	}
}

func idleMessage(plan *kubesphere.InstallPlan, d time.Duration) string {
	msg := fmt.Sprintf("KubeSphere has not acted on InstallPlan %s for %s: is ks-controller-manager running? (kubectl -n kubesphere-system get pods)", plan.Name, d.Round(time.Second))
	if len(plan.Finalizers) == 0 {
		msg += fmt.Sprintf("; the plan has no finalizer yet, which also happens when ExtensionVersion %s is missing",
			kubesphere.ExtensionVersionName(plan.Spec.Extension.Name, plan.Spec.Extension.Version))
	}
	return msg
}

// checkJob reads the executor job of a busy release; a job that finished
// while the release stays busy beyond the grace period is clock skew.
func (t *tracker) checkJob(ctx context.Context, c *Client, plan *kubesphere.InstallPlan, cluster string, r *releaseTrack, st kubesphere.InstallationStatus) error {
	ns := plan.Status.TargetNamespace
	skew := t.finishedJob(ctx, c, ns, cluster, st)
	if skew == nil {
		r.jobDone = time.Time{}
		if !r.warnedPull {
			// An image that cannot be pulled keeps the job running
			// forever: say so at once rather than at the timeout.
			for _, e := range c.jobImagePullErrors(ctx, ns, st.JobName) {
				r.warnedPull = true
				t.opts.Notify(Event{Time: t.opts.now(), Name: t.name, Cluster: cluster, Detail: e.Error()})
			}
		}
		return nil
	}
	now := t.opts.now()
	if r.jobDone.IsZero() {
		r.jobDone = now
	}
	if now.Sub(r.jobDone) < t.opts.SkewGrace {
		return nil
	}
	return skew
}

// finishedJob reads the executor job of a release that says it is busy: a
// *ClockSkewError when the job has finished, else nil (also when the job
// cannot be read: the periodic read tries again, and a missing job shows
// in the diagnosis).
func (t *tracker) finishedJob(ctx context.Context, c *Client, ns, cluster string, st kubesphere.InstallationStatus) *ClockSkewError {
	if st.JobName == "" || ns == "" {
		return nil
	}
	job, err := c.core.BatchV1().Jobs(ns).Get(ctx, st.JobName, metav1.GetOptions{})
	if err != nil {
		return nil
	}
	finished, succeeded := jobFinished(job)
	if finished.IsZero() {
		return nil
	}
	e := &ClockSkewError{Name: t.name, Cluster: cluster, State: st.State, Job: st.JobName, JobFinished: finished, JobSucceeded: succeeded}
	if n := len(st.StateHistory); n > 0 {
		e.LastChange, e.StateRecorded = st.StateHistory[n-1].LastTransitionTime.Time, true
	}
	return e
}

// jobFinished returns when a job finished and whether it succeeded; the
// zero time while it runs.
func jobFinished(job *batchv1.Job) (time.Time, bool) {
	for _, cond := range job.Status.Conditions {
		if cond.Status != corev1.ConditionTrue {
			continue
		}
		switch cond.Type {
		case batchv1.JobComplete:
			if job.Status.CompletionTime != nil {
				return job.Status.CompletionTime.Time, true
			}
			return cond.LastTransitionTime.Time, true
		case batchv1.JobFailed:
			return cond.LastTransitionTime.Time, false
		}
	}
	return time.Time{}, false
}

// timeoutError returns the timeoutFunc of a wait: it describes what each
// unfinished release was doing. A busy release whose executor job has
// finished is reported as clock skew, however short the timeout: that is
// why KubeSphere never moved on.
func (t *tracker) timeoutError(c *Client) timeoutFunc {
	return func(ctx context.Context, plan *kubesphere.InstallPlan) *TimeoutError {
		e := &TimeoutError{Name: t.name, After: t.opts.Timeout, Plan: plan, Untouched: t.untouched()}
		e.Reasons, e.ClockSkew = t.timeoutReasons(ctx, c, plan)
		if down := c.controllerDown(ctx); down != nil {
			e.Reasons = append([]string{down.Error()}, e.Reasons...)
			e.Untouched = true
		}
		return e
	}
}

// untouched reports whether KubeSphere has not started on any release
// that was expected to change.
func (t *tracker) untouched() bool {
	expected := false
	for _, r := range t.releases {
		if r.expect {
			expected = true
			if r.active {
				return false
			}
		}
	}
	return expected
}

// timeoutReasons describes what each unfinished release was doing, and
// returns the first clock skew found.
func (t *tracker) timeoutReasons(ctx context.Context, c *Client, plan *kubesphere.InstallPlan) ([]string, *ClockSkewError) {
	now := t.opts.now()
	var out []string
	var skew *ClockSkewError
	statuses := map[string]kubesphere.InstallationStatus{"": plan.Status.InstallationStatus}
	for cl, st := range plan.Status.ClusterSchedulingStatuses {
		statuses[cl] = st
	}
	for _, cl := range placedClusters(&plan.Spec) {
		if _, ok := statuses[cl]; !ok && plan.Status.State == kubesphere.StateInstalled {
			out = append(out, fmt.Sprintf("cluster %s has no agent status yet: KubeSphere places agents only on Ready, schedulable clusters", cl))
		}
	}
	for _, cl := range sortedKeys(statuses) {
		st := statuses[cl]
		r := t.releases[cl]
		if st.State == kubesphere.StateInstalled && (r == nil || !r.expect || r.active) {
			continue
		}
		since := now.Sub(t.started)
		if r != nil {
			since = now.Sub(r.since)
		}
		if busy(st.State) {
			if e := t.finishedJob(ctx, c, plan.Status.TargetNamespace, cl, st); e != nil {
				out = append(out, e.Error())
				if skew == nil {
					skew = e
				}
				continue
			}
			if pulls := c.jobImagePullErrors(ctx, plan.Status.TargetNamespace, st.JobName); len(pulls) > 0 {
				for _, e := range pulls {
					out = append(out, fmt.Sprintf("%s is %s: %v", releaseLabel(t.name, cl), st.State, e))
				}
				continue
			}
		}
		switch {
		case st.State == kubesphere.StatePreparing:
			out = append(out, stuckPreparing(t.name, cl, since))
		case r != nil && r.expect && !r.active:
			out = append(out, fmt.Sprintf("%s: KubeSphere has not started on the change (state %s); %s", releaseLabel(t.name, cl), orPending(st.State), idleMessage(plan, now.Sub(t.lastActivity))))
		default:
			msg := fmt.Sprintf("%s is %s (for %s)", releaseLabel(t.name, cl), orPending(st.State), since.Round(time.Second))
			if d := stateDetail(st); d != "" {
				msg += ", " + d
			}
			out = append(out, msg)
		}
	}
	return out, skew
}

// busy reports whether a state waits for an executor job.
func busy(state string) bool {
	switch state {
	case kubesphere.StateInstalling, kubesphere.StateUpgrading, kubesphere.StateUninstalling:
		return true
	}
	return false
}
