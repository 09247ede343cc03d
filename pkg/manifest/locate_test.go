package manifest

import (
	"testing"

	"helm.sh/helm/v3/pkg/chart"

	"github.com/ksbuilder/ksbuilder/pkg/diag"
	"github.com/ksbuilder/ksbuilder/pkg/source"
)

func TestLocator(t *testing.T) {
	src := source.New("ext", source.Directory, []source.File{
		{Name: "extension.yaml", Data: []byte("name: ext")},
		{Name: "charts/api-dir/Chart.yaml", Data: []byte("apiVersion: v2\nname: backend\nversion: 1.0.0\n")},
		{Name: "charts/api-dir/templates/a.yaml", Data: []byte("a: 1")},
	})
	sub := &chart.Chart{Metadata: &chart.Metadata{APIVersion: "v2", Name: "backend", Version: "1.0.0"}}
	top := &chart.Chart{Metadata: &chart.Metadata{APIVersion: "v2", Name: "ext", Version: "1.0.0",
		Dependencies: []*chart.Dependency{{Name: "backend", Alias: "api"}}}}
	top.AddDependency(sub)
	l := NewLocator(src, top)
	for chartPath, want := range map[string]string{
		"ext/templates/x.yaml":                "templates/x.yaml",
		"ext/Chart.yaml":                      "extension.yaml",
		"ext/charts/backend/templates/a.yaml": "charts/api-dir/templates/a.yaml",
		"ext/charts/api/templates/a.yaml":     "charts/api-dir/templates/a.yaml",
		"elsewhere/templates/a.yaml":          "elsewhere/templates/a.yaml",
	} {
		if got := l.Locate(chartPath); got.File != want || got.Inner != "" {
			t.Errorf("Locate(%s) = %+v, want %s", chartPath, got, want)
		}
	}
	d, ok := l.TemplateDiagnostic(diag.Error, "render", "", "execution error at (ext/charts/api/templates/a.yaml:3:7): boom", "")
	if !ok || d.File != "charts/api-dir/templates/a.yaml" || d.Line != 3 || d.Column != 7 {
		t.Errorf("TemplateDiagnostic = %+v, %v", d, ok)
	}
	if _, ok := l.TemplateDiagnostic(diag.Error, "render", "", "no position here", ""); ok {
		t.Error("a message without a position was located")
	}
}
