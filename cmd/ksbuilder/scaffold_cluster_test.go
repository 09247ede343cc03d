package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/ksbuilder/ksbuilder/create"
)

// TestScaffoldsInstall installs a fresh project of every type through the
// test controller and reads back what ks-apiserver would use: the
// JSBundle's ConfigMap holds the chart's bundle file byte for byte (no
// image involved), and the APIService reaches the backend Service on the
// Service's port over HTTP.
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
			if _, err := create.Create(context.Background(), create.Options{Name: name, Category: "dev-tools", Author: "Test", Type: typ, Dir: dir}); err != nil {
				t.Fatal(err)
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
