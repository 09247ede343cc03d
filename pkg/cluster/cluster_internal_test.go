package cluster

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/chart"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/ksbuilder/ksbuilder/pkg/kubesphere"
)

func TestReleaseValues(t *testing.T) {
	ch := &chart.Chart{Metadata: &chart.Metadata{Dependencies: []*chart.Dependency{
		{Name: "ui", Tags: []string{"extension"}, Condition: "ui.enabled"},
		{Name: "agent", Tags: []string{"agent"}, Condition: "agent.enabled,global.agents"},
		{Name: "plain"},
	}}}
	host, err := HostValues(ch, "ui:\n  replicas: 2\nagent:\n  enabled: true\n")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"ui":     map[string]any{"replicas": float64(2)},
		"agent":  map[string]any{"enabled": false},
		"global": map[string]any{"agents": false},
		"tags":   map[string]any{"extension": true, "agent": false},
	}
	if !reflect.DeepEqual(host, want) {
		t.Errorf("host values %#v\nwant %#v", host, want)
	}

	agent, err := AgentValues(ch, "ui:\n  replicas: 2\nglobal:\n  a: 1\n", "global:\n  b: 2\n", "member1", RoleMember)
	if err != nil {
		t.Fatal(err)
	}
	want = map[string]any{
		"ui":     map[string]any{"replicas": float64(2), "enabled": false},
		"global": map[string]any{"a": float64(1), "b": float64(2), "clusterInfo": map[string]any{"name": "member1", "role": "member"}},
		"tags":   map[string]any{"extension": false, "agent": true},
	}
	if !reflect.DeepEqual(agent, want) {
		t.Errorf("agent values %#v\nwant %#v", agent, want)
	}

	if _, err := HostValues(ch, "- not\n- a map\n"); err == nil || !strings.Contains(err.Error(), "not a YAML map") {
		t.Errorf("list config: %v", err)
	}
	for _, tt := range []struct{ config, override, want string }{
		{"a: 1\n", "", "a: 1\n"},
		{"", "b: 2\n", "b: 2\n"},
		{"a: {x: 1}\n", "a: {w: 2}\n", "a:\n    w: 2\n    x: 1\n"},
	} {
		got, err := AgentConfig(tt.config, tt.override)
		if err != nil || got != tt.want {
			t.Errorf("AgentConfig(%q, %q) = %q, %v; want %q", tt.config, tt.override, got, err, tt.want)
		}
	}
}

// ClusterAgentValues merges values maps as KubeSphere merges the plan's
// texts: maps key by key, the override winning, lists replaced whole, a
// null kept (Helm then drops that default).
func TestClusterAgentValues(t *testing.T) {
	got, err := ClusterAgentValues(
		map[string]any{"backend": map[string]any{"replicaCount": 2, "args": []any{"a", "b"}, "image": map[string]any{"tag": "v2"}}, "keep": "x"},
		map[string]any{"backend": map[string]any{"replicaCount": 5, "args": []any{"c"}, "image": map[string]any{"pullPolicy": "Always"}}, "keep": nil})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"backend": map[string]any{"replicaCount": float64(5), "args": []any{"c"}, "image": map[string]any{"tag": "v2", "pullPolicy": "Always"}},
		"keep":    nil,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("merged %#v\nwant %#v", got, want)
	}
	if got, err := ClusterAgentValues(map[string]any{"a": 1}, nil); err != nil || !reflect.DeepEqual(got, map[string]any{"a": float64(1)}) {
		t.Errorf("without an override: %#v, %v", got, err)
	}
}

func placed(clusters ...string) *kubesphere.ClusterScheduling {
	return &kubesphere.ClusterScheduling{Placement: &kubesphere.Placement{Clusters: clusters}}
}

