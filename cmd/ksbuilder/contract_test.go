package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"slices"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
	"sigs.k8s.io/yaml"

	"github.com/ksbuilder/ksbuilder/pkg/iostreams"
	"github.com/ksbuilder/ksbuilder/pkg/prompt"
)

// The global flags' environment variables take the usual spellings of a
// boolean, not only Go's.
func TestGlobalFlagEnvSpellings(t *testing.T) {
	for _, v := range []string{"yes", "YES", "on", "1", "true", "y", "no", "off", "0", "false", ""} {
		t.Run(v, func(t *testing.T) {
			t.Setenv(envNoPrompt, v)
			t.Setenv(envDebug, v)
			if r := runCLI(t, false, nil, "version"); r.code != 0 || r.stdout != "1.2.3\n" {
				t.Fatalf("version: exit %d, %q %q", r.code, r.stdout, r.stderr)
			}
		})
	}
	t.Chdir(t.TempDir())
	noGitIdentity(t) // else create takes the author from git config
	// On a terminal, a truthy KSBUILDER_NO_PROMPT forbids questions.
	t.Setenv(envNoPrompt, "yes")
	r := runCLI(t, true, prompt.NewFake(), "create", "--name", "x", "--category", "storage")
	if r.code != 2 || !strings.Contains(r.stderr, "missing --author (") {
		t.Fatalf("KSBUILDER_NO_PROMPT=yes: exit %d, %q", r.code, r.stderr)
	}
	// A falsy one allows them; the flag still wins.
	t.Setenv(envNoPrompt, "no")
	p := prompt.NewFake().Answer("Author:", "Jane").Answer("E-mail", "").Answer("Web page", "").Answer("Project type:", "frontend  console UI only (frontend subchart)")
	if r := runCLI(t, true, p, "create", "--name", "x", "--category", "storage"); r.code != 0 || len(p.Asked()) == 0 {
		t.Fatalf("KSBUILDER_NO_PROMPT=no: exit %d, asked %q, %q", r.code, p.Asked(), r.stderr)
	}
	if r := runCLI(t, true, prompt.NewFake(), "create", "--name", "y", "--category", "storage", "--no-prompt"); r.code != 2 {
		t.Fatalf("--no-prompt with KSBUILDER_NO_PROMPT=no: exit %d, %q", r.code, r.stderr)
	}
	t.Setenv(envDebug, "yes")
	if r := runCLI(t, false, nil, "lint", "x"); !strings.Contains(r.stderr, "debug: ") {
		t.Errorf("KSBUILDER_DEBUG=yes prints no debug lines: %q", r.stderr)
	}
}

func TestEnvBool(t *testing.T) {
	for v, want := range map[string]bool{"": false, "0": false, "false": false, "No": false, "OFF": false, " no ": false,
		"1": true, "true": true, "Yes": true, "on": true, "y": true, "anything": true} {
		if got := envBool(v); got != want {
			t.Errorf("envBool(%q) = %v", v, got)
		}
	}
}

// formatCommands lists the command paths whose -o takes formats, with them.
func formatCommands() map[string][]string {
	app := newApp(newFactory(iostreams.System(), "x"))
	out := map[string][]string{}
	var walk func(path string, cmds []*cli.Command)
	walk = func(path string, cmds []*cli.Command) {
		for _, c := range cmds {
			p := strings.TrimSpace(path + " " + c.Name)
			if formats := outputFormats(c.Flags); formats != nil {
				out[p] = formats
			}
			walk(p, c.Subcommands)
		}
	}
	walk("", app.Commands)
	return out
}

