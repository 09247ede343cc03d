package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
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
	"github.com/ksbuilder/ksbuilder/internal/testutil/fixture"
	"github.com/ksbuilder/ksbuilder/pkg/kubesphere"
	"github.com/ksbuilder/ksbuilder/pkg/kubesphere/application"
)

// TestScaffoldsInstall installs a fresh project of every type through the
// test controller and reads back what ks-apiserver would use: the
// JSBundle's ConfigMap holds the chart's bundle file byte for byte (no
// image involved), and the APIService reaches the backend Service on the
// Service's port over HTTP. The App Store project is checked by
// installStoreApp.
func TestScaffoldsInstall(t *testing.T) {
	kubeconfig := requireCluster(t)
	t.Setenv("KUBECONFIG", kubeconfig)
	ctx := context.Background()
	cs := kubernetes.NewForConfigOrDie(shared.env.Config)
	dyn := dynamic.NewForConfigOrDie(shared.env.Config)
	jsbundles := schema.GroupVersionResource{Group: "extensions.kubesphere.io", Version: "v1alpha1", Resource: "jsbundles"}
	apiservices := schema.GroupVersionResource{Group: "extensions.kubesphere.io", Version: "v1alpha1", Resource: "apiservices"}
	for _, typ := range create.Types {
		t.Run(string(typ), func(t *testing.T) {
			name := "scaffold-" + string(typ)
			ns := "extension-" + name
			dir := filepath.Join(t.TempDir(), name)
			opts := create.Options{Name: name, Category: "dev-tools", Author: "Test", Type: typ, Dir: dir}
			if typ == create.App {
				opts.From = fixture.StoreChart(t, t.TempDir())
			}
			if _, err := create.Create(context.Background(), opts); err != nil {
				t.Fatal(err)
			}
			if typ == create.App {
				installStoreApp(t, ctx, name, ns, dir, opts.From)
				return
			}
			if code, _, stderr := runCLIContext(ctx, "install", dir); code != exitOK {
				t.Fatalf("install: exit %d\n%s", code, stderr)
			}
			t.Cleanup(func() {
				if code, _, stderr := runCLIContext(ctx, "uninstall", name, "--unpublish"); code != exitOK {
					t.Errorf("uninstall: exit %d\n%s", code, stderr)
				}
			})

			jsb, err := dyn.Resource(jsbundles).Get(ctx, name+"-frontend", metav1.GetOptions{})
			if typ == create.Backend {
				if err == nil {
					t.Error("a backend project installed a JSBundle")
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				ref, _, _ := unstructured.NestedStringMap(jsb.Object, "spec", "rawFrom", "configMapKeyRef")
				if ref["namespace"] != ns || ref["key"] != "index.js" {
					t.Fatalf("configMapKeyRef %v", ref)
				}
				cm, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, ref["name"], metav1.GetOptions{})
				if err != nil {
					t.Fatal(err)
				}
				file, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(create.BundleFile)))
				if err != nil {
					t.Fatal(err)
				}
				if cm.Data["index.js"] != string(file) {
					t.Errorf("ConfigMap %s/%s does not hold %s", ns, cm.Name, create.BundleFile)
				}
			}

			api, err := dyn.Resource(apiservices).Get(ctx, "v1alpha1."+name+".kubesphere.io", metav1.GetOptions{})
			if typ == create.Frontend {
				if err == nil {
					t.Error("a frontend project installed an APIService")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			svc, err := cs.CoreV1().Services(ns).Get(ctx, name+"-agent-backend", metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			url, _, _ := unstructured.NestedString(api.Object, "spec", "url")
			if want := fmt.Sprintf("http://%s.%s.svc:%d", svc.Name, ns, svc.Spec.Ports[0].Port); url != want {
				t.Errorf("APIService url %q, want %q", url, want)
			}
		})
	}
}

// installStoreApp installs an App Store project (create --type app) with the
// App Store it requires in place (the openpitrix Extension installed, its
// namespace), playing the post-install Job: as the Job's ServiceAccount it
// runs what the Job's script does, so the real API server checks the Job's
// RBAC, then reports the Job complete, which the install waits for. The
// chart ConfigMap holds the archive byte for byte, and both objects end
// active, the version owned by the application.
func installStoreApp(t *testing.T, ctx context.Context, name, ns, dir, archive string) {
	cs := kubernetes.NewForConfigOrDie(shared.env.Config)
	dyn := dynamic.NewForConfigOrDie(shared.env.Config)
	extensions := schema.GroupVersionResource{Group: kubesphere.GroupVersion.Group, Version: kubesphere.GroupVersion.Version, Resource: kubesphere.ResourceExtensions}
	apps := application.GroupVersion.WithResource(application.ResourceApplications)
	versions := application.GroupVersion.WithResource(application.ResourceApplicationVersions)

	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: application.StoreNamespace}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	// The Extension CRD has no status subresource: the status is created
	// with the object.
	store := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": kubesphere.GroupVersion.String(), "kind": "Extension",
		"metadata": map[string]any{"name": "openpitrix"},
		"status":   map[string]any{"state": kubesphere.StateInstalled, "installedVersion": "2.0.0"},
	}}
	if _, err := dyn.Resource(extensions).Create(ctx, store, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = dyn.Resource(extensions).Delete(context.Background(), "openpitrix", metav1.DeleteOptions{})
	})

	jobDone := make(chan error, 1)
	jobCtx, stopJob := context.WithCancel(ctx)
	defer stopJob()
	go func() { jobDone <- playStoreJob(jobCtx, name, ns) }()
	if code, _, stderr := runCLIContext(ctx, "install", dir); code != exitOK {
		t.Fatalf("install: exit %d\n%s", code, stderr)
	}
	if err := <-jobDone; err != nil {
		t.Fatalf("post-install Job: %v", err)
	}
	t.Cleanup(func() {
		if code, _, stderr := runCLIContext(context.Background(), "uninstall", name, "--unpublish"); code != exitOK {
			t.Errorf("uninstall: exit %d\n%s", code, stderr)
		}
		// KubeSphere's App Store removes its finalizer; here nobody does.
		list, _ := dyn.Resource(versions).List(context.Background(), metav1.ListOptions{})
		for _, v := range list.Items {
			_, _ = dyn.Resource(versions).Patch(context.Background(), v.GetName(), types.MergePatchType, []byte(`{"metadata":{"finalizers":null}}`), metav1.PatchOptions{})
		}
	})

	list, err := dyn.Resource(versions).List(ctx, metav1.ListOptions{})
	if err != nil || len(list.Items) != 1 {
		t.Fatalf("ApplicationVersions: %v, %v", list, err)
	}
	version := list.Items[0]
	appName := version.GetLabels()[application.LabelAppID]
	app, err := dyn.Resource(apps).Get(ctx, appName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if app.GetLabels()[application.LabelAppStore] != "true" {
		t.Errorf("Application %s labels %v", appName, app.GetLabels())
	}
	cm, err := cs.CoreV1().ConfigMaps(application.StoreNamespace).Get(ctx, version.GetName(), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(archive)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(cm.BinaryData[application.ChartKey], want) {
		t.Errorf("ConfigMap %s/%s does not hold %s", application.StoreNamespace, cm.Name, archive)
	}

	app, _ = dyn.Resource(apps).Get(ctx, appName, metav1.GetOptions{})
	v, _ := dyn.Resource(versions).Get(ctx, version.GetName(), metav1.GetOptions{})
	appState, _, _ := unstructured.NestedString(app.Object, "status", "state")
	versionState, _, _ := unstructured.NestedString(v.Object, "status", "state")
	if appState != application.StateActive || versionState != application.StateActive {
		t.Errorf("states: Application %q, ApplicationVersion %q, want active", appState, versionState)
	}
	if owners := v.GetOwnerReferences(); len(owners) != 1 || owners[0].UID != app.GetUID() || owners[0].APIVersion != application.GroupVersion.String() {
		t.Errorf("ApplicationVersion owners %v, want the Application %s", owners, app.GetUID())
	}
}

// playStoreJob waits for the post-install Job of the App Store project
// name, does what its script does as its ServiceAccount, and reports it
// complete.
func playStoreJob(ctx context.Context, name, ns string) error {
	cs := kubernetes.NewForConfigOrDie(shared.env.Config)
	jobName := "post-install-for-" + name
	var job *batchv1.Job
	for job == nil {
		j, err := cs.BatchV1().Jobs(ns).Get(ctx, jobName, metav1.GetOptions{})
		switch {
		case err == nil:
			job = j
		case !apierrors.IsNotFound(err):
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	env := map[string]string{}
	for _, e := range job.Spec.Template.Spec.Containers[0].Env {
		env[e.Name] = e.Value
	}
	cfg := rest.CopyConfig(shared.env.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: "system:serviceaccount:" + ns + ":" + job.Spec.Template.Spec.ServiceAccountName}
	asJob := dynamic.NewForConfigOrDie(cfg)
	apps := asJob.Resource(application.GroupVersion.WithResource(application.ResourceApplications))
	versions := asJob.Resource(application.GroupVersion.WithResource(application.ResourceApplicationVersions))
	now := time.Now().UTC().Format(time.RFC3339)
	if _, err := apps.Patch(ctx, env["APP"], types.MergePatchType, []byte(`{"status":{"state":"active","updateTime":"`+now+`"}}`), metav1.PatchOptions{}, "status"); err != nil {
		return err
	}
	if _, err := versions.Patch(ctx, env["VERSION"], types.MergePatchType, []byte(`{"status":{"state":"active","userName":"admin","updated":"`+now+`"}}`), metav1.PatchOptions{}, "status"); err != nil {
		return err
	}
	app, err := apps.Get(ctx, env["APP"], metav1.GetOptions{})
	if err != nil {
		return err
	}
	owner := fmt.Sprintf(`{"metadata":{"ownerReferences":[{"apiVersion":"application.kubesphere.io/v2","kind":"Application","name":%q,"uid":%q}]}}`, app.GetName(), app.GetUID())
	if _, err := versions.Patch(ctx, env["VERSION"], types.MergePatchType, []byte(owner), metav1.PatchOptions{}); err != nil {
		return err
	}
	start := metav1.Now()
	job.Status = batchv1.JobStatus{StartTime: &start, CompletionTime: &start, Succeeded: 1, Conditions: []batchv1.JobCondition{
		{Type: batchv1.JobSuccessCriteriaMet, Status: corev1.ConditionTrue, LastTransitionTime: start},
		{Type: batchv1.JobComplete, Status: corev1.ConditionTrue, LastTransitionTime: start},
	}}
	_, err = cs.BatchV1().Jobs(ns).UpdateStatus(ctx, job, metav1.UpdateOptions{})
	return err
}
