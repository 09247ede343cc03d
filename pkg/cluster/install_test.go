package cluster_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/ksbuilder/ksbuilder/create"
	"github.com/ksbuilder/ksbuilder/internal/testcontroller"
	"github.com/ksbuilder/ksbuilder/internal/testutil/testcluster"
	"github.com/ksbuilder/ksbuilder/pkg/cluster"
	"github.com/ksbuilder/ksbuilder/pkg/kubesphere"
)

var jsBundles = schema.GroupVersionResource{Group: "extensions.kubesphere.io", Version: "v1alpha1", Resource: "jsbundles"}

func kube(t *testing.T) (kubernetes.Interface, dynamic.Interface) {
	t.Helper()
	cfg := testEnv.Require(t)
	return kubernetes.NewForConfigOrDie(cfg), dynamic.NewForConfigOrDie(cfg)
}

// releases lists the revisions Helm stored for a release.
func releases(t *testing.T, ns, release string) int {
	t.Helper()
	cs, _ := kube(t)
	list, err := cs.CoreV1().Secrets(ns).List(context.Background(), metav1.ListOptions{LabelSelector: "owner=helm,name=" + release})
	if err != nil {
		t.Fatal(err)
	}
	return len(list.Items)
}

func condition(st kubesphere.InstallationStatus, typ string) *metav1.Condition {
	for i := range st.Conditions {
		if st.Conditions[i].Type == typ {
			return &st.Conditions[i]
		}
	}
	return nil
}

func TestInstall(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	ctx := testContext(t)
	dir := scaffold(t, "basic", create.Frontend)
	start := time.Now()
	res, plan := mustInstall(t, c, dir, cluster.InstallOptions{})
	t.Logf("one install took %s", time.Since(start).Round(time.Millisecond))

	if res.Action != cluster.Created || !res.Expect.Host {
		t.Errorf("result = %+v, want a created plan expecting the host release", res)
	}
	want := kubesphere.InstallPlanSpec{
		Extension: kubesphere.ExtensionRef{Name: "basic", Version: "0.1.0"}, Enabled: true, UpgradeStrategy: kubesphere.UpgradeStrategyManual,
	}
	if plan.Name != "basic" || plan.Spec.Extension != want.Extension || !plan.Spec.Enabled || plan.Spec.UpgradeStrategy != "Manual" ||
		plan.Spec.Config != "" || plan.Spec.ClusterScheduling != nil {
		t.Errorf("plan %s spec = %+v, want %+v", plan.Name, plan.Spec, want)
	}
	st := plan.Status.InstallationStatus
	if st.State != kubesphere.StateInstalled || st.Version != "0.1.0" || st.TargetNamespace != "extension-basic" || st.ReleaseName != "basic" {
		t.Errorf("status = %+v", st)
	}
	if cond := condition(st, kubesphere.ConditionInstalled); cond == nil || cond.Reason != kubesphere.ReasonInstallSuccessful {
		t.Errorf("Installed condition = %+v", cond)
	}
	if !strings.HasPrefix(st.JobName, "helm-install-basic-") || len(st.JobName) != len("helm-install-basic-")+6 {
		t.Errorf("job name %q, want helm-install-basic-xxxxxx", st.JobName)
	}
	var states []string
	for _, h := range st.StateHistory {
		states = append(states, h.State)
	}
	if got := strings.Join(states, ","); got != "Preparing,Installing,Installed" {
		t.Errorf("state history %s", got)
	}

	// The chart's objects are in the cluster, labelled by the executor.
	_, dyn := kube(t)
	bundle, err := dyn.Resource(jsBundles).Get(ctx, "basic-frontend", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the JSBundle was not installed: %v", err)
	}
	if bundle.GetLabels()[kubesphere.LabelExtensionRef] != "basic" {
		t.Errorf("JSBundle labels %v", bundle.GetLabels())
	}

	// Installing the same thing again changes nothing.
	res, plan2 := mustInstall(t, c, dir, cluster.InstallOptions{})
	if res.Action != cluster.Unchanged || plan2.ResourceVersion != plan.ResourceVersion && plan2.Status.State != kubesphere.StateInstalled {
		t.Errorf("second install: %+v", res)
	}

	// Installing another version is refused with a pointer to upgrade.
	setVersion(t, dir, "0.2.0")
	_, _, err = install(t, c, dir, cluster.InstallOptions{})
	var other *cluster.InstalledVersionError
	if !errors.As(err, &other) || other.Installed != "0.1.0" || other.Requested != "0.2.0" || err.Error() != "basic 0.1.0 is installed; changing the version to 0.2.0 is an upgrade" {
		t.Errorf("install of another version: %v", err)
	}
	if _, err := c.ShowVersion(ctx, "basic", "0.2.0"); err == nil {
		t.Error("the refused install published 0.2.0")
	}

	if err := uninstall(t, c, "basic", false); err != nil {
		t.Fatal(err)
	}
	if n := releases(t, "extension-basic", "basic"); n != 0 {
		t.Errorf("%d Helm revisions left after uninstall", n)
	}
	if _, err := dyn.Resource(jsBundles).Get(ctx, "basic-frontend", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("JSBundle after uninstall: %v", err)
	}
	if _, err := c.Plan(ctx, "basic"); !errors.Is(err, cluster.ErrNotInstalled) {
		t.Errorf("Plan after uninstall: %v", err)
	}
	if ext := mustExtension(t, c, "basic"); ext.Status.State != "" || ext.Status.InstalledVersion != "" {
		t.Errorf("Extension status after uninstall: %+v", ext.Status)
	}
}