// -o json and -o yaml go together, and a failure is printed in them on
// stdout, usage errors included.
func TestStructuredErrorsEverywhere(t *testing.T) {
	t.Chdir(t.TempDir())
	cmds := formatCommands()
	if len(cmds) < 20 {
		t.Fatalf("only %d commands with -o: %v", len(cmds), cmds)
	}
	for path, formats := range cmds {
		if slices.Contains(formats, "json") != slices.Contains(formats, "yaml") {
			t.Errorf("%s: -o %v: json without yaml or the reverse", path, formats)
		}
		for _, format := range []string{"json", "yaml"} {
			for _, tail := range [][]string{{"--bogus", "-o", format}, {"-o=" + format, "--bogus"}, {"--output", format, "--bogus"}} {
				args := append(strings.Fields(path), tail...)
				r := runCLI(t, false, nil, args...)
				var e jsonError
				var err error
				if format == "json" {
					err = json.Unmarshal([]byte(r.stdout), &e)
				} else {
					err = yaml.Unmarshal([]byte(r.stdout), &e)
				}
				if r.code != exitUsage || err != nil || e.ExitCode != exitUsage || e.Error != "unknown flag --bogus" || r.stderr != "" {
					t.Errorf("%v: exit %d, %v, stdout %q, stderr %q", args, r.code, err, r.stdout, r.stderr)
				}
			}
		}
	}
	// A usage error found by the command itself, and another -o value.
	r := runCLI(t, false, nil, "status", "a", "b", "-o", "json")
	if r.code != exitUsage || !strings.Contains(r.stdout, `"exitCode": 2`) {
		t.Errorf("status a b -o json: exit %d, stdout %q", r.code, r.stdout)
	}
	r = runCLI(t, false, nil, "lint", "--bogus", "-o", "sarif")
	if r.code != exitUsage || r.stdout != "" || !strings.Contains(r.stderr, "unknown flag --bogus") {
		t.Errorf("lint --bogus -o sarif: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

// images save's archive is --archive; -o still names it, with a warning,
// and refuses an output format.
func TestImagesSaveArchiveFlag(t *testing.T) {
	t.Chdir(t.TempDir())
	for _, format := range []string{"json", "yaml"} {
		r := runCLI(t, false, nil, "images", "save", "-o", format)
		if r.code != exitUsage || !strings.Contains(r.stderr, "images save writes an archive and has no output format: -o "+format) || r.stdout != "" {
			t.Errorf("-o %s: exit %d, stdout %q, stderr %q", format, r.code, r.stdout, r.stderr)
		}
	}
	r := runCLI(t, false, nil, "images", "save", "-o", "out.tar")
	if !strings.Contains(r.stderr, "warning: -o for the archive of images save is deprecated; use --archive out.tar") {
		t.Errorf("-o out.tar: exit %d, stderr %q", r.code, r.stderr)
	}
	r = runCLI(t, false, nil, "images", "save")
	if r.code != exitUsage || !strings.Contains(r.stderr, "--archive FILE.tar is required") {
		t.Errorf("no archive: exit %d, stderr %q", r.code, r.stderr)
	}
	if _, err := os.Stat("out.tar"); err == nil {
		t.Error("a failed save wrote out.tar")
	}
}

func TestVersionInfo(t *testing.T) {
	info := &debug.BuildInfo{GoVersion: "go1.99.1", Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.time", Value: "2026-12-01T10:00:00Z"}, {Key: "vcs.modified", Value: "true"},
	}}
	got := newVersionInfo("1.2.3", info)
	if got.Version != "1.2.3" || got.Commit != "0123456789abcdef0123.dirty" || got.BuildDate != "2026-12-01T10:00:00Z" || got.GoVersion != "go1.99.1" || got.Platform == "" {
		t.Errorf("newVersionInfo = %+v", got)
	}
	r := runCLI(t, false, nil, "version", "-o", "json")
	var fields map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &fields); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"version", "commit", "buildDate", "goVersion", "platform"} {
		if _, ok := fields[k]; !ok {
			t.Errorf("version -o json lacks %s: %s", k, r.stdout)
		}
	}
}

