package verify_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/ksbuilder/ksbuilder/create"
	"github.com/ksbuilder/ksbuilder/internal/testcontroller"
	"github.com/ksbuilder/ksbuilder/internal/testutil/testcluster"
	"github.com/ksbuilder/ksbuilder/pkg/cluster"
	"github.com/ksbuilder/ksbuilder/pkg/kubesphere/multicluster"
	"github.com/ksbuilder/ksbuilder/pkg/packager"
	"github.com/ksbuilder/ksbuilder/pkg/source"
	"github.com/ksbuilder/ksbuilder/pkg/verify"
)

// testEnv is the control plane shared by this package's tests, and
// controller the test controller playing KubeSphere's.
var (
	testEnv    *testcluster.Env
	controller *testcontroller.Controller
)

func TestMain(m *testing.M) {
	os.Exit(testcontroller.RunTests(m, func(env *testcluster.Env, c *testcontroller.Controller) { testEnv, controller = env, c }))
}

// bundleTemplate adds a JSBundle to the scaffold's backend chart.
const bundleTemplate = `apiVersion: extensions.kubesphere.io/v1alpha1
kind: JSBundle
metadata:
  name: {{ .Release.Name }}-bundle
spec:
  raw: ZXhwb3J0IGRlZmF1bHQge30K
`

// testHookTemplate is a Helm test hook Pod; its delete policy is set per
// test.
const testHookTemplate = `apiVersion: v1
kind: Pod
metadata:
  name: {{ .Release.Name }}-test-%s
  annotations:
    helm.sh/hook: test
    helm.sh/hook-delete-policy: %s
spec:
  restartPolicy: Never
  containers:
    - name: check
      image: busybox:1.36
      command: ["wget", "-qO-", "http://backend/healthz"]
`

// fixture is an installed extension and the clients that play the
// kubelet and KubeSphere's controllers for it.
type fixture struct {
	t      *testing.T
	ctx    context.Context
	name   string
	ns     string
	client *cluster.Client
	kube   kubernetes.Interface
	dyn    dynamic.Interface
	logs   *fakeLogs
}

// installExtension scaffolds a backend extension (its agent release
// NAME-agent has a Deployment, a Service and an APIService), adds files to
// its backend chart, installs it with the test controller (the agent on the
// host cluster, bent by b) and waits until it is Installed.
func installExtension(t *testing.T, name string, templates map[string]string, b testcontroller.Behaviour) *fixture {
	return installOn(t, name, templates, b, nil)
}