func TestSpecPatchAndExpectations(t *testing.T) {
	base := kubesphere.InstallPlanSpec{
		Extension: kubesphere.ExtensionRef{Name: "x", Version: "1.0.0"}, Enabled: true, UpgradeStrategy: "Manual",
		Config: "a: 1\n", ClusterScheduling: placed("host"),
	}
	tests := []struct {
		name   string
		change func(*kubesphere.InstallPlanSpec)
		patch  string
		expect Expectation
	}{
		{"new version", func(s *kubesphere.InstallPlanSpec) { s.Extension.Version = "2.0.0" },
			`{"spec":{"config":"a: 1\n","enabled":true,"extension":{"name":"x","version":"2.0.0"},"upgradeStrategy":"Manual"}}`,
			Expectation{Host: true, Clusters: []string{"host"}}},
		{"config removed", func(s *kubesphere.InstallPlanSpec) { s.Config = "" },
			`{"spec":{"config":null,"enabled":true,"extension":{"name":"x","version":"1.0.0"},"upgradeStrategy":"Manual"}}`,
			Expectation{Host: true, Clusters: []string{"host"}}},
		{"cluster added", func(s *kubesphere.InstallPlanSpec) { s.ClusterScheduling = placed("host", "member") },
			`{"spec":{"clusterScheduling":{"placement":{"clusters":["host","member"]}},"config":"a: 1\n","enabled":true,"extension":{"name":"x","version":"1.0.0"},"upgradeStrategy":"Manual"}}`,
			Expectation{Clusters: []string{"member"}}},
		{"override set", func(s *kubesphere.InstallPlanSpec) {
			s.ClusterScheduling.Overrides = map[string]string{"host": "b: 2\n"}
		},
			`{"spec":{"clusterScheduling":{"overrides":{"host":"b: 2\n"}},"config":"a: 1\n","enabled":true,"extension":{"name":"x","version":"1.0.0"},"upgradeStrategy":"Manual"}}`,
			Expectation{Clusters: []string{"host"}}},
		{"nothing", func(*kubesphere.InstallPlanSpec) {},
			`{"spec":{"config":"a: 1\n","enabled":true,"extension":{"name":"x","version":"1.0.0"},"upgradeStrategy":"Manual"}}`,
			Expectation{}},
	}
	// An override removed is set to null, one kept is left out.
	overridden := *base.DeepCopy()
	overridden.ClusterScheduling.Overrides = map[string]string{"host": "b: 2\n", "member": "c: 3\n"}
	fewer := *overridden.DeepCopy()
	fewer.ClusterScheduling.Overrides = map[string]string{"member": "c: 3\n"}
	if patch, err := specPatch(&overridden, &fewer, ""); err != nil || !strings.Contains(string(patch), `"clusterScheduling":{"overrides":{"host":null}}`) {
		t.Errorf("patch removing an override: %s, %v", patch, err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			updated := *base.DeepCopy()
			tt.change(&updated)
			patch, err := specPatch(&base, &updated, "")
			if err != nil || string(patch) != tt.patch {
				t.Errorf("patch %s, %v\nwant  %s", patch, err, tt.patch)
			}
			installed := kubesphere.InstallationStatus{State: kubesphere.StateInstalled, Version: "1.0.0", ConfigHash: ConfigHash("a: 1\n")}
			plan := &kubesphere.InstallPlan{Spec: base, Status: kubesphere.InstallPlanStatus{InstallationStatus: installed,
				ClusterSchedulingStatuses: map[string]kubesphere.InstallationStatus{"host": installed}}}
			if got := expectedActions(plan, &updated); !reflect.DeepEqual(got, tt.expect) {
				t.Errorf("expectation %+v, want %+v", got, tt.expect)
			}
		})
	}
}

