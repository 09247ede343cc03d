package cluster_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/ksbuilder/ksbuilder/create"
	"github.com/ksbuilder/ksbuilder/pkg/cluster"
	"github.com/ksbuilder/ksbuilder/pkg/kubesphere"
)

// With KubeSphere's controller Deployment missing, install refuses before
// writing anything; with no ready replica, a wait ends at once instead of
// waiting for the timeout.
func TestControllerDown(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	c := newClient(t)
	c.SetControllerDeployment(types.NamespacedName{Namespace: kubesphere.SystemNamespace, Name: "ks-controller-manager-gone"})
	pub := publication(t, scaffold(t, "nocontroller", create.Frontend))
	_, err := c.Install(ctx, cluster.InstallOptions{Publication: pub})
	var check *cluster.CheckError
	if !errors.As(err, &check) || !strings.Contains(err.Error(), "deployment kubesphere-system/ks-controller-manager-gone not found, so nothing acts on InstallPlans") {
		t.Fatalf("got %v, want a refusal naming the missing controller", err)
	}
	if _, err := c.Plan(ctx, "nocontroller"); !errors.Is(err, cluster.ErrNotInstalled) {
		t.Errorf("a plan was written: %v", err)
	}

	cs, _ := kube(t)
	one := int32(1)
	labels := map[string]string{"app": "down"}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "ks-controller-manager-down"},
		Spec: appsv1.DeploymentSpec{Replicas: &one, Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "kubesphere/ks-controller-manager:v4.1.3"}}}}},
	}
	if _, err := cs.AppsV1().Deployments(kubesphere.SystemNamespace).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	c.SetControllerDeployment(types.NamespacedName{Namespace: kubesphere.SystemNamespace, Name: d.Name})
	plan := &kubesphere.InstallPlan{ObjectMeta: metav1.ObjectMeta{Name: "nocontroller"}}
	_, err = c.Wait(ctx, plan, cluster.Expectation{Host: true}, waitOptions(t, nil))
	var down *cluster.ControllerDownError
	if !errors.As(err, &down) || down.Missing || down.Desired != 1 || !strings.Contains(err.Error(), "has 0/1 ready replicas") {
		t.Fatalf("got %v, want the controller down", err)
	}
	if err := c.WaitDeleted(ctx, plan, waitOptions(t, nil)); !errors.As(err, &down) {
		t.Fatalf("uninstall wait: got %v, want the controller down", err)
	}
}

// A plan KubeSphere never acts on (here its ExtensionVersion is missing,
// so the controller ignores it): the wait says what it waits for from the
// start, warns after StuckAfter, and times out saying nothing is under way.
func TestNoReaction(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	c := newClient(t)
	_, dyn := kube(t)
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": kubesphere.GroupVersion.String(), "kind": "InstallPlan",
		"metadata": map[string]any{"name": "ignored"},
		"spec":     map[string]any{"enabled": true, "extension": map[string]any{"name": "ignored", "version": "0.1.0"}},
	}}
	if _, err := dyn.Resource(kubesphere.GroupVersion.WithResource(kubesphere.ResourceInstallPlans)).Create(ctx, obj, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	plan, err := c.Plan(ctx, "ignored")
	if err != nil {
		t.Fatal(err)
	}
	opts := waitOptions(t, nil)
	opts.Timeout, opts.StuckAfter = 10*time.Minute, 2*time.Minute
	clk, events, result := startWait(ctx, t, c, plan, cluster.Expectation{Host: true}, opts)
	awaitEvent(ctx, t, events, func(e cluster.Event) bool { return e.Live == "waiting for KubeSphere to pick up InstallPlan ignored" })
	clk.Step(opts.StuckAfter)
	awaitEvent(ctx, t, events, func(e cluster.Event) bool {
		return e.State == "" && strings.Contains(e.Detail, "KubeSphere has not acted on InstallPlan ignored for 2m0s")
	})
	clk.Step(opts.Timeout - opts.StuckAfter)
	err = awaitResult(ctx, t, result).err
	var timeout *cluster.TimeoutError
	if !errors.As(err, &timeout) || !timeout.Untouched {
		t.Fatalf("got %v, want a timeout with nothing under way", err)
	}
	if err := dyn.Resource(kubesphere.GroupVersion.WithResource(kubesphere.ResourceInstallPlans)).Delete(context.Background(), "ignored", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
}
