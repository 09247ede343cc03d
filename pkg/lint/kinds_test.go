package lint

import (
	"encoding/base64"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ksbuilder/ksbuilder/internal/testutil/fixture"
	"github.com/ksbuilder/ksbuilder/pkg/diag"
	"github.com/ksbuilder/ksbuilder/pkg/extension"
	"github.com/ksbuilder/ksbuilder/pkg/kubesphere/extensions"
)

// kindRuleIDs are the rules of kinds.go, bundles.go and roletemplates.go.
var kindRuleIDs = []string{
	RuleKSSchema, RuleJSBundleLink, RuleJSBundleRef, RuleAPIServiceConflict, RuleReverseProxyConflict,
	RuleReverseProxyPath, RuleExtensionEntryNames, RuleEndpoint, RuleServicePort, RuleMenuParent, RuleBundleExport,
	RuleRoleTemplateScope, RuleRoleTemplateAnnotations, RuleRoleTemplateDependencies, RuleMenuAuthKey, RuleAppChart,
}

// kindFindings lints the base fixture with some files replaced and returns
// the findings of the kind rules, one formatted line each.
func kindFindings(t *testing.T, changes map[string]string) []string {
	t.Helper()
	res := lintBase(t, changes)
	var own diag.List
	for _, d := range res.Findings {
		if slices.Contains(kindRuleIDs, d.Code) {
			own = append(own, d)
		}
	}
	if len(own) == 0 {
		return nil
	}
	return strings.Split(strings.TrimSpace(format(own)), "\n")
}

// readBase returns a file of the base fixture.
func readBase(t *testing.T, name string) string {
	t.Helper()
	files, _ := fixture.Load(t, filepath.Join(fixtures, "base"), filepath.Join(fixtures, "base"))
	return string(files[name])
}

// newExtension is an extension.yaml with only a ksVersion.
func newExtension(ksVersion string) *extension.Extension {
	return &extension.Extension{KSVersion: ksVersion}
}

func TestKindRulesAreRegistered(t *testing.T) {
	for _, id := range kindRuleIDs {
		_, ok := LookupRule(id)
		assert.True(t, ok, id)
	}
}

// TestKubernetesAPIServiceIsNotKubeSphere: apiregistration.k8s.io
// APIServices (metrics-server's) are Kubernetes' own kind; two of one
// group and version, without url, are none of the kind rules' business.
func TestKubernetesAPIServiceIsNotKubeSphere(t *testing.T) {
	api := "apiVersion: apiregistration.k8s.io/v1\nkind: APIService\nmetadata:\n  name: %s\nspec:\n  group: metrics.k8s.io\n  version: v1beta1\n  groupPriorityMinimum: 100\n  versionPriority: 100\n  service:\n    name: metrics\n    namespace: {{ .Release.Namespace }}\n"
	got := kindFindings(t, map[string]string{
		"charts/app/templates/apiservice.yaml": strings.Replace(api, "%s", "v1beta1.metrics.k8s.io", 1) + "---\n" + strings.Replace(api, "%s", "other", 1),
	})
	assert.Empty(t, got)

	// The same objects as KubeSphere's kind are refused.
	ks := strings.NewReplacer("apiregistration.k8s.io/v1", "extensions.kubesphere.io/v1alpha1", "  groupPriorityMinimum: 100\n  versionPriority: 100\n", "").Replace(api)
	got = kindFindings(t, map[string]string{
		"charts/app/templates/apiservice.yaml": strings.Replace(ks, "%s", "v1beta1.metrics.k8s.io", 1) + "---\n" + strings.Replace(ks, "%s", "other", 1),
	})
	require.Len(t, got, 1)
	assert.Contains(t, got[0], "[apiservice-conflict] charts/app/templates/apiservice.yaml:17:3")
}

func TestMatchersOverlap(t *testing.T) {
	tests := []struct {
		a, b extensions.Matcher
		want bool
	}{
		{extensions.Matcher{Method: "GET", Path: "/proxy/a"}, extensions.Matcher{Method: "GET", Path: "/proxy/a"}, true},
		{extensions.Matcher{Method: "GET", Path: "/proxy/a"}, extensions.Matcher{Method: "POST", Path: "/proxy/a"}, false},
		{extensions.Matcher{Method: "*", Path: "/proxy/a"}, extensions.Matcher{Method: "POST", Path: "/proxy/a"}, true},
		{extensions.Matcher{Method: "GET", Path: "/proxy/a"}, extensions.Matcher{Method: "*", Path: "/proxy/a"}, true},
		{extensions.Matcher{Method: "GET", Path: "/proxy/a/*"}, extensions.Matcher{Method: "GET", Path: "/proxy/a/b"}, true},
		{extensions.Matcher{Method: "GET", Path: "/proxy/a/b"}, extensions.Matcher{Method: "GET", Path: "/proxy/a/*"}, true},
		{extensions.Matcher{Method: "GET", Path: "/proxy/a/*"}, extensions.Matcher{Method: "GET", Path: "/proxy/ab"}, false},
		{extensions.Matcher{Method: "GET", Path: "/proxy/a*"}, extensions.Matcher{Method: "GET", Path: "/proxy/ab"}, true},
		{extensions.Matcher{Method: "GET", Path: "/proxy/a/b"}, extensions.Matcher{Method: "GET", Path: "/proxy/a/c"}, false},
		{extensions.Matcher{Method: "GET", Path: "/proxy/a/*"}, extensions.Matcher{Method: "POST", Path: "/proxy/*"}, false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, matchersOverlap(tt.a, tt.b), "%v %v", tt.a, tt.b)
	}
}