// KubeSphere acts when the spec differs from what the release's status
// records (version, config hash), not from the old spec: after an upgrade
// that failed before Helm recorded a revision, status.version is the
// deployed version, and going back to it changes nothing for KubeSphere.
func TestKubeSphereRule(t *testing.T) {
	spec := func(version, config string) *kubesphere.InstallPlanSpec {
		return &kubesphere.InstallPlanSpec{Extension: kubesphere.ExtensionRef{Name: "x", Version: version}, Config: config}
	}
	hash := ConfigHash("a: 1\n")
	if ConfigHash("") != "cbf29ce484222325" || !sameHash("0abc", "abc") || ConfigHash("a: 1  \n") != hash {
		t.Errorf("ConfigHash: %s %s", ConfigHash(""), ConfigHash("a: 1  \n"))
	}
	looping := kubesphere.InstallationStatus{State: kubesphere.StateUpgradeFailed, Version: "1.0.0", ConfigHash: hash}
	tests := []struct {
		name string
		st   kubesphere.InstallationStatus
		spec *kubesphere.InstallPlanSpec
		want bool
	}{
		{"new plan", kubesphere.InstallationStatus{}, spec("1.0.0", ""), true},
		{"back to the deployed version", looping, spec("1.0.0", "a: 1\n"), false},
		{"looping on the new version", looping, spec("1.1.0", "a: 1\n"), true},
		{"retry comment", looping, spec("1.0.0", "a: 1\n# ksbuilder-retry: 1\n"), true},
		{"installed, same spec", kubesphere.InstallationStatus{State: kubesphere.StateInstalled, Version: "1.0.0", ConfigHash: hash}, spec("1.0.0", "a: 1\n"), false},
		{"failed before a job", kubesphere.InstallationStatus{State: kubesphere.StateInstallFailed}, spec("1.0.0", ""), true},
		{"uninstalling", kubesphere.InstallationStatus{State: kubesphere.StateUninstalling}, spec("2.0.0", ""), false},
	}
	for _, tt := range tests {
		if got := willAct(tt.spec, "", tt.st); got != tt.want {
			t.Errorf("%s: willAct = %v, want %v", tt.name, got, tt.want)
		}
	}
	plan := &kubesphere.InstallPlan{ObjectMeta: metav1.ObjectMeta{Name: "x"}, Spec: *spec("1.1.0", "a: 1\n"),
		Status: kubesphere.InstallPlanStatus{InstallationStatus: looping}}
	if msg := UpgradeLoop(&plan.Spec, looping); !strings.Contains(msg, "KubeSphere retries this upgrade until the version or config changes") || !strings.Contains(msg, "so 1.0.0 stays deployed") {
		t.Errorf("UpgradeLoop: %q", msg)
	}
	if got := stalledReleases(plan, spec("1.0.0", "a: 1\n")); len(got) != 1 {
		t.Errorf("stalledReleases = %q, want the host release", got)
	}
	if got := deployedVersion(plan); got != "1.0.0" {
		t.Errorf("deployedVersion = %q", got)
	}
}

func TestUnsatisfied(t *testing.T) {
	tests := []struct{ constraint, version, want string }{
		{">=1.19.0-0", "v1.36.3", ""},
		{">=4.1.0-0", "v4.1.3-20240101", ""},
		{">=4.1.0", "v4.1.3-dev", `version v4.1.3-dev does not satisfy ">=4.1.0" (a pre-release version only matches constraints ending in -0`},
		{"~~1", "1.0.0", `the constraint "~~1" is invalid`},
		{">=1.0.0", "latest", `its version "latest" is not a semantic version`},
	}
	for _, tt := range tests {
		got := unsatisfied(tt.constraint, tt.version)
		if tt.want == "" && got != "" || !strings.Contains(got, tt.want) {
			t.Errorf("unsatisfied(%q, %q) = %q, want %q", tt.constraint, tt.version, got, tt.want)
		}
	}
}

// fakeClient is a Client whose core API is client-go's fake clientset,
// with KubeSphere's controller Deployment running.
func fakeClient(objects ...runtime.Object) (*Client, *fake.Clientset) {
	controller := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ControllerDeployment.Namespace, Name: ControllerDeployment.Name},
		Status: appsv1.DeploymentStatus{ReadyReplicas: 1}}
	cs := fake.NewSimpleClientset(append(objects, controller)...)
	return &Client{Server: "https://k8s.example:6443", core: cs, opts: ConnectOptions{Context: "dev"}, controller: ControllerDeployment}, cs
}

func failedPlan() *kubesphere.InstallPlan {
	return &kubesphere.InstallPlan{
		ObjectMeta: metav1.ObjectMeta{Name: "x", ResourceVersion: "2"},
		Spec:       kubesphere.InstallPlanSpec{Extension: kubesphere.ExtensionRef{Name: "x", Version: "1.0.0"}},
		Status: kubesphere.InstallPlanStatus{InstallationStatus: kubesphere.InstallationStatus{
			State: kubesphere.StateInstallFailed, ConfigHash: "abc", TargetNamespace: "extension-x", JobName: "helm-install-x-abcdef",
			Conditions: []metav1.Condition{{Type: "Installed", Status: "False", Reason: "InstallFailed", Message: "Job has reached the specified backoff limit"}},
		}},
	}
}

