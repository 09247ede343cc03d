package lint

import (
	"strings"
	"testing"
	"text/template/parse"

	"github.com/stretchr/testify/assert"
	"helm.sh/helm/v3/pkg/chart"
)

func TestCapabilityReaders(t *testing.T) {
	tpl := func(name, text string) *chart.File { return &chart.File{Name: name, Data: []byte(text)} }
	sub := &chart.Chart{Metadata: &chart.Metadata{Name: "lib"}, Templates: []*chart.File{
		tpl("templates/_api.tpl", `{{ define "lib.api" }}{{ if .Capabilities.APIVersions.Has "batch/v1/CronJob" }}batch/v1{{ else }}batch/v1beta1{{ end }}{{ end }}`),
		tpl("templates/_via.tpl", `{{ define "lib.via" }}{{ include "lib.api" . }}{{ end }}`),
		tpl("templates/_name.tpl", `{{ define "lib.name" }}{{ .Chart.Name }}{{ end }}`),
		tpl("templates/cm.yaml", `kind: ConfigMap`),
	}}
	top := &chart.Chart{Metadata: &chart.Metadata{Name: "ext"}, Templates: []*chart.File{
		tpl("templates/field.yaml", `{{ if semverCompare ">=1.21-0" .Capabilities.KubeVersion.GitVersion }}{{ end }}`),
		tpl("templates/root.yaml", `{{ range .Values.x }}{{ $.Capabilities.KubeVersion.Minor }}{{ end }}`),
		tpl("templates/index.yaml", `{{ index . "Capabilities" }}`),
		tpl("templates/include.yaml", `apiVersion: {{ include "lib.api" . }}`),
		tpl("templates/transitive.yaml", `{{ with .Values }}{{ include "lib.via" $ | trim }}{{ end }}`),
		tpl("templates/template.yaml", `{{ template "lib.via" . }}`),
		tpl("templates/tpl.yaml", `{{ tpl .Values.text . }}`),
		tpl("templates/computed.yaml", `{{ include (printf "%s.api" "lib") . }}`),
		tpl("templates/plain.yaml", `name: {{ include "lib.name" . }}`),
		tpl("templates/values.yaml", `{{ .Values.Capabilitiesless }}`),
	}}
	top.SetDependencies(sub)
	assert.Equal(t, map[string]bool{
		"ext/templates/field.yaml":      true,
		"ext/templates/root.yaml":       true,
		"ext/templates/index.yaml":      true,
		"ext/templates/include.yaml":    true,
		"ext/templates/transitive.yaml": true,
		"ext/templates/template.yaml":   true,
		"ext/templates/tpl.yaml":        true,
		"ext/templates/computed.yaml":   true,
	}, capabilityReaders(top))

	// The part rendered again keeps the readers and what they may include.
	v := versionedChart(top, capabilityReaders(top))
	var names []string
	for _, t := range v.Templates {
		names = append(names, t.Name)
	}
	assert.NotContains(t, names, "templates/plain.yaml")
	assert.Contains(t, names, "templates/include.yaml")
	assert.Len(t, v.Dependencies(), 1)
	assert.Len(t, v.Dependencies()[0].Templates, 3, "the partials of lib, not cm.yaml")
	assert.Len(t, top.Templates, 10, "the chart is not changed")
}

// FuzzCapabilityReaders: any template text is judged without a panic, and
// one that parses and names neither .Capabilities nor a way to reach it
// (tpl, include, template) is not re-rendered.
func FuzzCapabilityReaders(f *testing.F) {
	for _, s := range []string{
		`{{ .Capabilities.KubeVersion.Version }}`,
		`{{ include "x" . }}{{ define "x" }}{{ $.Capabilities }}{{ end }}`,
		`{{ template "y" }}{{ define "y" }}{{ tpl "a" . }}{{ end }}`,
		`{{ if .Values.a }}{{ range .Values.b }}{{ with . }}{{ . }}{{ else }}x{{ end }}{{ end }}{{ end }}`,
		`{{ (index . "Capabilities").APIVersions }}`,
		`{{ call .Values.f | printf "%s" }}`,
		`{{ block "b" . }}{{ .Capabilities }}{{ end }}`,
		`{{ define "z" }}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		c := &chart.Chart{Metadata: &chart.Metadata{Name: "ext"}, Templates: []*chart.File{{Name: "templates/x.yaml", Data: []byte(text)}}}
		readers := capabilityReaders(c)
		p := parse.New("x")
		p.Mode = parse.SkipFuncCheck
		if _, err := p.Parse(text, "{{", "}}", map[string]*parse.Tree{}); err != nil {
			return
		}
		for _, word := range []string{"Capabilities", "tpl", "include", "template", "block"} {
			if strings.Contains(text, word) {
				return
			}
		}
		assert.Empty(t, readers, "%q", text)
	})
}