func TestKSRangeAllowsFrom(t *testing.T) {
	tests := []struct {
		constraint string
		minor      int
		want       string
	}{
		{"", 2, "4.2"},
		{">=4.0.0-0", 1, "4.1"},
		{">=4.0.0-0", 2, "4.2"},
		{">=3.0.0", 2, "4.2"},
		{"<4.2.0-0", 2, ""},
		{"<4.2.0-0", 1, "4.1"},
		{">=4.0.0 <4.1.0", 1, ""},
		{"~4.1.0", 2, ""},
		{"~4.1.0", 1, "4.1"},
		{">=4.3.0-0", 2, "4.3"},
		{">=5.0.0", 2, "5.0"},
		{"not a constraint", 1, ""},
	}
	for _, tt := range tests {
		l := &linter{ext: newExtension(tt.constraint)}
		assert.Equal(t, tt.want, l.ksVersions().allowsFrom(tt.minor), "%q from 4.%d", tt.constraint, tt.minor)
	}
}

// TestBundleTextSources reads the bundle from spec.raw and from a Secret's
// base64 data, and the version rules follow ksVersion.
func TestBundleTextSources(t *testing.T) {
	js := `System.register([], function () { return { execute: function () { globals.context.registerExtension({ menus: [{ parent: "project", name: "demo" }] }); } }; });`
	raw := "apiVersion: extensions.kubesphere.io/v1alpha1\nkind: JSBundle\nmetadata:\n  name: demo-app\nspec:\n  raw: " + base64.StdEncoding.EncodeToString([]byte(js)) + "\n"
	secret := "apiVersion: extensions.kubesphere.io/v1alpha1\nkind: JSBundle\nmetadata:\n  name: demo-app\nspec:\n  rawFrom:\n    secretKeyRef:\n      name: demo-ui\n      namespace: {{ .Release.Namespace }}\n      key: index.js\n" +
		"---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: demo-ui\ndata:\n  index.js: " + base64.StdEncoding.EncodeToString([]byte(js)) + "\n"
	for name, bundle := range map[string]string{"raw": raw, "secret": secret} {
		t.Run(name, func(t *testing.T) {
			got := kindFindings(t, map[string]string{"charts/app/templates/jsbundle.yaml": bundle})
			require.Len(t, got, 2, "%s", strings.Join(got, "\n"))
			assert.Contains(t, got[0], `[jsbundle-export]`)
			assert.Contains(t, got[1], `[menu-parent]`)
			assert.Contains(t, got[1], `parent "project"`)

			files := map[string]string{"charts/app/templates/jsbundle.yaml": bundle}
			ext := readBase(t, "extension.yaml")
			files["extension.yaml"] = strings.Replace(ext, `ksVersion: ">=4.1.0-0"`, `ksVersion: ">=4.0.0-0 <4.1.0-0"`, 1)
			assert.Empty(t, kindFindings(t, files), "4.0 only: both are right there")
		})
	}
}

// TestConsoleProxyPath: a ReverseProxy handed to ks-console is not routed
// by ks-apiserver, so its path may lie outside /proxy.
func TestConsoleProxyPath(t *testing.T) {
	proxy := "apiVersion: extensions.kubesphere.io/v1alpha1\nkind: ReverseProxy\nmetadata:\n  name: demo\n%s" +
		"spec:\n  matcher:\n    method: GET\n    path: /demo/*\n  upstream:\n    url: http://demo.{{ .Release.Namespace }}.svc:8080\n"
	got := kindFindings(t, map[string]string{"charts/app/templates/proxy.yaml": strings.Replace(proxy, "%s", "", 1)})
	require.Len(t, got, 1)
	assert.Contains(t, got[0], "[reverseproxy-path] charts/app/templates/proxy.yaml:8:5")
	got = kindFindings(t, map[string]string{"charts/app/templates/proxy.yaml": strings.Replace(proxy, "%s", "  labels:\n    kubesphere.io/reverse-proxy-target: ks-console\n", 1)})
	assert.Empty(t, got)
}