func TestDiagnoseReadsLogs(t *testing.T) {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "helm-install-x-abcdef-p1", Namespace: "extension-x", Labels: map[string]string{"job-name": "helm-install-x-abcdef"}},
		Spec: corev1.PodSpec{NodeName: "node1", InitContainers: []corev1.Container{{Name: "init"}},
			Containers: []corev1.Container{{Name: "helm"}}},
	}
	job := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "helm-install-x-abcdef", Namespace: "extension-x"},
		Status: batchv1.JobStatus{Conditions: []batchv1.JobCondition{{Type: batchv1.JobFailed, Status: corev1.ConditionTrue, Reason: "BackoffLimitExceeded",
			LastTransitionTime: metav1.NewTime(time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC))}}}}
	c, _ := fakeClient(pod, job)
	d := c.Diagnose(context.Background(), failedPlan(), "")
	if d.JobStatus != "failed at 2025-01-02T03:04:05Z: BackoffLimitExceeded" {
		t.Errorf("job status %q", d.JobStatus)
	}
	// The fake clientset answers every log request with "fake logs".
	if len(d.Logs) != 2 || d.Logs[0].Container != "init" || d.Logs[1].Container != "helm" || d.Logs[1].Log != "fake logs" || d.LogsUnavailable != "" {
		t.Errorf("logs %+v, unavailable %q", d.Logs, d.LogsUnavailable)
	}
	if d.LogsCommand != "kubectl --context dev logs -n extension-x -l job-name=helm-install-x-abcdef --all-containers --tail=100" {
		t.Errorf("command %q", d.LogsCommand)
	}
}

func TestDiagnoseWithoutLogs(t *testing.T) {
	c, cs := fakeClient()
	d := c.Diagnose(context.Background(), failedPlan(), "")
	if !strings.HasPrefix(d.JobStatus, "not found") || !strings.Contains(d.LogsUnavailable, "no pods with label job-name=helm-install-x-abcdef") {
		t.Errorf("diagnosis %+v", d)
	}
	cs.PrependReactor("list", "pods", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, errors.New(`pods is forbidden: User "dev" cannot list resource "pods"`)
	})
	d = c.Diagnose(context.Background(), failedPlan(), "")
	if !strings.Contains(d.LogsUnavailable, "cannot list the job's pods: pods is forbidden") {
		t.Errorf("forbidden: %q", d.LogsUnavailable)
	}
}

// tracked runs a tracker over successive versions of a plan.
func tracked(t *testing.T, c *Client, exp Expectation, start *kubesphere.InstallPlan, steps ...*kubesphere.InstallPlan) (bool, error, []Event) {
	t.Helper()
	var events []Event
	opts := WaitOptions{Notify: func(e Event) { events = append(events, e) }}
	opts.defaults()
	tr := newTracker(start, exp, opts)
	done, err := tr.installVerdict(context.Background(), c, start)
	for _, p := range steps {
		if done || err != nil {
			break
		}
		done, err = tr.installVerdict(context.Background(), c, p)
	}
	return done, err, events
}

func planIn(rv, state, hash string) *kubesphere.InstallPlan {
	p := failedPlan()
	p.ResourceVersion, p.Status.State, p.Status.ConfigHash, p.Status.Version = rv, state, hash, "1.0.0"
	p.Status.JobName = ""
	return p
}

func TestTrackerSemantics(t *testing.T) {
	c, _ := fakeClient()
	installed := planIn("1", kubesphere.StateInstalled, "h")

	// A change is expected: the old Installed does not count until
	// KubeSphere starts on it.
	done, err, _ := tracked(t, c, Expectation{Host: true}, installed, planIn("2", kubesphere.StateInstalled, "h"))
	if done || err != nil {
		t.Errorf("stale Installed: done=%v err=%v", done, err)
	}
	done, err, events := tracked(t, c, Expectation{Host: true}, installed,
		planIn("2", kubesphere.StatePreparing, "h"), planIn("3", kubesphere.StateUpgrading, "h2"), planIn("4", kubesphere.StateInstalled, "h2"))
	if !done || err != nil || len(events) != 4 {
		t.Errorf("upgrade: done=%v err=%v events=%+v", done, err, events)
	}

	// InstallFailed without a config hash: no job was created, KubeSphere
	// retries.
	done, err, events = tracked(t, c, Expectation{Host: true}, planIn("1", "", ""),
		planIn("2", kubesphere.StatePreparing, ""), planIn("3", kubesphere.StateInstallFailed, ""))
	if done || err != nil || !strings.Contains(events[len(events)-1].Detail, "KubeSphere retries") {
		t.Errorf("transient failure: done=%v err=%v events=%+v", done, err, events)
	}
	// With a hash it is final.
	_, err, _ = tracked(t, c, Expectation{Host: true}, planIn("1", "", ""),
		planIn("2", kubesphere.StatePreparing, ""), planIn("3", kubesphere.StateInstallFailed, "h"))
	var failed *FailedError
	if !errors.As(err, &failed) || failed.State != kubesphere.StateInstallFailed {
		t.Errorf("final failure: %v", err)
	}

	// Installed at another version than planned is not done.
	stale := planIn("2", kubesphere.StateInstalled, "h")
	stale.Status.Version = "0.9.0"
	if done, _, _ := tracked(t, c, Expectation{}, stale); done {
		t.Error("Installed at the old version counted as done")
	}
}

