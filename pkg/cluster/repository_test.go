package cluster_test

import (
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/ksbuilder/ksbuilder/create"
	"github.com/ksbuilder/ksbuilder/internal/testcontroller"
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

// Installing a version a Repository serves says which one; publishing over
// it warns that the Repository's sync takes it back, and that the
// Repository's chartURL, which publish does not own, still wins over a
// chart ConfigMap.
func TestRepositoryServedVersions(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	ctx := testContext(t)
	cfg := testEnv.Require(t)
	_, dyn := kube(t)
	dir := scaffold(t, "served", create.Frontend)
	if _, _, err := c.AddRepository(ctx, cluster.RepositoryOptions{Name: "museum-served", URL: "https://museum.example.com/charts"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Publish(ctx, publication(t, dir)); err != nil {
		t.Fatal(err)
	}
	// Before it is synced from the Repository: no word of one.
	res, err := cluster.Install(ctx, cluster.InstallRequest{Target: cluster.Target{Client: c},
		InstallOptions: cluster.InstallOptions{Name: "served", Version: "0.1.0", DryRun: true}})
	if err != nil || res.ServedBy != nil {
		t.Fatalf("a version publish wrote: %+v, %v", res.ServedBy, err)
	}
	if err := testcontroller.SyncVersion(ctx, cfg, "museum-served", "served-0.1.0", ""); err != nil {
		t.Fatal(err)
	}

	var p recorder
	res, err = cluster.Install(ctx, cluster.InstallRequest{Target: cluster.Target{Client: c},
		InstallOptions: cluster.InstallOptions{Name: "served", Version: "0.1.0"}, Wait: waitOptions(t, nil), Progress: &p})
	if err != nil {
		t.Fatal(err)
	}
	if want := (cluster.ServedBy{Repository: "museum-served", URL: "https://museum.example.com/charts"}); res.ServedBy == nil || *res.ServedBy != want {
		t.Errorf("served by %+v, want %+v", res.ServedBy, want)
	}
	if want := "served 0.1.0 is served by Repository museum-served (https://museum.example.com/charts)"; !slices.Contains(p.steps, want) {
		t.Errorf("steps %q, want %q", p.steps, want)
	}
	if err := uninstall(t, c, "served", false); err != nil {
		t.Fatal(err)
	}

	// The Repository's sync gives the version its chartURL. Publishing a
	// chart ConfigMap over it warns, and the chartURL stays.
	const repoChart = "https://museum.example.com/charts/served-0.1.0.tgz"
	if err := testcontroller.SyncVersion(ctx, cfg, "museum-served", "served-0.1.0", repoChart); err != nil {
		t.Fatal(err)
	}
	pres, err := c.Publish(ctx, publication(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	if len(pres.Warnings) != 1 || !strings.Contains(pres.Warnings[0], "served 0.1.0 is served by Repository museum-served (https://museum.example.com/charts): the Repository's next sync") ||
		!strings.Contains(pres.Warnings[0], "still installs the Repository's chart "+repoChart) {
		t.Errorf("warnings %q", pres.Warnings)
	}
	ev, err := dyn.Resource(kubesphere.GroupVersion.WithResource(kubesphere.ResourceExtensionVersions)).Get(ctx, "served-0.1.0", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got, _, _ := unstructured.NestedString(ev.Object, "spec", "chartURL"); got != repoChart {
		t.Errorf("spec.chartURL after a ConfigMap publication %q, want the Repository's %q", got, repoChart)
	}

	// Publishing from an OCI registry takes chartURL over; the Repository's
	// sync would write it back.
	const ociChart = "oci://registry.example.com/charts/served:0.1.0"
	pres, err = c.Publish(ctx, cluster.NewOCIPublication(build(t, dir), ociChart, time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	if len(pres.Warnings) != 1 || !strings.Contains(pres.Warnings[0], "is served by Repository museum-served") || strings.Contains(pres.Warnings[0], "still installs") {
		t.Errorf("OCI warnings %q", pres.Warnings)
	}

	// A Repository that is gone is named all the same.
	if _, err := c.RemoveRepository(ctx, "museum-served", true); err != nil {
		t.Fatal(err)
	}
	pres, err = c.Publish(ctx, cluster.NewOCIPublication(build(t, dir), ociChart, time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	if len(pres.Warnings) != 1 || !strings.Contains(pres.Warnings[0], "served 0.1.0 is served by Repository museum-served (no longer on the cluster)") {
		t.Errorf("warnings once the Repository is gone %q", pres.Warnings)
	}
}
