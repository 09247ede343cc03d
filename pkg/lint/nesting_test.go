package lint

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"helm.sh/helm/v3/pkg/chart"

	"github.com/ksbuilder/ksbuilder/internal/testutil/fixture"
	"github.com/ksbuilder/ksbuilder/pkg/packager"
)

// nestedFiles returns the base fixture with a chain of depth subcharts
// under charts/app, each holding the next one and a ConfigMap.
func nestedFiles(t testing.TB, depth int) map[string][]byte {
	files, _ := fixture.Load(t, filepath.Join(fixtures, "base"), filepath.Join(fixtures, "base"))
	dir := "charts/app"
	for i := 1; i <= depth; i++ {
		name := fmt.Sprintf("n%d", i)
		dir += "/charts/" + name
		files[dir+"/Chart.yaml"] = []byte(fmt.Sprintf("apiVersion: v2\nname: %s\ndescription: level %d\nversion: 0.1.0\n", name, i))
		files[dir+"/values.yaml"] = []byte("level: " + name + "\n")
		files[dir+"/templates/cm.yaml"] = []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Chart.Name }}\n  labels:\n    kubesphere.io/managed: \"true\"\ndata:\n  level: {{ .Values.level | quote }}\n")
	}
	return files
}

// BenchmarkLintNested lints chains of subcharts up to the depth limit.
func BenchmarkLintNested(b *testing.B) {
	for _, depth := range []int{1, 5, 10, MaxChartDepth - 1} {
		src := sourceOf("nested", nestedFiles(b, depth))
		b.Run(fmt.Sprint(depth), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				res, err := Lint(src, Options{})
				if err != nil {
					b.Fatal(err)
				}
				_ = strings.TrimSpace(format(res.Findings))
			}
		})
	}
}

// TestLintNestingCapped: subcharts nested deeper than MaxChartDepth are
// one clear finding, and the chart rules stop there instead of running
// Helm's linter over every level (1000 levels did not finish).
func TestLintNestingCapped(t *testing.T) {
	res, err := Lint(sourceOf("nested", nestedFiles(t, 1000)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, d := range res.Findings {
		if d.Code == RuleHelmLint || d.Code == RuleRender {
			t.Errorf("chart rules ran: %s", d.Error())
		}
		if strings.Contains(d.Message, fmt.Sprintf("nested %d levels deep", 1001)) {
			found = true
		}
	}
	if !found {
		t.Fatalf("no nesting finding in:\n%s", format(res.Findings))
	}

	// At the limit, the chart is linted.
	res, err = Lint(sourceOf("nested", nestedFiles(t, MaxChartDepth-1)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(format(res.Findings), "levels deep") {
		t.Fatalf("a chart at the limit refused:\n%s", format(res.Findings))
	}
}

// cancelAfter is a context whose Err reports cancellation from its n-th
// call on: it cancels a run at a fixed point, whatever the machine's speed.
type cancelAfter struct {
	context.Context
	mu    sync.Mutex
	calls int
	n     int
}

func (c *cancelAfter) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	if c.calls >= c.n {
		return context.Canceled
	}
	return nil
}

// TestLintCancelled: a cancelled run stops between charts and rules, returns
// the context's error and removes Helm's linter's temporary directory.
func TestLintCancelled(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nested")
	fixture.Write(t, dir, nestedFiles(t, 4))
	tmp := t.TempDir()
	for _, n := range []int{1, 3, 6} {
		ctx := &cancelAfter{Context: context.Background(), n: n}
		_, err := LintAll(ctx, []Target{{Path: dir, Options: Options{TempDir: tmp}}}, 1)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled at check %d: err = %v, want context.Canceled", n, err)
		}
		if left, _ := os.ReadDir(tmp); len(left) > 0 {
			t.Fatalf("cancelled at check %d: %s left behind", n, left[0].Name())
		}
	}
}

// TestHelmLintRendersEachTemplateOnce: Helm's linter renders the chart it
// lints with all of its subcharts, so on the whole tree each template was
// rendered once per chart above it (at the depth limit, 154 renders of 17
// templates). The tree is written hollow and each chart filled in just
// before its turn, as helmLint does: each template is rendered once.
func TestHelmLintRendersEachTemplateOnce(t *testing.T) {
	for _, depth := range []int{1, 5, MaxChartDepth - 1} {
		pkg, err := packager.Build(sourceOf("nested", nestedFiles(t, depth)), packager.Options{})
		require.NoError(t, err)
		root := t.TempDir()
		require.NoError(t, writeChartDir(pkg.Chart, root))
		templates, rendered, charts := 0, 0, 0
		var visit func(c *chart.Chart, chartPath string)
		visit = func(c *chart.Chart, chartPath string) {
			dir := filepath.Join(root, filepath.FromSlash(chartPath))
			require.NoError(t, fillChartDir(c, dir))
			charts++
			rendered += renderedTemplates(t, dir)
			for _, tpl := range c.Templates {
				if !isPartial(tpl.Name) {
					templates++
				}
			}
			for _, sub := range c.Dependencies() {
				visit(sub, chartPath+"/charts/"+sub.Name())
			}
		}
		visit(pkg.Chart, pkg.Chart.Name())
		assert.Equal(t, depth+2, charts, "depth %d", depth) // the extension's chart and app
		assert.Equal(t, templates, rendered, "depth %d: templates rendered by Helm's linter", depth)
	}
}

// renderedTemplates counts the templates Helm's engine renders when it
// lints the chart at dir: those not named _* in the templates directory of
// the chart and of each chart under it.
func renderedTemplates(t *testing.T, dir string) int {
	n := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		parts := strings.Split(filepath.ToSlash(rel), "/")
		if len(parts) >= 2 && parts[len(parts)-2] == "templates" && !isPartial(rel) {
			n++
		}
		return nil
	})
	require.NoError(t, err)
	return n
}

// TestHelmLintSeesSubchartHelpers: a chart's templates may include named
// templates its subcharts define, in partials or in other templates; the
// hollow subcharts keep both, so Helm's linter renders them as before.
func TestHelmLintSeesSubchartHelpers(t *testing.T) {
	res := lintBase(t, map[string]string{
		"charts/app/Chart.yaml":                        "apiVersion: v2\nname: app\ndescription: The demo application.\ntype: application\nversion: 0.1.0\nappVersion: \"1.0.0\"\ndependencies:\n  - name: lib\n    version: 0.1.0\n",
		"charts/app/charts/lib/Chart.yaml":             "apiVersion: v2\nname: lib\ndescription: helpers\nversion: 0.1.0\n",
		"charts/app/charts/lib/values.yaml":            "{}\n",
		"charts/app/charts/lib/templates/_helpers.tpl": "{{- define \"lib.name\" -}}from-lib{{- end }}\n",
		"charts/app/charts/lib/templates/cm.yaml":      "{{- define \"lib.label\" -}}app.kubernetes.io/part-of: demo{{- end }}\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: lib\n  labels:\n    {{ include \"lib.label\" . }}\n",
		"charts/app/templates/uses.yaml":               "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ include \"lib.name\" . }}\n  labels:\n    {{ include \"lib.label\" . }}\n",
	})
	assert.Empty(t, format(res.Findings))
}
