package lint

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ksbuilder/ksbuilder/internal/testutil/fixture"
	"github.com/ksbuilder/ksbuilder/internal/testutil/golden"
	"github.com/ksbuilder/ksbuilder/pkg/diag"
	"github.com/ksbuilder/ksbuilder/pkg/extension"
	"github.com/ksbuilder/ksbuilder/pkg/packager"
	"github.com/ksbuilder/ksbuilder/pkg/source"
	"github.com/ksbuilder/ksbuilder/pkg/units"
)

const fixtures = "../../testdata/lint"

// lintFixture lints testdata/lint/<rule>/<kind> applied over the base.
func lintFixture(t *testing.T, rule, kind string, skip ...string) *Result {
	t.Helper()
	dir := filepath.Join(fixtures, rule, kind)
	files, fo := fixture.Load(t, filepath.Join(fixtures, "base"), dir)
	opts := Options{Skip: skip}
	if fo.MaxSize != "" {
		n, err := units.ParseBytes(fo.MaxSize)
		require.NoError(t, err)
		opts.MaxSize = n
	}
	res, err := Lint(sourceOf(dir, files), opts)
	require.NoError(t, err)
	return res
}

func sourceOf(path string, files map[string][]byte) *source.Source {
	list := make([]source.File, 0, len(files))
	for name, data := range files {
		list = append(list, source.File{Name: name, Data: data})
	}
	return source.New(path, source.Directory, list)
}

// format renders findings one per line for golden files.
func format(list diag.List) string {
	var b strings.Builder
	for _, d := range list {
		fmt.Fprintf(&b, "%s [%s] %s\n", d.Severity, d.Code, d.Error())
	}
	return b.String()
}

func TestBaseFixtureIsClean(t *testing.T) {
	files, _ := fixture.Load(t, filepath.Join(fixtures, "base"), filepath.Join(fixtures, "base"))
	res, err := Lint(sourceOf("base", files), Options{})
	require.NoError(t, err)
	assert.Empty(t, format(res.Findings))
	assert.Equal(t, "demo", res.Name)
	assert.Equal(t, "0.1.0", res.Version)
}

// TestRuleFixtures lints the failing and the passing fixture of every rule:
// the failing one must report the rule, the passing one nothing at all. The
// command's tests keep the failing fixtures' output as golden files.
func TestRuleFixtures(t *testing.T) {
	for _, r := range Rules() {
		t.Run(r.ID, func(t *testing.T) {
			if _, err := os.Stat(filepath.Join(fixtures, r.ID)); err != nil {
				t.Fatalf("every rule needs testdata/lint/%s/{fail,pass}: %v", r.ID, err)
			}
			fail := lintFixture(t, r.ID, "fail")
			var own diag.List
			for _, d := range fail.Findings {
				if d.Code == r.ID {
					own = append(own, d)
				}
			}
			require.NotEmpty(t, own, "fail fixture does not trigger %s; got:\n%s", r.ID, format(fail.Findings))
			for _, d := range own {
				assert.LessOrEqual(t, r.Severity, d.Severity, "%s reports %s above its registered severity", r.ID, d.Severity)
			}

			pass := lintFixture(t, r.ID, "pass")
			assert.Empty(t, format(pass.Findings), "pass fixture of %s has findings", r.ID)

			skipped := lintFixture(t, r.ID, "fail", r.ID)
			for _, d := range skipped.Findings {
				assert.NotEqual(t, r.ID, d.Code, "--skip %s still reports it", r.ID)
			}
		})
	}
}

