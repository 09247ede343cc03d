package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ksbuilder/ksbuilder/pkg/kubesphere"
)

// ErrNotInstalled is returned for an extension without an InstallPlan.
var ErrNotInstalled = errors.New("not installed")

// notInstalled wraps ErrNotInstalled with the extension's name.
func notInstalled(name string) error {
	return fmt.Errorf("%s is %w (no InstallPlan %s)", name, ErrNotInstalled, name)
}

// Plan returns an extension's InstallPlan; ErrNotInstalled when there is
// none.
func (c *Client) Plan(ctx context.Context, name string) (*kubesphere.InstallPlan, error) {
	if err := c.requireKubeSphere(ctx); err != nil {
		return nil, err
	}
	plan := &kubesphere.InstallPlan{}
	err := c.get(ctx, kubesphere.ResourceInstallPlans, name, plan)
	if apierrors.IsNotFound(err) {
		return nil, notInstalled(name)
	}
	return plan, err
}

// UninstallOptions say which extension to uninstall, and how.
type UninstallOptions struct {
	Name string
	// Force annotates the plan kubesphere.io/force-delete first, so
	// KubeSphere removes the releases without running hooks: the way out
	// of UninstallFailed.
	Force bool
	// DryRun runs the checks but deletes nothing.
	DryRun bool
}

// Uninstall deletes an extension's InstallPlan, which makes KubeSphere
// uninstall its releases. It returns the plan after the deletion request
// (nil when it is already gone); follow it with WaitDeleted. A dry run
// returns the plan as it is.
func (c *Client) Uninstall(ctx context.Context, opts UninstallOptions) (*kubesphere.InstallPlan, error) {
	name, force := opts.Name, opts.Force
	plan, err := c.Plan(ctx, name)
	if err != nil {
		return nil, err
	}
	if slices.Contains(plan.Finalizers, kubesphere.FinalizerInstallPlan) {
		// KubeSphere looks up the version before it handles a deletion;
		// without it the finalizer is never removed.
		evName := kubesphere.ExtensionVersionName(plan.Spec.Extension.Name, plan.Spec.Extension.Version)
		switch err := c.get(ctx, kubesphere.ResourceExtensionVersions, evName, &kubesphere.ExtensionVersion{}); {
		case apierrors.IsNotFound(err):
			return nil, fmt.Errorf("ExtensionVersion %s is missing, so KubeSphere cannot uninstall %s and the InstallPlan would never go away: publish %s %s again, then uninstall; or drop the plan without uninstalling: kubectl%s patch installplan %s --type=merge -p '{\"metadata\":{\"finalizers\":null}}'",
				evName, name, plan.Spec.Extension.Name, plan.Spec.Extension.Version, c.KubectlFlags(), name)
		case err != nil:
			return nil, err
		}
	}
	if opts.DryRun {
		return plan, nil
	}
	if force {
		if _, ok := plan.Annotations[kubesphere.AnnotationForceDelete]; !ok {
			patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]string{kubesphere.AnnotationForceDelete: ""}}})
			if err := c.mergePatch(ctx, kubesphere.ResourceInstallPlans, name, patch, plan); err != nil {
				return nil, fmt.Errorf("marking InstallPlan %s for forced deletion: %w", name, err)
			}
		}
	}
	if plan.DeletionTimestamp == nil {
		if err := c.delete(ctx, kubesphere.ResourceInstallPlans, name); err != nil {
			if apierrors.IsNotFound(err) {
				return nil, nil
			}
			return nil, fmt.Errorf("deleting InstallPlan %s: %w", name, err)
		}
	}
	after := &kubesphere.InstallPlan{}
	err = c.get(ctx, kubesphere.ResourceInstallPlans, name, after)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	return after, err
}