// installOn is installExtension placing the agent on clusters (none: the
// host).
func installOn(t *testing.T, name string, templates map[string]string, b testcontroller.Behaviour, clusters []string) *fixture {
	t.Helper()
	cfg := testEnv.Require(t)
	controller.SetBehaviour(name, b)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	dir := filepath.Join(t.TempDir(), name)
	if _, err := create.Create(context.Background(), create.Options{Name: name, Category: "dev-tools", Author: "Test", Type: create.Backend, Dir: dir}); err != nil {
		t.Fatal(err)
	}
	perms := filepath.Join(dir, "permissions.yaml")
	data, err := os.ReadFile(perms)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(perms, []byte(strings.Replace(string(data), `- "apiservices"`, `- "apiservices"`+"\n      - jsbundles\n      - reverseproxies", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	for file, text := range templates {
		if err := os.WriteFile(filepath.Join(dir, "charts", "backend", "templates", file), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	src, err := source.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	pkg, err := packager.Build(src, packager.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := cluster.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	out, err := cluster.Install(ctx, cluster.InstallRequest{Target: cluster.Target{Client: c}, Package: pkg, Created: time.Now(),
		InstallOptions: cluster.InstallOptions{Clusters: clusters},
		Wait:           cluster.WaitOptions{Timeout: time.Minute, Interval: 100 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, ctx: ctx, name: name, ns: out.Final.Status.TargetNamespace, client: c, kube: kube, dyn: dyn, logs: &fakeLogs{logs: map[string]string{}}}
}

// deployment returns the extension's only Deployment.
func (f *fixture) deployment() *appsv1.Deployment {
	f.t.Helper()
	list, err := f.kube.AppsV1().Deployments(f.ns).List(f.ctx, metav1.ListOptions{})
	if err != nil || len(list.Items) != 1 {
		f.t.Fatalf("want one Deployment in %s, got %v (%v)", f.ns, list, err)
	}
	return &list.Items[0]
}

// setDeployment writes the Deployment's status as its controller would:
// available replicas out of the spec's.
func (f *fixture) setDeployment(available int32) *appsv1.Deployment {
	f.t.Helper()
	d := f.deployment()
	d.Status.ObservedGeneration = d.Generation
	d.Status.Replicas, d.Status.UpdatedReplicas = *d.Spec.Replicas, *d.Spec.Replicas
	d.Status.ReadyReplicas, d.Status.AvailableReplicas = available, available
	d, err := f.kube.AppsV1().Deployments(f.ns).UpdateStatus(f.ctx, d, metav1.UpdateOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	return d
}

// addPod creates a pod of the Deployment on node-1 with the given
// container status, as the kubelet would report it.
func (f *fixture) addPod(d *appsv1.Deployment, name string, st corev1.ContainerStatus) {
	f.t.Helper()
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: f.ns, Labels: d.Spec.Selector.MatchLabels},
		Spec:       *d.Spec.Template.Spec.DeepCopy(),
	}
	pod.Spec.NodeName = "node-1"
	pod, err := f.kube.CoreV1().Pods(f.ns).Create(f.ctx, pod, metav1.CreateOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	st.Name, st.Image = pod.Spec.Containers[0].Name, pod.Spec.Containers[0].Image
	pod.Status.Phase = corev1.PodPending
	if st.State.Running != nil || st.State.Waiting != nil && st.State.Waiting.Reason == "CrashLoopBackOff" {
		pod.Status.Phase = corev1.PodRunning
	}
	pod.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionFalse}}
	pod.Status.ContainerStatuses = []corev1.ContainerStatus{st}
	if _, err := f.kube.CoreV1().Pods(f.ns).UpdateStatus(f.ctx, pod, metav1.UpdateOptions{}); err != nil {
		f.t.Fatal(err)
	}
}

// setState writes status.state of one of the extension's
// extensions.kubesphere.io objects, as KubeSphere does once installed.
func (f *fixture) setState(resource, name, state string) {
	f.t.Helper()
	gvr := schema.GroupVersionResource{Group: "extensions.kubesphere.io", Version: "v1alpha1", Resource: resource}
	obj, err := f.dyn.Resource(gvr).Get(f.ctx, name, metav1.GetOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	if err := unstructured.SetNestedField(obj.Object, state, "status", "state"); err != nil {
		f.t.Fatal(err)
	}
	if _, err := f.dyn.Resource(gvr).UpdateStatus(f.ctx, obj, metav1.UpdateOptions{}); err != nil {
		f.t.Fatal(err)
	}
}

// apiService is the scaffold's APIService.
func (f *fixture) apiService() string { return "v1alpha1." + f.name + ".kubesphere.io" }

// run runs the checks with short waits.
func (f *fixture) run(timeout time.Duration) *verify.Report {
	f.t.Helper()
	rep, err := verify.Run(f.ctx, f.client, verify.Options{Name: f.name, Timeout: timeout, Interval: 50 * time.Millisecond, Logs: f.logs})
	if err != nil {
		f.t.Fatal(err)
	}
	for _, r := range rep.Results {
		f.t.Logf("%-4s %s: %s", r.Status, r.Check, r.Reason)
		for _, l := range r.Logs {
			f.t.Logf("     %s", l)
		}
	}
	return rep
}

// result finds the result of a check whose name has the prefix.
func result(t *testing.T, rep *verify.Report, prefix string) verify.Result {
	t.Helper()
	for _, r := range rep.Results {
		if strings.HasPrefix(r.Check, prefix) {
			return r
		}
	}
	t.Fatalf("no check starting with %q", prefix)
	return verify.Result{}
}

// fakeLogs serves container logs the test sets, by "pod/container"; a
// previous run's log by "pod/container/previous".
type fakeLogs struct {
	mu   sync.Mutex
	logs map[string]string
}

func (l *fakeLogs) set(key, text string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.logs[key] = text
}

func (l *fakeLogs) Logs(_ context.Context, ref verify.ContainerRef, opts verify.LogOptions) (io.ReadCloser, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	key := ref.Pod + "/" + ref.Container
	if opts.Previous {
		key += "/previous"
	}
	text, ok := l.logs[key]
	if !ok {
		return nil, fmt.Errorf("no log for %s", key)
	}
	return io.NopCloser(strings.NewReader(text)), nil
}

func TestReadyExtensionPasses(t *testing.T) {
	f := installExtension(t, "vready", map[string]string{"bundle.yaml": bundleTemplate}, testcontroller.Behaviour{})
	f.setDeployment(1)
	rep := f.run(10 * time.Second)
	if !rep.OK() {
		t.Fatalf("want every check to pass, got %+v", rep.Summary)
	}
	for _, prefix := range []string{"InstallPlan vready is Installed", "Helm release " + f.ns + "/vready is deployed", "Helm release " + f.ns + "/vready-agent is deployed",
		"Deployment " + f.ns + "/", "APIService " + f.apiService() + " is Available", "JSBundle vready-agent-bundle is Available"} {
		if r := result(t, rep, prefix); r.Status != verify.Passed {
			t.Errorf("%s: %s %s", r.Check, r.Status, r.Reason)
		}
	}
	if rep.Summary.Passed != len(rep.Results) {
		t.Errorf("summary %+v does not count %d passed checks", rep.Summary, len(rep.Results))
	}
}

func TestImagePullFailureNamesImageAndNode(t *testing.T) {
	f := installExtension(t, "vpull", nil, testcontroller.Behaviour{})
	d := f.setDeployment(0)
	f.addPod(d, "vpull-backend-abc", corev1.ContainerStatus{State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{
		Reason: "ImagePullBackOff", Message: "Back-off pulling image"}}})
	rep := f.run(300 * time.Millisecond)
	r := result(t, rep, "Deployment "+f.ns+"/")
	image := d.Spec.Template.Spec.Containers[0].Image
	if r.Status != verify.Failed || !strings.Contains(r.Reason, "image "+image+" cannot be pulled on node node-1") ||
		!strings.Contains(r.Reason, "pod vpull-backend-abc") || !strings.Contains(r.Reason, "0 of 1 updated replicas are available") {
		t.Errorf("want a failure naming the pod, image %s and node, got %s: %s", image, r.Status, r.Reason)
	}
	if rep.OK() || result(t, rep, "APIService").Status != verify.Passed {
		t.Errorf("want the run to fail on the Deployment only, got %+v", rep.Summary)
	}
}

func TestCrashLoopNamesRestartsAndLogs(t *testing.T) {
	f := installExtension(t, "vcrash", nil, testcontroller.Behaviour{})
	d := f.setDeployment(0)
	f.logs.set("vcrash-backend-xyz/backend/previous", "starting\npanic: cannot open /data/db\n")
	f.addPod(d, "vcrash-backend-xyz", corev1.ContainerStatus{RestartCount: 7,
		State:                corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}},
		LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 2, Reason: "Error"}}})
	rep := f.run(300 * time.Millisecond)
	r := result(t, rep, "Deployment "+f.ns+"/")
	if r.Status != verify.Failed || !strings.Contains(r.Reason, "pod vcrash-backend-xyz container backend is in CrashLoopBackOff (restarted 7 times; last exit code 2 Error)") {
		t.Errorf("want a crash loop with its restart count, got %s: %s", r.Status, r.Reason)
	}
	var logs []string
	for _, l := range r.Logs {
		logs = append(logs, l.String())
	}
	if want := "host/vcrash-backend-xyz/backend panic: cannot open /data/db"; !strings.Contains(strings.Join(logs, "\n"), want) {
		t.Errorf("want the previous run's log line %q, got %q", want, logs)
	}

	// "ksbuilder logs --cluster host" reads the agent's pods, prefixed
	// stern-style; the executor's pod was never scheduled and has none.
	f.logs.set("vcrash-backend-xyz/backend", "starting\nlistening on :8080\n")
	var lines, problems []string
	err := verify.Logs(f.ctx, f.client, verify.LogsOptions{Name: "vcrash", Cluster: "host", Logs: f.logs,
		OnLine: func(l verify.LogLine) { lines = append(lines, l.String()) }, OnProblem: func(p string) { problems = append(problems, p) }})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"host/vcrash-backend-xyz/backend starting", "host/vcrash-backend-xyz/backend listening on :8080"}; !slices.Equal(lines, want) {
		t.Errorf("want log lines %q, got %q", want, lines)
	}
	if len(problems) != 1 || !strings.Contains(problems[0], "has not been scheduled to a node, so it has no logs") {
		t.Errorf("want the unscheduled executor pod reported, got %q", problems)
	}
}

func TestBundleNotAvailableFails(t *testing.T) {
	f := installExtension(t, "vbundle", map[string]string{"bundle.yaml": bundleTemplate}, testcontroller.Behaviour{NoObjectStates: true})
	f.setDeployment(1)
	f.setState("apiservices", f.apiService(), "Available")
	rep := f.run(300 * time.Millisecond)
	r := result(t, rep, "JSBundle vbundle-agent-bundle is Available")
	if r.Status != verify.Failed || !strings.Contains(r.Reason, "status.state is empty") {
		t.Errorf("want the bundle without a state to fail, got %s: %s", r.Status, r.Reason)
	}
	f.setState("jsbundles", "vbundle-agent-bundle", "Disabled")
	r = result(t, f.run(300*time.Millisecond), "JSBundle vbundle-agent-bundle is Available")
	if r.Status != verify.Failed || !strings.Contains(r.Reason, "Disabled") {
		t.Errorf("want a Disabled bundle to fail, got %s: %s", r.Status, r.Reason)
	}

	var buf bytes.Buffer
	if err := f.run(300 * time.Millisecond).WriteJUnit(&buf); err != nil {
		t.Fatal(err)
	}
	var suites verify.JUnitSuites
	if err := xml.Unmarshal(buf.Bytes(), &suites); err != nil {
		t.Fatalf("the JUnit report does not parse: %v\n%s", err, buf.String())
	}
	var failed []string
	cases := 0
	for _, s := range suites.Suites {
		cases += len(s.Cases)
		for _, c := range s.Cases {
			if c.Failure != nil {
				failed = append(failed, c.Name+": "+c.Failure.Message)
			}
		}
	}
	if suites.Failures != 1 || suites.Tests != cases || len(suites.Suites) != 2 {
		t.Errorf("want two suites (host release, agent) and one failure among %d cases, got %+v", cases, suites)
	}
	if len(failed) != 1 || !strings.HasPrefix(failed[0], "JSBundle vbundle-agent-bundle is Available: status.state is Disabled") {
		t.Errorf("want the bundle's failure in the JUnit report, got %q", failed)
	}
}

// finishPod writes a test hook pod's end, as the kubelet would, once the
// checks have created it (a pod other than the one with UID old).
func (f *fixture) finishPod(name string, old types.UID, phase corev1.PodPhase, exitCode int32) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		for f.ctx.Err() == nil {
			pod, err := f.kube.CoreV1().Pods(f.ns).Get(f.ctx, name, metav1.GetOptions{})
			if apierrors.IsNotFound(err) || err == nil && pod.UID == old {
				time.Sleep(20 * time.Millisecond)
				continue
			}
			if err != nil {
				f.t.Error(err)
				return
			}
			pod.Status.Phase = phase
			pod.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "check", Image: "busybox:1.36",
				State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: exitCode}}}}
			if _, err := f.kube.CoreV1().Pods(f.ns).UpdateStatus(f.ctx, pod, metav1.UpdateOptions{}); err != nil {
				f.t.Error(err)
			}
			return
		}
	}()
	return done
}