// TestRegistry checks that the registry is well formed and exposes every
// diagnostic code of the checks shared with the packager.
func TestRegistry(t *testing.T) {
	shared := []string{
		extension.CodeYAMLSyntax, extension.CodeFieldType, extension.CodeUnknownField, extension.CodeDuplicateKey,
		extension.CodeRequired, extension.CodeNameFormat, extension.CodeNameLength, extension.CodeVersionFormat,
		extension.CodeLocaleCode, extension.CodeLocaleEmpty, extension.CodeLocaleMissingEn, extension.CodeCategoryUnknown,
		extension.CodeInstallationMode, extension.CodeConstraintFormat, extension.CodeConstraintPrerelease,
		extension.CodeExternalDependency, extension.CodeNamespaceFormat, extension.CodeMaintainer, extension.CodeURLFormat,
		extension.CodeDependency, extension.CodeIconFile, extension.CodeScreenshotFile, extension.CodeStaticDir,
		extension.CodeImageReference, extension.CodeHookImage,
		extension.CodePermissionsKind, extension.CodePermissionsRule,
		packager.CodeMissingMetadata, packager.CodeMissingPermissions, packager.CodeChart,
		packager.CodeDependencyMissing, packager.CodePackageSize,
	}
	for _, code := range shared {
		_, ok := LookupRule(code)
		assert.True(t, ok, "code %q has no rule", code)
	}
	seen := map[string]bool{}
	for _, r := range Rules() {
		assert.False(t, seen[r.ID], "duplicate rule %s", r.ID)
		seen[r.ID] = true
		assert.NotEmpty(t, r.Description, r.ID)
		assert.NotEmpty(t, r.Source, r.ID)
		assert.NotEmpty(t, r.Reason, "%s: every rule says why it has its severity", r.ID)
		assert.Contains(t, []Group{GroupMetadata, GroupPermissions, GroupChart}, r.Group, r.ID)
	}
	_, ok := LookupRule("no-such-rule")
	assert.False(t, ok)
}

// corpus lists the real extensions of testdata/corpus.
var corpus = []string{
	"extension-samples/grafana-ext",
	"extension-samples/hello-world",
	"ks-extensions/deepseek",
	"ks-extensions/grafana",
	"ks-extensions/higress",
	"ks-extensions/metrics-server",
	"ks-extensions/nvidia-gpu-operator",
	"ks-extensions/oceanbase-dashboard",
}

// TestCorpus lints every real extension of the corpus. The findings are
// golden files under testdata/lint/corpus, each reviewed against the
// package it describes.
func TestCorpus(t *testing.T) {
	for _, name := range corpus {
		t.Run(name, func(t *testing.T) {
			src, err := source.Load(filepath.Join("../../testdata/corpus", name))
			require.NoError(t, err)
			res, err := Lint(src, Options{})
			require.NoError(t, err)
			golden.AssertString(t, format(res.Findings), filepath.Join(fixtures, "corpus", strings.ReplaceAll(name, "/", "_")+".golden"))
		})
	}
}

// TestCorpusPackages lints the packages upstream ksbuilder built from the
// corpus: the same extensions, read from .tgz files.
func TestCorpusPackages(t *testing.T) {
	matches, err := filepath.Glob("../../testdata/corpus/ks-extensions/packaged-by-ksbuilder-0.4.5/*.tgz")
	require.NoError(t, err)
	require.NotEmpty(t, matches)
	for _, p := range matches {
		t.Run(filepath.Base(p), func(t *testing.T) {
			src, err := source.Load(p)
			require.NoError(t, err)
			res, err := Lint(src, Options{})
			require.NoError(t, err)
			golden.AssertString(t, format(res.Findings), filepath.Join(fixtures, "corpus", "packaged_"+strings.TrimSuffix(filepath.Base(p), ".tgz")+".golden"))
		})
	}
}

// TestCorpusPasses: every real extension of the corpus lints without an
// error, as a directory and as the package upstream ksbuilder built, except
// grafana-ext, which is broken on purpose (its icon does not exist, and
// KubeSphere refuses the package).
func TestCorpusPasses(t *testing.T) {
	packages, err := filepath.Glob("../../testdata/corpus/ks-extensions/packaged-by-ksbuilder-0.4.5/*.tgz")
	require.NoError(t, err)
	require.NotEmpty(t, packages)
	paths := slices.Clone(packages)
	for _, name := range corpus {
		paths = append(paths, filepath.Join("../../testdata/corpus", name))
	}
	for _, p := range paths {
		t.Run(filepath.Base(p), func(t *testing.T) {
			src, err := source.Load(p)
			require.NoError(t, err)
			res, err := Lint(src, Options{})
			require.NoError(t, err)
			broken := strings.HasSuffix(p, "grafana-ext")
			assert.Equal(t, broken, res.Failed(false), "errors:\n%s", format(res.Findings.Filter(diag.Error)))
		})
	}
}

