package manifest

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/releaseutil"
)

func TestParseObjects(t *testing.T) {
	rendered := map[string]string{
		"ext/templates/NOTES.txt": "not yaml: [",
		"ext/templates/a.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  generateName: web-
  labels: {app: web, n: 1}
spec:
  template:
    spec:
      initContainers:
        - name: init
          image: busybox:1.36
      containers:
        - name: web
        - "not a container"
---
# comment only
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg
data:
  script: |
    echo start
    ---
    echo still the same document
`,
		"ext/templates/b.yaml": "key: [unclosed\n---\n- a list\n",
	}
	objs, errs := ParseObjects(rendered)
	require.Len(t, objs, 2)
	require.Len(t, errs, 2)
	assert.Equal(t, "ext/templates/b.yaml", errs[0].File)
	assert.Equal(t, 0, errs[0].Index)
	assert.Equal(t, 1, errs[1].Index)

	dep := objs[0]
	assert.Equal(t, "web-*", dep.DisplayName())
	assert.Equal(t, map[string]string{"app": "web"}, dep.Labels())
	assert.Equal(t, "spec.template.spec", dep.PodSpecField())
	assert.Equal(t, []Container{
		{Name: "init", Image: "busybox:1.36", Init: true, Field: "spec.template.spec.initContainers[0]"},
		{Name: "web", Field: "spec.template.spec.containers[0]"},
	}, dep.Containers())

	cm := objs[1]
	assert.Equal(t, 2, cm.Index, "the comment-only document keeps its place")
	assert.Contains(t, cm.Content["data"].(map[string]any)["script"], "still the same document")
	assert.False(t, cm.IsWorkload())
	assert.Nil(t, cm.Containers())

	_, err := Objects(rendered)
	assert.ErrorContains(t, err, "ext/templates/b.yaml: document 1 is not valid YAML")
}

func TestWorkloadsWithoutTemplates(t *testing.T) {
	objs, errs := ParseObjects(map[string]string{"x/templates/a.yaml": `apiVersion: batch/v1
kind: CronJob
metadata: {name: c}
spec:
  jobTemplate:
    spec:
      template: 7
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: s}
`})
	require.Empty(t, errs)
	for _, o := range objs {
		assert.True(t, o.IsWorkload())
		assert.Nil(t, o.PodSpec())
		assert.Nil(t, o.Containers())
	}
}

func TestIsTestHook(t *testing.T) {
	for hook, want := range map[string]bool{"test": true, "pre-install, test-success": true, "post-install": false, "": false} {
		o := newObject("f", 0, map[string]any{"metadata": map[string]any{"annotations": map[string]any{"helm.sh/hook": hook}}}, "")
		assert.Equal(t, want, o.IsTestHook(), hook)
	}
}

// FuzzParseObjects feeds random text to the object reader and its helpers;
// none may panic.
func FuzzParseObjects(f *testing.F) {
	for _, s := range []string{
		"apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: a, image: b}]}\n",
		"---\n---\n",
		"a: |\n  ---\n  b\n",
		"kind: CronJob\nspec: {jobTemplate: {spec: {template: {spec: {initContainers: [7]}}}}}\n",
		"apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nspec: {group: 1, names: []}\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		objs, _ := ParseObjects(map[string]string{"x/templates/f.yaml": text})
		for _, o := range objs {
			_ = o.DisplayName()
			_ = o.Labels()
			_ = o.Annotations()
			_ = o.IsTestHook()
			_ = o.Group()
			for _, c := range o.Containers() {
				if c.Field == "" {
					t.Fatalf("container without field path: %+v", c)
				}
			}
			_, _, _ = CRDResource(o)
		}
	})
}

// TestPrepareRendersForSeveralClusters: a prepared release renders for
// clusters of different capabilities, each render with its own values.
func TestPrepareRendersForSeveralClusters(t *testing.T) {
	c := &chart.Chart{
		Metadata: &chart.Metadata{APIVersion: chart.APIVersionV2, Name: "ext", Version: "0.1.0"},
		Values:   map[string]any{"n": 1},
		Templates: []*chart.File{{Name: "templates/x.yaml", Data: []byte(
			`{{- $_ := set .Values "n" (add1 .Values.n) -}}` +
				`v: {{ .Capabilities.KubeVersion.Version }} {{ .Capabilities.APIVersions.Has "batch/v1/CronJob" }} {{ .Values.n }} {{ .Values.user }}`)}},
	}
	p, err := Prepare(c, RenderOptions{ReleaseName: "ext", Namespace: "ns", Values: map[string]any{"user": "u"}})
	require.NoError(t, err)
	at := func(caps *chartutil.Capabilities) string {
		r, err := p.Render(caps)
		require.NoError(t, err)
		return r.Templates["ext/templates/x.yaml"]
	}
	caps := chartutil.DefaultCapabilities.Copy()
	caps.KubeVersion = chartutil.KubeVersion{Version: "v1.30.0", Major: "1", Minor: "30"}
	caps.APIVersions = chartutil.VersionSet{"batch/v1", "batch/v1/CronJob"}
	assert.Equal(t, "v: v1.30.0 true 2 u", at(caps))
	assert.Equal(t, "v: v1.20.0 false 2 u", at(nil), "Helm's defaults, and the values as prepared")
	assert.Equal(t, 1, c.Values["n"], "the chart is not changed")
}

// helmDocuments are the documents of Helm's releaseutil.SplitManifests, in
// order.
func helmDocuments(text string) []string {
	docs := releaseutil.SplitManifests(text)
	keys := make([]string, 0, len(docs))
	for k := range docs {
		keys = append(keys, k)
	}
	sort.Sort(releaseutil.BySplitManifestsOrder(keys))
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		out = append(out, docs[k])
	}
	return out
}

// splitSeeds are texts where Helm's separator expression has corners:
// white space around and between separators, "---" not at a line start,
// followed by text, alone, at the start, and white space \s does not
// match (\v, U+0085, U+00A0) but strings.TrimSpace does.
var splitSeeds = []string{
	"",
	"---",
	"---\n",
	"---\n---\n",
	"---\n---\nx",
	"a\n---\nb",
	"a  \n\n---  \nb",
	"a\n---b\n--- c\n----\nd",
	"a:\n  - |\n    x\n    ---\n    y\n---\nb: 1\n",
	"\n\n  ---\n  a\n",
	"a\n---\n\v\n---\nb",
	"a\n---\u0085\n---\u00a0b",
	"a\r\n---\r\nb\r\n",
	"a\n---\n---\n---\nb\n---",
	"x\f\n---\t\f\r\n\n---",
	"---a\n---",
	" \t--- \n---\n",
}

// TestSplitDocumentsAsHelm: the documents are Helm's, on the seeds and on
// the rendered templates of the corpus' largest chart.
func TestSplitDocumentsAsHelm(t *testing.T) {
	for _, s := range splitSeeds {
		assert.Equal(t, helmDocuments(s), splitDocuments(s), "%q", s)
	}
	var big strings.Builder
	for i := range 2000 {
		fmt.Fprintf(&big, "  \n---\n# doc %d\nkind: ConfigMap\ndata:\n  json: |-\n    {\n      \"a\": %d\n    }\n    ---\n", i, i)
	}
	require.Equal(t, helmDocuments(big.String()), splitDocuments(big.String()))
	require.Len(t, splitDocuments(big.String()), 2000)
}

// FuzzSplitDocuments compares splitDocuments with Helm's
// releaseutil.SplitManifests, which Helm installs with.
func FuzzSplitDocuments(f *testing.F) {
	for _, s := range splitSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		if want, got := helmDocuments(text), splitDocuments(text); !slices.Equal(want, got) {
			t.Fatalf("%q: Helm splits into %q, splitDocuments into %q", text, want, got)
		}
	})
}

func BenchmarkSplitDocuments(b *testing.B) {
	var big strings.Builder
	for i := range 200 {
		fmt.Fprintf(&big, "---\nkind: ConfigMap\ndata:\n  d%d.json: |-\n    {\n        \"panels\": [\n            {\n                \"a\": %d\n            }\n        ]\n    }\n", i, i)
	}
	text := big.String()
	b.Run("helm", func(b *testing.B) {
		for range b.N {
			releaseutil.SplitManifests(text)
		}
	})
	b.Run("ours", func(b *testing.B) {
		for range b.N {
			splitDocuments(text)
		}
	})
}
