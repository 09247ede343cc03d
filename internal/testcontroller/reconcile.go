package testcontroller

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/ksbuilder/ksbuilder/pkg/cluster"
	"github.com/ksbuilder/ksbuilder/pkg/kubesphere"
	"github.com/ksbuilder/ksbuilder/pkg/kubesphere/multicluster"
)

// Executor actions.
const (
	actionInstall   = "install"
	actionUpgrade   = "upgrade"
	actionUninstall = "uninstall"
)

// retryAfterFailure is how soon an installation that failed before its job
// was created is retried. KubeSphere retries at once, in a tight loop; a
// short pause keeps the test machine usable.
const retryAfterFailure = 300 * time.Millisecond

// target is one Helm release of a plan: the host release (cluster "") or
// the agent release on a cluster.
type target struct {
	cluster string
	release string
	role    string
}

func hostTarget(name string) target { return target{release: name} }

func agentTarget(name, cluster, role string) target {
	return target{cluster: cluster, release: kubesphere.AgentReleaseName(name), role: role}
}

// status returns a copy of the target's status in the plan.
func (t target) status(plan *kubesphere.InstallPlan) kubesphere.InstallationStatus {
	if t.cluster == "" {
		return *plan.Status.InstallationStatus.DeepCopy()
	}
	st := plan.Status.ClusterSchedulingStatuses[t.cluster]
	return *st.DeepCopy()
}

// store writes the target's status back into the plan.
func (t target) store(plan *kubesphere.InstallPlan, st kubesphere.InstallationStatus) {
	if t.cluster == "" {
		plan.Status.InstallationStatus = st
		return
	}
	if plan.Status.ClusterSchedulingStatuses == nil {
		plan.Status.ClusterSchedulingStatuses = map[string]kubesphere.InstallationStatus{}
	}
	plan.Status.ClusterSchedulingStatuses[t.cluster] = st
}

func (c *Controller) reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	c.logf("%s reconcile %s", time.Now().Format("15:04:05.000"), req.Name)
	plan := &kubesphere.InstallPlan{}
	if err := c.client.Get(ctx, req.NamespacedName, plan); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	name := plan.Spec.Extension.Name
	if c.behaviour(name).Ignore {
		return reconcile.Result{}, nil
	}
	ev := &kubesphere.ExtensionVersion{}
	evName := kubesphere.ExtensionVersionName(name, plan.Spec.Extension.Version)
	if err := c.client.Get(ctx, types.NamespacedName{Name: evName}, ev); err != nil {
		// KubeSphere logs and gives up: no status, no finalizer, no retry.
		c.logf("InstallPlan %s: ExtensionVersion %s: %v", plan.Name, evName, err)
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	if plan.DeletionTimestamp != nil {
		return c.reconcileDelete(ctx, plan)
	}
	if !controllerutil.ContainsFinalizer(plan, kubesphere.FinalizerInstallPlan) {
		patch := client.MergeFrom(plan.DeepCopy())
		controllerutil.AddFinalizer(plan, kubesphere.FinalizerInstallPlan)
		return reconcile.Result{}, c.client.Patch(ctx, plan, patch)
	}
	if ns := ev.TargetNamespace(name); plan.Status.TargetNamespace != ns {
		plan.Status.TargetNamespace = ns
		return reconcile.Result{}, c.update(ctx, plan)
	}

	// As KubeSphere does, write what the refresh found, then act on it in
	// the same pass.
	host := hostTarget(name)
	st := host.status(plan)
	if c.refresh(ctx, plan, host, &st) {
		host.store(plan, st)
		if err := c.update(ctx, plan); err != nil {
			return reconcile.Result{}, err
		}
	}
	switch st.State {
	case "":
		return c.start(ctx, plan, ev, host, actionInstall)
	case kubesphere.StateInstallFailed:
		if c.changed(plan, host, st) {
			return c.start(ctx, plan, ev, host, actionInstall)
		}
	case kubesphere.StateInstalled, kubesphere.StateUpgradeFailed:
		if c.changed(plan, host, st) {
			return c.start(ctx, plan, ev, host, actionUpgrade)
		}
	}
	if st.State != kubesphere.StateInstalled {
		return reconcile.Result{}, nil
	}
	if plan.Status.Enabled != plan.Spec.Enabled {
		plan.Status.Enabled = plan.Spec.Enabled
		return reconcile.Result{}, c.update(ctx, plan)
	}
	if err := c.syncKinds(ctx, name, plan.Spec.Enabled); err != nil {
		return reconcile.Result{}, err
	}
	if plan.Spec.ClusterScheduling != nil {
		return c.syncAgents(ctx, plan, ev)
	}
	return reconcile.Result{}, nil
}