func TestGrafanaExtReportsMissingIcon(t *testing.T) {
	src, err := source.Load("../../testdata/corpus/extension-samples/grafana-ext")
	require.NoError(t, err)
	res, err := Lint(src, Options{})
	require.NoError(t, err)
	var icon *diag.Diagnostic
	for i, d := range res.Findings {
		if d.Code == extension.CodeIconFile {
			icon = &res.Findings[i]
		}
	}
	require.NotNil(t, icon, "no icon-file finding")
	assert.Equal(t, diag.Error, icon.Severity)
	assert.Equal(t, "extension.yaml", icon.File)
	assert.Equal(t, "icon", icon.Field)
	assert.Contains(t, icon.Message, "static/favicon.svg")
	assert.Contains(t, icon.Hint, "./favicon.svg")
	assert.True(t, res.Failed(false))
}

func TestResultFailed(t *testing.T) {
	tests := []struct {
		name          string
		findings      diag.List
		loose, strict bool
	}{
		{"clean", nil, false, false},
		{"info", diag.List{{Severity: diag.Info}}, false, false},
		{"warning", diag.List{{Severity: diag.Warning}}, false, true},
		{"error", diag.List{{Severity: diag.Error}}, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &Result{Findings: tt.findings}
			assert.Equal(t, tt.loose, r.Failed(false))
			assert.Equal(t, tt.strict, r.Failed(true))
		})
	}
}

// TestLintLeavesNoTemporaryFiles checks that Helm's copy of the chart is
// removed.
func TestLintLeavesNoTemporaryFiles(t *testing.T) {
	tmp := t.TempDir()
	files, _ := fixture.Load(t, filepath.Join(fixtures, "base"), filepath.Join(fixtures, "base"))
	_, err := Lint(sourceOf("base", files), Options{TempDir: tmp})
	require.NoError(t, err)
	entries, err := os.ReadDir(tmp)
	require.NoError(t, err)
	assert.Empty(t, entries)
}

func TestMarkerIsStable(t *testing.T) {
	a := markerFor(&extension.Extension{Name: "demo", Version: "0.1.0"})
	b := markerFor(&extension.Extension{Name: "demo", Version: "0.1.0"})
	c := markerFor(&extension.Extension{Name: "demo", Version: "0.2.0"})
	assert.Equal(t, a, b)
	assert.NotEqual(t, a, c)
	assert.Regexp(t, `^[a-z0-9.-]{1,63}$`, a, "must be a valid registry host and label value")
}

