package manifest

import (
	"errors"
	"runtime"
	"strconv"
	"testing"

	"helm.sh/helm/v3/pkg/chart"
)

func TestParseTemplate(t *testing.T) {
	tests := []struct {
		name, text string
		line       int
		msg        string
	}{
		{"valid", "a: {{ .Values.x | default \"y\" | quote }}\n{{- include \"t.name\" . }}\n{{ required \"x\" .Values.x }}\n", 0, ""},
		{"helm functions", "{{ toYaml .Values | indent 2 }}{{ tpl \"x\" . }}{{ lookup \"v1\" \"Pod\" \"\" \"\" }}{{ fromYamlArray \"\" }}", 0, ""},
		{"not executed", "{{ fail \"would fail\" }}{{ .Values.missing.deep }}", 0, ""},
		{"unclosed", "a: 1\nb: {{ .Values.x \n", 2, "unclosed action"},
		{"unknown function", "a: 1\n\n{{ nosuchfunc .Values.x }}", 3, `function "nosuchfunc" not defined`},
		{"unexpected end", "{{ if .Values.x }}a", 1, "unexpected EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ParseTemplate([]byte(tt.text))
			if tt.msg == "" {
				if err != nil {
					t.Fatalf("error = %v", err)
				}
				return
			}
			var te *TemplateError
			if !errors.As(err, &te) {
				t.Fatalf("error = %v, want a *TemplateError", err)
			}
			if te.Line != tt.line || te.Message != tt.msg {
				t.Errorf("got line %d %q, want line %d %q", te.Line, te.Message, tt.line, tt.msg)
			}
		})
	}
}

func TestParseTemplates(t *testing.T) {
	lib := &chart.Chart{
		Metadata: &chart.Metadata{APIVersion: "v2", Name: "lib", Version: "1.0.0", Type: "library"},
		Templates: []*chart.File{
			{Name: "templates/_helpers.tpl", Data: []byte("{{ define \"x\" }}{{ end")},
			{Name: "templates/ignored.yaml", Data: []byte("{{ not parsed by Helm")},
		},
	}
	sub := &chart.Chart{
		Metadata:  &chart.Metadata{APIVersion: "v2", Name: "sub", Version: "1.0.0"},
		Templates: []*chart.File{{Name: "templates/ok.yaml", Data: []byte("a: {{ .Values.a }}")}},
	}
	top := &chart.Chart{
		Metadata:  &chart.Metadata{APIVersion: "v2", Name: "ext", Version: "1.0.0"},
		Templates: []*chart.File{{Name: "templates/cm.yaml", Data: []byte("a: {{ .Values.x ")}},
	}
	top.AddDependency(sub, lib)
	var got []string
	ParseTemplates(top, func(p string, err *TemplateError) { got = append(got, p+": "+err.Error()) })
	want := []string{"ext/templates/cm.yaml: line 1: unclosed action", "ext/charts/lib/templates/_helpers.tpl: line 1: unclosed action"}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

func TestParseTemplatesSharesOneFunctionMap(t *testing.T) {
	// Building Helm's function map (about 200 functions) for each template
	// cost more than parsing it: a chart's templates are parsed in one
	// pass, with one map, so they allocate far less than when each is
	// parsed on its own.
	c := &chart.Chart{Metadata: &chart.Metadata{APIVersion: "v2", Name: "ext", Version: "1.0.0"}}
	for i := 0; i < 40; i++ {
		name := "templates/cm" + strconv.Itoa(i) + ".yaml"
		c.Templates = append(c.Templates, &chart.File{Name: name, Data: []byte("a: {{ .Values.a | quote }}\n")})
	}
	together := allocatedBytes(func() {
		ParseTemplates(c, func(p string, err *TemplateError) { t.Fatalf("%s: %v", p, err) })
	})
	alone := allocatedBytes(func() {
		for _, tpl := range c.Templates {
			if err := ParseTemplate(tpl.Data); err != nil {
				t.Fatal(err)
			}
		}
	})
	if together > alone/4 {
		t.Errorf("40 templates parsed together allocate %d bytes, one by one %d: more than a quarter, so each template pays for a function map", together, alone)
	}
}

// allocatedBytes returns the bytes f allocates (the least of three runs).
func allocatedBytes(f func()) uint64 {
	var least uint64
	for i := 0; i < 3; i++ {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		f()
		runtime.ReadMemStats(&after)
		if n := after.TotalAlloc - before.TotalAlloc; i == 0 || n < least {
			least = n
		}
	}
	return least
}

func TestParseTemplatesAcrossFiles(t *testing.T) {
	// Parsed together, templates may define the same partial (the last
	// one wins, as in Helm) and a subchart's partials may be used anywhere.
	sub := &chart.Chart{
		Metadata:  &chart.Metadata{APIVersion: "v2", Name: "sub", Version: "1.0.0"},
		Templates: []*chart.File{{Name: "templates/_h.tpl", Data: []byte(`{{ define "x" }}sub{{ end }}`)}},
	}
	top := &chart.Chart{
		Metadata: &chart.Metadata{APIVersion: "v2", Name: "ext", Version: "1.0.0"},
		Templates: []*chart.File{
			{Name: "templates/_h.tpl", Data: []byte(`{{ define "x" }}top{{ end }}`)},
			{Name: "templates/cm.yaml", Data: []byte(`a: {{ include "x" . }}{{ template "undefined" }}`)},
		},
	}
	top.AddDependency(sub)
	ParseTemplates(top, func(p string, err *TemplateError) { t.Errorf("%s: %v", p, err) })
}