// changed is KubeSphere's rule for acting on a release: the hash of its
// values differs from status.configHash (or none is recorded), or
// spec.extension.version differs from status.version. The old spec does
// not matter. Since status.version is copied from the deployed Helm
// release, an upgrade that Helm refused before recording a revision leaves
// the old version there, and the rule starts another upgrade at once, on
// every reconcile, as KubeSphere does; setting the spec back to the
// deployed version makes the rule false, and nothing runs. (The version is
// copied from a deployed release older than the job only once the job has
// failed: while a job runs, and after a failed revision, status.version
// stays the target version.)
func (c *Controller) changed(plan *kubesphere.InstallPlan, t target, st kubesphere.InstallationStatus) bool {
	config, err := c.config(plan, t)
	if err != nil {
		return false
	}
	if st.ConfigHash == "" || st.ConfigHash != cluster.ConfigHash(config) {
		return true
	}
	return st.Version != "" && st.Version != plan.Spec.Extension.Version
}

// config returns the values text of a release: the plan's config, merged
// with the cluster's override for an agent.
func (c *Controller) config(plan *kubesphere.InstallPlan, t target) (string, error) {
	if t.cluster == "" {
		return plan.Spec.Config, nil
	}
	override := ""
	if plan.Spec.ClusterScheduling != nil {
		override = plan.Spec.ClusterScheduling.Overrides[t.cluster]
	}
	return cluster.AgentConfig(plan.Spec.Config, override)
}

// setState moves a release to a state at time t, unless it is already in
// that state or t is earlier than the last recorded change: KubeSphere then
// drops the change, which is what makes clock skew between nodes leave a
// plan stuck. cond, when set, is recorded with the change.
func setState(st *kubesphere.InstallationStatus, state string, t time.Time, cond *metav1.Condition) bool {
	t = t.Truncate(time.Second)
	if n := len(st.StateHistory); n > 0 {
		last := st.StateHistory[n-1]
		if last.State == state || t.Before(last.LastTransitionTime.Time) {
			return false
		}
	}
	st.State = state
	st.StateHistory = append(st.StateHistory, kubesphere.StateChange{State: state, LastTransitionTime: metav1.NewTime(t)})
	sort.SliceStable(st.StateHistory, func(i, j int) bool {
		return st.StateHistory[i].LastTransitionTime.Before(&st.StateHistory[j].LastTransitionTime)
	})
	if n := len(st.StateHistory); n > 10 {
		st.StateHistory = st.StateHistory[n-10:]
	}
	if cond != nil {
		setCondition(st, *cond, t)
	}
	return true
}

// setCondition records a condition, newest first, one per type.
func setCondition(st *kubesphere.InstallationStatus, cond metav1.Condition, t time.Time) {
	cond.LastTransitionTime = metav1.NewTime(t)
	conds := []metav1.Condition{cond}
	for _, old := range st.Conditions {
		if old.Type != cond.Type {
			conds = append(conds, old)
		}
	}
	st.Conditions = conds
}

func condition(typ string, ok bool, reason, message string) *metav1.Condition {
	status := metav1.ConditionFalse
	if ok {
		status = metav1.ConditionTrue
	}
	if message == "" {
		message = reason
	}
	return &metav1.Condition{Type: typ, Status: status, Reason: reason, Message: message}
}

// busyState is the state of a release while a job of the action runs.
func busyState(action string) string {
	switch action {
	case actionUpgrade:
		return kubesphere.StateUpgrading
	case actionUninstall:
		return kubesphere.StateUninstalling
	}
	return kubesphere.StateInstalling
}

