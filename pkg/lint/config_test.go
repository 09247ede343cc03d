package lint

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ksbuilder/ksbuilder/internal/testutil/fixture"
	"github.com/ksbuilder/ksbuilder/pkg/diag"
)

func writeFile(t *testing.T, name, data string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(name), 0o755))
	require.NoError(t, os.WriteFile(name, []byte(data), 0o644))
}

func TestFindConfig(t *testing.T) {
	root := t.TempDir()
	repo := filepath.Join(root, "repo")
	ext := filepath.Join(repo, "exts", "demo")
	require.NoError(t, os.MkdirAll(filepath.Join(repo, ".git"), 0o755))
	require.NoError(t, os.MkdirAll(ext, 0o755))

	// Above the git root: not found.
	writeFile(t, filepath.Join(root, ConfigFileName), "rules: []\n")
	got, err := FindConfig(ext)
	require.NoError(t, err)
	assert.Empty(t, got, "the search stops at the git root")

	writeFile(t, filepath.Join(repo, ConfigFileName), "rules: []\n")
	got, err = FindConfig(ext)
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(repo, ConfigFileName), got)

	// The nearest wins; a file PATH starts in its directory.
	writeFile(t, filepath.Join(repo, "exts", ConfigFileName), "rules: []\n")
	writeFile(t, filepath.Join(ext, "demo-0.1.0.tgz"), "")
	got, err = FindConfig(filepath.Join(ext, "demo-0.1.0.tgz"))
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(repo, "exts", ConfigFileName), got)
}

