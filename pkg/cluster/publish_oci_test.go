package cluster_test

import (
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

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
	if got := actions(res); got != "ExtensionVersion configured, Extension unchanged" {
		t.Errorf("actions: %s", got)
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