// failure is the state and condition of a failed action.
func failure(action, message string) (string, *metav1.Condition) {
	switch action {
	case actionUpgrade:
		return kubesphere.StateUpgradeFailed, condition(kubesphere.ConditionUpgraded, false, kubesphere.ReasonUpgradeFailed, message)
	case actionUninstall:
		return kubesphere.StateUninstallFailed, condition(kubesphere.ConditionUninstalled, false, kubesphere.ReasonUninstallFailed, message)
	}
	return kubesphere.StateInstallFailed, condition(kubesphere.ConditionInstalled, false, kubesphere.ReasonInstallFailed, message)
}

// refresh derives a release's state from its executor job, then from its
// Helm release, which takes precedence. It reports whether the status
// differs from before, as KubeSphere compares them before writing: when
// the job and the release disagree (an install job that made Helm
// revision 2 says InstallFailed, the release UpgradeFailed) within the
// same second, each refresh records both states again, until the last ten
// changes are nothing else and the status stops changing.
func (c *Controller) refresh(ctx context.Context, plan *kubesphere.InstallPlan, t target, st *kubesphere.InstallationStatus) bool {
	before := st.DeepCopy()
	c.derive(ctx, plan, t, st)
	return !equality.Semantic.DeepEqual(before, st)
}

// derive sets a release's state from its executor job and its Helm release.
func (c *Controller) derive(ctx context.Context, plan *kubesphere.InstallPlan, t target, st *kubesphere.InstallationStatus) {
	ns := plan.Status.TargetNamespace
	b := c.behaviour(plan.Spec.Extension.Name)
	jobFailed := false
	if st.JobName != "" {
		if job, err := c.getJob(ctx, ns, st.JobName); err == nil {
			action := job.Annotations[kubesphere.AnnotationExecutorAction]
			finished, succeeded, message := jobResult(job)
			switch {
			case finished.IsZero():
				setState(st, busyState(action), job.CreationTimestamp.Time, nil)
			case !succeeded:
				jobFailed = true
				state, cond := failure(action, message)
				setState(st, state, finished, cond)
			case action == actionUninstall && !c.releaseExists(ns, t.release):
				setState(st, kubesphere.StateUninstalled, finished, nil)
			}
		}
	}
	rel, err := c.lastRelease(ns, t.release)
	if err != nil || rel == nil {
		return
	}
	// KubeSphere compares times to the second, so a revision deployed in the
	// same second as the next job starts would pass for that job's result.
	// Real installs are seconds apart; these tests are not, so skip a
	// revision older than the current job.
	if started := c.jobStart(st.JobName); !started.IsZero() && rel.Info.LastDeployed.Time.Before(started) {
		if rel.Info.Status == "deployed" && jobFailed {
			// Helm failed before recording a revision: the state change is
			// dropped (it is older than the job's), but KubeSphere copies
			// the deployed chart's version all the same (seen on v4.1.3).
			st.Version, st.ReleaseName = rel.Chart.Metadata.Version, rel.Name
		}
		return
	}
	at := rel.Info.LastDeployed.Time.Add(b.ExecutorClockOffset)
	switch rel.Info.Status {
	case "failed":
		state, cond := failure(actionInstall, rel.Info.Description)
		if rel.Version > 1 {
			state, cond = failure(actionUpgrade, rel.Info.Description)
		}
		setState(st, state, at, cond)
	case "deployed":
		cond := condition(kubesphere.ConditionInstalled, true, kubesphere.ReasonInstallSuccessful, rel.Info.Description)
		if rel.Version > 1 {
			cond = condition(kubesphere.ConditionUpgraded, true, kubesphere.ReasonUpgradeSuccessful, rel.Info.Description)
		}
		if setState(st, kubesphere.StateInstalled, at, cond) {
			st.Version, st.ReleaseName = rel.Chart.Metadata.Version, rel.Name
		}
	case "pending-install":
		setState(st, kubesphere.StateInstalling, at, nil)
	case "pending-upgrade", "pending-rollback":
		setState(st, kubesphere.StateUpgrading, at, nil)
	case "uninstalling":
		setState(st, kubesphere.StateUninstalling, at, nil)
	case "uninstalled":
		setState(st, kubesphere.StateUninstalled, at, nil)
	}
}

