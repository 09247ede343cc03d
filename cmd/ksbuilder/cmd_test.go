package main

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/ksbuilder/ksbuilder/internal/testutil/fixture"
	"github.com/ksbuilder/ksbuilder/internal/testutil/golden"
	"github.com/ksbuilder/ksbuilder/pkg/iostreams"
	"github.com/ksbuilder/ksbuilder/pkg/prompt"
)

// cliResult is the outcome of one CLI run.
type cliResult struct {
	code           int
	stdout, stderr string
}

// runCLI runs ksbuilder in-process with test streams. tty makes stdin and
// stdout terminals; p answers prompts.
func runCLI(t *testing.T, tty bool, p prompt.Prompter, args ...string) cliResult {
	t.Helper()
	ios, _, out, errOut := iostreams.Test()
	ios.SetStdinTTY(tty)
	ios.SetStdoutTTY(tty)
	f := newFactory(ios, "1.2.3")
	if p != nil {
		f.Prompter = func() prompt.Prompter { return p }
	}
	code := runWith(context.Background(), f, append([]string{"ksbuilder"}, args...))
	return cliResult{code, out.String(), errOut.String()}
}

func TestExitCodes(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStderr string
	}{
		{"version", []string{"version"}, 0, ""},
		{"unknown command", []string{"pakage"}, 2, `error: unknown command "pakage"; did you mean "package"?`},
		{"unknown command far from any", []string{"frobnicate"}, 2, `error: unknown command "frobnicate"` + "\n"},
		{"unknown flag", []string{"package", "--frobnicate"}, 2, "error: unknown flag --frobnicate\n"},
		{"unknown flag with one dash", []string{"package", "-frobnicate=1"}, 2, "error: unknown flag -frobnicate\n"},
		{"unknown short flag", []string{"lint", "-Z"}, 2, "error: unknown flag -Z\n"},
		{"unknown subcommand", []string{"extension", "lst"}, 2, `error: unknown command "lst" for "ksbuilder extension"; did you mean "list"?`},
		{"unknown subcommand far from any", []string{"extension", "frobnicate"}, 2, `error: unknown command "frobnicate" for "ksbuilder extension"` + "\n"},
		{"help of an unknown command", []string{"help", "pakage"}, 2, `error: unknown command "pakage"; did you mean "package"?`},
		{"help of an unknown subcommand", []string{"help", "extension", "lst"}, 2, `error: unknown command "lst" for "ksbuilder extension"`},
		{"too many args", []string{"validate", "a", "b"}, 2, `too many arguments: validate takes 1 ([PATH]), got ["a" "b"]`},
		{"args to version", []string{"version", "x"}, 2, "too many arguments"},
		{"bad output", []string{"category", "-o", "xml"}, 2, `unsupported output format "xml" (want one of: text, json, yaml)`},
		{"bad max size", []string{"package", "--max-size", "lots"}, 2, `--max-size: invalid size "lots"`},
		{"NaN max size", []string{"package", "--max-size", "NaN"}, 2, `--max-size: invalid size "NaN"`},
		{"infinite max size", []string{"validate", "--max-size", "inf"}, 2, `--max-size: invalid size "inf"`},
		{"max size over int64", []string{"package", "--max-size", "1e19"}, 2, `--max-size: invalid size "1e19"`},
		{"missing path", []string{"package", "does-not-exist"}, 1, "error: does-not-exist: no such file or directory"},
		{"completion without shell", []string{"completion"}, 2, "missing argument SHELL"},
		{"completion unknown shell", []string{"completion", "tcsh"}, 2, `unsupported shell "tcsh"`},
		{"global flag after command", []string{"version", "--no-prompt", "--debug"}, 0, ""},
		{"global flag before command", []string{"--no-prompt", "version"}, 0, ""},
		{"help command", []string{"help", "package"}, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, false, nil, tt.args...)
			if r.code != tt.wantCode {
				t.Errorf("exit code %d, want %d (stderr %q)", r.code, tt.wantCode, r.stderr)
			}
			if !strings.Contains(r.stderr, tt.wantStderr) {
				t.Errorf("stderr %q does not contain %q", r.stderr, tt.wantStderr)
			}
			if tt.wantCode == 2 && !strings.Contains(r.stderr, "--help' for usage") {
				t.Errorf("usage error without a pointer to --help: %q", r.stderr)
			}
		})
	}
}

