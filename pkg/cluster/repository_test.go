package cluster_test

import (
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/ksbuilder/ksbuilder/pkg/cluster"
	"github.com/ksbuilder/ksbuilder/pkg/kubesphere"
)

var (
	repositories = schema.GroupVersionResource{Group: "kubesphere.io", Version: "v1alpha1", Resource: "repositories"}
	extensions   = schema.GroupVersionResource{Group: "kubesphere.io", Version: "v1alpha1", Resource: "extensions"}
	installPlans = schema.GroupVersionResource{Group: "kubesphere.io", Version: "v1alpha1", Resource: "installplans"}
)

func TestRepositoryAddListRemove(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	ctx := testContext(t)
	_, dyn := kube(t)
	depth := 5
	opts := cluster.RepositoryOptions{Name: "museum-a", URL: "https://museum.example.com/charts", Description: "team charts",
		Username: "ci", Password: "secret", Depth: &depth, Interval: 30 * time.Minute}

	res, warnings, err := c.AddRepository(ctx, opts)
	if err != nil || res.Action != cluster.Created {
		t.Fatalf("add: %+v, %v", res, err)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "credentials in the Repository's spec") {
		t.Errorf("warnings %q, want the one about credentials in the spec", warnings)
	}
	obj, err := dyn.Resource(repositories).Get(ctx, "museum-a", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	spec := obj.Object["spec"].(map[string]any)
	if spec["url"] != "https://museum.example.com/charts" || spec["depth"] != int64(5) ||
		spec["basicAuth"].(map[string]any)["username"] != "ci" ||
		spec["updateStrategy"].(map[string]any)["registryPoll"].(map[string]any)["interval"] != "30m0s" ||
		spec["updateStrategy"].(map[string]any)["timeout"] != "2m0s" {
		t.Errorf("spec = %v", spec)
	}

	// The same again changes nothing; other settings are refused unless
	// Update, which replaces the whole spec (the credentials go).
	if res, _, err := c.AddRepository(ctx, opts); err != nil || res.Action != cluster.Unchanged {
		t.Errorf("add again: %+v, %v", res, err)
	}
	other := cluster.RepositoryOptions{Name: "museum-a", URL: "https://other.example.com"}
	var exists *cluster.RepositoryExistsError
	if _, _, err := c.AddRepository(ctx, other); !errors.As(err, &exists) || exists.URL != opts.URL {
		t.Errorf("add another URL: %v, want a RepositoryExistsError naming %s", err, opts.URL)
	}
	other.Update = true
	if res, _, err := c.AddRepository(ctx, other); err != nil || res.Action != cluster.Configured {
		t.Fatalf("update: %+v, %v", res, err)
	}
	obj, err = dyn.Resource(repositories).Get(ctx, "museum-a", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if spec := obj.Object["spec"].(map[string]any); spec["url"] != "https://other.example.com" || spec["basicAuth"] != nil {
		t.Errorf("updated spec = %v", spec)
	}

	// An extension synced from it, installed: listed, and protected.
	for _, o := range []*unstructured.Unstructured{
		{Object: map[string]any{"apiVersion": "kubesphere.io/v1alpha1", "kind": "Extension",
			"metadata": map[string]any{"name": "synced-ext", "labels": map[string]any{kubesphere.LabelRepositoryRef: "museum-a"}}}},
	} {
		if _, err := dyn.Resource(extensions).Create(ctx, o, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	list, err := c.ListRepositories(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var found *cluster.RepositorySummary
	for i := range list {
		if list[i].Name == "museum-a" {
			found = &list[i]
		}
	}
	if found == nil || found.URL != "https://other.example.com" || len(found.Extensions) != 1 || found.Extensions[0] != "synced-ext" || found.Credentials {
		t.Fatalf("list = %+v", list)
	}
	plan := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "kubesphere.io/v1alpha1", "kind": "InstallPlan",
		"metadata": map[string]any{"name": "synced-ext"},
		"spec":     map[string]any{"extension": map[string]any{"name": "synced-ext", "version": "1.0.0"}, "enabled": true, "upgradeStrategy": "Manual"}}}
	if _, err := dyn.Resource(installPlans).Create(ctx, plan, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var inUse *cluster.RepositoryInUseError
	if _, err := c.RemoveRepository(ctx, "museum-a", false); !errors.As(err, &inUse) || len(inUse.Installed) != 1 {
		t.Fatalf("remove while installed: %v, want a RepositoryInUseError naming synced-ext", err)
	}
	if _, err := dyn.Resource(repositories).Get(ctx, "museum-a", metav1.GetOptions{}); err != nil {
		t.Fatalf("the refused remove deleted the Repository: %v", err)
	}
	if res, err := c.RemoveRepository(ctx, "museum-a", true); err != nil || res.Action != cluster.Deleted {
		t.Fatalf("remove --force: %+v, %v", res, err)
	}
	if _, err := dyn.Resource(repositories).Get(ctx, "museum-a", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("after remove: %v", err)
	}
	if _, err := c.RemoveRepository(ctx, "museum-a", false); err == nil || !strings.Contains(err.Error(), "no Repository museum-a") {
		t.Errorf("remove a missing one: %v", err)
	}
}

func TestRepositoryOptionsRefused(t *testing.T) {
	tlsServer := httptest.NewTLSServer(http.NotFoundHandler())
	defer tlsServer.Close()
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: tlsServer.Certificate().Raw})
	neg := -1
	for _, tc := range []struct {
		opts cluster.RepositoryOptions
		want string
	}{
		{cluster.RepositoryOptions{Name: "Bad_Name", URL: "https://x.io"}, `repository name "Bad_Name"`},
		{cluster.RepositoryOptions{Name: "r", URL: "oci://x.io/charts"}, "KubeSphere reads URL/index.yaml"},
		{cluster.RepositoryOptions{Name: "r", URL: "https://u:p@x.io"}, "without credentials"},
		{cluster.RepositoryOptions{Name: "r", URL: "https://x.io", Depth: &neg}, "depth -1"},
		{cluster.RepositoryOptions{Name: "r", URL: "https://x.io", Username: "u"}, "a username needs a password"},
		{cluster.RepositoryOptions{Name: "r", URL: "https://x.io", CABundle: []byte("not pem")}, "no PEM certificate"},
	} {
		if _, err := tc.opts.RepositorySpec(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.opts, err, tc.want)
		}
	}
	spec, err := cluster.RepositoryOptions{Name: "r", URL: "https://x.io", CABundle: ca}.RepositorySpec()
	if err != nil || spec.CABundle == "" {
		t.Errorf("a good CA: %+v, %v", spec, err)
	}
}
