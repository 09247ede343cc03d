package cluster_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/util/retry"

	"github.com/ksbuilder/ksbuilder/create"
	"github.com/ksbuilder/ksbuilder/internal/testcontroller"
	"github.com/ksbuilder/ksbuilder/pkg/cluster"
	"github.com/ksbuilder/ksbuilder/pkg/kubesphere"
)

// An upgrade Helm refuses before recording a revision (the new version
// adds an object that exists outside the release) makes KubeSphere loop on
// new upgrade jobs: the upgrade fails saying so, status says so, and going
// back to the deployed version, which KubeSphere by its own rule would not
// act on, re-runs with the retry comment and ends Installed.
func TestUpgradeRefusedByHelm(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	ctx := testContext(t)
	const name, ns = "looper", "extension-looper"
	dir := scaffold(t, name, create.Frontend)
	mustInstall(t, c, dir, cluster.InstallOptions{})
	cs, _ := kube(t)
	taken := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "looper-taken", Namespace: ns}}
	if _, err := cs.CoreV1().ConfigMaps(ns).Create(ctx, taken, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	edit(t, dir, "charts/frontend/templates/taken.yaml", func(string) string {
		return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: looper-taken\n"
	})
	setVersion(t, dir, "0.1.1")
	_, _, err := install(t, c, dir, cluster.InstallOptions{Upgrade: true})
	var failed *cluster.FailedError
	if !errors.As(err, &failed) || failed.State != kubesphere.StateUpgradeFailed ||
		!strings.Contains(failed.Hint, "KubeSphere retries this upgrade until the version or config changes") || !strings.Contains(failed.Hint, "upgrade back to 0.1.0") {
		t.Fatalf("got %v (hint %q), want UpgradeFailed saying KubeSphere loops", err, hintOf(failed))
	}
	for {
		plan, err := c.Plan(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if st := cluster.StatusOf(plan); st.Retrying != "" {
			break
		}
		if ctx.Err() != nil {
			t.Fatal("status never said the upgrade loops")
		}
		time.Sleep(100 * time.Millisecond)
	}

	res, err := c.Install(ctx, cluster.InstallOptions{Name: name, Version: "0.1.0", Upgrade: true})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(res.Retry, "# ksbuilder-retry: 1") || !res.Expect.Host {
		t.Errorf("retry %q, expect %+v: want the retry comment set and the host release expected", res.Retry, res.Expect)
	}
	for _, w := range res.Warnings {
		if strings.Contains(w, "downgrading") {
			t.Errorf("going back to the deployed version warned %q", w)
		}
	}
	plan, err := c.Wait(ctx, res.Plan, res.Expect, waitOptions(t, nil))
	if err != nil || plan.Status.State != kubesphere.StateInstalled || plan.Status.Version != "0.1.0" {
		t.Fatalf("back to 0.1.0: %v", err)
	}
	if err := uninstall(t, c, name, false); err != nil {
		t.Fatal(err)
	}
}

func hintOf(e *cluster.FailedError) string {
	if e == nil {
		return ""
	}
	return e.Hint
}

// KubeSphere reads a release's outcome from Helm's record, written before
// the executor job ends: a failure report waits for the job, so it does not
// say "running", and a success ends the wait when the job does, without
// waiting for the next periodic read.
func TestOutcomeBeforeJobEnds(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	ctx := testContext(t)
	const name = "latejob"
	controller.SetBehaviour(name, testcontroller.Behaviour{JobEndDelay: 2 * time.Second})
	dir := scaffold(t, name, create.Frontend)
	opts := waitOptions(t, nil)
	opts.Interval = time.Hour // only the watches can end the wait
	res, err := c.Install(ctx, cluster.InstallOptions{Publication: publication(t, dir)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Wait(ctx, res.Plan, res.Expect, opts); err != nil {
		t.Fatalf("install: %v", err)
	}

	edit(t, dir, "charts/frontend/templates/bad.yaml", func(string) string {
		return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Not_A_Valid_Name\n"
	})
	setVersion(t, dir, "0.1.1")
	res, err = c.Install(ctx, cluster.InstallOptions{Publication: publication(t, dir), Upgrade: true})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Wait(ctx, res.Plan, res.Expect, opts)
	var failed *cluster.FailedError
	if !errors.As(err, &failed) {
		t.Fatalf("got %v, want a failure", err)
	}
	if !strings.HasPrefix(failed.Diagnosis.JobStatus, "failed") {
		t.Errorf("job %s: %q, want the failure reported once its job failed", failed.Diagnosis.Job, failed.Diagnosis.JobStatus)
	}
	if err := uninstall(t, c, name, false); err != nil {
		t.Fatal(err)
	}
}

// KubeSphere writes Preparing, creates the executor job, then records it
// with a second write: a spec written in between makes that write conflict
// and leaves the release Preparing for good. Install waits out Preparing
// before it writes the spec.
func TestInstallWaitsOutPreparing(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	ctx := testContext(t)
	const name = "prepwait"
	dir := scaffold(t, name, create.Frontend)
	mustInstall(t, c, dir, cluster.InstallOptions{})
	controller.SetBehaviour(name, testcontrollerStall)
	_, dyn := kube(t)
	plans := dyn.Resource(kubesphere.GroupVersion.WithResource(kubesphere.ResourceInstallPlans))
	setState := func(state string) {
		t.Helper()
		err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
			u, err := plans.Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			if err := unstructured.SetNestedField(u.Object, state, "status", "state"); err != nil {
				return err
			}
			_, err = plans.Update(ctx, u, metav1.UpdateOptions{})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	setState(kubesphere.StatePreparing)

	done := make(chan error, 1)
	go func() {
		_, err := c.Install(ctx, cluster.InstallOptions{Name: name, Version: "0.1.0", Upgrade: true,
			Values: map[string]any{"frontend": map[string]any{"replicaCount": 2}}})
		done <- err
	}()
	// Install's checks take a moment; while the plan stays Preparing, the
	// spec must stay as it was.
	for range 10 {
		select {
		case err := <-done:
			t.Fatalf("Install returned (%v) while the plan was Preparing", err)
		case <-time.After(100 * time.Millisecond):
		}
		plan, err := c.Plan(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(plan.Spec.Config, "replicaCount") {
			t.Fatalf("the spec was written while the plan was Preparing: %q", plan.Spec.Config)
		}
	}
	setState(kubesphere.StateInstalled)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	plan, err := c.Plan(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(plan.Spec.Config, "replicaCount: 2") {
		t.Errorf("config %q, want the new values once the plan left Preparing", plan.Spec.Config)
	}
}
