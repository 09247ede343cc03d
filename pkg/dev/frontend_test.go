package dev_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/ksbuilder/ksbuilder/internal/testutil/kindsfixture"
	"github.com/ksbuilder/ksbuilder/pkg/cluster"
	"github.com/ksbuilder/ksbuilder/pkg/dev"
)

// bundleIn reads the bundle an extension's ConfigMap holds.
func bundleIn(ctx context.Context, t testing.TB, namespace, name string) string {
	t.Helper()
	cm, err := kubernetes.NewForConfigOrDie(testEnv.Config).CoreV1().ConfigMaps(namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return cm.Data["index.js"]
}

// A change of the --frontend bundle file alone updates the installed
// JSBundle's ConfigMap in place, with no new version, and copies the
// bundle into the chart file the ConfigMap is rendered from; that copy
// is not taken for a change of the user's, and the next change publishes
// a version that carries it.
func TestFrontend(t *testing.T) {
	t.Parallel()
	const name = "frontend-loop"
	dir := kindsfixture.Write(t, filepath.Join(t.TempDir(), name), name, kindsfixture.Options{Bundle: "// first\n"})
	bundle := filepath.Join(t.TempDir(), "extensions", name, "dist", "index.js")
	if err := os.MkdirAll(filepath.Dir(bundle), 0o755); err != nil {
		t.Fatal(err)
	}
	ctx := testContext(t)
	events := newFakeSource()
	rec, _ := session(t, dev.Options{Dir: dir, Events: events, Frontend: bundle, Cleanup: true})
	rec.awaitInstalled(ctx, "0.1.0-dev.1")
	ns := "extension-" + name
	if got := bundleIn(ctx, t, ns, kindsfixture.ConfigMapName(name)); got != "// first\n" {
		t.Fatalf("installed bundle %q", got)
	}

	const second = "System.register([], function (e) { return { execute: function () { e('default', {routes: [], menus: [], locales: {}}); } }; }); // second\n"
	if err := os.WriteFile(bundle, []byte(second), 0o644); err != nil {
		t.Fatal(err)
	}
	events.events <- bundle
	ch := rec.await(ctx, "a change", func(v any) bool { _, ok := v.(dev.Change); return ok }).(dev.Change)
	if !ch.Frontend || ch.ValuesOnly || !slices.Equal(ch.Files, []string{bundle}) {
		t.Errorf("change %+v, want the bundle file alone", ch)
	}
	up := rec.await(ctx, "the bundle updated", func(v any) bool {
		switch v := v.(type) {
		case problem:
			t.Fatalf("problem: %v", v.err)
		case dev.Applied:
			t.Fatalf("a version was published for a change of the bundle alone: %+v", v)
		case dev.BundleUpdate:
			return true
		}
		return false
	}).(dev.BundleUpdate)
	want := dev.BundleUpdate{JSBundle: name, Namespace: ns, ConfigMap: kindsfixture.ConfigMapName(name), Key: "index.js", Size: len(second), ChartFile: kindsfixture.BundleFile}
	up.Elapsed = 0
	if up != want {
		t.Errorf("bundle update %+v, want %+v", up, want)
	}
	if got := bundleIn(ctx, t, ns, kindsfixture.ConfigMapName(name)); got != second {
		t.Errorf("ConfigMap holds %q, want the new bundle", got)
	}
	if data, err := os.ReadFile(filepath.Join(dir, kindsfixture.BundleFile)); err != nil || string(data) != second {
		t.Errorf("chart file %s: %q, %v; want the new bundle", kindsfixture.BundleFile, data, err)
	}
	c, err := cluster.NewForConfig(testEnv.Config)
	if err != nil {
		t.Fatal(err)
	}
	if plan, err := c.Plan(ctx, name); err != nil || plan.Spec.Extension.Version != "0.1.0-dev.1" {
		t.Fatalf("InstallPlan %v, %v; want it still at 0.1.0-dev.1", plan, err)
	}

	// The copy's own event is dropped; a change of values publishes the
	// chart with the copied bundle (not only the config, which would
	// upgrade the release with the old bundle).
	if err := os.WriteFile(filepath.Join(dir, "values.yaml"), []byte("frontend:\n  x: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	events.events <- filepath.Join(dir, kindsfixture.BundleFile)
	events.events <- filepath.Join(dir, "values.yaml")
	ch = rec.await(ctx, "a change", func(v any) bool { _, ok := v.(dev.Change); return ok }).(dev.Change)
	if ch.Frontend || ch.ValuesOnly || !slices.Equal(ch.Files, []string{"values.yaml"}) {
		t.Errorf("change %+v, want values.yaml published in full", ch)
	}
	if a := rec.awaitApplied(ctx); a.Version != "0.1.0-dev.2" || a.ValuesOnly {
		t.Errorf("applied %+v, want 0.1.0-dev.2 published", a)
	}
	rec.awaitInstalled(ctx, "0.1.0-dev.2")
	if got := bundleIn(ctx, t, ns, kindsfixture.ConfigMapName(name)); got != second {
		t.Errorf("after the next version, the ConfigMap holds %q, want the new bundle", got)
	}
}

// A bundle written inline in a template (as the public samples do) is
// updated in the ConfigMap alone, with a warning that the next version
// puts the chart's bundle back.
func TestFrontendInline(t *testing.T) {
	t.Parallel()
	const name = "frontend-inline"
	dir := kindsfixture.Write(t, filepath.Join(t.TempDir(), name), name, kindsfixture.Options{Bundle: "// inline\n", Inline: true})
	bundle := filepath.Join(t.TempDir(), "index.js")
	ctx := testContext(t)
	events := newFakeSource()
	rec, _ := session(t, dev.Options{Dir: dir, Events: events, Frontend: bundle, Cleanup: true})
	rec.awaitInstalled(ctx, "0.1.0-dev.1")
	if err := os.WriteFile(bundle, []byte("// rebuilt\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	events.events <- bundle
	warned := false
	up := rec.await(ctx, "the bundle updated", func(v any) bool {
		switch v := v.(type) {
		case problem:
			t.Fatalf("problem: %v", v.err)
		case warning:
			warned = warned || strings.Contains(string(v), "only the ConfigMap was updated: the next version published puts the chart's bundle back")
		case dev.BundleUpdate:
			return true
		}
		return false
	}).(dev.BundleUpdate)
	if up.ChartFile != "" || !warned {
		t.Errorf("update %+v, warned %v; want no chart file, and a warning", up, warned)
	}
	if got := bundleIn(ctx, t, "extension-"+name, kindsfixture.ConfigMapName(name)); got != "// rebuilt\n" {
		t.Errorf("ConfigMap holds %q", got)
	}
}