// TestGlobalFlagsEverywhere: every command accepts --no-prompt and --debug.
func TestGlobalFlagsEverywhere(t *testing.T) {
	app := newApp(newFactory(iostreams.System(), "x"))
	for _, c := range app.Commands {
		names := map[string]bool{}
		for _, f := range c.Flags {
			for _, n := range f.Names() {
				names[n] = true
			}
		}
		if !names[flagNoPrompt] || !names[flagDebug] {
			t.Errorf("%s lacks the global flags", c.Name)
		}
		if c.OnUsageError == nil {
			t.Errorf("%s has no usage-error mapping", c.Name)
		}
	}
}

func TestReorderArgs(t *testing.T) {
	app := newApp(newFactory(iostreams.System(), "x"))
	tests := []struct{ in, want string }{
		{"ksbuilder package ./ext -d out", "ksbuilder package -d out ./ext"},
		{"ksbuilder package ./ext --destination=out -o json", "ksbuilder package --destination=out -o json ./ext"},
		{"ksbuilder --debug package ./ext --no-prompt", "ksbuilder --debug package --no-prompt ./ext"},
		{"ksbuilder package -- -weird-dir -d", "ksbuilder package -- -weird-dir -d"},
		{"ksbuilder completion bash --debug", "ksbuilder completion bash --debug"},
		{"ksbuilder create --force --name x", "ksbuilder create --force --name x"},
		{"ksbuilder", "ksbuilder"},
	}
	for _, tt := range tests {
		got := strings.Join(reorderArgs(app, strings.Fields(tt.in)), " ")
		if got != tt.want {
			t.Errorf("reorderArgs(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestVersionAndCategory(t *testing.T) {
	if r := runCLI(t, false, nil, "version"); r.stdout != "1.2.3\n" {
		t.Errorf("version: %q", r.stdout)
	}
	if r := runCLI(t, false, nil, "--version"); r.stdout != "ksbuilder version 1.2.3\n" {
		t.Errorf("--version: %q", r.stdout)
	}
	r := runCLI(t, false, nil, "version", "-o", "json")
	var v versionInfo
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil || v.Version != "1.2.3" || v.Platform == "" {
		t.Errorf("version -o json: %q %v", r.stdout, err)
	}
	golden.AssertString(t, runCLI(t, false, nil, "category").stdout, "testdata/category.txt")
	golden.AssertString(t, runCLI(t, false, nil, "category", "-o", "json").stdout, "testdata/category.json")
}

// "ksbuilder help CMD [SUB]" prints the same text as "CMD [SUB] --help".
func TestHelpCommand(t *testing.T) {
	for _, args := range [][]string{{"package"}, {"extension", "list"}, {}} {
		want := runCLI(t, false, nil, append(args, "--help")...)
		got := runCLI(t, false, nil, append([]string{"--debug", "help"}, args...)...)
		if got.code != 0 || got.stdout != want.stdout || got.stdout == "" {
			t.Errorf("help %v: exit %d, stdout %q; want %q", args, got.code, got.stdout, want.stdout)
		}
	}
}

// TestHelp pins the --help text of every command.
func TestHelp(t *testing.T) {
	golden.AssertString(t, runCLI(t, false, nil, "--help").stdout, "testdata/help/ksbuilder.txt")
	app := newApp(newFactory(iostreams.System(), "x"))
	for _, c := range app.Commands {
		r := runCLI(t, false, nil, c.Name, "--help")
		if r.code != 0 {
			t.Errorf("%s --help: exit %d", c.Name, r.code)
		}
		if c.Name != "completion" && !strings.Contains(r.stdout, "Examples:") {
			t.Errorf("%s --help has no examples", c.Name)
		}
		golden.AssertString(t, r.stdout, filepath.Join("testdata", "help", c.Name+".txt"))
		if c.Name == "completion" {
			continue // its subcommands are the shells, shown by completion --help
		}
		for _, sub := range c.Subcommands {
			r := runCLI(t, false, nil, c.Name, sub.Name, "--help")
			if r.code != 0 || !strings.Contains(r.stdout, "Examples:") {
				t.Errorf("%s %s --help: exit %d, no examples", c.Name, sub.Name, r.code)
			}
		}
	}
}

func TestCompletion(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		r := runCLI(t, false, nil, "completion", shell)
		if r.code != 0 || !strings.Contains(r.stdout, "ksbuilder") {
			t.Errorf("completion %s: exit %d, %q", shell, r.code, r.stderr)
		}
	}
	r := runCLI(t, false, nil, "--generate-bash-completion")
	for _, cmd := range []string{"create", "package", "validate"} {
		if !strings.Contains(r.stdout, cmd) {
			t.Errorf("completion candidates lack %s: %q", cmd, r.stdout)
		}
	}
}

// noGitIdentity points git at an empty configuration, so tests do not
// depend on the developer's user.name and user.email.
func noGitIdentity(t *testing.T) {
	t.Helper()
	gitIdentity(t, "")
}

// gitIdentity makes config the whole of git's global configuration.
func gitIdentity(t *testing.T, config string) {
	t.Helper()
	home := t.TempDir()
	global := filepath.Join(home, "gitconfig")
	if err := os.WriteFile(global, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	t.Setenv("GIT_CONFIG_GLOBAL", global)
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
}

func TestCreateNonInteractive(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	noGitIdentity(t)
	// Every missing answer is named at once.
	r := runCLI(t, false, nil, "create")
	if r.code != 2 || !strings.Contains(r.stderr, "error: missing NAME, --category, --author (required without a terminal; or run on a terminal to be asked)") {
		t.Fatalf("create without flags: exit %d, %q", r.code, r.stderr)
	}
	r = runCLI(t, false, nil, "create", "x")
	if r.code != 2 || !strings.Contains(r.stderr, "error: missing --category, --author (required without a terminal") {
		t.Fatalf("create NAME: exit %d, %q", r.code, r.stderr)
	}
	// On a terminal, --no-prompt also forbids questions.
	r = runCLI(t, true, prompt.NewFake(), "create", "--no-prompt", "--name", "x")
	if r.code != 2 || !strings.Contains(r.stderr, "missing --category, --author (required with --no-prompt or KSBUILDER_NO_PROMPT") {
		t.Fatalf("create --no-prompt: exit %d, %q", r.code, r.stderr)
	}
	t.Setenv("KSBUILDER_NO_PROMPT", "1")
	r = runCLI(t, true, prompt.NewFake(), "create", "--name", "x", "--category", "storage")
	if r.code != 2 || !strings.Contains(r.stderr, "missing --author (") {
		t.Fatalf("KSBUILDER_NO_PROMPT: exit %d, %q", r.code, r.stderr)
	}
	// NAME and --name must agree; one NAME only.
	r = runCLI(t, false, nil, "create", "x", "--name", "y", "--category", "storage", "--author", "me")
	if r.code != 2 || !strings.Contains(r.stderr, `NAME "x" and --name "y" differ; give the name once`) {
		t.Fatalf("conflicting names: exit %d, %q", r.code, r.stderr)
	}
	r = runCLI(t, false, nil, "create", "x", "y", "--category", "storage", "--author", "me")
	if r.code != 2 || !strings.Contains(r.stderr, "too many arguments") {
		t.Fatalf("two names: exit %d, %q", r.code, r.stderr)
	}
	r = runCLI(t, false, nil, "create", "--name", "Bad_Name", "--category", "storage", "--author", "me")
	if r.code != 2 || !strings.Contains(r.stderr, `--name: "Bad_Name" is not a valid name`) {
		t.Fatalf("bad name: exit %d, %q", r.code, r.stderr)
	}
	r = runCLI(t, false, nil, "create", "--name", "Hello_World", "--category", "storage", "--author", "me")
	if r.code != 2 || !strings.Contains(r.stderr, `(did you mean "hello-world"?)`) {
		t.Fatalf("name with a suggestion: exit %d, %q", r.code, r.stderr)
	}
	r = runCLI(t, false, nil, "create", "x", "--category", "storage", "--author", "me", "--entry", "link")
	if r.code != 2 || !strings.Contains(r.stderr, "--entry applies only with --from") {
		t.Fatalf("--entry without --from: exit %d, %q", r.code, r.stderr)
	}
	r = runCLI(t, false, nil, "create", "x", "--category", "storag", "--author", "me")
	if r.code != 2 || !strings.Contains(r.stderr, `--category: "storag" is not a built-in category; did you mean "storage"?`) {
		t.Fatalf("mistyped category: exit %d, %q", r.code, r.stderr)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("failed create left files: %v", entries)
	}
	// A custom category is accepted, with a warning.
	r = runCLI(t, false, nil, "create", "x", "--category", "monitoring", "--author", "me")
	if r.code != 0 || !strings.Contains(r.stderr, `warning: "monitoring" is a custom category`) {
		t.Fatalf("custom category: exit %d, %q", r.code, r.stderr)
	}
}

// TestCreateGitIdentity: the author and e-mail default to git's user.name
// and user.email, without a terminal as in the questions.
func TestCreateGitIdentity(t *testing.T) {
	t.Chdir(t.TempDir())
	gitIdentity(t, "[user]\n\tname = Jane Git\n\temail = jane@git.example\n")
	r := runCLI(t, false, nil, "create", "one", "--category", "storage")
	if r.code != 0 || !strings.Contains(r.stderr, "Author: Jane Git (git config user.name)") {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	ext, _ := os.ReadFile(filepath.Join("one", "extension.yaml"))
	for _, want := range []string{`name: "Jane Git"`, `email: "jane@git.example"`} {
		if !strings.Contains(string(ext), want) {
			t.Errorf("extension.yaml lacks %s:\n%s", want, ext)
		}
	}
	// On a terminal they are the defaults of the questions.
	p := prompt.NewFake().Answer("Author:", "").Answer("E-mail", "").Answer("Web page", "")
	r = runCLI(t, true, p, "create", "two", "--category", "storage", "--type", "frontend")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	ext, _ = os.ReadFile(filepath.Join("two", "extension.yaml"))
	if !strings.Contains(string(ext), `name: "Jane Git"`) || !strings.Contains(string(ext), `email: "jane@git.example"`) {
		t.Errorf("extension.yaml:\n%s", ext)
	}
}

func TestCreatePositionalName(t *testing.T) {
	t.Chdir(t.TempDir())
	r := runCLI(t, false, nil, "create", "hello", "--category", "storage", "--author", "me")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	// The same name twice is fine; flags may come first.
	r = runCLI(t, false, nil, "create", "--name", "two", "--category", "storage", "--author", "me", "two")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	for _, name := range []string{"hello", "two"} {
		ext, err := os.ReadFile(filepath.Join(name, "extension.yaml"))
		if err != nil || !strings.Contains(string(ext), "name: \""+name+"\"\n") {
			t.Errorf("%s/extension.yaml: %v\n%s", name, err, ext)
		}
	}
}

func TestCreateInteractive(t *testing.T) {
	t.Chdir(t.TempDir())
	noGitIdentity(t)
	p := prompt.NewFake().
		Answer("Extension name:", "hello").
		Answer("Category:", "Storage (storage)").
		Answer("Author:", "Jane").
		Answer("E-mail", "jane@example.com").
		Answer("Web page", "").
		Answer("Project type:", "frontend  console UI only (frontend subchart)")
	r := runCLI(t, true, p, "create")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if len(p.Unused()) != 0 {
		t.Errorf("unused answers: %v", p.Unused())
	}
	ext, err := os.ReadFile(filepath.Join("hello", "extension.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`category: "storage"`, `name: "Jane"`, `installationMode: "HostOnly"`, `  - name: "frontend"`} {
		if !strings.Contains(string(ext), want) {
			t.Errorf("extension.yaml lacks %q", want)
		}
	}
	if !strings.HasSuffix(strings.TrimSpace(r.stdout), string(filepath.Separator)+"hello") {
		t.Errorf("stdout %q", r.stdout)
	}
	// The answers end as the command that gives them without questions.
	if !strings.Contains(r.stderr, "The same without questions:\n  ksbuilder create hello --category storage --author Jane --email jane@example.com --type frontend\n") {
		t.Errorf("stderr lacks the equivalent command:\n%s", r.stderr)
	}

	// A custom category, typed after choosing "Other".
	p = prompt.NewFake().Answer("Category:", otherCategory).Answer("Custom category:", "monitoring").
		Answer("Author:", "Jane O'Neil").Answer("E-mail", "").Answer("Web page", "")
	r = runCLI(t, true, p, "create", "custom", "--type", "backend")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, `ksbuilder create custom --category monitoring --author 'Jane O'\''Neil' --type backend`) {
		t.Errorf("stderr:\n%s", r.stderr)
	}

	// Flags given are not asked again; a refused answer is an error of the fake.
	p = prompt.NewFake().Answer("Author:", "Jane").Answer("E-mail", "").Answer("Web page", "")
	r = runCLI(t, true, p, "create", "--name", "two", "--category", "storage", "--type", "backend")
	if r.code != 0 || len(p.Asked()) != 3 {
		t.Fatalf("exit %d, asked %q: %s", r.code, p.Asked(), r.stderr)
	}
}

// TestCreateInteractiveApp: the type question offers app, which then asks
// for the chart to publish (refusing a file that is not one).
func TestCreateInteractiveApp(t *testing.T) {
	t.Chdir(t.TempDir())
	noGitIdentity(t)
	archive := fixture.StoreChart(t, t.TempDir())
	if err := os.WriteFile("bad.tgz", []byte("not a chart"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := prompt.NewFake().
		Answer("Extension name:", "store").
		Answer("Category:", "Storage (storage)").
		Answer("Author:", "Jane").
		Answer("E-mail", "").
		Answer("Web page", "").
		Answer("Project type:", "app       a Helm chart published in the App Store (needs --from)").
		Answer("Helm chart archive", archive)
	r := runCLI(t, true, p, "create")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if len(p.Unused()) != 0 {
		t.Errorf("unused answers: %v", p.Unused())
	}
	if _, err := os.Stat(filepath.Join("store", "charts", "base", "files", "webapp-1.2.3.tgz")); err != nil {
		t.Error(err)
	}
	if !strings.Contains(r.stderr, "ksbuilder create store --category storage --author Jane --type app --from "+archive+"\n") {
		t.Errorf("stderr lacks the equivalent command:\n%s", r.stderr)
	}

	p = prompt.NewFake().Answer("Author:", "Jane").Answer("E-mail", "").Answer("Web page", "").Answer("Helm chart archive", "bad.tgz")
	r = runCLI(t, true, p, "create", "bad", "--category", "storage", "--type", "app")
	if r.code == 0 || !strings.Contains(r.stderr, "bad.tgz: not a Helm chart archive") {
		t.Errorf("exit %d: %s", r.code, r.stderr)
	}
}

// cancelPrompter interrupts the first question, like Ctrl-C.
type cancelPrompter struct{ prompt.Fake }

func (cancelPrompter) Input(string, string, func(string) error) (string, error) {
	return "", prompt.ErrCancelled
}

func TestCreateCancelled(t *testing.T) {
	t.Chdir(t.TempDir())
	r := runCLI(t, true, &cancelPrompter{}, "create")
	if r.code != 130 || !strings.Contains(r.stderr, "Interrupted.") {
		t.Fatalf("exit %d, %q", r.code, r.stderr)
	}
}

// TestCreateInterruptedWritesNothing: a signal before or while create
// writes exits 130 and leaves no directory (create.Create's tests
// cancel mid-write).
func TestCreateInterruptedWritesNothing(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	code, _, stderr := runCLIContext(ctx, "create", "hello", "--category", "storage", "--author", "me", "--dir", filepath.Join(dir, "hello"))
	if code != exitInterrupted || stderr != "Interrupted.\n" {
		t.Fatalf("exit %d, %q", code, stderr)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("interrupted create left %v", entries)
	}
}

func TestPackageAndValidateJSON(t *testing.T) {
	t.Chdir(t.TempDir())
	if r := runCLI(t, false, nil, "create", "--name", "demo", "--category", "storage", "--author", "me"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	r := runCLI(t, false, nil, "package", "demo", "-o", "json", "-d", "dist")
	if r.code != 0 {
		t.Fatal(r.stderr)
	}
	var res packageResult
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatalf("%v: %q", err, r.stdout)
	}
	if res.Name != "demo" || res.Version != "0.1.0" || res.Size == 0 || !strings.HasSuffix(res.Path, filepath.Join("dist", "demo-0.1.0.tgz")) || res.Warnings == nil {
		t.Errorf("result %+v", res)
	}

	// A broken extension: JSON on stdout, exit 1.
	os.WriteFile(filepath.Join("demo", "extension.yaml"), []byte("name: demo\nversion: 1.0\nfoo: bar\n"), 0o644)
	r = runCLI(t, false, nil, "validate", "demo", "-o", "json")
	if r.code != 1 {
		t.Fatalf("exit %d", r.code)
	}
	var vr validateResult
	if err := json.Unmarshal([]byte(r.stdout), &vr); err != nil {
		t.Fatal(err)
	}
	if vr.Valid || len(vr.Diagnostics) < 3 || vr.Diagnostics[0].File != "extension.yaml" {
		t.Errorf("result %+v", vr)
	}
	r = runCLI(t, false, nil, "package", "demo")
	if r.code != 1 || !strings.Contains(r.stderr, `demo/extension.yaml:2:10: error: version: "1.0" is not a semantic version`) {
		t.Errorf("package of broken extension: exit %d, %q", r.code, r.stderr)
	}
	if _, err := os.Stat("demo-1.0.tgz"); err == nil {
		t.Error("a failed package left a file")
	}
}

func TestPackageTooLarge(t *testing.T) {
	t.Chdir(t.TempDir())
	if r := runCLI(t, false, nil, "create", "--name", "big", "--category", "storage", "--author", "me"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	noise := make([]byte, 64*1024)
	rand.New(rand.NewSource(1)).Read(noise)
	os.WriteFile(filepath.Join("big", "static", "blob.bin"), noise, 0o644)
	r := runCLI(t, false, nil, "package", "big", "--max-size", "10KiB")
	if r.code != 1 {
		t.Fatalf("exit %d", r.code)
	}
	for _, want := range []string{"big-0.1.0.tgz is", "over the 10.0 KiB limit", "Largest files", "big/static/blob.bin", ".helmignore"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if _, err := os.Stat("big-0.1.0.tgz"); err == nil {
		t.Error("an oversized package was written")
	}
}

func TestSourceDateEpoch(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "yesterday")
	r := runCLI(t, false, nil, "package", ".")
	if r.code != 2 || !strings.Contains(r.stderr, `SOURCE_DATE_EPOCH="yesterday" is not a number`) {
		t.Errorf("exit %d, %q", r.code, r.stderr)
	}
}

// Every command that reads an extension reports its problems in the shared
// format, files under the PATH given; -o json turns the failure into JSON.
func TestDiagnosticFormatEverywhere(t *testing.T) {
	t.Chdir(t.TempDir())
	t.Setenv("KUBECONFIG", filepath.Join(t.TempDir(), "no-kubeconfig"))
	if r := runCLI(t, false, nil, "create", "demo", "--category", "storage", "--author", "me"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	meta := filepath.Join("demo", "extension.yaml")
	data, err := os.ReadFile(meta)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(meta, []byte(strings.Replace(string(data), "version: 0.1.0", "version: \"1.0\"", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	want := regexp.MustCompile(`(?m)^demo/extension.yaml:\d+:10: error: version: "1.0" is not a semantic version \(.*\) \[version-format\]$`)
	for _, args := range [][]string{
		{"validate", "demo"}, {"package", "demo"}, {"template", "demo"}, {"publish", "./demo"},
		{"install", "./demo"}, {"push", "demo", "--dry-run"},
	} {
		r := runCLI(t, false, nil, args...)
		if r.code != 1 || !want.MatchString(r.stderr) {
			t.Errorf("%v: exit %d, stderr %q", args, r.code, r.stderr)
		}
		if args[0] == "template" {
			continue // prints manifests; no -o
		}
		r = runCLI(t, false, nil, append(args, "-o", "json")...)
		var e jsonError
		if err := json.Unmarshal([]byte(r.stdout), &e); err != nil || r.code != 1 || len(e.Diagnostics) != 1 || e.Diagnostics[0].Code != "version-format" {
			t.Errorf("%v -o json: exit %d, %v, stdout %q, stderr %q", args, r.code, err, r.stdout, r.stderr)
		}
	}
}

// TestRepoIndexMergeSanitized: entries of a merged index (a file from
// elsewhere) print without escape sequences and capped.
func TestRepoIndexMergeSanitized(t *testing.T) {
	t.Chdir(t.TempDir())
	if r := runCLI(t, false, nil, "create", "--name", "hello", "--category", "storage", "--author", "me"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	if r := runCLI(t, false, nil, "package", "hello", "-d", "dist"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	url := "https://old.example.com/\x1b]0;pwned\x07\x1b[2J" + strings.Repeat("a", 100<<10) + ".tgz"
	old := "apiVersion: v1\nentries:\n  hello:\n  - apiVersion: v2\n    name: hello\n    version: 0.0.9\n    urls:\n    - " +
		strconv.Quote(url) + "\ngenerated: \"2024-01-01T00:00:00Z\"\n"
	if err := os.WriteFile("old.yaml", []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, false, nil, "repo", "index", "dist", "--url", "https://charts.example.com", "--merge", "old.yaml")
	if r.code != 0 {
		t.Fatal(r.stderr)
	}
	if strings.ContainsAny(r.stdout, "\x1b\x07") || strings.Contains(r.stdout, "pwned") {
		t.Errorf("escape sequences pass through: %q", r.stdout[:min(len(r.stdout), 200)])
	}
	if len(r.stdout) > 4096 || !strings.Contains(r.stdout, "hello 0.0.9 https://old.example.com/aaa") || !strings.Contains(r.stdout, "more bytes") {
		t.Errorf("stdout of %d bytes, want the long URL capped: %q", len(r.stdout), r.stdout[:min(len(r.stdout), 200)])
	}
}

// TestPrintErrorStripsEscapes: an error message, which may quote a server
// anywhere inside, reaches the terminal without escape sequences.
func TestPrintErrorStripsEscapes(t *testing.T) {
	ios, _, _, errOut := iostreams.Test()
	f := newFactory(ios, "1.2.3")
	printError(f, "ksbuilder", errors.New("upload failed: \x1b]0;pwned\x07\x1b[2Jdenied"))
	if got, want := errOut.String(), "error: upload failed: denied\n"; got != want {
		t.Errorf("stderr %q, want %q", got, want)
	}
}
