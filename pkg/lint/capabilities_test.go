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
	readers, observed := capabilityReaders(top)
	assert.Equal(t, map[string]bool{
		"ext/templates/field.yaml":      true,
		"ext/templates/root.yaml":       true,
		"ext/templates/index.yaml":      true,
		"ext/templates/include.yaml":    true,
		"ext/templates/transitive.yaml": true,
		"ext/templates/template.yaml":   true,
		"ext/templates/tpl.yaml":        true,
		"ext/templates/computed.yaml":   true,
	}, readers)
	assert.Equal(t, map[string]bool{"batch/v1/CronJob": true}, observed.asked)
	assert.True(t, observed.all, "index may see every API")

	// The part rendered again keeps the readers and what they may include.
	v := versionedChart(top, readers)
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

// TestObservedAPIs: what a chart can see of the served APIs decides which
// versions are rendered again; versions it cannot tell apart are one.
func TestObservedAPIs(t *testing.T) {
	observe := func(text string) apiObservation {
		c := &chart.Chart{Metadata: &chart.Metadata{Name: "ext"}, Templates: []*chart.File{{Name: "templates/x.yaml", Data: []byte(text)}}}
		_, o := capabilityReaders(c)
		return o
	}
	kr := kubeRange{allowed: make([]bool, maxMinor+1)}
	for m := 19; m <= newestKubeMinor(); m++ {
		kr.allowed[m] = true
	}
	changes := func(text string) []int {
		return apiChanges(observe(text), kr, 19, newestKubeMinor())
	}
	assert.Empty(t, changes(`{{ semverCompare ">=1.21-0" .Capabilities.KubeVersion.GitVersion }}`), "the version alone: no API seen")
	assert.Equal(t, []int{25}, changes(`{{ if .Capabilities.APIVersions.Has "batch/v1beta1" }}{{ end }}`))
	assert.Equal(t, []int{23, 29}, changes(`{{ if $.Capabilities.APIVersions.Has "flowcontrol.apiserver.k8s.io/v1beta2" }}{{ end }}`))
	assert.Equal(t, []int{21, 25}, changes(`{{ define "x" }}{{ .Capabilities.APIVersions.Has "batch/v1/CronJob" }}{{ end }}{{ .Capabilities.APIVersions.Has "batch/v1beta1" }}`))
	for _, text := range []string{
		`{{ .Capabilities.APIVersions.Has .Values.api }}`,
		`{{ "batch/v1" | .Capabilities.APIVersions.Has }}`,
		`{{ toYaml .Capabilities.APIVersions }}`,
		`{{ $c := .Capabilities }}{{ $c.APIVersions.Has "batch/v1" }}`,
		`{{ tpl "{{ .Capabilities.APIVersions }}" . }}`,
	} {
		assert.True(t, observe(text).all, text)
	}
	// tpl sees what the text it renders reads: the values name it or not.
	viaTpl := observe(`{{ tpl .Values.t . }}{{ include (printf "%s" .Values.n) . }}`)
	assert.False(t, viaTpl.all)
	assert.False(t, viaTpl.withValues(map[string]any{"t": "{{ .Release.Name }}"}).all)
	assert.True(t, viaTpl.withValues(map[string]any{"a": []any{map[string]any{"t": "{{ .Capabilities.KubeVersion }}"}}}).all)
	withDefaults := &chart.Chart{Metadata: &chart.Metadata{Name: "ext"}, Values: map[string]any{"t": "{{ .Capabilities.APIVersions }}"},
		Templates: []*chart.File{{Name: "templates/x.yaml", Data: []byte(`{{ tpl .Values.t . }}`)}}}
	_, o := capabilityReaders(withDefaults)
	assert.True(t, o.all, "tpl of a default value that reads .Capabilities")
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
		readers, _ := capabilityReaders(c)
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
