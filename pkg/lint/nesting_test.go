package lint

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ksbuilder/ksbuilder/internal/testutil/fixture"
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