// RemoveStuckPlan clears an InstallPlan that is being deleted and stays
// Uninstalling (its executor job hangs, or KubeSphere no longer acts on
// it): it deletes the plan's executor jobs, waits until they are gone,
// then removes KubeSphere's finalizer, so the plan goes away without
// KubeSphere finishing the uninstall. It returns a warning saying what was
// done and what may be left behind; "" (and does nothing) for a plan in
// any other state or no plan.
func (c *Client) RemoveStuckPlan(ctx context.Context, name string) (string, error) {
	plan, err := c.Plan(ctx, name)
	if errors.Is(err, ErrNotInstalled) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	if plan.DeletionTimestamp == nil || plan.Status.State != kubesphere.StateUninstalling {
		return "", nil
	}
	ns := plan.Status.TargetNamespace
	var jobs []string
	for _, st := range append([]kubesphere.InstallationStatus{plan.Status.InstallationStatus}, mapValues(plan.Status.ClusterSchedulingStatuses)...) {
		if st.JobName != "" && ns != "" && !slices.Contains(jobs, st.JobName) {
			jobs = append(jobs, st.JobName)
		}
	}
	policy := metav1.DeletePropagationBackground
	for _, job := range jobs {
		err := c.core.BatchV1().Jobs(ns).Delete(ctx, job, metav1.DeleteOptions{PropagationPolicy: &policy})
		if err != nil && !apierrors.IsNotFound(err) {
			return "", fmt.Errorf("deleting executor job %s/%s of InstallPlan %s: %w", ns, job, name, c.explain(err))
		}
		if err := c.waitJobGone(ctx, ns, job); err != nil {
			return "", err
		}
	}
	finalizers := slices.DeleteFunc(slices.Clone(plan.Finalizers), func(f string) bool { return f == kubesphere.FinalizerInstallPlan })
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"finalizers": finalizers, "resourceVersion": plan.ResourceVersion}})
	if err != nil {
		return "", err
	}
	if err := c.mergePatch(ctx, kubesphere.ResourceInstallPlans, name, patch, &kubesphere.InstallPlan{}); err != nil && !apierrors.IsNotFound(err) {
		return "", fmt.Errorf("removing the finalizer of InstallPlan %s: %w", name, err)
	}
	msg := fmt.Sprintf("InstallPlan %s was stuck in Uninstalling: ", name)
	if len(jobs) > 0 {
		msg += fmt.Sprintf("deleted its executor job %s in %s, then ", strings.Join(jobs, ", "), ns)
	}
	msg += fmt.Sprintf("removed its finalizer %s without KubeSphere finishing the uninstall", kubesphere.FinalizerInstallPlan)
	if rel := plan.Status.ReleaseName; rel != "" && ns != "" {
		msg += fmt.Sprintf(". The Helm release %s may remain in namespace %s: check with \"helm list -n %s\", remove it with \"helm uninstall %s -n %s --no-hooks\"", rel, ns, ns, rel, ns)
	}
	return msg, nil
}

// waitJobGone polls until a job no longer exists.
func (c *Client) waitJobGone(ctx context.Context, ns, job string) error {
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		_, err := c.core.BatchV1().Jobs(ns).Get(ctx, job, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			return nil
		case err != nil:
			return fmt.Errorf("waiting for executor job %s/%s to be deleted: %w", ns, job, c.explain(err))
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for executor job %s/%s to be deleted: %w", ns, job, ctx.Err())
		case <-tick.C:
		}
	}
}

func mapValues(m map[string]kubesphere.InstallationStatus) []kubesphere.InstallationStatus {
	out := make([]kubesphere.InstallationStatus, 0, len(m))
	for _, k := range sortedKeys(m) {
		out = append(out, m[k])
	}
	return out
}

// PlanExistsError refuses to unpublish a version an InstallPlan uses:
// KubeSphere needs the ExtensionVersion to process the plan's deletion, so
// the plan would be stuck on its finalizer forever.
type PlanExistsError struct {
	Name, Version, State string
}

func (e *PlanExistsError) Error() string {
	what := fmt.Sprintf("is installed (InstallPlan %s, state %s)", e.Name, e.State)
	if e.State == "" {
		what = fmt.Sprintf("is planned by InstallPlan %s (%s: %s)", e.Name, StatePending, PendingMeaning)
	}
	return fmt.Sprintf("%s %s %s; uninstall it first (\"ksbuilder uninstall %s\"): without its ExtensionVersion KubeSphere could never remove the plan",
		e.Name, e.Version, what, e.Name)
}

// UnpublishOptions say what to unpublish.
type UnpublishOptions struct {
	Name string
	// Version is the one version to unpublish; "" means all.
	Version string
	// DryRun lists what would be deleted, and deletes nothing.
	DryRun bool
	// PlanRemoved, with DryRun, lists the objects as if the InstallPlan
	// were already gone, for a dry run that would uninstall first.
	PlanRemoved bool
}

