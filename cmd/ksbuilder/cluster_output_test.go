package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/ksbuilder/ksbuilder/internal/testutil/golden"
	"github.com/ksbuilder/ksbuilder/pkg/cluster"
	"github.com/ksbuilder/ksbuilder/pkg/iostreams"
)

func TestProgressLines(t *testing.T) {
	ios, _, _, stderr := iostreams.Test()
	p := newProgress(newFactory(ios, "test"), "hello")
	at := time.Date(2025, 6, 1, 14, 2, 11, 0, time.UTC)
	p.Event(cluster.Event{Time: at, State: "Installing", Detail: "job helm-install-hello-x7k2p9"})
	p.Event(cluster.Event{Time: at, Cluster: "member1", State: "Installed", Detail: "version 0.1.0"})
	p.Event(cluster.Event{Time: at, Detail: "KubeSphere has not acted on InstallPlan hello for 2m0s"})
	p.Close()
	want := "14:02:11 hello: Installing (job helm-install-hello-x7k2p9)\n" +
		"14:02:11 hello (agent on member1): Installed (version 0.1.0)\n" +
		"14:02:11 warning: KubeSphere has not acted on InstallPlan hello for 2m0s\n"
	if stderr.String() != want {
		t.Errorf("got\n%s\nwant\n%s", stderr, want)
	}
}

func TestFailureReport(t *testing.T) {
	ios, _, _, stderr := iostreams.Test()
	f := newFactory(ios, "test")
	at := metav1.NewTime(time.Date(2025, 6, 1, 14, 2, 12, 0, time.UTC))
	err := reportWaitError(f, "broken", &cluster.FailedError{
		Name: "broken", State: "InstallFailed", Hint: "fix it",
		Diagnosis: &cluster.Diagnosis{
			State: "InstallFailed", Namespace: "extension-broken", Job: "helm-install-broken-abc123", JobStatus: "failed at 2025-06-01T14:02:12Z: BackoffLimitExceeded",
			Conditions:  []metav1.Condition{{Type: "Installed", Status: "False", Reason: "InstallFailed", Message: "Job has reached\n the specified backoff limit", LastTransitionTime: at}},
			Logs:        []cluster.PodLog{{Pod: "helm-install-broken-abc123-x1", Container: "helm", Log: "history.go:56: getting history\nError: INSTALLATION FAILED\n"}},
			LogsCommand: "kubectl logs -n extension-broken -l job-name=helm-install-broken-abc123 --all-containers --tail=100",
			ImagePull: []cluster.ImagePullError{{Pod: "helm-install-broken-abc123-x1", Container: "helm", Image: "kubesphere/kubectl:v1.27.16",
				Node: "node-7", Reason: "ImagePullBackOff", Message: "Back-off pulling image"}},
		},
	})
	if exitCode(err) != exitFailure {
		t.Errorf("exit code %d", exitCode(err))
	}
	golden.Assert(t, stderr.Bytes(), "testdata/failure-report.golden")
}

// status lists the executor images that cannot be pulled, with the fix.
func TestStatusImagePull(t *testing.T) {
	var b strings.Builder
	st := &cluster.PlanStatus{Name: "hello", Extension: "hello", PlannedVersion: "0.1.0", ReleaseStatus: cluster.ReleaseStatus{State: "Installing"},
		ImagePull: []cluster.ImagePullError{{Pod: "p", Container: "helm-init", Hook: true, Image: "example.com/hook:v1", Node: "n1", Reason: "ErrImagePull"}}}
	if err := writeStatusText(&b, st); err != nil {
		t.Fatal(err)
	}
	want := "Image pull errors:\n  the executor hook image example.com/hook:v1 cannot be pulled on node n1 (pod p, container helm-init: ErrImagePull): mirror it"
	if !strings.Contains(b.String(), want) {
		t.Errorf("got\n%s\nwant it to contain\n%s", b.String(), want)
	}
}

