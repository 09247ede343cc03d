package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ksbuilder/ksbuilder/internal/testutil/fixture"
	"github.com/ksbuilder/ksbuilder/internal/testutil/golden"
	"github.com/ksbuilder/ksbuilder/pkg/diag"
	"github.com/ksbuilder/ksbuilder/pkg/iostreams"
	"github.com/ksbuilder/ksbuilder/pkg/lint"
	"github.com/ksbuilder/ksbuilder/pkg/output"
	"github.com/ksbuilder/ksbuilder/pkg/values"
)

const lintFixtures = "../../testdata/lint"

func TestNewLintCmd(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    lintOptions
		wantErr string
	}{
		{
			name: "defaults",
			args: []string{"lint"},
			want: lintOptions{Paths: []string{"."}, MaxSize: 1 << 20, Output: output.Text},
		},
		{
			name: "everything",
			args: []string{"lint", "a", "b.tgz", "--strict", "-q", "--skip", "readme,permissions-wildcard", "--skip", "image-unused",
				"-f", "v1.yaml", "-f", "v2.yaml", "-f", "v3.yaml", "--set", "a=1,b=2", "--set-string", "t=1.10", "--set-file", "c=f.conf",
				"--set-json", `x={"a":1,"b":2}`, "-o", "json", "--max-size", "900KiB"},
			want: lintOptions{
				Paths: []string{"a", "b.tgz"}, Strict: true, FailOn: diag.Warning, Quiet: true,
				Skip: []string{"readme", "permissions-wildcard", "image-unused"},
				Values: values.Options{
					ValueFiles: []string{"v1.yaml", "v2.yaml", "v3.yaml"}, Values: []string{"a=1,b=2"}, StringValues: []string{"t=1.10"},
					FileValues: []string{"c=f.conf"}, JSONValues: []string{`x={"a":1,"b":2}`},
				},
				MaxSize: 900 << 10, Output: output.JSON,
			},
		},
		{name: "list rules", args: []string{"lint", "--list-rules", "-o", "json"}, want: lintOptions{Paths: []string{"."}, ListRules: true, MaxSize: 1 << 20, Output: output.JSON}},
		{name: "fail on info", args: []string{"lint", "--fail-on", "info", "--strict", "--config", "c.yaml"}, want: lintOptions{Paths: []string{"."}, Strict: true, FailOn: diag.Info, Config: "c.yaml", MaxSize: 1 << 20, Output: output.Text}},
		{name: "no config", args: []string{"lint", "--no-config"}, want: lintOptions{Paths: []string{"."}, NoConfig: true, MaxSize: 1 << 20, Output: output.Text}},
		{name: "bad fail-on", args: []string{"lint", "--fail-on", "fatal"}, wantErr: `--fail-on: "fatal" is not a severity (write error, warning or info)`},
		{name: "config and no-config", args: []string{"lint", "--config", "c.yaml", "--no-config"}, wantErr: "--config and --no-config cannot be used together"},
		{name: "unknown rule", args: []string{"lint", "--skip", "nope"}, wantErr: `--skip: "nope" is not a rule`},
		{name: "bad output", args: []string{"lint", "-o", "xml"}, wantErr: `unsupported output format "xml"`},
		{name: "bad size", args: []string{"lint", "--max-size", "lots"}, wantErr: "--max-size"},
		{name: "list rules with a path", args: []string{"lint", "--list-rules", "x"}, wantErr: "--list-rules takes no PATH"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, _, _ := iostreams.Test()
			f := newFactory(ios, "test")
			var got *lintOptions
			app := newApp(f)
			cmd := newLintCmd(f, func(o *lintOptions) error { got = o; return nil })
			prepareCommand(f, cmd)
			app.Commands = append(app.Commands[:0:0], cmd)
			err := app.Run(reorderArgs(app, append([]string{"ksbuilder"}, tt.args...)))
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				assert.Equal(t, exitUsage, exitCode(err))
				return
			}
			require.NoError(t, err)
			require.NotNil(t, got)
			got.f = nil
			assert.Equal(t, tt.want, *got)
		})
	}
}

// runLint runs "ksbuilder lint" with args in dir and returns the exit code,
// stdout and stderr.
func runLint(t *testing.T, dir string, tty bool, args ...string) (int, string, string) {
	t.Helper()
	t.Chdir(dir)
	ios, _, out, errOut := iostreams.Test()
	ios.SetStdoutTTY(tty)
	code := run(context.Background(), append([]string{"ksbuilder", "lint"}, args...), ios)
	return code, out.String(), errOut.String()
}

// writeFixture assembles testdata/lint/<rule>/<kind> in a temporary
// directory and returns it with the fixture's extra flags.
func writeFixture(t *testing.T, rule, kind string) (string, []string) {
	t.Helper()
	files, opts := fixture.Load(t, filepath.Join(lintFixtures, "base"), filepath.Join(lintFixtures, rule, kind))
	dir := t.TempDir()
	fixture.Write(t, dir, files)
	var flags []string
	if opts.MaxSize != "" {
		flags = append(flags, "--max-size", opts.MaxSize)
	}
	return dir, flags
}