// Unpublish deletes published versions of an extension (one version, or all
// when version is ""): each chart ConfigMap, then its ExtensionVersion; and
// the Extension once no version is left. It refuses while an InstallPlan
// uses a version it would delete. Versions synced from a Repository are
// left alone: the repository would bring them back.
func (c *Client) Unpublish(ctx context.Context, opts UnpublishOptions) ([]ObjectResult, error) {
	name, version := opts.Name, opts.Version
	if err := c.requireKubeSphere(ctx); err != nil {
		return nil, err
	}
	plan := &kubesphere.InstallPlan{}
	switch err := c.get(ctx, kubesphere.ResourceInstallPlans, name, plan); {
	case err == nil:
		if (version == "" || plan.Spec.Extension.Version == version) && !(opts.DryRun && opts.PlanRemoved) {
			return nil, &PlanExistsError{Name: name, Version: plan.Spec.Extension.Version, State: plan.Status.State}
		}
	case !apierrors.IsNotFound(err):
		return nil, err
	}
	all, err := c.versions(ctx, name)
	if err != nil {
		return nil, err
	}
	var results []ObjectResult
	remaining, found := 0, false
	for _, ev := range all {
		if version != "" && ev.Spec.Version != version {
			remaining++
			continue
		}
		found = true
		if repo := fromRepository(&ev); repo != "" {
			remaining++
			results = append(results, ObjectResult{Kind: "ExtensionVersion", Name: ev.Name, Action: Kept,
				Reason: fmt.Sprintf("synced from Repository %s, which would create it again", repo)})
			continue
		}
		if ref := ev.Spec.ChartDataRef; ref != nil {
			r, err := c.deleteChartConfigMap(ctx, &ev, ref, opts.DryRun)
			if err != nil {
				return results, err
			}
			results = append(results, r)
		}
		if opts.DryRun {
			results = append(results, ObjectResult{Kind: "ExtensionVersion", Name: ev.Name, Action: Deleted, DryRun: true})
			continue
		}
		if err := c.delete(ctx, kubesphere.ResourceExtensionVersions, ev.Name); err != nil && !apierrors.IsNotFound(err) {
			return results, fmt.Errorf("deleting ExtensionVersion %s: %w", ev.Name, err)
		}
		results = append(results, ObjectResult{Kind: "ExtensionVersion", Name: ev.Name, Action: Deleted})
	}
	if version != "" && !found {
		return nil, c.versionNotFound(ctx, name, version)
	}
	if remaining > 0 {
		return results, nil
	}
	if opts.DryRun {
		switch err := c.get(ctx, kubesphere.ResourceExtensions, name, &kubesphere.Extension{}); {
		case err == nil:
			results = append(results, ObjectResult{Kind: "Extension", Name: name, Action: Deleted, DryRun: true})
		case !apierrors.IsNotFound(err):
			return results, err
		case len(results) == 0:
			return nil, fmt.Errorf("%s is not published on %s (no Extension or ExtensionVersion)", name, c.describe())
		}
		return results, nil
	}
	switch err := c.delete(ctx, kubesphere.ResourceExtensions, name); {
	case err == nil:
		results = append(results, ObjectResult{Kind: "Extension", Name: name, Action: Deleted})
	case apierrors.IsNotFound(err):
		if len(results) == 0 {
			return nil, fmt.Errorf("%s is not published on %s (no Extension or ExtensionVersion)", name, c.describe())
		}
	default:
		return results, fmt.Errorf("deleting Extension %s: %w", name, err)
	}
	return results, nil
}

// fromRepository names the Repository a version was synced from, or "".
func fromRepository(ev *kubesphere.ExtensionVersion) string {
	if ev.Spec.Repository != "" {
		return ev.Spec.Repository
	}
	return ev.Labels[kubesphere.LabelRepositoryRef]
}

// deleteChartConfigMap deletes the ConfigMap holding a version's chart when
// it is the one publish creates; another ConfigMap is left alone.
func (c *Client) deleteChartConfigMap(ctx context.Context, ev *kubesphere.ExtensionVersion, ref *kubesphere.ChartDataRef, dryRun bool) (ObjectResult, error) {
	res := ObjectResult{Kind: "ConfigMap", Namespace: ref.Namespace, Name: ref.Name}
	want := kubesphere.ChartConfigMapName(ev.Labels[kubesphere.LabelExtensionRef], ev.Spec.Version)
	if ref.Namespace != kubesphere.SystemNamespace || ref.Name != want {
		res.Action, res.Reason = Kept, "not a chart ConfigMap created by publish"
		return res, nil
	}
	if dryRun {
		res.Action, res.DryRun = Deleted, true
		return res, nil
	}
	err := c.core.CoreV1().ConfigMaps(ref.Namespace).Delete(ctx, ref.Name, metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return res, fmt.Errorf("deleting ConfigMap %s/%s: %w", ref.Namespace, ref.Name, c.explain(err))
	}
	res.Action = Deleted
	return res, nil
}
