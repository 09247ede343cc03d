package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

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