func TestTestHooks(t *testing.T) {
	f := installExtension(t, "vhooks", map[string]string{
		"test-ok.yaml":   fmt.Sprintf(testHookTemplate, "ok", "hook-succeeded"),
		"test-fail.yaml": fmt.Sprintf(testHookTemplate, "fail", "before-hook-creation"),
	}, testcontroller.Behaviour{})
	f.setDeployment(1)
	f.logs.set("vhooks-agent-test-fail/check", "wget: server returned error: HTTP/1.1 503 Service Unavailable\n")
	passed := f.finishPod("vhooks-agent-test-ok", "", corev1.PodSucceeded, 0)
	failed := f.finishPod("vhooks-agent-test-fail", "", corev1.PodFailed, 1)
	rep := f.run(10 * time.Second)
	<-passed
	<-failed
	ok := result(t, rep, "test hook Pod vhooks-agent-test-ok of release vhooks-agent succeeds")
	if ok.Status != verify.Passed {
		t.Errorf("want the succeeding hook to pass, got %s: %s", ok.Status, ok.Reason)
	}
	bad := result(t, rep, "test hook Pod vhooks-agent-test-fail of release vhooks-agent succeeds")
	if bad.Status != verify.Failed || !strings.Contains(bad.Reason, "container check exited with code 1") ||
		len(bad.Logs) != 1 || !strings.Contains(bad.Logs[0].Text, "503 Service Unavailable") {
		t.Errorf("want the failing hook to fail with its exit code and log, got %s: %s %v", bad.Status, bad.Reason, bad.Logs)
	}
	// hook-succeeded deleted the passing pod; before-hook-creation keeps
	// the failed one until the next run.
	if _, err := f.kube.CoreV1().Pods(f.ns).Get(f.ctx, "vhooks-agent-test-ok", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("want the passed hook pod deleted (hook-succeeded), got %v", err)
	}
	kept, err := f.kube.CoreV1().Pods(f.ns).Get(f.ctx, "vhooks-agent-test-fail", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("want the failed hook pod kept, got %v", err)
	}
	// A second run replaces the failed pod (before-hook-creation).
	again := f.finishPod("vhooks-agent-test-fail", kept.UID, corev1.PodSucceeded, 0)
	passedAgain := f.finishPod("vhooks-agent-test-ok", "", corev1.PodSucceeded, 0)
	rep = f.run(10 * time.Second)
	<-again
	<-passedAgain
	if r := result(t, rep, "test hook Pod vhooks-agent-test-fail"); r.Status != verify.Passed {
		t.Errorf("want the re-created hook to pass, got %s: %s", r.Status, r.Reason)
	}
}