// start begins an install or upgrade of a release: Preparing, then the
// namespace, the executor's RBAC and its job, then Installing or Upgrading.
func (c *Controller) start(ctx context.Context, plan *kubesphere.InstallPlan, ev *kubesphere.ExtensionVersion, t target, action string) (reconcile.Result, error) {
	name := plan.Spec.Extension.Name
	st := t.status(plan)
	st.TargetNamespace = plan.Status.TargetNamespace
	setState(&st, kubesphere.StatePreparing, time.Now(), nil)
	t.store(plan, st)
	if err := c.update(ctx, plan); err != nil {
		return reconcile.Result{}, err
	}
	if c.behaviour(name).StallInPreparing {
		c.logf("InstallPlan %s: stalling in Preparing", plan.Name)
		return reconcile.Result{}, nil
	}
	job, err := c.prepare(ctx, plan, ev, t, action, &st)
	if err != nil {
		verb := "install"
		if action == actionUpgrade {
			verb = "upgrade"
		}
		state, cond := failure(action, fmt.Sprintf("Failed to %s extension: %v", verb, err))
		setState(&st, state, time.Now(), cond)
		t.store(plan, st)
		if uerr := c.update(ctx, plan); uerr != nil {
			return reconcile.Result{}, uerr
		}
		return reconcile.Result{RequeueAfter: retryAfterFailure}, nil
	}
	setState(&st, busyState(action), job.CreationTimestamp.Time, nil)
	t.store(plan, st)
	if err := c.update(ctx, plan); err != nil {
		return reconcile.Result{}, err
	}
	c.cleanup(ctx, plan)
	return reconcile.Result{}, nil
}

// prepare does the work between Preparing and the job: loads the chart,
// creates the namespace and RBAC, and starts the executor job. It records the
// job in st.
func (c *Controller) prepare(ctx context.Context, plan *kubesphere.InstallPlan, ev *kubesphere.ExtensionVersion, t target, action string, st *kubesphere.InstallationStatus) (*batchv1.Job, error) {
	name := plan.Spec.Extension.Name
	ns := plan.Status.TargetNamespace
	ch, data, err := c.loadChart(ctx, ev)
	if err != nil {
		return nil, err
	}
	if err := c.ensureNamespace(ctx, name, ns); err != nil {
		return nil, err
	}
	if err := c.ensureRBAC(ctx, name, ns, ch); err != nil {
		return nil, err
	}
	if action == actionInstall {
		msg := "The extension has been successfully initialized."
		if t.cluster != "" {
			msg = "The extension agent has been successfully initialized."
		}
		setCondition(st, *condition(kubesphere.ConditionInitialized, true, kubesphere.ReasonInitialized, msg), time.Now())
	}
	config, err := c.config(plan, t)
	if err != nil {
		return nil, err
	}
	var vals map[string]any
	if t.cluster == "" {
		vals, err = cluster.HostValues(ch, config)
	} else {
		vals, err = cluster.AgentValues(ch, plan.Spec.Config, plan.Spec.ClusterScheduling.Overrides[t.cluster], t.cluster, t.role)
	}
	if err != nil {
		return nil, err
	}
	job, err := c.createJob(ctx, plan, t, action, cluster.ConfigHash(config), data, config)
	if err != nil {
		return nil, err
	}
	st.ConfigHash, st.Version, st.ReleaseName, st.JobName = cluster.ConfigHash(config), ev.Spec.Version, t.release, job.Name
	c.runJob(plan, t, action, job, ch, vals)
	return job, nil
}

