package cluster_test

import (
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/ksbuilder/ksbuilder/pkg/cluster"
	"github.com/ksbuilder/ksbuilder/pkg/kubesphere"
)

// A plan being deleted that stays Uninstalling (here its ExtensionVersion
// is gone too, so KubeSphere never acts on it): uninstall refuses without
// --force; with it, the executor job is deleted, then the finalizer.
func TestForceClearsStuckUninstalling(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	ctx := testContext(t)
	cs, dyn := kube(t)
	ns, job := "extension-stuck", "helm-uninstall-stuck-q1w2e3"
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	j := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: job, Namespace: ns}, Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{
		Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever, Containers: []corev1.Container{{Name: "helm", Image: "kubesphere/kubectl:v1.27.16"}}},
	}}}
	if _, err := cs.BatchV1().Jobs(ns).Create(ctx, j, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	plans := dyn.Resource(kubesphere.GroupVersion.WithResource(kubesphere.ResourceInstallPlans))
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": kubesphere.GroupVersion.String(), "kind": "InstallPlan",
		"metadata": map[string]any{"name": "stuck", "finalizers": []any{kubesphere.FinalizerInstallPlan}},
		"spec":     map[string]any{"enabled": true, "extension": map[string]any{"name": "stuck", "version": "0.1.0"}},
		"status": map[string]any{"state": kubesphere.StateUninstalling, "targetNamespace": ns, "jobName": job,
			"releaseName": "stuck", "configHash": "abc"},
	}}
	if _, err := plans.Create(ctx, obj, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := plans.Delete(ctx, "stuck", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}

	if _, err := c.Uninstall(ctx, cluster.UninstallOptions{Name: "stuck"}); err == nil || !strings.Contains(err.Error(), "ExtensionVersion stuck-0.1.0 is missing") {
		t.Fatalf("without --force: %v", err)
	}

	rec := &recorder{}
	out, err := cluster.Uninstall(ctx, cluster.UninstallRequest{
		Target: cluster.Target{Client: c}, UninstallOptions: cluster.UninstallOptions{Name: "stuck", Force: true},
		Wait: waitOptions(t, nil), Progress: rec,
	})
	if err != nil || !out.Uninstalled {
		t.Fatalf("got %+v, %v", out, err)
	}
	if len(rec.warns) != 1 || !strings.Contains(rec.warns[0], "InstallPlan stuck was stuck in Uninstalling: deleted its executor job "+job+" in "+ns+", then removed its finalizer kubesphere.io/installplan-protection without KubeSphere finishing the uninstall") ||
		!strings.Contains(rec.warns[0], `helm uninstall stuck -n extension-stuck --no-hooks`) {
		t.Errorf("warnings %q", rec.warns)
	}
	if _, err := cs.BatchV1().Jobs(ns).Get(ctx, job, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("executor job: %v", err)
	}
	if _, err := plans.Get(ctx, "stuck", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("plan: %v", err)
	}
}