// Help texts: every flag value has a name (no "value"), a default is
// shown once, and the global flags are listed by "ksbuilder --help" only.
func TestHelpFlags(t *testing.T) {
	app := newApp(newFactory(iostreams.System(), "x"))
	metavar := regexp.MustCompile(`(?m)^\s+--?[\w-]+ value\b`)
	var walk func(path []string, cmds []*cli.Command)
	walk = func(path []string, cmds []*cli.Command) {
		for _, c := range cmds {
			p := append(slices.Clone(path), c.Name)
			r := runCLI(t, false, nil, append(p, "--help")...)
			if m := metavar.FindString(r.stdout); m != "" {
				t.Errorf("%v --help: a flag without a value name: %q", p, m)
			}
			for _, line := range strings.Split(r.stdout, "\n") {
				if strings.Count(line, "(default:") > 1 {
					t.Errorf("%v --help: two defaults: %q", p, line)
				}
				if strings.HasPrefix(strings.TrimSpace(line), "--no-prompt ") || strings.HasPrefix(strings.TrimSpace(line), "--debug ") {
					t.Errorf("%v --help lists a global flag: %q", p, line)
				}
			}
			if len(c.Subcommands) == 0 && !strings.Contains(r.stdout, "--no-prompt, --debug") {
				t.Errorf("%v --help does not point to the global flags", p)
			}
			walk(p, c.Subcommands)
		}
	}
	walk(nil, app.Commands)
	r := runCLI(t, false, nil, "--help")
	if !strings.Contains(r.stdout, "--no-prompt") || !strings.Contains(r.stdout, "$KSBUILDER_NO_PROMPT") {
		t.Errorf("ksbuilder --help lacks the global flags:\n%s", r.stdout)
	}
	r = runCLI(t, false, nil, "get", "--help")
	if !strings.Contains(r.stdout, "(default: 30s, uploads 5m0s)") {
		t.Errorf("get --help: the Cloud timeout's default:\n%s", r.stdout)
	}
}

// status, uninstall, get, install and upgrade default to the extension in
// the current directory.
func TestNameFromCurrentDirectory(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	t.Setenv("KSBUILDER_CONFIG_DIR", t.TempDir())
	var name string
	runs := []struct {
		args  string
		build func(*Factory) *cli.Command
	}{
		{"status", func(f *Factory) *cli.Command {
			return newStatusCmd(f, func(o *statusOptions) error { name = o.Name; return nil })
		}},
		{"uninstall", func(f *Factory) *cli.Command {
			return newUninstallCmd(f, func(o *uninstallOptions) error { name = o.Name; return nil })
		}},
		{"get", func(f *Factory) *cli.Command {
			return newGetCmd(f, func(o *getOptions) error { name = o.Name; return nil })
		}},
		{"install", func(f *Factory) *cli.Command {
			return newInstallCmd(f, func(o *installOptions) error { name = o.Path; return nil })
		}},
		{"upgrade", func(f *Factory) *cli.Command {
			return newUpgradeCmd(f, func(o *installOptions) error { name = o.Path; return nil })
		}},
	}
	for _, run := range runs {
		if code, stderr := parseWith(t, run.build, run.args); code != exitUsage || !strings.Contains(stderr, "(or run it in the extension's directory") {
			t.Errorf("%s without extension.yaml: exit %d, %q", run.args, code, stderr)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "extension.yaml"), []byte("name: tabby\nversion: 0.1.0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, run := range runs {
		name = ""
		code, stderr := parseWith(t, run.build, run.args)
		want := "tabby"
		if run.args == "install" || run.args == "upgrade" {
			want = "."
		}
		if code != 0 || name != want {
			t.Errorf("%s: exit %d, name %q, want %q: %s", run.args, code, name, want, stderr)
		}
		// An argument still wins.
		if code, _ := parseWith(t, run.build, run.args, "./other"); code != 0 || name != "./other" {
			t.Errorf("%s ./other: exit %d, name %q", run.args, code, name)
		}
	}
}