// TestSchemaErrorStopsKindRules: an object the CRD refuses is reported
// once, by ks-schema; the other rules wait until it decodes.
func TestSchemaErrorStopsKindRules(t *testing.T) {
	got := kindFindings(t, map[string]string{"charts/app/templates/jsbundle.yaml": "apiVersion: extensions.kubesphere.io/v1alpha1\nkind: JSBundle\nmetadata:\n  name: demo-app\nspec: {}\nstatus:\n  link: [/elsewhere]\n"})
	require.Len(t, got, 1)
	assert.Contains(t, got[0], "error [ks-schema] charts/app/templates/jsbundle.yaml:7:3 status.link:")

	got = kindFindings(t, map[string]string{"charts/app/templates/proxy.yaml": "apiVersion: extensions.kubesphere.io/v1alpha1\nkind: ReverseProxy\nmetadata:\n  name: demo\nspec:\n  matcher:\n    path: /elsewhere\n"})
	assert.Equal(t, []string{
		`error [ks-schema] charts/app/templates/proxy.yaml:5:1 spec.upstream: ReverseProxy "demo": required field spec.upstream is missing; the CRD's schema refuses the object, so the install fails (set it; see docs/lint.md#kubespheres-extension-kinds for the kind's fields)`,
		`error [ks-schema] charts/app/templates/proxy.yaml:6:3 spec.matcher.method: ReverseProxy "demo": required field spec.matcher.method is missing; the CRD's schema refuses the object, so the install fails (set it; see docs/lint.md#kubespheres-extension-kinds for the kind's fields)`,
	}, got)
}

func TestTemplateDocuments(t *testing.T) {
	text := "# a comment\n---\na: 1\n---\n# only a comment\n---\n\nb: 2\nc: 3\n--- \n"
	docs := templateDocuments(text)
	require.Len(t, docs, 2)
	assert.Equal(t, "a: 1", docs[0].text)
	assert.Equal(t, 2, docs[0].offset)
	assert.Equal(t, "\nb: 2\nc: 3", docs[1].text)
	assert.Equal(t, 6, docs[1].offset)
}

// TestKeysInTheirOwnDocument: a key is looked up in the object's own
// document of the template; when the template's documents do not match
// the objects one to one (a range), in the whole template, where a key
// found more than once gives no line rather than a wrong one.
func TestKeysInTheirOwnDocument(t *testing.T) {
	bundle := "apiVersion: extensions.kubesphere.io/v1alpha1\nkind: JSBundle\nmetadata:\n  name: %s\nspec:\n  rawFrom:\n    url: http://x.{{ .Release.Namespace }}.svc/index.js\nstatus:\n  link: %s\n"
	fill := func(name, link string) string {
		return strings.Replace(strings.Replace(bundle, "%s", name, 1), "%s", link, 1)
	}
	two := fill("demo-a", "/dist/elsewhere/a.js") + "---\n" + fill("demo-b", "/dist/other/b.js")
	got := kindFindings(t, map[string]string{"charts/app/templates/jsbundle.yaml": two})
	require.Len(t, got, 2, "%s", strings.Join(got, "\n"))
	assert.Contains(t, got[0], "[jsbundle-link] charts/app/templates/jsbundle.yaml:9:3 status.link: JSBundle \"demo-a\"")
	assert.Contains(t, got[1], "[jsbundle-link] charts/app/templates/jsbundle.yaml:19:3 status.link: JSBundle \"demo-b\"")

	// A link the template computes is placed by its key.
	computed := fill("demo-a", "/{{ .Release.Name }}/index.js")
	got = kindFindings(t, map[string]string{"charts/app/templates/jsbundle.yaml": computed})
	require.Len(t, got, 1)
	assert.Contains(t, got[0], "[jsbundle-link] charts/app/templates/jsbundle.yaml:9:3 status.link: JSBundle \"demo-a\": status.link \"/demo/index.js\"")

	ranged := "{{- range list \"a\" \"b\" }}\n---\napiVersion: extensions.kubesphere.io/v1alpha1\nkind: JSBundle\nmetadata:\n  name: demo-{{ . }}\nspec:\n  rawFrom:\n    url: http://x/index.js\nstatus:\n  link: /dist/other/{{ . }}.js\n{{- end }}\n"
	got = kindFindings(t, map[string]string{"charts/app/templates/jsbundle.yaml": ranged})
	require.Len(t, got, 2, "%s", strings.Join(got, "\n"))
	assert.Contains(t, got[0], "[jsbundle-link] charts/app/templates/jsbundle.yaml: status.link:")
}