// TestLintFixtures runs the command on the failing fixture of every rule
// and keeps its text and JSON output as golden files next to the fixture.
func TestLintFixtures(t *testing.T) {
	root, err := filepath.Abs(lintFixtures)
	require.NoError(t, err)
	for _, r := range lint.Rules() {
		t.Run(r.ID, func(t *testing.T) {
			dir, flags := writeFixture(t, r.ID, "fail")
			code, out, _ := runLint(t, dir, false, append(flags, "-o", "json")...)
			golden.AssertString(t, out, filepath.Join(root, r.ID, "fail.json"))
			var report lintReport
			require.NoError(t, json.Unmarshal([]byte(out), &report))
			want := exitOK
			if report.Summary.Errors > 0 {
				want = exitFailure
			}
			assert.Equal(t, want, code)
			assert.Equal(t, want == exitOK, report.Passed)

			code, out, errOut := runLint(t, dir, false, flags...)
			assert.Empty(t, errOut)
			assert.Equal(t, want, code)
			golden.AssertString(t, out, filepath.Join(root, r.ID, "fail.txt"))
		})
	}
}

func TestLintExitCodes(t *testing.T) {
	tests := []struct {
		rule  string
		flags []string
		want  int
	}{
		{"version-format", nil, exitFailure}, // an error
		{"category-unknown", nil, exitOK},    // a warning
		{"category-unknown", []string{"--strict"}, exitFailure},
		{"category-unknown", []string{"--skip", "category-unknown", "--strict"}, exitOK},
		{"readme", []string{"--strict"}, exitOK}, // infos never fail
		// image-registry and node-selector are warnings: they pass, but
		// --strict still fails their fixtures.
		{"image-registry", nil, exitOK},
		{"image-registry", []string{"--strict"}, exitFailure},
		{"node-selector", nil, exitOK},
		{"node-selector", []string{"--strict"}, exitFailure},
	}
	for _, tt := range tests {
		t.Run(tt.rule+strings.Join(tt.flags, ""), func(t *testing.T) {
			dir, _ := writeFixture(t, tt.rule, "fail")
			code, _, _ := runLint(t, dir, false, tt.flags...)
			assert.Equal(t, tt.want, code)
		})
	}
}

func TestLintQuiet(t *testing.T) {
	dir, _ := writeFixture(t, "readme", "fail")
	code, out, _ := runLint(t, dir, false, "--quiet")
	assert.Equal(t, exitOK, code)
	assert.Empty(t, out, "infos and the summary of a clean run are left out")

	code, out, _ = runLint(t, dir, false, "--quiet", "-o", "json")
	assert.Equal(t, exitOK, code)
	assert.Contains(t, out, `"findings": []`)
}

func TestLintColor(t *testing.T) {
	dir, _ := writeFixture(t, "version-format", "fail")
	_, out, _ := runLint(t, dir, true)
	assert.Contains(t, out, "\x1b[31merror:\x1b[0m")
	_, out, _ = runLint(t, dir, false)
	assert.NotContains(t, out, "\x1b[")
}

func TestLintSeveralPaths(t *testing.T) {
	bad, _ := writeFixture(t, "version-format", "fail")
	good, _ := writeFixture(t, "version-format", "pass")
	parent := filepath.Dir(bad)
	require.NoError(t, os.Rename(bad, filepath.Join(parent, "bad")))
	require.NoError(t, os.Rename(good, filepath.Join(parent, "good")))
	code, out, _ := runLint(t, parent, false, "good", "bad")
	assert.Equal(t, exitFailure, code)
	assert.Contains(t, out, "bad/extension.yaml:3:10: error: version:")
	assert.Contains(t, out, "demo 0.1.0-rc.1 (good) passed: 0 errors, 0 warnings, 0 infos")
	assert.Contains(t, out, "demo v0.1.0 (bad) failed: 1 error, 0 warnings, 0 infos")

	code, _, errOut := runLint(t, parent, false, "good", "missing")
	assert.Equal(t, exitFailure, code)
	assert.Contains(t, errOut, "missing: no such file or directory")
}

func TestLintListRules(t *testing.T) {
	want, err := filepath.Abs("testdata/lint-list-rules.txt")
	require.NoError(t, err)
	code, out, _ := runLint(t, t.TempDir(), false, "--list-rules")
	assert.Equal(t, exitOK, code)
	golden.AssertString(t, out, want)

	code, out, _ = runLint(t, t.TempDir(), false, "--list-rules", "-o", "json")
	assert.Equal(t, exitOK, code)
	var rules []lint.Rule
	require.NoError(t, json.Unmarshal([]byte(out), &rules))
	assert.Equal(t, lint.Rules(), rules)
}
