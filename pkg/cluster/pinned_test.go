package cluster_test

import (
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chart"

	"github.com/ksbuilder/ksbuilder/create"
	"github.com/ksbuilder/ksbuilder/pkg/cluster"
)

func valuesChart(values map[string]any, sub map[string]any) *chart.Chart {
	c := &chart.Chart{Metadata: &chart.Metadata{APIVersion: "v2", Name: "ext", Version: "1.0.0"}, Values: values}
	if sub != nil {
		c.AddDependency(&chart.Chart{Metadata: &chart.Metadata{APIVersion: "v2", Name: "backend", Version: "1.0.0"}, Values: sub})
	}
	return c
}

func TestPinnedImages(t *testing.T) {
	oldChart := valuesChart(map[string]any{"image": map[string]any{"tag": "1.0"}, "replicas": 1},
		map[string]any{"image": map[string]any{"repository": "x/backend", "tag": "1.0"}, "sidecar": map[string]any{"imageVersion": "v1"}})
	newChart := valuesChart(map[string]any{"image": map[string]any{"tag": "2.0"}, "replicas": 2},
		map[string]any{"image": map[string]any{"repository": "x/backend", "tag": "2.0"}, "sidecar": map[string]any{"imageVersion": "v2"}})
	values := map[string]any{
		"image":    map[string]any{"tag": "1.0"},                                                        // pins the old default
		"replicas": 1,                                                                                   // not an image
		"backend":  map[string]any{"image": map[string]any{"tag": "custom", "repository": "x/backend"}}, // the user's own tag; the repository did not change
	}
	got := cluster.PinnedImages(values, oldChart, newChart, "1.0.0", "2.0.0")
	if len(got) != 1 || !strings.Contains(got[0], "spec.config sets image.tag: 1.0, the default of 1.0.0; 2.0.0's default is 2.0") {
		t.Errorf("warnings %q, want one for image.tag", got)
	}
	values["backend"] = map[string]any{"image": map[string]any{"tag": "1.0"}}
	if got := cluster.PinnedImages(values, oldChart, newChart, "1.0.0", "2.0.0"); len(got) != 2 || !strings.Contains(got[0], "backend.image.tag") {
		t.Errorf("warnings %q, want backend.image.tag and image.tag", got)
	}
}

// An upgrade through the cluster warns about the pin.
func TestUpgradeWarnsAboutPinnedImageTag(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	dir := scaffold(t, "pinned", create.Frontend)
	edit(t, dir, "values.yaml", func(string) string { return "image:\n  tag: \"0.1.0\"\n" })
	mustInstall(t, c, dir, cluster.InstallOptions{Values: map[string]any{"image": map[string]any{"tag": "0.1.0"}}})

	setVersion(t, dir, "0.2.0")
	edit(t, dir, "values.yaml", func(s string) string { return strings.Replace(s, `tag: "0.1.0"`, `tag: "0.2.0"`, 1) })
	res, _ := mustInstall(t, c, dir, cluster.InstallOptions{Upgrade: true})
	var found bool
	for _, w := range res.Warnings {
		found = found || strings.Contains(w, "spec.config sets image.tag: 0.1.0, the default of 0.1.0; 0.2.0's default is 0.2.0")
	}
	if !found {
		t.Errorf("warnings %q, want the pinned image.tag", res.Warnings)
	}
}