// A release that stays Installing after its job finished is clock skew once
// SkewGrace has passed on the wait's clock; before, and at a timeout, the
// finished job is what the error says.
func TestSkewGraceUsesTheClock(t *testing.T) {
	finished := metav1.NewTime(time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC))
	job := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "helm-install-x-abcdef", Namespace: "extension-x"},
		Status: batchv1.JobStatus{CompletionTime: &finished, Conditions: []batchv1.JobCondition{{Type: batchv1.JobComplete, Status: corev1.ConditionTrue}}}}
	c, _ := fakeClient(job)
	plan := planIn("2", kubesphere.StateInstalling, "h")
	plan.Status.JobName = job.Name
	clk := clocktesting.NewFakeClock(time.Date(2025, 1, 2, 3, 0, 0, 0, time.UTC))
	opts := WaitOptions{Clock: clk, Timeout: 15 * time.Second}
	opts.defaults()
	tr := newTracker(plan, Expectation{}, opts)
	ctx := context.Background()
	if _, err := tr.installVerdict(ctx, c, plan); err != nil {
		t.Fatalf("at once: %v", err)
	}
	clk.Step(opts.SkewGrace - time.Second)
	if _, err := tr.installVerdict(ctx, c, plan); err != nil {
		t.Fatalf("within the grace: %v", err)
	}
	timeout := tr.timeoutError(c)(ctx, plan)
	if timeout.ClockSkew == nil || !strings.Contains(timeout.Error(), "timed out after 15s waiting for x: x: the executor job helm-install-x-abcdef succeeded at 2025-01-02T03:04:05Z (cluster clock), but the InstallPlan still says Installing") {
		t.Errorf("timeout: %v", timeout)
	}
	clk.Step(time.Second)
	_, err := tr.installVerdict(ctx, c, plan)
	var skew *ClockSkewError
	if !errors.As(err, &skew) || !skew.JobSucceeded || !strings.Contains(err.Error(), "NTP") {
		t.Errorf("after the grace: %v", err)
	}
}

// client-go's kubeconfig errors become one line: a missing context lists
// the contexts, an unusable one drops client-go's brackets.
func TestConnectErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "kubeconfig")
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["c"] = &clientcmdapi.Cluster{Server: "https://127.0.0.1:1"}
	cfg.AuthInfos["u"] = &clientcmdapi.AuthInfo{Token: "x"}
	cfg.Contexts["dev"] = &clientcmdapi.Context{Cluster: "c", AuthInfo: "u"}
	cfg.AuthInfos["two"] = &clientcmdapi.AuthInfo{Token: "x", Username: "a", Password: "b"}
	cfg.Contexts["broken"] = &clientcmdapi.Context{Cluster: "c", AuthInfo: "two"}
	cfg.CurrentContext = "dev"
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	_, err := Connect(ConnectOptions{Kubeconfig: path, Context: "prod"})
	var noCtx *ContextNotFoundError
	if !errors.As(err, &noCtx) || err.Error() != `context "prod" is not in the kubeconfig (contexts: broken, dev)` {
		t.Errorf("missing context: %v", err)
	}
	_, err = Connect(ConnectOptions{Kubeconfig: path, Context: "broken"})
	var bad *KubeconfigError
	if !errors.As(err, &bad) || strings.Contains(err.Error(), "\n") || !strings.HasPrefix(err.Error(), "the kubeconfig is unusable: more than one authentication method") {
		t.Errorf("unusable context: %v", err)
	}
}