func TestConfigUpdateAndUpgrade(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	ctx := testContext(t)
	dir := scaffold(t, "configured", create.Frontend)
	addDeployment(t, dir, "frontend")
	_, plan := mustInstall(t, c, dir, cluster.InstallOptions{})
	cs, _ := kube(t)

	// New values: the plan's config changes and KubeSphere upgrades.
	res, plan := mustInstall(t, c, dir, cluster.InstallOptions{Values: map[string]any{"frontend": map[string]any{"replicaCount": 2}}})
	if res.Action != cluster.Configured {
		t.Errorf("action %s, want configured", res.Action)
	}
	if plan.Spec.Config != "frontend:\n  replicaCount: 2\n" {
		t.Errorf("config %q", plan.Spec.Config)
	}
	if cond := condition(plan.Status.InstallationStatus, kubesphere.ConditionUpgraded); cond == nil || cond.Reason != kubesphere.ReasonUpgradeSuccessful {
		t.Errorf("Upgraded condition = %+v", cond)
	}
	dep, err := cs.AppsV1().Deployments("extension-configured").Get(ctx, "configured-frontend", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if *dep.Spec.Replicas != 2 {
		t.Errorf("replicas %d, want 2 from the new values", *dep.Spec.Replicas)
	}

	// The same values again: nothing to do.
	res, _ = mustInstall(t, c, dir, cluster.InstallOptions{Values: map[string]any{"frontend": map[string]any{"replicaCount": 2}}})
	if res.Action != cluster.Unchanged {
		t.Errorf("same values: action %s, want unchanged", res.Action)
	}

	// Upgrade to a new version, keeping the values.
	setVersion(t, dir, "0.2.0")
	res, plan = mustInstall(t, c, dir, cluster.InstallOptions{Upgrade: true})
	if res.Action != cluster.Configured || res.PreviousVersion != "0.1.0" {
		t.Errorf("upgrade result %+v", res)
	}
	if plan.Spec.Extension.Version != "0.2.0" || plan.Status.Version != "0.2.0" || plan.Status.State != kubesphere.StateInstalled {
		t.Errorf("after upgrade: spec %+v status %+v", plan.Spec.Extension, plan.Status.InstallationStatus)
	}
	if plan.Spec.Config == "" {
		t.Error("the upgrade dropped the values")
	}
	if n := releases(t, "extension-configured", "configured"); n != 2 {
		t.Errorf("%d Helm revisions kept, want 2 (history max)", n)
	}
	ext := mustExtension(t, c, "configured")
	if ext.Spec.Created.IsZero() || ext.Status.InstalledVersion != "0.2.0" {
		t.Errorf("Extension after upgrade: %+v", ext.Status)
	}

	// Reset the values.
	res, plan = mustInstall(t, c, dir, cluster.InstallOptions{ResetValues: true})
	if res.Action != cluster.Configured || plan.Spec.Config != "" {
		t.Errorf("reset values: %s, config %q", res.Action, plan.Spec.Config)
	}
	if err := uninstall(t, c, "configured", false); err != nil {
		t.Fatal(err)
	}
}

// mustExtension reads an Extension.
func mustExtension(t *testing.T, c *cluster.Client, name string) *kubesphere.Extension {
	t.Helper()
	_, dyn := kube(t)
	u, err := dyn.Resource(kubesphere.GroupVersion.WithResource(kubesphere.ResourceExtensions)).Get(testContext(t), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ext := &kubesphere.Extension{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, ext); err != nil {
		t.Fatal(err)
	}
	return ext
}

func TestMulticlusterOnHost(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	ctx := testContext(t)
	dir := scaffold(t, "multi", create.Full)
	addDeployment(t, dir, "frontend")

	_, _, err := install(t, c, dir, cluster.InstallOptions{Clusters: []string{"nowhere"}})
	if err == nil || !strings.Contains(err.Error(), `cluster "nowhere" not found (clusters: host)`) {
		t.Errorf("unknown cluster: %v", err)
	}

	res, plan := mustInstall(t, c, dir, cluster.InstallOptions{})
	if got := plan.Spec.ClusterScheduling; got == nil || got.Placement == nil || strings.Join(got.Placement.Clusters, ",") != testcluster.HostClusterName {
		t.Fatalf("clusterScheduling %+v, want placement on the host", got)
	}
	if strings.Join(res.Expect.Clusters, ",") != testcluster.HostClusterName {
		t.Errorf("expectation %+v", res.Expect)
	}
	agent, ok := plan.Status.ClusterSchedulingStatuses[testcluster.HostClusterName]
	if !ok || agent.State != kubesphere.StateInstalled || agent.ReleaseName != "multi-agent" || !strings.HasPrefix(agent.JobName, "helm-install-multi-agent-") {
		t.Errorf("agent status %+v", agent)
	}
	cs, _ := kube(t)
	// The backend subchart (tag agent) is in the agent release only.
	if _, err := cs.AppsV1().Deployments("extension-multi").Get(ctx, "multi-agent-backend", metav1.GetOptions{}); err != nil {
		t.Errorf("agent deployment: %v", err)
	}
	if _, err := cs.AppsV1().Deployments("extension-multi").Get(ctx, "multi-backend", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the host release rendered the agent subchart: %v", err)
	}
	var dep *appsv1.Deployment
	if dep, err = cs.AppsV1().Deployments("extension-multi").Get(ctx, "multi-frontend", metav1.GetOptions{}); err != nil {
		t.Errorf("host deployment: %v (%v)", err, dep)
	}
	if err := uninstall(t, c, "multi", false); err != nil {
		t.Fatal(err)
	}
	if n := releases(t, "extension-multi", "multi-agent"); n != 0 {
		t.Errorf("agent release left after uninstall")
	}
}

func TestHostOnlyRefusesClusters(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	dir := scaffold(t, "hostonly", create.Frontend)
	_, _, err := install(t, c, dir, cluster.InstallOptions{Clusters: []string{"host"}})
	if !errors.Is(err, cluster.ErrNotMulticluster) {
		t.Errorf("got %v, want ErrNotMulticluster", err)
	}
}

func TestMissingExtensionVersion(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	ctx := testContext(t)
	_, err := c.Install(ctx, cluster.InstallOptions{Name: "ghost", Version: "1.0.0"})
	if err == nil || !strings.Contains(err.Error(), "ExtensionVersion ghost-1.0.0 not found") || !strings.Contains(err.Error(), "ksbuilder publish PATH") {
		t.Errorf("got %v", err)
	}
	pub := publication(t, scaffold(t, "ghost", create.Frontend))
	if _, err := c.Publish(ctx, pub); err != nil {
		t.Fatal(err)
	}
	_, err = c.Install(ctx, cluster.InstallOptions{Name: "ghost", Version: "1.0.0"})
	if err == nil || !strings.Contains(err.Error(), "(published versions: 0.1.0)") {
		t.Errorf("got %v", err)
	}
	if _, err := c.Plan(ctx, "ghost"); !errors.Is(err, cluster.ErrNotInstalled) {
		t.Errorf("a plan was created: %v", err)
	}
}

func TestDependencies(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	dir := scaffold(t, "dependent", create.Frontend)
	edit(t, dir, "extension.yaml", func(s string) string {
		return s + "externalDependencies:\n  - name: needed\n    version: \">=1.0.0-0\"\n    required: true\n  - name: nice\n    version: \">=2.0.0\"\n    required: false\n"
	})
	_, _, err := install(t, c, dir, cluster.InstallOptions{})
	var check *cluster.CheckError
	if !errors.As(err, &check) || !strings.Contains(err.Error(), "it requires extension needed >=1.0.0-0, which is not published on this cluster") {
		t.Fatalf("got %v", err)
	}
	if _, err := c.ShowVersion(testContext(t), "dependent", ""); err == nil {
		t.Error("the refused install published the extension")
	}

	needed := scaffold(t, "needed", create.Frontend)
	edit(t, needed, "extension.yaml", func(s string) string { return strings.Replace(s, "version: 0.1.0", "version: 1.2.0", 1) })
	mustInstall(t, c, needed, cluster.InstallOptions{})
	res, plan := mustInstall(t, c, dir, cluster.InstallOptions{})
	if plan.Status.State != kubesphere.StateInstalled {
		t.Errorf("state %s", plan.Status.State)
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "optional extension nice >=2.0.0 is not published") {
		t.Errorf("warnings %q", res.Warnings)
	}
	details, err := c.ShowVersion(testContext(t), "dependent", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(details.Dependencies) != 2 || details.Dependencies[0].Unmet != "" || details.Dependencies[1].Unmet == "" {
		t.Errorf("dependencies %+v", details.Dependencies)
	}
	for _, name := range []string{"dependent", "needed"} {
		if err := uninstall(t, c, name, false); err != nil {
			t.Fatal(err)
		}
	}
}

func TestVersionConstraints(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	dir := scaffold(t, "constrained", create.Frontend)
	edit(t, dir, "extension.yaml", func(s string) string {
		s = strings.Replace(s, `kubeVersion: ">=1.19.0-0"`, `kubeVersion: "<1.20.0-0"`, 1)
		return strings.Replace(s, `ksVersion: ">=4.1.0-0"`, `ksVersion: ">=4.2.0-0"`, 1)
	})
	_, _, err := install(t, c, dir, cluster.InstallOptions{})
	if err == nil || !strings.Contains(err.Error(), `it needs Kubernetes <1.20.0-0; version v1.36.3 does not satisfy "<1.20.0-0"`) ||
		!strings.Contains(err.Error(), `it needs KubeSphere >=4.2.0-0; version v4.1.3 does not satisfy ">=4.2.0-0"`) {
		t.Errorf("got %v", err)
	}
}

func TestChartThatFailsToRender(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	dir := scaffold(t, "unrenderable", create.Frontend)
	edit(t, dir, "charts/frontend/templates/required.yaml", func(string) string {
		return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  token: {{ required \"frontend.token is required\" .Values.token | quote }}\n"
	})
	// With a render cache too: a failed render is never taken as checked.
	for _, renders := range []*cluster.RenderCache{nil, {}} {
		_, _, err := install(t, c, dir, cluster.InstallOptions{Renders: renders})
		if err == nil || !strings.Contains(err.Error(), "the chart does not render with these values") || !strings.Contains(err.Error(), "frontend.token is required") {
			t.Fatalf("got %v", err)
		}
	}
	ctx := testContext(t)
	if _, err := c.ShowVersion(ctx, "unrenderable", ""); err == nil {
		t.Error("the chart was published although it does not render")
	}
	// With the value, it installs.
	_, plan := mustInstall(t, c, dir, cluster.InstallOptions{Values: map[string]any{"frontend": map[string]any{"token": "s3cret"}}})
	if plan.Status.State != kubesphere.StateInstalled {
		t.Errorf("state %s", plan.Status.State)
	}
	if err := uninstall(t, c, "unrenderable", false); err != nil {
		t.Fatal(err)
	}
}

func TestJobFailure(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	dir := scaffold(t, "rejected", create.Frontend)
	// Renders fine, but the API server rejects the object.
	edit(t, dir, "charts/frontend/templates/bad.yaml", func(string) string {
		return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Not_A_Valid_Name\n"
	})
	_, plan, err := install(t, c, dir, cluster.InstallOptions{})
	var failed *cluster.FailedError
	if !errors.As(err, &failed) {
		t.Fatalf("got %v (plan %+v), want a FailedError", err, plan)
	}
	d := failed.Diagnosis
	// The job may still be marked running: KubeSphere can see the failed Helm
	// release first.
	if failed.State != kubesphere.StateInstallFailed || d == nil || d.Job == "" || d.JobStatus == "" {
		t.Fatalf("failure %+v, diagnosis %+v", failed, d)
	}
	if cond := d.Conditions; len(cond) == 0 || cond[0].Reason != kubesphere.ReasonInstallFailed {
		t.Errorf("conditions %+v", cond)
	}
	if !strings.Contains(d.LogsUnavailable, "is Pending and has not been scheduled to a node, so it has no logs") ||
		d.LogsCommand != "kubectl logs -n extension-rejected -l job-name="+d.Job+" --all-containers --tail=100" {
		t.Errorf("logs: %q / %q", d.LogsUnavailable, d.LogsCommand)
	}

	// Nothing changed, and KubeSphere retries only on a change of the
	// version or the config hash: install changes a comment in the config,
	// and the installation runs again (and fails again).
	firstJob := d.Job
	res, _, err := install(t, c, dir, cluster.InstallOptions{})
	if !errors.As(err, &failed) || res == nil || res.Action != cluster.Configured {
		t.Fatalf("second attempt: %v (result %+v)", err, res)
	}
	if !strings.Contains(res.Retry, "the last installation failed (rejected InstallFailed)") || !strings.Contains(res.Retry, `"# ksbuilder-retry: 1"`) ||
		res.Plan.Spec.Config != "# ksbuilder-retry: 1\n" {
		t.Errorf("retry %q, config %q", res.Retry, res.Plan.Spec.Config)
	}
	if failed.Diagnosis.Job == firstJob {
		t.Errorf("no new executor job: %s", firstJob)
	}

	// Once the chart is fixed, installing the same version again works.
	if err := os.Remove(filepath.Join(dir, "charts/frontend/templates/bad.yaml")); err != nil {
		t.Fatal(err)
	}
	res, plan, err = install(t, c, dir, cluster.InstallOptions{})
	if err != nil || plan.Status.State != kubesphere.StateInstalled {
		t.Fatalf("third attempt: %v", err)
	}
	if res.Plan.Spec.Config != "# ksbuilder-retry: 2\n" {
		t.Errorf("config %q", res.Plan.Spec.Config)
	}
	// Installed: nothing to re-run.
	if res, _, err = install(t, c, dir, cluster.InstallOptions{}); err != nil || res.Action != cluster.Unchanged || res.Retry != "" {
		t.Errorf("fourth attempt: %v, %+v", err, res)
	}
	if err := uninstall(t, c, "rejected", false); err != nil {
		t.Fatal(err)
	}
}

func TestForceUninstall(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	controller.SetBehaviour("stubborn", testcontrollerFailUninstall)
	dir := scaffold(t, "stubborn", create.Frontend)
	mustInstall(t, c, dir, cluster.InstallOptions{})
	err := uninstall(t, c, "stubborn", false)
	var failed *cluster.FailedError
	if !errors.As(err, &failed) || failed.State != kubesphere.StateUninstallFailed || failed.Hint != cluster.ForceHint {
		t.Fatalf("got %v, want UninstallFailed with a hint to force", err)
	}
	if err := uninstall(t, c, "stubborn", true); err != nil {
		t.Fatal(err)
	}
	if n := releases(t, "extension-stubborn", "stubborn"); n != 0 {
		t.Errorf("release left after forced uninstall")
	}
}

func TestStuckInPreparing(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	controller.SetBehaviour("stalled", testcontrollerStall)
	ctx := testContext(t)
	pub := publication(t, scaffold(t, "stalled", create.Frontend))
	res, err := c.Install(ctx, cluster.InstallOptions{Publication: pub})
	if err != nil {
		t.Fatal(err)
	}
	opts := waitOptions(t, nil)
	opts.Timeout, opts.StuckAfter = 10*time.Minute, 2*time.Minute
	clk, events, result := startWait(ctx, t, c, res.Plan, res.Expect, opts)
	awaitEvent(ctx, t, events, func(e cluster.Event) bool { return e.State == kubesphere.StatePreparing })
	// Past StuckAfter, the next read warns.
	clk.Step(opts.StuckAfter)
	awaitEvent(ctx, t, events, func(e cluster.Event) bool {
		return e.State == "" && strings.Contains(e.Detail, "has been Preparing for 2m0s and no executor job was created")
	})
	clk.Step(opts.Timeout - opts.StuckAfter)
	err = awaitResult(ctx, t, result).err
	var timeout *cluster.TimeoutError
	if !errors.As(err, &timeout) || !strings.Contains(err.Error(), "timed out after 10m0s waiting for stalled: stalled has been Preparing for 10m0s and no executor job was created") {
		t.Fatalf("got %v", err)
	}
	// A plan that never got a release goes away at once.
	if err := uninstall(t, c, "stalled", false); err != nil {
		t.Fatal(err)
	}
}

// A job that finished while the plan still says Installing is reported as
// clock skew when the time is up, even before SkewGrace has passed.
func TestClockSkewAtTimeout(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	controller.SetBehaviour("skewed", testcontrollerSkew)
	ctx := testContext(t)
	pub := publication(t, scaffold(t, "skewed", create.Frontend))
	res, err := c.Install(ctx, cluster.InstallOptions{Publication: pub})
	if err != nil {
		t.Fatal(err)
	}
	opts := waitOptions(t, nil)
	opts.Timeout = 15 * time.Second // shorter than SkewGrace
	clk, events, result := startWait(ctx, t, c, res.Plan, res.Expect, opts)
	job := ""
	awaitEvent(ctx, t, events, func(e cluster.Event) bool {
		job = strings.TrimPrefix(e.Detail, "job ")
		return e.State == kubesphere.StateInstalling
	})
	awaitJobDone(ctx, t, "extension-skewed", job)
	clk.Step(opts.Timeout)
	err = awaitResult(ctx, t, result).err
	var timeout *cluster.TimeoutError
	var skew *cluster.ClockSkewError
	if !errors.As(err, &timeout) || !errors.As(err, &skew) || !skew.JobSucceeded || skew.State != kubesphere.StateInstalling || skew.Job != job {
		t.Fatalf("got %v, want a TimeoutError with a ClockSkewError", err)
	}
	if d := skew.LastChange.Sub(skew.JobFinished); d < 9*time.Minute ||
		!strings.Contains(err.Error(), "timed out after 15s waiting for skewed: skewed: the executor job "+job+" succeeded at ") ||
		!strings.Contains(err.Error(), "synchronise them with NTP") {
		t.Errorf("skew %s: %v", d, err)
	}
	if err := uninstall(t, c, "skewed", false); err != nil {
		t.Fatal(err)
	}
}

// awaitJobDone waits until a job has finished.
func awaitJobDone(ctx context.Context, t *testing.T, ns, name string) {
	t.Helper()
	cs, _ := kube(t)
	for {
		job, err := cs.BatchV1().Jobs(ns).Get(ctx, name, metav1.GetOptions{})
		if err == nil && job.Status.CompletionTime != nil {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("job %s/%s never finished", ns, name)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func TestTimeout(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	hold := make(chan struct{})
	controller.SetBehaviour("slow", testcontroller.Behaviour{Hold: hold})
	ctx := testContext(t)
	pub := publication(t, scaffold(t, "slow", create.Frontend))
	res, err := c.Install(ctx, cluster.InstallOptions{Publication: pub})
	if err != nil {
		t.Fatal(err)
	}
	opts := waitOptions(t, nil)
	opts.Timeout = 15 * time.Second
	clk, events, result := startWait(ctx, t, c, res.Plan, res.Expect, opts)
	awaitEvent(ctx, t, events, func(e cluster.Event) bool { return e.State == kubesphere.StateInstalling })
	clk.Step(opts.Timeout)
	err = awaitResult(ctx, t, result).err
	var timeout *cluster.TimeoutError
	var skew *cluster.ClockSkewError
	if !errors.As(err, &timeout) || errors.As(err, &skew) || !strings.Contains(err.Error(), "timed out after 15s waiting for slow: slow is Installing (for 15s), job helm-install-slow-") {
		t.Fatalf("got %v", err)
	}
	// The installation goes on; following it again ends well.
	close(hold)
	plan, err := c.Wait(ctx, timeout.Plan, cluster.Expectation{}, waitOptions(t, nil))
	if err != nil || plan.Status.State != kubesphere.StateInstalled {
		t.Fatalf("resumed wait: %v", err)
	}
	if err := uninstall(t, c, "slow", false); err != nil {
		t.Fatal(err)
	}
}

func TestInterrupted(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	hold := make(chan struct{})
	controller.SetBehaviour("interrupted", testcontroller.Behaviour{Hold: hold})
	pub := publication(t, scaffold(t, "interrupted", create.Frontend))
	res, err := c.Install(testContext(t), cluster.InstallOptions{Publication: pub})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(testContext(t))
	opts := waitOptions(t, nil)
	opts.Notify = func(e cluster.Event) {
		if e.State == kubesphere.StateInstalling {
			cancel() // Ctrl-C while the job runs
		}
	}
	if _, err := c.Wait(ctx, res.Plan, res.Expect, opts); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	close(hold)
	if err := uninstall(t, c, "interrupted", false); err != nil {
		t.Fatal(err)
	}
}

func TestTransientInstallFailure(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	ctx := testContext(t)
	pub := publication(t, scaffold(t, "latecomer", create.Frontend))
	if _, err := c.Publish(ctx, pub); err != nil {
		t.Fatal(err)
	}
	// The chart's ConfigMap goes missing: KubeSphere fails before creating a
	// job, with no configHash, and keeps retrying.
	cs, _ := kube(t)
	if err := cs.CoreV1().ConfigMaps(kubesphere.SystemNamespace).Delete(ctx, pub.ConfigMap.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	// Created by hand: Install would refuse, since it reads the chart.
	_, dyn := kube(t)
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": kubesphere.GroupVersion.String(), "kind": "InstallPlan", "metadata": map[string]any{"name": "latecomer"},
		"spec": map[string]any{"enabled": true, "extension": map[string]any{"name": "latecomer", "version": "0.1.0"}},
	}}
	if _, err := dyn.Resource(kubesphere.GroupVersion.WithResource(kubesphere.ResourceInstallPlans)).Create(ctx, obj, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	start, err := c.Plan(ctx, "latecomer")
	if err != nil {
		t.Fatal(err)
	}
	var events []cluster.Event
	opts := waitOptions(t, &events)
	opts.Notify = func(e cluster.Event) {
		if e.State == kubesphere.StateInstallFailed {
			// Publishing again brings the chart back; the retry succeeds.
			go func() { _, _ = c.Publish(context.Background(), pub) }()
		}
		waitOptions(t, &events).Notify(e)
	}
	plan, err := c.Wait(ctx, start, cluster.Expectation{Host: true}, opts)
	if err != nil || plan.Status.State != kubesphere.StateInstalled {
		t.Fatalf("got %v", err)
	}
	sawTransient := false
	for _, e := range events {
		sawTransient = sawTransient || e.State == kubesphere.StateInstallFailed && strings.Contains(e.Detail, "KubeSphere retries")
	}
	if !sawTransient {
		t.Errorf("no transient InstallFailed seen: %+v", events)
	}
	if err := uninstall(t, c, "latecomer", false); err != nil {
		t.Fatal(err)
	}
}

func TestUnreachable(t *testing.T) {
	t.Parallel()
	cfg := testEnv.Require(t)
	cfg.Host = "https://127.0.0.1:1" // nothing listens there
	c, err := cluster.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Install(testContext(t), cluster.InstallOptions{Name: "x", Version: "1.0.0"})
	if err == nil || !strings.Contains(err.Error(), "cannot reach the Kubernetes API server: the cluster at https://127.0.0.1:1") {
		t.Errorf("got %v", err)
	}
}
