package cluster_test

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/ksbuilder/ksbuilder/create"
	"github.com/ksbuilder/ksbuilder/pkg/cluster"
	"github.com/ksbuilder/ksbuilder/pkg/kubesphere"
)

func results(rs []cluster.ObjectResult) string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Kind+" "+r.Name+" "+string(r.Action))
	}
	return strings.Join(out, "; ")
}

func TestUnpublish(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	ctx := testContext(t)
	dir := scaffold(t, "gone", create.Frontend)
	mustInstall(t, c, dir, cluster.InstallOptions{})
	setVersion(t, dir, "0.2.0")
	pub := publication(t, dir)
	if _, err := c.Publish(ctx, pub); err != nil {
		t.Fatal(err)
	}

	// While installed, the version in use cannot go.
	_, err := c.Unpublish(ctx, cluster.UnpublishOptions{Name: "gone", Version: ""})
	var exists *cluster.PlanExistsError
	if !errors.As(err, &exists) || !strings.Contains(err.Error(), "uninstall it first") {
		t.Fatalf("got %v", err)
	}
	if _, err := c.Unpublish(ctx, cluster.UnpublishOptions{Name: "gone", Version: "0.1.0"}); !errors.As(err, &exists) {
		t.Fatalf("unpublishing the installed version: %v", err)
	}
	// Another version can.
	res, err := c.Unpublish(ctx, cluster.UnpublishOptions{Name: "gone", Version: "0.2.0"})
	if err != nil {
		t.Fatal(err)
	}
	if got := results(res); got != "ConfigMap extension-gone-0.2.0-chart deleted; ExtensionVersion gone-0.2.0 deleted" {
		t.Errorf("unpublish 0.2.0: %s", got)
	}
	if _, err := c.Unpublish(ctx, cluster.UnpublishOptions{Name: "gone", Version: "0.3.0"}); err == nil || !strings.Contains(err.Error(), "published versions: 0.1.0") {
		t.Errorf("unpublish of a missing version: %v", err)
	}

	if err := uninstall(t, c, "gone", false); err != nil {
		t.Fatal(err)
	}
	res, err = c.Unpublish(ctx, cluster.UnpublishOptions{Name: "gone", Version: ""})
	if err != nil {
		t.Fatal(err)
	}
	if got := results(res); got != "ConfigMap extension-gone-0.1.0-chart deleted; ExtensionVersion gone-0.1.0 deleted; Extension gone deleted" {
		t.Errorf("unpublish: %s", got)
	}
	if _, err := c.Unpublish(ctx, cluster.UnpublishOptions{Name: "gone", Version: ""}); err == nil || !strings.Contains(err.Error(), "gone is not published") {
		t.Errorf("second unpublish: %v", err)
	}
}

func TestUnpublishKeepsRepositoryVersions(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	ctx := testContext(t)
	pub := publication(t, scaffold(t, "synced", create.Frontend))
	if _, err := c.Publish(ctx, pub); err != nil {
		t.Fatal(err)
	}
	// A version a Repository synced.
	_, dyn := kube(t)
	ev := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": kubesphere.GroupVersion.String(), "kind": "ExtensionVersion",
		"metadata": map[string]any{"name": "synced-1.0.0", "labels": map[string]any{kubesphere.LabelExtensionRef: "synced", kubesphere.LabelRepositoryRef: "museum"}},
		"spec":     map[string]any{"version": "1.0.0", "repository": "museum", "chartURL": "https://museum.example/synced-1.0.0.tgz"},
	}}
	if _, err := dyn.Resource(kubesphere.GroupVersion.WithResource(kubesphere.ResourceExtensionVersions)).Create(ctx, ev, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	res, err := c.Unpublish(ctx, cluster.UnpublishOptions{Name: "synced", Version: ""})
	if err != nil {
		t.Fatal(err)
	}
	if got := results(res); got != "ConfigMap extension-synced-0.1.0-chart deleted; ExtensionVersion synced-0.1.0 deleted; ExtensionVersion synced-1.0.0 kept" {
		t.Errorf("unpublish: %s", got)
	}
}

func TestUninstallWithoutVersion(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	ctx := testContext(t)
	dir := scaffold(t, "orphan", create.Frontend)
	_, plan := mustInstall(t, c, dir, cluster.InstallOptions{})
	_, dyn := kube(t)
	if err := dyn.Resource(kubesphere.GroupVersion.WithResource(kubesphere.ResourceExtensionVersions)).Delete(ctx, "orphan-0.1.0", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	_, err := c.Uninstall(ctx, cluster.UninstallOptions{Name: "orphan"})
	if err == nil || !strings.Contains(err.Error(), "ExtensionVersion orphan-0.1.0 is missing") || !strings.Contains(err.Error(), "finalizers") {
		t.Fatalf("got %v", err)
	}
	if got, err := c.Plan(ctx, "orphan"); err != nil || got.DeletionTimestamp != nil || got.UID != plan.UID {
		t.Errorf("the plan was touched: %v", err)
	}
	// Publishing the version again makes the uninstall possible.
	pub := publication(t, dir)
	if _, err := c.Publish(ctx, pub); err != nil {
		t.Fatal(err)
	}
	if err := uninstall(t, c, "orphan", false); err != nil {
		t.Fatal(err)
	}
}

func TestListExtensions(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	ctx := testContext(t)
	dir := scaffold(t, "listed", create.Frontend)
	edit(t, dir, "extension.yaml", func(s string) string {
		return regexp.MustCompile(`(?m)^category: .*$`).ReplaceAllString(s, "category: storage")
	})
	mustInstall(t, c, dir, cluster.InstallOptions{})
	list, err := c.ListExtensions(ctx, "storage")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Name != "listed" || list[0].State != kubesphere.StateInstalled || list[0].Latest != "0.1.0" ||
		list[0].PlannedVersion != "0.1.0" || list[0].Category != "storage" || list[0].DisplayName != "Listed" {
		t.Errorf("list %+v", list)
	}
	// An unknown category is named as such once categories exist.
	_, dyn := kube(t)
	cat := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": kubesphere.GroupVersion.String(), "kind": "Category",
		"metadata": map[string]any{"name": "storage"}, "spec": map[string]any{"displayName": map[string]any{"en": "Storage"}},
	}}
	if _, err := dyn.Resource(kubesphere.GroupVersion.WithResource(kubesphere.ResourceCategories)).Create(ctx, cat, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListExtensions(ctx, "nosuch"); err == nil || !strings.Contains(err.Error(), `no category "nosuch"`) || !strings.Contains(err.Error(), "(categories: storage)") {
		t.Errorf("unknown category: %v", err)
	}
	details, err := c.ShowVersion(ctx, "listed", "")
	if err != nil {
		t.Fatal(err)
	}
	if details.Installed != kubesphere.StateInstalled || details.InstallationMode != "HostOnly" || details.Namespace != "extension-listed" ||
		details.KSVersion != ">=4.1.0-0" || details.Source != "configmap kubesphere-system/extension-listed-0.1.0-chart" {
		t.Errorf("details %+v", details)
	}
	if err := uninstall(t, c, "listed", false); err != nil {
		t.Fatal(err)
	}
}