// syncAgents installs, upgrades or removes the agent release on each cluster,
// one step per reconcile.
func (c *Controller) syncAgents(ctx context.Context, plan *kubesphere.InstallPlan, ev *kubesphere.ExtensionVersion) (reconcile.Result, error) {
	name := plan.Spec.Extension.Name
	targets, err := c.placedClusters(ctx, plan)
	if err != nil {
		return reconcile.Result{}, err
	}
	for _, cl := range targets {
		t := agentTarget(name, cl.Name, roleOf(&cl))
		st := t.status(plan)
		if st.TargetNamespace == "" {
			st.TargetNamespace = plan.Status.TargetNamespace
		}
		if c.refresh(ctx, plan, t, &st) {
			t.store(plan, st)
			if err := c.update(ctx, plan); err != nil {
				return reconcile.Result{}, err
			}
		}
		switch {
		case st.State == "":
			return c.start(ctx, plan, ev, t, actionInstall)
		case st.State == kubesphere.StateInstallFailed && c.changed(plan, t, st):
			return c.start(ctx, plan, ev, t, actionInstall)
		case (st.State == kubesphere.StateInstalled || st.State == kubesphere.StateUpgradeFailed) && c.changed(plan, t, st):
			return c.start(ctx, plan, ev, t, actionUpgrade)
		}
	}
	// Agents on clusters no longer placed are uninstalled, then forgotten.
	for _, cl := range sortedClusters(plan) {
		if slices.ContainsFunc(targets, func(x multicluster.Cluster) bool { return x.Name == cl }) {
			continue
		}
		if done, res, err := c.removeAgent(ctx, plan, cl); done {
			return res, err
		}
	}
	return reconcile.Result{}, nil
}

// placedClusters returns the clusters the plan places its agent on, among
// those KubeSphere schedules onto.
func (c *Controller) placedClusters(ctx context.Context, plan *kubesphere.InstallPlan) ([]multicluster.Cluster, error) {
	p := plan.Spec.ClusterScheduling.Placement
	if p == nil {
		return nil, nil
	}
	list := &multicluster.ClusterList{}
	if err := c.client.List(ctx, list); err != nil && !meta.IsNoMatchError(err) {
		return nil, err
	}
	var out []multicluster.Cluster
	for _, cl := range list.Items {
		selected := slices.Contains(p.Clusters, cl.Name)
		if len(p.Clusters) == 0 && p.ClusterSelector != nil {
			sel, err := metav1.LabelSelectorAsSelector(p.ClusterSelector)
			if err != nil {
				return nil, err
			}
			selected = sel.Matches(labels.Set(cl.Labels))
		}
		if selected && cl.Schedulable() {
			out = append(out, cl)
		}
	}
	return out, nil
}

func roleOf(cl *multicluster.Cluster) string {
	if cl.IsHost() {
		return cluster.RoleHost
	}
	return cluster.RoleMember
}

func sortedClusters(plan *kubesphere.InstallPlan) []string {
	var out []string
	for cl := range plan.Status.ClusterSchedulingStatuses {
		out = append(out, cl)
	}
	sort.Strings(out)
	return out
}

// removeAgent uninstalls the agent on a cluster and drops its status entry
// once the release is gone. done reports whether it acted.
func (c *Controller) removeAgent(ctx context.Context, plan *kubesphere.InstallPlan, clusterName string) (bool, reconcile.Result, error) {
	name := plan.Spec.Extension.Name
	t := agentTarget(name, clusterName, cluster.RoleMember)
	st := t.status(plan)
	if !c.releaseExists(plan.Status.TargetNamespace, t.release) {
		delete(plan.Status.ClusterSchedulingStatuses, clusterName)
		return true, reconcile.Result{}, c.update(ctx, plan)
	}
	if c.refresh(ctx, plan, t, &st) {
		t.store(plan, st)
		if err := c.update(ctx, plan); err != nil {
			return true, reconcile.Result{}, err
		}
	}
	switch st.State {
	case kubesphere.StateUninstalling, kubesphere.StateUninstallFailed:
		return false, reconcile.Result{}, nil
	}
	res, err := c.startUninstall(ctx, plan, t)
	return true, res, err
}