func TestLoadConfigErrors(t *testing.T) {
	tests := []struct {
		name, data string
		want       []string
	}{
		{"syntax", "rules:\n  - rule: [\n", []string{`:2 did not find expected node content (fix the YAML syntax)`}},
		{"unknown field", "rules:\n  - rule: readme\n    sevrity: info\n    reason: x\n", []string{`:3 unknown field "sevrity" (did you mean "severity"? the fields are rule, skip, severity, paths, reason)`}},
		{"unknown top-level field", "rule: readme\n", []string{`:1 unknown field "rule" (did you mean "rules"? the fields are rules)`}},
		{"wrong type", "rules: 3\n", []string{":1 cannot unmarshal !!int `3` into a list of entries"}},
		{"unknown rule", "rules:\n  - rule: node-selektor\n    skip: true\n    reason: x\n", []string{`:2:11 rules[0].rule: "node-selektor" is not a rule (did you mean "node-selector"? ksbuilder lint --list-rules lists them)`}},
		{"missing rule", "rules:\n  - skip: true\n    reason: x\n", []string{`:2:5 rules[0].rule: rule is required`}},
		{"unknown severity", "rules:\n  - rule: readme\n    severity: fatal\n    reason: x\n", []string{`:3:15 rules[0].severity: "fatal" is not a severity (write error, warning or info)`}},
		{"neither", "rules:\n  - rule: readme\n    reason: x\n", []string{`:2:5 rules[0]: neither skip nor severity set`}},
		{"both", "rules:\n  - rule: readme\n    skip: true\n    severity: info\n    reason: x\n", []string{`:4:15 rules[0]: skip and severity both set`}},
		{"no reason", "rules:\n  - rule: readme\n    skip: true\n  - rule: readme\n    skip: true\n    reason: ' '\n", []string{
			`:2:5 rules[0].reason: reason is required (say why the rule is skipped or re-graded)`,
			`:4:5 rules[1].reason: reason is required`,
		}},
		{"bad glob", "rules:\n  - rule: readme\n    skip: true\n    paths: ['a/[b', /abs]\n    reason: x\n", []string{
			`rules[0].paths[0]: "a/[b" is not a valid path glob`, `rules[0].paths[1]: "/abs" is not a valid path glob`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), ConfigFileName)
			writeFile(t, file, tt.data)
			cfg, err := LoadConfig(file)
			require.Error(t, err)
			assert.Nil(t, cfg)
			list, ok := diag.AsErrors(err)
			require.True(t, ok, "%v", err)
			require.Len(t, list, len(tt.want), "%v", err)
			for _, d := range list {
				assert.Equal(t, filepath.ToSlash(file), d.File)
				assert.Equal(t, CodeConfig, d.Code)
			}
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestLoadConfigEmpty(t *testing.T) {
	file := filepath.Join(t.TempDir(), ConfigFileName)
	writeFile(t, file, "# nothing yet\n")
	cfg, err := LoadConfig(file)
	require.NoError(t, err)
	assert.Empty(t, cfg.Rules)
}

func TestConfigAdjuster(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, ConfigFileName)
	writeFile(t, file, `rules:
  - rule: node-selector
    severity: error
    reason: our clusters pin extensions to nodes
  - rule: node-selector
    skip: true
    paths: ["legacy/*"]
    reason: legacy extensions are not placed
  - rule: readme
    severity: warning
    paths: ["**/charts/**"]
    reason: subcharts need a README too
`)
	cfg, err := LoadConfig(file)
	require.NoError(t, err)
	require.Len(t, cfg.Rules, 3)
	assert.Equal(t, 2, cfg.Rules[0].Line)

	ns := diag.Diagnostic{Severity: diag.Warning, Code: RuleNodeSelector, File: "charts/app/templates/deployment.yaml"}
	readme := diag.Diagnostic{Severity: diag.Info, Code: RuleReadme, File: "charts/app/README.md"}
	other := diag.Diagnostic{Severity: diag.Warning, Code: RuleImageRegistry, File: "charts/app/templates/deployment.yaml"}
	tests := []struct {
		root string
		in   diag.Diagnostic
		keep bool
		want diag.Severity
	}{
		{"new/demo", ns, true, diag.Error},
		{"legacy/demo", ns, false, 0},               // the last entry that matches decides
		{"old/legacy/demo", ns, true, diag.Error},   // globs start at the file's directory
		{"new/demo", readme, true, diag.Warning},    // ** matches any number of them
		{"new/demo", other, true, diag.Warning},     // no entry: unchanged
		{"../elsewhere/demo", ns, true, diag.Error}, // no paths: everywhere
		{"../legacy/demo", ns, true, diag.Error},    // paths are relative to the file
		{"new/demo-0.1.0.tgz", readme, true, diag.Warning},
	}
	for _, tt := range tests {
		t.Run(tt.root+"/"+tt.in.Code, func(t *testing.T) {
			got, keep := cfg.Adjuster(filepath.Join(dir, tt.root))(tt.in)
			assert.Equal(t, tt.keep, keep)
			if keep {
				assert.Equal(t, tt.want, got.Severity)
				assert.Equal(t, tt.in.Code, got.Code)
			}
		})
	}
}

// TestLintAdjust: re-graded findings count at their new severity, and
// skipped ones in Result.Skipped.
func TestLintAdjust(t *testing.T) {
	files, _ := fixture.Load(t, filepath.Join(fixtures, "base"), filepath.Join(fixtures, "node-selector", "fail"))
	src := sourceOf("ns", files)
	res, err := Lint(src, Options{})
	require.NoError(t, err)
	require.False(t, res.Failed(false))

	res, err = Lint(src, Options{Adjust: func(d diag.Diagnostic) (diag.Diagnostic, bool) {
		if d.Code == RuleNodeSelector {
			d.Severity = diag.Error
		}
		return d, true
	}})
	require.NoError(t, err)
	assert.True(t, res.Failed(false))
	assert.Equal(t, 1, res.Count(diag.Error))

	res, err = Lint(src, Options{Adjust: func(d diag.Diagnostic) (diag.Diagnostic, bool) { return d, d.Code != RuleNodeSelector }})
	require.NoError(t, err)
	assert.Empty(t, res.Findings)
	assert.Equal(t, 1, res.Skipped)
}

// TestGlobManyDoubleStars: a glob of ten "**" against a path 30 segments
// deep costs at most one segment match per glob segment and path segment
// (the recursive matcher tried every split: over 2 minutes).
func TestGlobManyDoubleStars(t *testing.T) {
	pattern := strings.Split(strings.Repeat("**/x/", 10)+"nomatch", "/")
	parts := strings.Split(strings.Repeat("x/", 29)+"y", "/")
	calls := 0
	count := func(p, name string) bool {
		calls++
		return segmentMatch(p, name)
	}
	assert.False(t, globMatchPrefix(pattern, parts, count))
	assert.LessOrEqual(t, calls, len(pattern)*len(parts))

	r := ConfigRule{Paths: []string{strings.Repeat("**/", 10) + "y"}}
	assert.True(t, r.matches(strings.Repeat("x/", 29)+"y"))
	assert.False(t, r.matches(strings.Repeat("x/", 29)+"z"))
}

// recursiveGlobMatch is the plain definition of a glob over segments (the
// matcher this package had, exponential in the number of "**"):
// FuzzGlobMatch checks the linear matcher against it on small inputs.
func recursiveGlobMatch(pattern, parts []string) bool {
	if len(pattern) == 0 {
		return len(parts) == 0
	}
	if pattern[0] == "**" {
		for i := 0; i <= len(parts); i++ {
			if recursiveGlobMatch(pattern[1:], parts[i:]) {
				return true
			}
		}
		return false
	}
	return len(parts) > 0 && segmentMatch(pattern[0], parts[0]) && recursiveGlobMatch(pattern[1:], parts[1:])
}

// FuzzGlobMatch compares the linear matcher with the recursive definition:
// the glob matches the file or a directory above it.
func FuzzGlobMatch(f *testing.F) {
	f.Add("**/charts/**", "charts/app/README.md")
	f.Add("legacy/*", "old/legacy/demo/x")
	f.Add("**/**/a", "a")
	f.Add("a/**", "a")
	f.Add("[a-/**", "a/b")
	f.Fuzz(func(t *testing.T, glob, file string) {
		pattern := strings.Split(strings.Trim(glob, "/"), "/")
		parts := strings.Split(file, "/")
		if len(pattern) > 6 || len(parts) > 6 || strings.Count(glob, "**") > 3 {
			return // the recursive definition is exponential
		}
		want := false
		for n := len(parts); n > 0 && !want; n-- {
			want = recursiveGlobMatch(pattern, parts[:n])
		}
		if got := globMatchPrefix(pattern, parts, segmentMatch); got != want {
			t.Fatalf("glob %q, file %q: got %v, want %v", glob, file, got, want)
		}
	})
}

// FuzzLoadConfig feeds random configuration files to the loader and the
// adjuster it builds: an error or a configuration, never a panic.
func FuzzLoadConfig(f *testing.F) {
	f.Add("rules:\n  - rule: readme\n    severity: warning\n    paths: [\"**/charts/**\"]\n    reason: x\n")
	f.Add("rules:\n  - rule: node-selector\n    skip: true\n    paths: [\"legacy/*\", \"[\"]\n    reason: x\n")
	f.Add("rules: 3\n")
	f.Add("rules:\n  - &a {rule: readme, skip: true, reason: x}\n  - *a\n")
	f.Add("rules:\n  - rule: [\n")
	f.Fuzz(func(t *testing.T, data string) {
		file := filepath.Join(t.TempDir(), ConfigFileName)
		writeFile(t, file, data)
		cfg, err := LoadConfig(file)
		if err != nil {
			if _, ok := diag.AsErrors(err); !ok {
				t.Fatalf("error without diagnostics: %v", err)
			}
			return
		}
		adjust := cfg.Adjuster(filepath.Dir(file))
		for _, rule := range []string{RuleReadme, RuleNodeSelector} {
			adjust(diag.Diagnostic{Severity: diag.Warning, Code: rule, File: "charts/app/README.md"})
		}
	})
}