// status lists the extension's objects of KubeSphere's kinds with their
// state and what each serves.
func TestStatusObjects(t *testing.T) {
	var b strings.Builder
	st := &cluster.PlanStatus{Name: "hello", Extension: "hello", PlannedVersion: "0.1.0", ReleaseStatus: cluster.ReleaseStatus{State: "Installed"},
		Objects: []cluster.ObjectStatus{
			{Kind: "JSBundle", Name: "hello", State: "Available", Serves: "/dist/hello/index.js"},
			{Kind: "APIService", Name: "v1alpha1.hello", State: "None", Serves: "/kapis/hello.kubesphere.io/v1alpha1"},
		}}
	if err := writeStatusText(&b, st); err != nil {
		t.Fatal(err)
	}
	want := "Served by KubeSphere:\n" +
		"  JSBundle       hello                    Available /dist/hello/index.js\n" +
		"  APIService     v1alpha1.hello           None      /kapis/hello.kubesphere.io/v1alpha1\n"
	if !strings.Contains(b.String(), want) {
		t.Errorf("got\n%s\nwant it to contain\n%s", b.String(), want)
	}
}

func TestIsPath(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "hello"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	for arg, want := range map[string]bool{"hello": true, "other": false, "./other": true, "x.tgz": true, ".": true, "my-ext": false} {
		if got := isPath(arg); got != want {
			t.Errorf("isPath(%q) = %v, want %v", arg, got, want)
		}
	}
}

// A live event sets the live line without printing; a timeout where
// KubeSphere never started says so instead of "may still finish"; a
// controller that is down points at doctor.
func TestWaitingReports(t *testing.T) {
	ios, _, _, stderr := iostreams.Test()
	f := newFactory(ios, "test")
	p := newProgress(f, "hello")
	p.Event(cluster.Event{Time: time.Now(), Live: "waiting for KubeSphere to pick up InstallPlan hello"})
	if p.current != "waiting for KubeSphere to pick up InstallPlan hello" || stderr.Len() != 0 {
		t.Errorf("live line %q, printed %q", p.current, stderr)
	}
	if got := clockDuration(42 * time.Second); got != "0:42" {
		t.Errorf("clockDuration = %q", got)
	}
	p.Close()
	_ = reportWaitError(f, "hello", &cluster.TimeoutError{Name: "hello", After: 10 * time.Minute, Untouched: true})
	if s := stderr.String(); strings.Contains(s, "may still finish") || !strings.Contains(s, "KubeSphere never started on the plan") {
		t.Errorf("timeout report:\n%s", s)
	}
	stderr.Reset()
	_ = reportWaitError(f, "hello", &cluster.ControllerDownError{Deployment: cluster.ControllerDeployment, Desired: 1})
	if s := stderr.String(); !strings.Contains(s, "has 0/1 ready replicas") || !strings.Contains(s, "ksbuilder doctor") {
		t.Errorf("controller report:\n%s", s)
	}
}

// Cluster errors come in one line with the fix: a missing context names
// the flag and the contexts, a placement problem names --cluster NAME, a
// forbidden request points at doctor.
func TestClusterErrorWording(t *testing.T) {
	forbidden := apierrors.NewForbidden(schema.GroupResource{Group: "kubesphere.io", Resource: "installplans"}, "hello", errors.New(`User "dev" cannot create resource "installplans"`))
	tests := []struct {
		err  error
		want []string
	}{
		{&cluster.ContextNotFoundError{Name: "prod", Known: []string{"dev", "test"}, Explicit: true}, []string{"--context prod: no such context in the kubeconfig (contexts: dev, test)"}},
		{&cluster.CheckError{Name: "net", Version: "1.0.0", Problems: []string{`cluster "x" not found (clusters: host)`}, Clusters: []string{"host"}}, []string{"--cluster NAME", "clusters that take agents: host"}},
		{fmt.Errorf("creating InstallPlan hello: %w", forbidden), []string{"cannot create resource", `"ksbuilder doctor" lists every permission`}},
	}
	for _, tt := range tests {
		msg := clusterError(tt.err).Error()
		if strings.Contains(msg, "\n") {
			t.Errorf("%q is not one line", msg)
		}
		for _, w := range tt.want {
			if !strings.Contains(msg, w) {
				t.Errorf("%q does not contain %q", msg, w)
			}
		}
	}
}
