package cluster_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/ksbuilder/ksbuilder/create"
	"github.com/ksbuilder/ksbuilder/pkg/cluster"
	"github.com/ksbuilder/ksbuilder/pkg/kubesphere"
)

func TestPublishOCI(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	ctx := testContext(t)
	cs, dyn := kube(t)
	dir := scaffold(t, "ocichart", create.Frontend)
	const chartURL = "oci://registry.example.com:5000/charts/ocichart:0.1.0"

	// Published from a ConfigMap first, then from the registry: the
	// ExtensionVersion moves to chartURL and drops chartDataRef.
	if _, err := c.Publish(ctx, publication(t, dir)); err != nil {
		t.Fatal(err)
	}
	pub := cluster.NewOCIPublication(build(t, dir), chartURL, time.Now())
	if len(pub.Objects()) != 2 || pub.ConfigMap != nil {
		t.Fatalf("an OCI publication has %d objects (ConfigMap %v)", len(pub.Objects()), pub.ConfigMap)
	}
	res, err := c.Publish(ctx, pub)
	if err != nil {
		t.Fatal(err)
	}
	if got := actions(res); got != "ExtensionVersion configured, ConfigMap deleted, Extension unchanged" {
		t.Errorf("actions: %s", got)
	}
	cmName := kubesphere.ChartConfigMapName("ocichart", "0.1.0")
	if got := res.Objects[1].String(); got != "ConfigMap kubesphere-system/"+cmName+" deleted (the chart is now in "+chartURL+")" {
		t.Errorf("got %q", got)
	}
	if _, err := cs.CoreV1().ConfigMaps(kubesphere.SystemNamespace).Get(ctx, cmName, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the chart ConfigMap the version no longer uses: %v, want not found", err)
	}
	ev, err := dyn.Resource(kubesphere.GroupVersion.WithResource(kubesphere.ResourceExtensionVersions)).Get(ctx, "ocichart-0.1.0", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got, _, _ := unstructured.NestedString(ev.Object, "spec", "chartURL"); got != chartURL {
		t.Errorf("spec.chartURL = %q, want %q", got, chartURL)
	}
	if _, found, _ := unstructured.NestedFieldNoCopy(ev.Object, "spec", "chartDataRef"); found {
		t.Error("spec.chartDataRef is still set")
	}

	// Published again from a ConfigMap: the ExtensionVersion moves back to
	// chartDataRef and drops chartURL.
	res, err = c.Publish(ctx, publication(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	if got := actions(res); got != "ConfigMap created, ExtensionVersion configured, Extension unchanged" {
		t.Errorf("actions back to a ConfigMap: %s", got)
	}
	ev, err = dyn.Resource(kubesphere.GroupVersion.WithResource(kubesphere.ResourceExtensionVersions)).Get(ctx, "ocichart-0.1.0", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got, found, _ := unstructured.NestedString(ev.Object, "spec", "chartURL"); found {
		t.Errorf("spec.chartURL is still %q", got)
	}
	if got, _, _ := unstructured.NestedString(ev.Object, "spec", "chartDataRef", "name"); got != cmName {
		t.Errorf("spec.chartDataRef.name = %q, want %q", got, cmName)
	}

	// A version published only from the registry has no ConfigMap.
	setVersion(t, dir, "0.2.0")
	res, err = c.Publish(ctx, cluster.NewOCIPublication(build(t, dir), "oci://registry.example.com:5000/charts/ocichart:0.2.0", time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Objects[0]; got.Kind != "ExtensionVersion" || got.Action != cluster.Created {
		t.Errorf("first write: %s, want the ExtensionVersion created", got)
	}
	_, err = cs.CoreV1().ConfigMaps(kubesphere.SystemNamespace).Get(ctx, kubesphere.ChartConfigMapName("ocichart", "0.2.0"), metav1.GetOptions{})
	if !apierrors.IsNotFound(err) {
		t.Errorf("the chart ConfigMap of an OCI version: %v, want not found", err)
	}
}

// A ConfigMap that publish did not write is left alone when its version
// moves to a registry.
func TestPublishOCIKeepsForeignConfigMap(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	ctx := testContext(t)
	cs, _ := kube(t)
	dir := scaffold(t, "ocikeep", create.Frontend)
	if _, err := c.Publish(ctx, publication(t, dir)); err != nil {
		t.Fatal(err)
	}
	// Someone else rewrites the ConfigMap (kubectl replace): publish no
	// longer manages it.
	cmName := kubesphere.ChartConfigMapName("ocikeep", "0.1.0")
	cm, err := cs.CoreV1().ConfigMaps(kubesphere.SystemNamespace).Get(ctx, cmName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cm.ManagedFields = []metav1.ManagedFieldsEntry{{}} // clears them
	if _, err := cs.CoreV1().ConfigMaps(kubesphere.SystemNamespace).Update(ctx, cm, metav1.UpdateOptions{FieldManager: "kubectl-replace"}); err != nil {
		t.Fatal(err)
	}
	res, err := c.Publish(ctx, cluster.NewOCIPublication(build(t, dir), "oci://registry.example.com/charts/ocikeep:0.1.0", time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	if got := actions(res); got != "ExtensionVersion configured, ConfigMap kept, Extension unchanged" {
		t.Errorf("actions: %s", got)
	}
	if got := res.Objects[1].Reason; got != "ExtensionVersion ocikeep-0.1.0 no longer uses it, but ksbuilder publish did not create it" {
		t.Errorf("reason %q", got)
	}
	if _, err := cs.CoreV1().ConfigMaps(kubesphere.SystemNamespace).Get(ctx, cmName, metav1.GetOptions{}); err != nil {
		t.Errorf("the foreign ConfigMap: %v", err)
	}
}

// A chart ConfigMap left behind by an earlier move to a registry (as
// ksbuilder did before it deleted them) goes when the version is
// published from the registry again.
func TestPublishOCIRemovesLeftover(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	ctx := testContext(t)
	cs, dyn := kube(t)
	dir := scaffold(t, "ocileft", create.Frontend)
	if _, err := c.Publish(ctx, publication(t, dir)); err != nil {
		t.Fatal(err)
	}
	const chartURL = "oci://registry.example.com/charts/ocileft:0.1.0"
	patch := []byte(`{"spec":{"chartDataRef":null,"chartURL":"` + chartURL + `"}}`)
	if _, err := dyn.Resource(kubesphere.GroupVersion.WithResource(kubesphere.ResourceExtensionVersions)).Patch(ctx, "ocileft-0.1.0", types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	res, err := c.Publish(ctx, cluster.NewOCIPublication(build(t, dir), chartURL, time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	if got := actions(res); got != "ExtensionVersion configured, ConfigMap deleted, Extension unchanged" {
		t.Errorf("actions: %s", got)
	}
	if _, err := cs.CoreV1().ConfigMaps(kubesphere.SystemNamespace).Get(ctx, kubesphere.ChartConfigMapName("ocileft", "0.1.0"), metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the leftover ConfigMap: %v, want not found", err)
	}
}

// A dry run contacts no cluster: it says which ConfigMap a real run deletes
// if it finds it.
func TestPublishOCIDryRun(t *testing.T) {
	dir := scaffold(t, "ocidry", create.Frontend)
	const chartURL = "oci://registry.example.com/charts/ocidry:0.1.0"
	out, err := cluster.Publish(context.Background(), cluster.PublishRequest{
		Target:  cluster.Target{Connect: cluster.ConnectOptions{Kubeconfig: filepath.Join(t.TempDir(), "none")}},
		Package: build(t, dir), ChartURL: chartURL, Created: time.Now(), DryRun: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Deletes) != 1 {
		t.Fatalf("deletes %+v", out.Deletes)
	}
	want := "ConfigMap kubesphere-system/extension-ocidry-0.1.0-chart deleted (if publish wrote it for an earlier publication of ocidry 0.1.0: the chart is now in " + chartURL + ") (dry run)"
	if got := out.Deletes[0].String(); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	// From a ConfigMap there is nothing to delete.
	out, err = cluster.Publish(context.Background(), cluster.PublishRequest{Package: build(t, dir), Created: time.Now(), DryRun: true})
	if err != nil || len(out.Deletes) != 0 {
		t.Errorf("dry run from a ConfigMap: %v, deletes %+v", err, out.Deletes)
	}
}
