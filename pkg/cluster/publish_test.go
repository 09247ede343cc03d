package cluster_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/ksbuilder/ksbuilder/create"
	"github.com/ksbuilder/ksbuilder/pkg/cluster"
	"github.com/ksbuilder/ksbuilder/pkg/kubesphere"
	"github.com/ksbuilder/ksbuilder/pkg/packager"
)

// objectVersions reads the resource version and generation of the three
// published objects.
func objectVersions(t *testing.T, pub *cluster.Publication) []string {
	t.Helper()
	ctx := testContext(t)
	cs, dyn := kube(t)
	cm, err := cs.CoreV1().ConfigMaps(pub.ConfigMap.Namespace).Get(ctx, pub.ConfigMap.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := []string{cm.ResourceVersion}
	for _, obj := range []struct{ resource, name string }{
		{kubesphere.ResourceExtensionVersions, pub.Version.Name},
		{kubesphere.ResourceExtensions, pub.Extension.Name},
	} {
		u, err := dyn.Resource(kubesphere.GroupVersion.WithResource(obj.resource)).Get(ctx, obj.name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, u.GetResourceVersion(), strconv.FormatInt(u.GetGeneration(), 10))
	}
	return out
}

func actions(res *cluster.PublishResult) string {
	var out []string
	for _, o := range res.Objects {
		out = append(out, o.Kind+" "+string(o.Action))
	}
	return strings.Join(out, ", ")
}

func TestPublishIsIdempotent(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	ctx := testContext(t)
	dir := scaffold(t, "idempotent", create.Frontend)
	pub := publication(t, dir)
	res, err := c.Publish(ctx, pub)
	if err != nil {
		t.Fatal(err)
	}
	if got := actions(res); got != "ConfigMap created, ExtensionVersion created, Extension created" {
		t.Errorf("first publish: %s", got)
	}
	before := objectVersions(t, pub)

	// A second build of the same extension, a minute later.
	again := publication(t, dir)
	again.Version.Spec.Created = metav1.NewTime(time.Now().Add(time.Minute))
	res, err = c.Publish(ctx, again)
	if err != nil {
		t.Fatal(err)
	}
	if got := actions(res); got != "ConfigMap unchanged, ExtensionVersion unchanged, Extension unchanged" {
		t.Errorf("second publish: %s", got)
	}
	if after := objectVersions(t, pub); strings.Join(after, ",") != strings.Join(before, ",") {
		t.Errorf("resource versions and generations changed: %v -> %v", before, after)
	}
	if res.ChartChanged {
		t.Error("ChartChanged on an identical chart")
	}

	// The published objects carry what KubeSphere needs.
	ev := &kubesphere.ExtensionVersion{}
	_, dyn := kube(t)
	u, err := dyn.Resource(kubesphere.GroupVersion.WithResource(kubesphere.ResourceExtensionVersions)).Get(ctx, "idempotent-0.1.0", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, ev); err != nil {
		t.Fatal(err)
	}
	if ev.Labels[kubesphere.LabelExtensionRef] != "idempotent" || ev.Labels[kubesphere.LabelCategory] != "dev-tools" ||
		ev.Spec.ChartDataRef == nil || ev.Spec.ChartDataRef.Name != "extension-idempotent-0.1.0-chart" || ev.Spec.ChartDataRef.Key != "chart.tgz" ||
		ev.Spec.InstallationMode != "HostOnly" || ev.Spec.Version != "0.1.0" || !strings.HasPrefix(ev.Spec.Icon, "data:image/svg+xml;base64,") {
		t.Errorf("ExtensionVersion %+v", ev)
	}

	// A changed chart updates the ConfigMap only.
	edit(t, dir, "README.md", func(s string) string { return s + "\nMore.\n" })
	changed := publication(t, dir)
	res, err = c.Publish(ctx, changed)
	if err != nil {
		t.Fatal(err)
	}
	if got := actions(res); got != "ConfigMap configured, ExtensionVersion unchanged, Extension unchanged" || !res.ChartChanged {
		t.Errorf("publish of a changed chart: %s (chart changed: %v)", got, res.ChartChanged)
	}
}

func TestPublishOlderVersion(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	ctx := testContext(t)
	dir := scaffold(t, "versions", create.Frontend)
	setVersion(t, dir, "2.0.0")
	newer := publication(t, dir)
	if _, err := c.Publish(ctx, newer); err != nil {
		t.Fatal(err)
	}
	dir = scaffold(t, "versions", create.Frontend)
	edit(t, dir, "extension.yaml", func(s string) string {
		return strings.Replace(s, "# namespace: versions-system", "namespace: versions-system", 1)
	})
	older := publication(t, dir)
	res, err := c.Publish(ctx, older)
	if err != nil {
		t.Fatal(err)
	}
	last := res.Objects[len(res.Objects)-1]
	if last.Kind != "Extension" || last.Action != cluster.Kept || !strings.Contains(last.Reason, "newer version 2.0.0") {
		t.Errorf("Extension: %+v", last)
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "installs into namespace versions-system but the published 2.0.0 uses extension-versions") {
		t.Errorf("warnings %q", res.Warnings)
	}
	versions, err := c.ListVersions(ctx, "versions")
	if err != nil {
		t.Fatal(err)
	}
	if len(versions) != 2 || versions[0].Version != "0.1.0" || versions[1].Version != "2.0.0" || versions[0].Namespace != "versions-system" {
		t.Errorf("versions %+v", versions)
	}
}

func TestPublishRefusesOversizedChart(t *testing.T) {
	t.Parallel()
	pkg := build(t, scaffold(t, "huge", create.Frontend))
	pkg.Data = make([]byte, cluster.MaxChartSize+1)
	_, err := cluster.NewPublication(pkg, time.Now())
	var tooLarge *cluster.ChartTooLargeError
	if !errors.As(err, &tooLarge) || !strings.Contains(err.Error(), "to fit a ConfigMap") {
		t.Errorf("got %v", err)
	}
	if cluster.MaxChartSize >= packager.MaxSize {
		t.Errorf("MaxChartSize %d leaves no room in a ConfigMap", cluster.MaxChartSize)
	}
}