// frontendExtension writes a HostOnly extension whose chart renders a
// JSBundle (the test controller makes it Available) and, with stuck, a
// Deployment that never becomes ready (no controller runs).
func frontendExtension(t *testing.T, name, version string, stuck bool) *packager.Package {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name+"-"+version)
	files := map[string]string{
		"extension.yaml": fmt.Sprintf(`apiVersion: kubesphere.io/v1alpha1
name: %s
version: %s
displayName: {en: Test}
description: {en: Test}
category: dev-tools
provider: {en: {name: Test}}
icon: https://example.com/icon.svg
dependencies:
  - name: frontend
    tags: [extension]
`, name, version),
		"permissions.yaml": `kind: ClusterRole
rules:
  - apiGroups: [extensions.kubesphere.io]
    resources: [jsbundles]
    verbs: [get, list, watch, create, update, patch, delete]
`,
		"charts/frontend/Chart.yaml":            "apiVersion: v2\nname: frontend\nversion: 0.1.0\n",
		"charts/frontend/templates/bundle.yaml": "apiVersion: extensions.kubesphere.io/v1alpha1\nkind: JSBundle\nmetadata:\n  name: " + name + "\nspec:\n  raw: ZXhwb3J0IGRlZmF1bHQge30K\n",
	}
	if stuck {
		files["charts/frontend/templates/deployment.yaml"] = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: "nginx:1.27"}]}
