package lint

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chart"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/ksbuilder/ksbuilder/pkg/diag"
	"github.com/ksbuilder/ksbuilder/pkg/extension"
	"github.com/ksbuilder/ksbuilder/pkg/manifest"
	"github.com/ksbuilder/ksbuilder/pkg/source"
)

func TestKubeVersionsAllowsFrom(t *testing.T) {
	tests := []struct {
		kubeVersion string
		from, want  int
	}{
		{"", 25, 25},                      // the default range has no upper bound
		{">=1.19.0-0", 16, 19},            // the first allowed minor at or above
		{">=1.19.0-0 <1.25.0-0", 25, 0},   // bounded below the removal
		{">=1.19.0-0 <1.25.0-0", 22, 22},  //
		{"~1.24.0", 25, 0},                // a tilde range stays in its minor
		{"^1.20", 30, 30},                 // a caret range goes on
		{"not a constraint", 25, 25},      // invalid: the default range
		{">=1.19.0-0, <=1.24.99", 25, 0},  // comma-joined bounds
		{"<1.19.0-0 || >=1.30.0", 25, 30}, // alternatives
	}
	for _, tt := range tests {
		l := &linter{ext: &extension.Extension{KubeVersion: tt.kubeVersion}}
		assert.Equal(t, tt.want, l.kubeVersions().allowsFrom(tt.from), "kubeVersion %q from 1.%d", tt.kubeVersion, tt.from)
	}
}

func TestLifecycleOf(t *testing.T) {
	// From the methods k8s.io/api generates.
	lc, ok := lifecycleOf(schema.GroupVersionKind{Group: "batch", Version: "v1beta1", Kind: "CronJob"})
	require.True(t, ok)
	assert.Equal(t, 25, lc.removed)
	assert.Equal(t, 21, lc.deprecated)
	assert.Equal(t, "batch/v1 CronJob", lc.replacement)
	// CRDs come from apiextensions-apiserver's types.
	lc, ok = lifecycleOf(schema.GroupVersionKind{Group: "apiextensions.k8s.io", Version: "v1beta1", Kind: "CustomResourceDefinition"})
	require.True(t, ok)
	assert.Equal(t, 22, lc.removed)
	// From the table: the types are gone from k8s.io/api.
	lc, ok = lifecycleOf(schema.GroupVersionKind{Group: "policy", Version: "v1beta1", Kind: "PodSecurityPolicy"})
	require.True(t, ok)
	assert.Equal(t, 25, lc.removed)
	// Served APIs and unknown kinds have no lifecycle.
	for _, gvk := range []schema.GroupVersionKind{
		{Group: "apps", Version: "v1", Kind: "Deployment"},
		{Group: "extensions.kubesphere.io", Version: "v1alpha1", Kind: "JSBundle"},
	} {
		_, ok := lifecycleOf(gvk)
		assert.False(t, ok, gvk.String())
	}
}

// kubeAPIFindings runs the Kubernetes API rules on one rendered document
// of a template whose source is given.
func kubeAPIFindings(t *testing.T, kubeVersion, template, rendered string) diag.List {
	t.Helper()
	const file = "charts/app/templates/x.yaml"
	src := source.New("ext", source.Directory, []source.File{{Name: file, Data: []byte(template)}})
	objs, bad := manifest.ParseObjects(map[string]string{"ext/" + file: rendered})
	require.Empty(t, bad)
	c := &chart.Chart{Metadata: &chart.Metadata{Name: "ext"}}
	l := &linter{
		ctx:      context.Background(),
		src:      src,
		ext:      &extension.Extension{KubeVersion: kubeVersion},
		chart:    c,
		loc:      manifest.NewLocator(src, c),
		releases: []*release{{objects: objs}},
	}
	l.kubeAPIRules()
	return l.findings
}