// TestMulticlusterRendersBothReleases lints a Multicluster extension whose
// subchart has no tag, so it renders in the host and the agent release:
// identical findings are reported once, and each release gets its own
// values (a template that needs global.clusterInfo fails only on the host).
func TestMulticlusterRendersBothReleases(t *testing.T) {
	files, _ := fixture.Load(t, filepath.Join(fixtures, "base"), filepath.Join(fixtures, "image-registry", "fail"))
	ext := strings.Replace(string(files["extension.yaml"]), "installationMode: HostOnly", "installationMode: Multicluster", 1)
	files["extension.yaml"] = []byte(strings.Replace(ext, "    tags:\n      - extension\n", "", 1))
	files["charts/app/templates/deployment.yaml"] = []byte(strings.Replace(string(files["charts/app/templates/deployment.yaml"]),
		"name: {{ .Release.Name }}-app", "name: app", 1))
	files["charts/app/templates/cluster.yaml"] = []byte(`apiVersion: v1
kind: ConfigMap
metadata:
  name: cluster
data:
  role: {{ dig "clusterInfo" "role" "" .Values.global | required "only agents know their cluster" }}
`)
	res, err := Lint(sourceOf("multi", files), Options{})
	require.NoError(t, err)
	got := format(res.Findings)
	assert.Equal(t, []string{
		`error [render] charts/app/templates/cluster.yaml:6:56 host release "demo": execution error at (demo/charts/app/templates/cluster.yaml:6:56): only agents know their cluster`,
		`warning [image-registry] charts/app/templates/deployment.yaml: spec.template.spec.containers[0].image: Deployment "app": container "app" runs "docker.io/example/demo-app:1.0.0" whatever global.imageRegistry says (prefix the image with the registry, e.g. {{ .Values.global.imageRegistry | default .Values.image.registry }}/{{ .Values.image.repository }})`,
		`warning [subchart-tags] extension.yaml:30:5 dependencies[0].tags: subchart "app" has neither the extension nor the agent tag, so it is installed on the host and again with every agent (tag it extension (host only, e.g. the console UI) or agent (every placed cluster))`,
	}, strings.Split(strings.TrimSpace(got), "\n"))
}

// TestLintValuesNotShared lints with many nested values, as --set would
// give them, under the subchart's key and global, where Helm's linter
// coalesces values.yaml into them. The user's map must come back as given,
// and under -race Helm's linter and the renders must not share it.
func TestLintValuesNotShared(t *testing.T) {
	build := func() map[string]any {
		app := map[string]any{}
		global := map[string]any{}
		for i := range 200 {
			app[fmt.Sprintf("key%d", i)] = map[string]any{"nested": map[string]any{"value": i}, "list": []any{i, map[string]any{"x": i}}}
			global[fmt.Sprintf("key%d", i)] = map[string]any{"value": fmt.Sprint(i)}
		}
		return map[string]any{"app": app, "global": global}
	}
	vals := build()
	files, _ := fixture.Load(t, filepath.Join(fixtures, "base"), filepath.Join(fixtures, "base"))
	res, err := Lint(sourceOf("base", files), Options{Values: vals})
	require.NoError(t, err)
	assert.Empty(t, format(res.Findings))
	assert.Equal(t, build(), vals, "Lint changed the caller's values")
}

// lintBase lints the base fixture with some files replaced (nil deletes).
func lintBase(t *testing.T, changes map[string]string, skip ...string) *Result {
	t.Helper()
	files, _ := fixture.Load(t, filepath.Join(fixtures, "base"), filepath.Join(fixtures, "base"))
	for name, data := range changes {
		if data == "" {
			delete(files, name)
			continue
		}
		files[name] = []byte(data)
	}
	res, err := Lint(sourceOf("base", files), Options{Skip: skip})
	require.NoError(t, err)
	return res
}

// TestTemplateErrorReportedOnce: a template that does not parse stops the
// package check before the render and Helm's linter (which would stop at
// the same line, on the extension's chart and again on the subchart); it is
// one problem, reported once by the render rule.
func TestTemplateErrorReportedOnce(t *testing.T) {
	bad := map[string]string{"charts/app/templates/bad.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad\ndata:\n  a: {{ .Values.foo | nosuchfunc }}\n"}
	res := lintBase(t, bad)
	assert.Equal(t, []string{
		`error [render] charts/app/templates/bad.yaml:6 the template does not parse: function "nosuchfunc" not defined (Helm refuses to install the chart until it parses)`,
	}, strings.Split(strings.TrimSpace(format(res.Findings)), "\n"))
	assert.Zero(t, res.Skipped)

	// A template that parses but fails when executed reaches the render
	// and Helm's linter on the chart and on the subchart: still one finding.
	failing := map[string]string{"charts/app/templates/bad.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad\ndata:\n  a: {{ required \"set app.motd\" .Values.motd }}\n"}
	res = lintBase(t, failing)
	lines := strings.Split(strings.TrimSpace(format(res.Findings)), "\n")
	if assert.Len(t, lines, 1) {
		assert.Contains(t, lines[0], "error [render] charts/app/templates/bad.yaml:6")
		assert.Contains(t, lines[0], "set app.motd")
	}

	// Skipping the rule hides the one finding, and says so.
	for _, skip := range [][]string{{RuleRender}, {RuleRender, RuleHelmLint}} {
		res = lintBase(t, bad, skip...)
		assert.Empty(t, format(res.Findings), "skip %v", skip)
		assert.Equal(t, 1, res.Skipped, "skip %v", skip)
	}
}