`
	}
	for file, text := range files {
		path := filepath.Join(dir, file)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	src, err := source.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	pkg, err := packager.Build(src, packager.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return pkg
}

// installRequest installs a package, waiting briefly.
func installRequest(pkg *packager.Package) *cluster.InstallRequest {
	return &cluster.InstallRequest{Package: pkg, Created: time.Now(), Wait: cluster.WaitOptions{Timeout: time.Minute, Interval: 100 * time.Millisecond}}
}

// requireGone checks that test left nothing of an extension behind.
func requireGone(t *testing.T, ctx context.Context, c *cluster.Client, name string) {
	t.Helper()
	if _, err := c.Plan(ctx, name); !errors.Is(err, cluster.ErrNotInstalled) {
		t.Errorf("want InstallPlan %s gone, got %v", name, err)
	}
	if exts, err := c.ListExtensions(ctx, ""); err != nil {
		t.Fatal(err)
	} else {
		for _, e := range exts {
			if e.Name == name {
				t.Errorf("want Extension %s unpublished, still there with versions %v", name, e.Versions)
			}
		}
	}
}

func TestUpgradeFromChecksBothVersionsAndCleansUp(t *testing.T) {
	cfg := testEnv.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := cluster.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	res, err := verify.Test(ctx, verify.Request{
		Target:      cluster.Target{Client: c},
		UpgradeFrom: installRequest(frontendExtension(t, "vupgrade", "0.1.0", false)),
		Install:     installRequest(frontendExtension(t, "vupgrade", "0.2.0", false)),
		Cleanup:     true,
		Options:     verify.Options{Timeout: 10 * time.Second, Interval: 50 * time.Millisecond},
	})
	if err != nil || res.CleanupErr != nil {
		t.Fatalf("test: %v; cleanup: %v", err, res.CleanupErr)
	}
	rep := res.Report
	if !rep.OK() || rep.Version != "0.2.0" {
		t.Fatalf("want every check of 0.1.0 and 0.2.0 to pass, got %+v", rep)
	}
	var phases []string
	for _, r := range rep.Results {
		if strings.HasPrefix(r.Check, "InstallPlan") {
			phases = append(phases, r.Phase+"|"+r.Reason)
		}
	}
	if want := []string{"before the upgrade, 0.1.0|version 0.1.0", "|version 0.2.0"}; !slices.Equal(phases, want) {
		t.Errorf("want the plan checked at 0.1.0, then at 0.2.0, got %q", phases)
	}
	requireGone(t, ctx, c, "vupgrade")
}

func TestCleanupAfterInterrupt(t *testing.T) {
	cfg := testEnv.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := cluster.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// Ctrl-C while waiting for a Deployment that never becomes ready.
	interrupted, interrupt := context.WithCancel(ctx)
	res, err := verify.Test(interrupted, verify.Request{
		Target:  cluster.Target{Client: c},
		Install: installRequest(frontendExtension(t, "vinterrupt", "0.1.0", true)),
		Cleanup: true,
		Options: verify.Options{Timeout: time.Minute, Interval: 50 * time.Millisecond, OnResult: func(r verify.Result) {
			if strings.HasPrefix(r.Check, "Helm release") {
				interrupt()
			}
		}},
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("want the run interrupted, got %v", err)
	}
	if res.CleanupErr != nil {
		t.Fatalf("cleanup: %v", res.CleanupErr)
	}
	for _, r := range res.Report.Results {
		if strings.HasPrefix(r.Check, "Deployment") {
			t.Errorf("an interrupted check is reported: %+v", r)
		}
	}
	requireGone(t, ctx, c, "vinterrupt")
}

func TestMemberClusterIsNotCheckedUnlessReached(t *testing.T) {
	cfg := testEnv.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	member := &multicluster.Cluster{
		TypeMeta:   metav1.TypeMeta{APIVersion: multicluster.GroupVersion.String(), Kind: "Cluster"},
		ObjectMeta: metav1.ObjectMeta{Name: "member1"},
		Status: multicluster.ClusterStatus{Conditions: []multicluster.ClusterCondition{{
			Type: multicluster.ConditionReady, Status: metav1.ConditionTrue, LastTransitionTime: metav1.Now(), Reason: "Ready"}}},
	}
	if err := testcluster.CreateCluster(ctx, cfg, member); err != nil {
		t.Fatal(err)
	}
	// The test controller installs member1's agent on the same API server.
	f := installOn(t, "vmember", nil, testcontroller.Behaviour{}, []string{"member1"})
	f.setDeployment(1)

	unreached := f.run(time.Second)
	r := result(t, unreached, "agent release vmember-agent on cluster member1")
	if r.Status != verify.NotChecked || r.Cluster != "member1" || unreached.Summary.NotChecked != 1 || !unreached.OK() {
		t.Errorf("want member1 not checked (and not a failure), got %s: %s, summary %+v", r.Status, r.Reason, unreached.Summary)
	}
	for _, res := range unreached.Results {
		if strings.HasPrefix(res.Check, "Deployment") {
			t.Errorf("a Deployment of an unreached cluster was checked: %+v", res)
		}
	}

	reached, err := verify.Run(f.ctx, f.client, verify.Options{Name: "vmember", Timeout: 10 * time.Second, Interval: 50 * time.Millisecond, Logs: f.logs,
		Member: func(_ context.Context, name string) (*rest.Config, error) {
			if name != "member1" {
				return nil, fmt.Errorf("unexpected cluster %s", name)
			}
			return cfg, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	if d := result(t, reached, "Deployment "+f.ns+"/"); d.Status != verify.Passed || d.Cluster != "member1" || reached.Summary.NotChecked != 0 {
		t.Errorf("want member1's Deployment checked and ready, got %s [%s]: %s", d.Status, d.Cluster, d.Reason)
	}
}

func TestPendingPodAndFailingProbeAreNamed(t *testing.T) {
	f := installExtension(t, "vprobe", nil, testcontroller.Behaviour{})
	d := f.setDeployment(0)
	// A pod the scheduler cannot place.
	pending := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "vprobe-backend-pending", Namespace: f.ns, Labels: d.Spec.Selector.MatchLabels},
		Spec: *d.Spec.Template.Spec.DeepCopy()}
	pending, err := f.kube.CoreV1().Pods(f.ns).Create(f.ctx, pending, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pending.Status.Phase = corev1.PodPending
	pending.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: "Unschedulable",
		Message: "0/3 nodes are available: 3 Insufficient cpu."}}
	if _, err := f.kube.CoreV1().Pods(f.ns).UpdateStatus(f.ctx, pending, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	// A running pod whose readiness probe fails, as the kubelet's event says.
	f.addPod(d, "vprobe-backend-running", corev1.ContainerStatus{State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}})
	event := &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: "vprobe-backend-running.1", Namespace: f.ns},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: f.ns, Name: "vprobe-backend-running"},
		Reason:         "Unhealthy", Message: "Readiness probe failed: HTTP probe failed with statuscode: 503", Type: corev1.EventTypeWarning,
		LastTimestamp: metav1.Now()}
	if _, err := f.kube.CoreV1().Events(f.ns).Create(f.ctx, event, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	r := result(t, f.run(300*time.Millisecond), "Deployment "+f.ns+"/")
	for _, want := range []string{
		"pod vprobe-backend-pending is Pending: 0/3 nodes are available: 3 Insufficient cpu.",
		"pod vprobe-backend-running container backend is running but not ready: Readiness probe failed: HTTP probe failed with statuscode: 503",
	} {
		if r.Status != verify.Failed || !strings.Contains(r.Reason, want) {
			t.Errorf("want the failure to say %q, got %s: %s", want, r.Status, r.Reason)
		}
	}
}