func TestStrictDecode(t *testing.T) {
	t.Run("wrong type in a list", func(t *testing.T) {
		doc := "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: a\nspec:\n  template:\n    spec:\n      containers:\n        - name: a\n          env:\n            - name: MODE\n              value: 3\n"
		got := kubeAPIFindings(t, "", doc, doc)
		require.Len(t, got, 1, format(got))
		assert.Equal(t, diag.Error, got[0].Severity)
		assert.Equal(t, RuleK8sSchema, got[0].Code)
		assert.Equal(t, "spec.template.spec.containers.env.value", got[0].Field)
		assert.Equal(t, 12, got[0].Line)
		assert.Contains(t, got[0].Message, "holds a number where apps/v1 Deployment wants a string")
	})
	t.Run("a mapping for a list", func(t *testing.T) {
		doc := "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\nspec:\n  containers:\n    name: a\n"
		got := kubeAPIFindings(t, "", doc, doc)
		require.Len(t, got, 1, format(got))
		assert.Equal(t, "spec.containers", got[0].Field)
		assert.Contains(t, got[0].Message, "holds a mapping where v1 Pod wants a list")
	})
	t.Run("unknown fields, line only when unique", func(t *testing.T) {
		doc := "apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n  nmae: b\nspec:\n  ports:\n    - port: 80\n      tragetPort: 80\n    - port: 81\n      tragetPort: 81\n"
		got := kubeAPIFindings(t, "", doc, doc)
		require.Len(t, got, 3, format(got))
		for _, d := range got {
			assert.Equal(t, diag.Warning, d.Severity)
			assert.Equal(t, "charts/app/templates/x.yaml", d.File)
		}
		fields := map[string]int{}
		for _, d := range got {
			fields[d.Field] = d.Line
		}
		// tragetPort is on two lines of the template: no line.
		assert.Equal(t, map[string]int{"metadata.nmae": 5, "spec.ports[0].tragetPort": 0, "spec.ports[1].tragetPort": 0}, fields)
		for _, d := range got {
			switch d.Field {
			case "metadata.nmae":
				assert.Equal(t, `did you mean "name"? See kubectl explain service.metadata`, d.Hint)
			default:
				assert.Equal(t, `did you mean "targetPort"? See kubectl explain service.spec.ports`, d.Hint)
			}
		}
	})
	t.Run("duplicate field", func(t *testing.T) {
		// Helm's parser keeps the last of two keys; the object decoder
		// reports them.
		src := source.New("ext", source.Directory, nil)
		l := &linter{src: src, ext: &extension.Extension{},
			loc: manifest.NewLocator(src, &chart.Chart{Metadata: &chart.Metadata{Name: "ext"}})}
		l.strictDecode(manifest.Object{File: "ext/x.yaml", APIVersion: "v1", Kind: "ConfigMap", Name: "a",
			Text: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: a\n  k: b\n"}, l.templateSource(manifest.Object{File: "ext/x.yaml"}))
		got := l.findings
		require.Len(t, got, 1, format(got))
		assert.Equal(t, diag.Warning, got[0].Severity)
		assert.Equal(t, "k", got[0].Field)
		assert.Contains(t, got[0].Message, "set twice")
	})
	t.Run("custom resources are skipped", func(t *testing.T) {
		doc := "apiVersion: extensions.kubesphere.io/v1alpha1\nkind: JSBundle\nmetadata:\n  name: a\nspec:\n  anything: 1\n"
		assert.Empty(t, kubeAPIFindings(t, "", doc, doc))
	})
	t.Run("a served API version", func(t *testing.T) {
		doc := "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: a\nspec:\n  minAvailable: 1\n"
		assert.Empty(t, kubeAPIFindings(t, "", doc, doc))
	})
}

func TestAPILifecycle(t *testing.T) {
	doc := "apiVersion: networking.k8s.io/v1beta1\nkind: Ingress\nmetadata:\n  name: a\n"
	got := kubeAPIFindings(t, "", doc, doc)
	require.Len(t, got, 1, format(got))
	assert.Equal(t, RuleK8sAPIRemoved, got[0].Code)
	assert.Equal(t, diag.Error, got[0].Severity)
	assert.Equal(t, 1, got[0].Line)
	assert.Contains(t, got[0].Hint, "use networking.k8s.io/v1 Ingress")

	// Bounded below the removal, the API is only deprecated.
	got = kubeAPIFindings(t, ">=1.19.0-0 <1.22.0-0", doc, doc)
	require.Len(t, got, 1, format(got))
	assert.Equal(t, RuleK8sAPIDeprecated, got[0].Code)
	assert.Equal(t, diag.Warning, got[0].Severity)

	// Bounded below the deprecation, nothing to report.
	assert.Empty(t, kubeAPIFindings(t, ">=1.14.0-0 <1.19.0-0", doc, doc))

	// A retired API the scheme no longer knows: the table reports it and
	// the schema rule skips it.
	hpa := "apiVersion: autoscaling/v2beta2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: a\nspec:\n  whatever: 1\n"
	got = kubeAPIFindings(t, "", hpa, hpa)
	require.Len(t, got, 1, format(got))
	assert.Equal(t, RuleK8sAPIRemoved, got[0].Code)
	assert.Contains(t, got[0].Message, "1.26")
}

// TestAPIVersionGatedOnCapabilities: a template that picks its apiVersion
// from .Capabilities is judged by what a cluster of each allowed version
// receives (issue 18 item 13: it was rendered at Helm's default
// capabilities only, which list no group/version/Kind and say 1.20, and
// the old API was reported as removed).
func TestAPIVersionGatedOnCapabilities(t *testing.T) {
	cronJob, err := os.ReadFile(filepath.Join(fixtures, "k8s-api-removed", "fail", "charts", "app", "templates", "cronjob.yaml"))
	require.NoError(t, err)
	withAPIVersion := func(line string) string {
		return strings.Replace(string(cronJob), "apiVersion: batch/v1beta1\n", line+"\n", 1)
	}
	tests := []struct {
		name, apiVersion string
		want             []string // k8s-api findings
	}{{
		name:       "APIVersions.Has on the new API",
		apiVersion: `apiVersion: {{ if .Capabilities.APIVersions.Has "batch/v1/CronJob" }}batch/v1{{ else }}batch/v1beta1{{ end }}`,
	}, {
		name:       "APIVersions.Has on the old API",
		apiVersion: `apiVersion: {{ if .Capabilities.APIVersions.Has "batch/v1beta1/CronJob" }}batch/v1beta1{{ else }}batch/v1{{ end }}`,
		// Clusters of 1.21 to 1.24 get the old API, deprecated there.
		want: []string{`warning [k8s-api-deprecated] charts/app/templates/cronjob.yaml: apiVersion: CronJob "demo-cleanup": batch/v1beta1 CronJob is deprecated from Kubernetes 1.21 on (removed in 1.25), and kubeVersion ">=1.19.0-0" allows 1.21 (use batch/v1 CronJob)`},
	}, {
		name:       "semverCompare on KubeVersion.GitVersion",
		apiVersion: `apiVersion: {{ if semverCompare ">=1.21-0" .Capabilities.KubeVersion.GitVersion }}batch/v1{{ else }}batch/v1beta1{{ end }}`,
	}, {
		name:       "semverCompare on KubeVersion.Version",
		apiVersion: `apiVersion: {{ if semverCompare "<1.21-0" .Capabilities.KubeVersion.Version }}batch/v1beta1{{ else }}batch/v1{{ end }}`,
	}, {
		name:       "a named template",
		apiVersion: `apiVersion: {{ include "app.cronjob.apiVersion" . }}`,
	}, {
		name:       "not gated",
		apiVersion: `apiVersion: batch/v1beta1`,
		want:       []string{`error [k8s-api-removed] charts/app/templates/cronjob.yaml:1:1 apiVersion: CronJob "demo-cleanup": batch/v1beta1 CronJob is not served from Kubernetes 1.25 on, and kubeVersion ">=1.19.0-0" allows 1.25 (use batch/v1 CronJob, or narrow kubeVersion in extension.yaml to the versions that serve it)`},
	}, {
		name:       "APIVersions.Has on an API every version serves",
		apiVersion: `apiVersion: {{ if .Capabilities.APIVersions.Has "batch/v1/Job" }}batch/v1beta1{{ else }}batch/v1{{ end }}`,
		want:       []string{`error [k8s-api-removed] charts/app/templates/cronjob.yaml: apiVersion: CronJob "demo-cleanup": batch/v1beta1 CronJob is not served from Kubernetes 1.25 on, and kubeVersion ">=1.19.0-0" allows 1.25 (use batch/v1 CronJob, or narrow kubeVersion in extension.yaml to the versions that serve it)`},
	}, {
		name:       "semverCompare switching too late",
		apiVersion: `apiVersion: {{ if semverCompare ">=1.27-0" .Capabilities.KubeVersion.GitVersion }}batch/v1{{ else }}batch/v1beta1{{ end }}`,
		want:       []string{`error [k8s-api-removed] charts/app/templates/cronjob.yaml: apiVersion: CronJob "demo-cleanup": batch/v1beta1 CronJob is not served from Kubernetes 1.25 on, and kubeVersion ">=1.19.0-0" allows 1.25 (use batch/v1 CronJob, or narrow kubeVersion in extension.yaml to the versions that serve it)`},
	}, {
		name:       "semverCompare keeping the old API on the newest versions",
		apiVersion: `apiVersion: {{ if semverCompare ">=1.30-0" .Capabilities.KubeVersion.GitVersion }}batch/v1beta1{{ else }}batch/v1{{ end }}`,
		want:       []string{fmt.Sprintf(`error [k8s-api-removed] charts/app/templates/cronjob.yaml: apiVersion: CronJob "demo-cleanup": batch/v1beta1 CronJob is not served from Kubernetes 1.25 on, and kubeVersion ">=1.19.0-0" allows 1.%d (use batch/v1 CronJob, or narrow kubeVersion in extension.yaml to the versions that serve it)`, newestKubeMinor())},
	}}
	// The gate in a named template of a partial, as charts usually have it.
	helper := `{{- define "app.cronjob.apiVersion" -}}
{{- if semverCompare ">=1.21-0" .Capabilities.KubeVersion.GitVersion -}}batch/v1{{- else -}}batch/v1beta1{{- end -}}
{{- end -}}
`
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := lintBase(t, map[string]string{"charts/app/templates/cronjob.yaml": withAPIVersion(tt.apiVersion), "charts/app/templates/_api.tpl": helper})
			var got []string
			for _, d := range res.Findings {
				if d.Code == RuleK8sAPIRemoved || d.Code == RuleK8sAPIDeprecated {
					got = append(got, strings.TrimSpace(format(diag.List{d})))
				}
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

// TestAPIRemovedBetweenRenders: a template gated on an API that neither
// the oldest nor the newest allowed version serves, using an API removed
// while the gate is still open, is rendered where the gate opens and the
// removal is found (it was missed: the API was in no render, so its
// removal was no version to render).
func TestAPIRemovedBetweenRenders(t *testing.T) {
	flowSchema := `{{- if .Capabilities.APIVersions.Has "flowcontrol.apiserver.k8s.io/v1beta2" }}
apiVersion: flowcontrol.apiserver.k8s.io/v1beta1
kind: FlowSchema
metadata:
  name: demo
spec:
  priorityLevelConfiguration:
    name: global-default
{{- end }}
`
	res := lintBase(t, map[string]string{"charts/app/templates/flowschema.yaml": flowSchema})
	var got []string
	for _, d := range res.Findings {
		if d.Code == RuleK8sAPIRemoved || d.Code == RuleK8sAPIDeprecated {
			got = append(got, strings.TrimSpace(format(diag.List{d})))
		}
	}
	// Served 1.20 to 1.25, the gate opens at 1.23 and closes at 1.29.
	assert.Equal(t, []string{`error [k8s-api-removed] charts/app/templates/flowschema.yaml:2:1 apiVersion: FlowSchema "demo": flowcontrol.apiserver.k8s.io/v1beta1 FlowSchema is not served from Kubernetes 1.26 on, and kubeVersion ">=1.19.0-0" allows 1.26 (use flowcontrol.apiserver.k8s.io/v1beta3 FlowSchema, or narrow kubeVersion in extension.yaml to the versions that serve it)`}, got)
}

// TestKubeCapabilities: the capabilities of a version list what a cluster
// of that version serves, as discovery does.
func TestKubeCapabilities(t *testing.T) {
	at20, at25 := kubeCapabilities(20), kubeCapabilities(25)
	assert.Equal(t, "v1.20.0", at20.KubeVersion.Version)
	assert.Equal(t, "20", at20.KubeVersion.Minor)
	for api, want := range map[string][2]bool{
		"batch/v1beta1/CronJob":            {true, false},
		"batch/v1beta1":                    {true, false},
		"batch/v1/CronJob":                 {false, true}, // GA in 1.21
		"batch/v1/Job":                     {true, true},
		"v1/ConfigMap":                     {true, true},
		"policy/v1beta1/PodSecurityPolicy": {true, false}, // retired: from the table
		"policy/v1beta1":                   {true, false},
		"apps/v1beta2/Deployment":          {false, false},
	} {
		assert.Equal(t, want, [2]bool{at20.APIVersions.Has(api), at25.APIVersions.Has(api)}, api)
	}
	assert.GreaterOrEqual(t, newestKubeMinor(), 33, "k8s.io/api knows at least 1.33")
}