// TestNoFollowOnFindings: a problem that stops other rules from judging is
// the only finding; the rules that depend on it wait until it is fixed.
func TestNoFollowOnFindings(t *testing.T) {
	files, _ := fixture.Load(t, filepath.Join(fixtures, "base"), filepath.Join(fixtures, "base"))
	ext := string(files["extension.yaml"])
	perms := string(files["permissions.yaml"])
	tests := []struct {
		name    string
		changes map[string]string
		want    string
	}{
		{
			// HostOnly rules would flag the agent tag; as HostOnly the
			// subchart renders nothing, so images and permissions
			// would look unused.
			name: "unknown installation mode",
			changes: map[string]string{"extension.yaml": strings.NewReplacer(
				"installationMode: HostOnly", "installationMode: multicluster",
				"      - extension\n", "      - agent\n").Replace(ext)},
			want: "installation-mode",
		},
		{
			// A list where a mode is wanted leaves the mode as open as an
			// unknown one does.
			name: "installation mode of the wrong type",
			changes: map[string]string{"extension.yaml": strings.NewReplacer(
				"installationMode: HostOnly", "installationMode: [HostOnly]",
				"      - extension\n", "      - agent\n").Replace(ext)},
			want: extension.CodeFieldType,
		},
		{
			// Helm would complain that the generated Chart.yaml has no name.
			name:    "extension.yaml syntax",
			changes: map[string]string{"extension.yaml": ext + "name: [demo\n"},
			want:    extension.CodeYAMLSyntax,
		},
		{
			name:    "extension.yaml field",
			changes: map[string]string{"extension.yaml": strings.Replace(ext, "version: 0.1.0\n", "", 1)},
			want:    extension.CodeRequired,
		},
		{
			// KubeSphere ignores the rest of the file, but the rules
			// checked against the chart wait for the syntax to be fixed.
			name:    "permissions.yaml syntax",
			changes: map[string]string{"permissions.yaml": perms + "foo: [\n"},
			want:    extension.CodeYAMLSyntax,
		},
		{
			name:    "values.yaml syntax",
			changes: map[string]string{"values.yaml": "app: [\n"},
			want:    packager.CodeChart,
		},
		{
			name:    "subchart without Chart.yaml",
			changes: map[string]string{"charts/app/Chart.yaml": ""},
			want:    packager.CodeChart,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := lintBase(t, tt.changes)
			require.Len(t, res.Findings, 1, "got:\n%s", format(res.Findings))
			assert.Equal(t, tt.want, res.Findings[0].Code)
			assert.Equal(t, diag.Error, res.Findings[0].Severity)
		})
	}
}

// TestSkipCounts: the findings of skipped rules are counted, once per
// problem, and rules whose work could be saved still run to count them.
func TestSkipCounts(t *testing.T) {
	for _, rule := range []string{RuleImageRegistry, RuleNodeSelector, RuleHelmLint, RulePermissionsWildcard} {
		t.Run(rule, func(t *testing.T) {
			full := lintFixture(t, rule, "fail")
			own := 0
			for _, d := range full.Findings {
				if d.Code == rule {
					own++
				}
			}
			require.NotZero(t, own)
			assert.Zero(t, full.Skipped)
			skipped := lintFixture(t, rule, "fail", rule)
			assert.Equal(t, own, skipped.Skipped)
			assert.Len(t, skipped.Findings, len(full.Findings)-own)
		})
	}
}
