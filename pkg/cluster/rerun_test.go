package cluster_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/ksbuilder/ksbuilder/create"
	"github.com/ksbuilder/ksbuilder/internal/testcontroller"
	"github.com/ksbuilder/ksbuilder/pkg/cluster"
	"github.com/ksbuilder/ksbuilder/pkg/kubesphere"
)

// A failed installation is re-run, fails again, and is re-run again. The
// first re-run is an install job over a failed Helm release, so it makes
// revision 2: KubeSphere reads InstallFailed from the job and UpgradeFailed
// from the release. When the job fails within the second Helm stamped the
// release (usual: Helm fails in milliseconds; FailFast makes it so here),
// the state goes back and forth between the two until the state history
// holds nothing else, and stays UpgradeFailed. The next re-run is an upgrade: it must start a job
// and end with a FailedError (not wait until the timeout), and once the
// chart is fixed the installation succeeds.
func TestRerunAfterUpgradeFailed(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	const name = "rerun"
	dir := scaffold(t, name, create.Frontend)
	edit(t, dir, "charts/frontend/templates/bad.yaml", func(string) string {
		return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Not_A_Valid_Name\n"
	})
	_, _, err := install(t, c, dir, cluster.InstallOptions{})
	var failed *cluster.FailedError
	if !errors.As(err, &failed) || failed.State != kubesphere.StateInstallFailed {
		t.Fatalf("first attempt: got %v, want InstallFailed", err)
	}
	controller.SetBehaviour(name, testcontroller.Behaviour{FailFast: true})
	res, _, err := install(t, c, dir, cluster.InstallOptions{})
	if !errors.As(err, &failed) || res.Action != cluster.Configured {
		t.Fatalf("first re-run: got %v, want a FailedError", err)
	}
	job := failed.Diagnosis.Job
	awaitFlapped(testContext(t), t, name)

	// Re-running from UpgradeFailed upgrades: a new job, which fails.
	for i := 2; i <= 3; i++ {
		res, _, err = install(t, c, dir, cluster.InstallOptions{})
		if !errors.As(err, &failed) || res.Action != cluster.Configured {
			t.Fatalf("re-run %d: got %v, want a FailedError", i, err)
		}
		if !strings.Contains(res.Retry, "(rerun UpgradeFailed)") || failed.State != kubesphere.StateUpgradeFailed {
			t.Errorf("re-run %d: retry %q, state %s", i, res.Retry, failed.State)
		}
		if failed.Diagnosis.Job == job || !strings.HasPrefix(failed.Diagnosis.Job, "helm-upgrade-rerun-") {
			t.Errorf("re-run %d: job %s after %s, want a new upgrade job", i, failed.Diagnosis.Job, job)
		}
		job = failed.Diagnosis.Job
	}

	// Fixed, it installs.
	if err := os.Remove(filepath.Join(dir, "charts/frontend/templates/bad.yaml")); err != nil {
		t.Fatal(err)
	}
	if _, plan, err := install(t, c, dir, cluster.InstallOptions{}); err != nil || plan.Status.State != kubesphere.StateInstalled {
		t.Fatalf("after the fix: %v", err)
	}
	if err := uninstall(t, c, name, false); err != nil {
		t.Fatal(err)
	}
}

// awaitFlapped watches an InstallPlan until KubeSphere has stopped
// changing it after flapping between InstallFailed and UpgradeFailed: its
// state history (the last 10 changes) holds nothing else, and it says
// UpgradeFailed.
func awaitFlapped(ctx context.Context, t *testing.T, name string) {
	t.Helper()
	_, dyn := kube(t)
	w, err := dyn.Resource(kubesphere.GroupVersion.WithResource(kubesphere.ResourceInstallPlans)).Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=" + name})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	for ev := range w.ResultChan() {
		u, ok := ev.Object.(*unstructured.Unstructured)
		if !ok {
			t.Fatalf("watching InstallPlan %s: %v", name, ev.Object)
		}
		plan := &kubesphere.InstallPlan{}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, plan); err != nil {
			t.Fatal(err)
		}
		h := plan.Status.StateHistory
		flapped := len(h) == 10 && plan.Status.State == kubesphere.StateUpgradeFailed
		for _, s := range h {
			flapped = flapped && (s.State == kubesphere.StateInstallFailed || s.State == kubesphere.StateUpgradeFailed)
		}
		if flapped {
			return
		}
	}
	t.Fatalf("InstallPlan %s never settled on UpgradeFailed", name)
}
