package cluster_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/ksbuilder/ksbuilder/pkg/cluster"
	"github.com/ksbuilder/ksbuilder/pkg/kubesphere"
)

// executorPodPullingFails creates the pod of an executor job whose images
// cannot be pulled on node-7: no kubelet runs, so the status is written by
// hand through the status subresource.
func executorPodPullingFails(t *testing.T, ns, job string) {
	t.Helper()
	cs, _ := kube(t)
	ctx := testContext(t)
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: job + "-x1y2z", Namespace: ns, Labels: map[string]string{"job-name": job}},
		Spec: corev1.PodSpec{
			NodeName:       "node-7",
			InitContainers: []corev1.Container{{Name: "helm-init", Image: "registry.example.com/hooks/upgrade:v0.3.2"}},
			Containers:     []corev1.Container{{Name: "helm", Image: "kubesphere/kubectl:v1.27.16"}},
		},
	}
	created, err := cs.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	waiting := func(name, image, reason string) corev1.ContainerStatus {
		return corev1.ContainerStatus{Name: name, Image: image, State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{
			Reason: reason, Message: `Back-off pulling image "` + image + `"`}}}
	}
	created.Status = corev1.PodStatus{
		Phase:                 corev1.PodPending,
		InitContainerStatuses: []corev1.ContainerStatus{waiting("helm-init", "registry.example.com/hooks/upgrade:v0.3.2", "ErrImagePull")},
		ContainerStatuses:     []corev1.ContainerStatus{waiting("helm", "kubesphere/kubectl:v1.27.16", "ImagePullBackOff")},
	}
	if _, err := cs.CoreV1().Pods(ns).UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func checkPullErrors(t *testing.T, got []cluster.ImagePullError) {
	t.Helper()
	if len(got) != 2 {
		t.Fatalf("image pull errors %+v, want 2", got)
	}
	hook, main := got[0].Error(), got[1].Error()
	for _, want := range []string{"executor hook image registry.example.com/hooks/upgrade:v0.3.2 cannot be pulled on node node-7", "ErrImagePull",
		"executor-hook-image.kubesphere.io annotation", "crictl pull registry.example.com/hooks/upgrade:v0.3.2"} {
		if !strings.Contains(hook, want) {
			t.Errorf("hook image: %q lacks %q", hook, want)
		}
	}
	for _, want := range []string{"the executor image kubesphere/kubectl:v1.27.16 cannot be pulled on node node-7", "ImagePullBackOff",
		"mirror it into a registry the nodes can reach", "helmExecutor.image", "or pull it on node node-7"} {
		if !strings.Contains(main, want) {
			t.Errorf("executor image: %q lacks %q", main, want)
		}
	}
}

func TestExecutorImagePullFailure(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	ctx := testContext(t)
	ns, job := "extension-pullfail", "helm-install-pullfail-a1b2c3"
	executorPodPullingFails(t, ns, job)

	// An InstallPlan with no ExtensionVersion: KubeSphere (and the test
	// controller) leave it alone, so it stays Installing.
	_, dyn := kube(t)
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": kubesphere.GroupVersion.String(), "kind": "InstallPlan", "metadata": map[string]any{"name": "pullfail"},
		"spec":   map[string]any{"enabled": true, "extension": map[string]any{"name": "pullfail", "version": "0.1.0"}},
		"status": map[string]any{"state": kubesphere.StateInstalling, "targetNamespace": ns, "jobName": job, "configHash": "abc"},
	}}
	plans := dyn.Resource(kubesphere.GroupVersion.WithResource(kubesphere.ResourceInstallPlans))
	if _, err := plans.Create(ctx, obj, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = plans.Delete(context.Background(), "pullfail", metav1.DeleteOptions{}) })
	plan, err := c.Plan(ctx, "pullfail")
	if err != nil {
		t.Fatal(err)
	}

	// status
	checkPullErrors(t, c.ImagePullErrors(ctx, plan))
	st, err := cluster.Status(ctx, cluster.StatusRequest{Target: cluster.Target{Client: c}, Name: "pullfail"})
	if err != nil {
		t.Fatal(err)
	}
	checkPullErrors(t, st.ImagePull)
	// install's failure output
	checkPullErrors(t, c.Diagnose(ctx, plan, "").ImagePull)

	// The job never ends: install's wait says why at once, and at the
	// timeout.
	var events []cluster.Event
	opts := waitOptions(t, &events)
	opts.Timeout = 2 * time.Second
	_, err = c.Wait(ctx, plan, cluster.Expectation{}, opts)
	var timeout *cluster.TimeoutError
	if !errors.As(err, &timeout) || !strings.Contains(err.Error(), "pullfail is Installing: the executor image kubesphere/kubectl:v1.27.16 cannot be pulled on node node-7") {
		t.Errorf("wait: %v", err)
	}
	warned := false
	for _, e := range events {
		warned = warned || e.State == "" && strings.Contains(e.Detail, "kubesphere/kubectl:v1.27.16 cannot be pulled")
	}
	if !warned {
		t.Errorf("no warning while waiting: %+v", events)
	}
}