// startUninstall starts the uninstall job of a release.
func (c *Controller) startUninstall(ctx context.Context, plan *kubesphere.InstallPlan, t target) (reconcile.Result, error) {
	st := t.status(plan)
	job, err := c.createJob(ctx, plan, t, actionUninstall, "", nil, "")
	if err != nil {
		return reconcile.Result{}, err
	}
	st.JobName = job.Name
	setState(&st, kubesphere.StateUninstalling, job.CreationTimestamp.Time, nil)
	t.store(plan, st)
	if err := c.update(ctx, plan); err != nil {
		return reconcile.Result{}, err
	}
	c.runJob(plan, t, actionUninstall, job, nil, nil)
	return reconcile.Result{}, nil
}

// reconcileDelete is the finalizer's work: agents first, then the host
// release, by job, or at once in-process when the plan is marked for force
// deletion.
func (c *Controller) reconcileDelete(ctx context.Context, plan *kubesphere.InstallPlan) (reconcile.Result, error) {
	if !controllerutil.ContainsFinalizer(plan, kubesphere.FinalizerInstallPlan) {
		return reconcile.Result{}, nil
	}
	name := plan.Spec.Extension.Name
	host := hostTarget(name)
	st := host.status(plan)
	if st.ReleaseName == "" {
		return c.finish(ctx, plan, host, st)
	}
	for _, cl := range sortedClusters(plan) {
		if done, res, err := c.removeAgent(ctx, plan, cl); done || err != nil {
			return res, err
		}
	}
	if len(plan.Status.ClusterSchedulingStatuses) > 0 {
		return reconcile.Result{}, nil
	}
	ns := plan.Status.TargetNamespace
	if _, force := plan.Annotations[kubesphere.AnnotationForceDelete]; force {
		if err := c.forceUninstall(ns, host.release); err != nil {
			return reconcile.Result{}, err
		}
		return c.finish(ctx, plan, host, st)
	}
	if !c.releaseExists(ns, host.release) {
		return c.finish(ctx, plan, host, st)
	}
	if c.refresh(ctx, plan, host, &st) {
		host.store(plan, st)
		if err := c.update(ctx, plan); err != nil {
			return reconcile.Result{}, err
		}
	}
	switch st.State {
	case kubesphere.StateUninstalling, kubesphere.StateUninstallFailed, kubesphere.StateUninstalled:
		return reconcile.Result{}, nil
	}
	return c.startUninstall(ctx, plan, host)
}

// finish marks the host release Uninstalled and removes the finalizer.
func (c *Controller) finish(ctx context.Context, plan *kubesphere.InstallPlan, host target, st kubesphere.InstallationStatus) (reconcile.Result, error) {
	setState(&st, kubesphere.StateUninstalled, time.Now(), nil)
	host.store(plan, st)
	if err := c.update(ctx, plan); err != nil {
		return reconcile.Result{}, err
	}
	patch := client.MergeFrom(plan.DeepCopy())
	controllerutil.RemoveFinalizer(plan, kubesphere.FinalizerInstallPlan)
	return reconcile.Result{}, client.IgnoreNotFound(c.client.Patch(ctx, plan, patch))
}

// update writes the plan (status included: the kind has no status
// subresource) and copies its status onto the Extension.
func (c *Controller) update(ctx context.Context, plan *kubesphere.InstallPlan) error {
	if err := c.client.Update(ctx, plan); err != nil {
		return err
	}
	ext := &kubesphere.Extension{}
	if err := c.client.Get(ctx, types.NamespacedName{Name: plan.Spec.Extension.Name}, ext); err != nil {
		return client.IgnoreNotFound(err)
	}
	s := &ext.Status
	if plan.Status.State == kubesphere.StateUninstalled {
		s.State, s.Enabled, s.Conditions, s.ClusterSchedulingStatuses, s.PlannedInstallVersion, s.InstalledVersion = "", false, nil, nil, "", ""
	} else {
		s.State, s.Enabled, s.Conditions = plan.Status.State, plan.Status.Enabled, plan.Status.Conditions
		s.ClusterSchedulingStatuses = plan.Status.ClusterSchedulingStatuses
		s.PlannedInstallVersion, s.InstalledVersion = plan.Spec.Extension.Version, plan.Status.Version
	}
	err := c.client.Update(ctx, ext)
	if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
		return nil // the next plan update copies again
	}
	return err
}
