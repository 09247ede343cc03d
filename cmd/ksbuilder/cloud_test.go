package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/ksbuilder/ksbuilder/internal/cloudtest"
	"github.com/ksbuilder/ksbuilder/pkg/cloud"
	"github.com/ksbuilder/ksbuilder/pkg/credentials"
	"github.com/ksbuilder/ksbuilder/pkg/iostreams"
	"github.com/ksbuilder/ksbuilder/pkg/prompt"
)

// cloudEnv runs ksbuilder in-process against a fake KubeSphere Cloud with
// an isolated config directory, and keeps everything the commands printed.
type cloudEnv struct {
	t      *testing.T
	srv    *cloudtest.Server
	dir    string
	work   string
	opts   []cloud.Option
	prompt *prompt.Fake
	tty    bool
	// stderrTTY makes stderr a terminal (progress bars).
	stderrTTY bool
	all       strings.Builder
}

func newCloudEnv(t *testing.T) *cloudEnv {
	t.Helper()
	srv := cloudtest.New()
	t.Cleanup(func() {
		srv.Close()
		for _, v := range srv.Violations() {
			t.Errorf("protocol violation: %s", v)
		}
	})
	work := t.TempDir()
	e := &cloudEnv{t: t, srv: srv, dir: filepath.Join(work, "config"), work: work}
	t.Setenv(envServer, srv.URL)
	t.Setenv("KSBUILDER_CONFIG_DIR", e.dir)
	t.Setenv(envKeyring, "")
	t.Setenv(envToken, "")
	unsetenv(t, "KSBUILDER_DEBUG")
	unsetenv(t, "KSBUILDER_NO_PROMPT")
	t.Setenv("NO_COLOR", "1")
	keyring.MockInit()
	return e
}

// unsetenv removes an environment variable for the test: urfave/cli
// counts a variable set to "" as a given flag.
func unsetenv(t *testing.T, key string) {
	t.Helper()
	t.Setenv(key, "")
	os.Unsetenv(key)
}

// run executes ksbuilder with args and stdin and returns the exit code and
// outputs.
func (e *cloudEnv) run(stdin string, args ...string) (code int, stdout, stderr string) {
	e.t.Helper()
	ios, in, out, errOut := iostreams.Test()
	in.WriteString(stdin)
	ios.SetStdinTTY(e.tty)
	ios.SetStdoutTTY(e.tty)
	ios.SetStderrTTY(e.stderrTTY)
	f := newFactory(ios, "1.2.3")
	f.Now = func() time.Time { return time.Date(2024, 6, 6, 7, 27, 20, 0, time.UTC) }
	f.cloudOptions = append([]cloud.Option{cloud.WithRetry(3, time.Millisecond, 10*time.Millisecond)}, e.opts...)
	if e.prompt != nil {
		f.Prompter = func() prompt.Prompter { return e.prompt }
	}
	code = runWith(context.Background(), f, append([]string{"ksbuilder"}, args...))
	e.all.WriteString(out.String())
	e.all.WriteString(errOut.String())
	return code, out.String(), errOut.String()
}

// must runs a command that must succeed.
func (e *cloudEnv) must(stdin string, args ...string) (stdout, stderr string) {
	e.t.Helper()
	code, stdout, stderr := e.run(stdin, args...)
	if code != 0 {
		e.t.Fatalf("ksbuilder %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, stdout, stderr)
	}
	return stdout, stderr
}

// expect runs a command that must fail with code and print want on stderr.
func (e *cloudEnv) expect(code int, want string, stdin string, args ...string) {
	e.t.Helper()
	got, stdout, stderr := e.run(stdin, args...)
	if got != code || !strings.Contains(stderr, want) {
		e.t.Fatalf("ksbuilder %s: exit %d (want %d)\nstdout:\n%s\nstderr (want %q):\n%s", strings.Join(args, " "), got, code, stdout, want, stderr)
	}
}

func (e *cloudEnv) login() {
	e.t.Helper()
	e.must(cloudtest.Token+"\n", "login", "--with-token")
}

// extension scaffolds an extension and returns its directory.
func (e *cloudEnv) extension(name string) string {
	e.t.Helper()
	dir := filepath.Join(e.work, name)
	e.must("", "create", "--name", name, "--category", "dev-tools", "--author", "Jane", "--dir", dir)
	return dir
}

func TestLoginKeyring(t *testing.T) {
	e := newCloudEnv(t)
	_, stderr := e.must(cloudtest.Token+"\n", "login", "--with-token")
	if !strings.Contains(stderr, "Token stored in the system keyring.") || !strings.Contains(stderr, "Login Succeeded: "+e.srv.URL+" (user "+cloudtest.UserID+")") {
		t.Fatalf("stderr:\n%s", stderr)
	}
	host := strings.TrimPrefix(e.srv.URL, "http://")
	if got, err := keyring.Get(credentials.Service, host); err != nil || got != cloudtest.Token {
		t.Fatalf("keyring = %q, %v", got, err)
	}
	if _, err := os.Stat(filepath.Join(e.dir, credentials.FileName)); !os.IsNotExist(err) {
		t.Fatalf("a token file was written although the keyring works: %v", err)
	}
	cfg, err := os.ReadFile(filepath.Join(e.dir, "config.json"))
	if err != nil || !strings.Contains(string(cfg), `"server": "`+e.srv.URL+`"`) || strings.Contains(string(cfg), cloudtest.Token) {
		t.Fatalf("config.json = %s, %v", cfg, err)
	}
	// The remembered server is used without KSBUILDER_SERVER.
	t.Setenv(envServer, "")
	e.must("", "list")

	_, stderr = e.must("", "logout")
	if !strings.Contains(stderr, "Logout Succeeded") {
		t.Fatalf("stderr:\n%s", stderr)
	}
	_, stderr = e.must("", "logout")
	if !strings.Contains(stderr, "Not logged in to "+host) {
		t.Fatalf("stderr:\n%s", stderr)
	}
	e.expect(exitAuth, "not logged in to "+host+"; run ksbuilder login --server "+e.srv.URL, "", "list")
}

func TestLoginFallsBackToFile(t *testing.T) {
	e := newCloudEnv(t)
	keyring.MockInitWithError(errors.New("dbus: org.freedesktop.secrets was not provided by any .service files"))
	_, stderr := e.must(cloudtest.Token+"\n", "login", "--with-token")
	file := filepath.Join(e.dir, credentials.FileName)
	if !strings.Contains(stderr, "warning: no usable keyring (dbus: org.freedesktop.secrets") || !strings.Contains(stderr, "the token is stored in "+file) {
		t.Fatalf("stderr:\n%s", stderr)
	}
	if runtime.GOOS != "windows" {
		fi, err := os.Stat(file)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("token file: %v, %v", fi, err)
		}
		di, _ := os.Stat(e.dir)
		if di.Mode().Perm() != 0o700 {
			t.Fatalf("config dir mode %v", di.Mode().Perm())
		}
	}
	cfg, _ := os.ReadFile(filepath.Join(e.dir, "config.json"))
	if strings.Contains(string(cfg), cloudtest.Token) {
		t.Fatalf("the token is in config.json: %s", cfg)
	}
	e.must("", "list")
	e.must("", "logout")
	if _, err := os.Stat(file); !os.IsNotExist(err) {
		t.Fatalf("logout left the token file: %v", err)
	}
}

func TestLoginForcedFileStore(t *testing.T) {
	e := newCloudEnv(t)
	t.Setenv(envKeyring, "file")
	_, stderr := e.must(cloudtest.Token+"\n", "login", "--with-token")
	if !strings.Contains(stderr, "Token stored in "+filepath.Join(e.dir, credentials.FileName)) || strings.Contains(stderr, "warning") {
		t.Fatalf("stderr:\n%s", stderr)
	}
	t.Setenv(envKeyring, "bogus")
	e.expect(exitUsage, `KSBUILDER_KEYRING="bogus": want system, file or mock`, "", "list")
}

func TestLoginTokenSources(t *testing.T) {
	e := newCloudEnv(t)
	// No terminal and no token: a usage error, and no request.
	e.expect(exitUsage, "no token: pipe it in with --with-token", "", "login")
	e.expect(exitUsage, "--token and --with-token cannot be used together", "", "login", "--token", "x", "--with-token")
	e.expect(exitUsage, "standard input is empty", "\n", "login", "--with-token")
	if n := len(e.srv.Requests()); n != 0 {
		t.Fatalf("%d requests for failed logins", n)
	}
	e.expect(exitAuth, "rejected the token: HTTP 401 Unauthorized", "", "login", "--token", "kck-wrong")
	e.must("", "login", "-t", cloudtest.Token)

	// On a terminal, a masked prompt.
	e.tty = true
	e.prompt = prompt.NewFake().Answer("Enter API token", cloudtest.Token)
	e.must("", "login")
	if len(e.prompt.Unused()) != 0 {
		t.Fatalf("the prompt was not asked: %v", e.prompt.Asked())
	}
	// --no-prompt wins over the terminal.
	e.expect(exitUsage, "no token", "", "login", "--no-prompt")
}

func TestEnvTokenOverrides(t *testing.T) {
	e := newCloudEnv(t)
	t.Setenv(envToken, cloudtest.Token)
	e.must("", "list")
	t.Setenv(envToken, "kck-revoked")
	e.expect(exitAuth, "HTTP 401 Unauthorized: unauthorized: invalid token (the token in KSBUILDER_TOKEN was rejected)", "", "list")
}

func TestPushListGetUnpush(t *testing.T) {
	e := newCloudEnv(t)
	e.login()
	dir := e.extension("hello")

	stdout, stderr := e.must("", "push", dir)
	want := "Name:          hello\nVersion:       0.1.0\nSnapshot ID:   516955082294618941\nStatus:        submitted\n"
	if stdout != want {
		t.Fatalf("push stdout:\n%s\nwant:\n%s\nstderr:\n%s", stdout, want, stderr)
	}
	for _, line := range []string{"Uploading static/favicon.svg (icon)", "Uploading hello-0.1.0.tgz", "Submitted for review; follow it with: ksbuilder get hello"} {
		if !strings.Contains(stderr, line) {
			t.Errorf("push stderr lacks %q:\n%s", line, stderr)
		}
	}
	if e.srv.Count(cloudtest.RouteSubmit) != 1 {
		t.Fatalf("submitted %d times", e.srv.Count(cloudtest.RouteSubmit))
	}
	snap := e.srv.Extension("hello").Snapshots[0]
	if snap.Messages[0] != "2024-06-06T07:27:20Z submit for review" {
		t.Fatalf("submit message %q", snap.Messages[0])
	}

	stdout, _ = e.must("", "list")
	if stdout != "ID                   NAME    STATUS   LATEST VERSION\n516955082294618940   hello   draft    \n" {
		t.Fatalf("list:\n%q", stdout)
	}
	if err := e.srv.Approve("hello", "0.1.0"); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TZ", "UTC")
	stdout, _ = e.must("", "get", "hello")
	if !strings.HasPrefix(stdout, "Name:             hello\nID:               516955082294618940\nStatus:           ready\nLatest version:   0.1.0\n\nSNAPSHOT ID          VERSION   STATUS   UPDATE TIME\n516955082294618941   0.1.0     active   ") {
		t.Fatalf("get:\n%s", stdout)
	}
	stdout, _ = e.must("", "get", "hello", "-o", "json")
	var detail extensionDetail
	if err := json.Unmarshal([]byte(stdout), &detail); err != nil || detail.LatestVersion != "0.1.0" || len(detail.Snapshots) != 1 || detail.Snapshots[0].Status != "active" {
		t.Fatalf("get -o json: %s, %v", stdout, err)
	}
	e.expect(exitFailure, `extension "nothere" not found on`, "", "get", "nothere")

	// Push 0.2.0 without submitting, then withdraw a submitted version.
	meta := filepath.Join(dir, "extension.yaml")
	data, _ := os.ReadFile(meta)
	if err := os.WriteFile(meta, []byte(strings.Replace(string(data), "version: 0.1.0", "version: 0.2.0", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, _ = e.must("", "push", dir, "--no-submit", "-o", "json")
	var res struct {
		SnapshotID, Status string
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil || res.Status != "draft" || res.SnapshotID == "" {
		t.Fatalf("push -o json: %s, %v", stdout, err)
	}
	// A draft has no review to withdraw: a note, and success.
	stdout, stderr = e.must("", "unpush", dir)
	if stdout != "Snapshot "+res.SnapshotID+" (hello 0.2.0) is a draft; nothing was changed.\n" || !strings.Contains(stderr, "is a draft, not submitted") {
		t.Fatalf("unpush of a draft:\n%s\n%s", stdout, stderr)
	}
	e.must("", "push", dir)
	stdout, _ = e.must("", "unpush", dir)
	if stdout != "Snapshot "+res.SnapshotID+" (hello 0.2.0) is back to draft; the review was cancelled.\n" {
		t.Fatalf("unpush: %q", stdout)
	}
	e.must("", "push", dir)
	stdout, _ = e.must("", "unpush", res.SnapshotID, "-o", "json")
	if !strings.Contains(stdout, `"snapshotID": "`+res.SnapshotID+`"`) || !strings.Contains(stdout, `"status": "draft"`) {
		t.Fatalf("unpush -o json: %s", stdout)
	}
	if n := e.srv.Count(cloudtest.RouteUser); n < 5 {
		t.Fatalf("user endpoint called %d times", n)
	}
}

func TestUnpushDigitPath(t *testing.T) {
	e := newCloudEnv(t)
	e.login()
	dir := e.extension("hello")
	e.must("", "push", dir)
	// A directory named like a snapshot ID is taken as the extension.
	t.Chdir(e.work)
	if err := os.Rename(dir, filepath.Join(e.work, "12345")); err != nil {
		t.Fatal(err)
	}
	stdout, stderr := e.must("", "unpush", "12345")
	if !strings.Contains(stderr, "12345 is an existing path; using it as the extension") || !strings.Contains(stdout, "(hello 0.1.0) is back to draft") {
		t.Fatalf("stdout:\n%s\nstderr:\n%s", stdout, stderr)
	}
	// Otherwise it is a snapshot ID.
	e.expect(exitFailure, "HTTP 404 Not Found: snapshot 999 not found", "", "unpush", "999")
}

func TestPushDryRunMakesNoRequest(t *testing.T) {
	e := newCloudEnv(t)
	dir := e.extension("hello")
	// Not logged in: a dry run needs no token.
	stdout, stderr := e.must("", "push", dir, "--dry-run")
	for _, want := range []string{
		"static/favicon.svg                  237 B   favicon.svg      icon",
		"Left out of the package: static/ (staticFileDirectory)",
		"  icon: " + "https://uploads.invalid/hello/0.1.0/favicon.svg",
		"  # Icon and screenshots live in staticFileDirectory",
		"Package: hello-0.1.0.tgz, ",
		"Then: submit the snapshot for review.",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("dry run output lacks %q:\n%s", want, stdout)
		}
	}
	if !strings.Contains(stderr, "Dry run: nothing was sent to "+e.srv.URL) {
		t.Errorf("stderr:\n%s", stderr)
	}
	stdout, _ = e.must("", "push", dir, "--dry-run", "--no-submit", "-o", "json")
	var res struct {
		DryRun  bool
		Uploads []struct{ Path, URL string }
		Size    int64
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil || !res.DryRun || len(res.Uploads) != 2 || res.Size == 0 {
		t.Fatalf("dry run JSON: %s, %v", stdout, err)
	}
	if n := len(e.srv.Requests()); n != 0 {
		t.Fatalf("a dry run sent %d requests", n)
	}
	// A real push checks the path before the login, and the login before
	// any request.
	e.expect(exitFailure, "missing: no such file or directory", "", "push", filepath.Join(e.work, "missing"))
	e.expect(exitAuth, "not logged in", "", "push", dir)
	if n := len(e.srv.Requests()); n != 0 {
		t.Fatalf("a push without a login sent %d requests", n)
	}
}

func TestPushProgressBar(t *testing.T) {
	e := newCloudEnv(t)
	e.login()
	dir := e.extension("hello")
	_, stderr := e.must("", "push", dir)
	if strings.Contains(stderr, "\r") {
		t.Fatalf("a progress bar without a terminal:\n%q", stderr)
	}
	e.stderrTTY = true
	_, stderr = e.must("", "push", dir)
	if !strings.Contains(stderr, "\r") || !strings.Contains(stderr, "hello-0.1.0.tgz") || !strings.Contains(stderr, "100%") {
		t.Fatalf("no progress bar on a terminal:\n%q", stderr)
	}
	// At 100 % the server is at work: say so, then the next step.
	host := strings.TrimPrefix(e.srv.URL, "http://")
	if !regexp.MustCompile(`100%.*\n+Uploaded hello-0.1.0.tgz; waiting for ` + regexp.QuoteMeta(host) + ` to store it\nSubmitting snapshot`).MatchString(stderr) {
		t.Fatalf("no step after the bar:\n%q", stderr)
	}
	// list and get show what they wait for on a terminal, and clear it.
	for _, args := range [][]string{{"list"}, {"get", "hello"}} {
		stdout, stderr := e.must("", args...)
		want := "Listing your extensions on " + host
		if args[0] == "get" {
			want = "Reading hello on " + host
		}
		if !strings.Contains(stderr, want) || !strings.HasSuffix(stderr, "\r\x1b[K") || !strings.Contains(stdout, "hello") {
			t.Errorf("%v on a terminal: stderr %q", args, stderr)
		}
	}
	e.stderrTTY = false
	if _, stderr := e.must("", "list"); stderr != "" {
		t.Errorf("list without a terminal: stderr %q", stderr)
	}
}

func TestPushOverLimitUploadsNothing(t *testing.T) {
	e := newCloudEnv(t)
	e.login()
	dir := e.extension("hello")
	blob := make([]byte, 1100*1024)
	if _, err := rand.Read(blob); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "blob.bin"), blob, 0o644); err != nil {
		t.Fatal(err)
	}
	before := len(e.srv.Requests())
	_, _, stderr := e.run("", "push", dir)
	if !strings.Contains(stderr, "hello-0.1.0.tgz is 1.") || !strings.Contains(stderr, "over the 1.0 MiB limit of a KubeSphere Cloud package") ||
		!strings.Contains(stderr, "hello/blob.bin") || !strings.Contains(stderr, "the package was not uploaded") {
		t.Fatalf("stderr:\n%s", stderr)
	}
	if reqs := e.srv.Requests()[before:]; len(reqs) != 0 {
		t.Fatalf("an oversized push sent requests: %v", reqs)
	}
	if e.srv.Count(cloudtest.RoutePackage) != 0 {
		t.Fatal("the package was uploaded")
	}
}

func TestPushSubmitFailure(t *testing.T) {
	e := newCloudEnv(t)
	e.login()
	dir := e.extension("hello")
	e.srv.Fail(cloudtest.Fault{Route: cloudtest.RouteSubmit, Status: 503, Body: `{"message":"review queue unavailable"}`})
	e.expect(exitFailure, "HTTP 503 Service Unavailable: review queue unavailable", "", "push", dir)
	if n := e.srv.Count(cloudtest.RouteSubmit); n != 1 {
		t.Fatalf("submit sent %d times, want exactly once", n)
	}
	_, _, stderr := e.run("", "push", dir)
	if !strings.Contains(stderr, "is on 127.0.0.1:") || !strings.Contains(stderr, "as draft snapshot 516955082294618941, but the submission failed") {
		t.Fatalf("stderr:\n%s", stderr)
	}
}

func TestCloudFaults(t *testing.T) {
	tests := []struct {
		name  string
		fault cloudtest.Fault
		opts  []cloud.Option
		args  []string
		code  int
		want  string
		calls int
	}{
		{
			name:  "401 exits 4",
			fault: cloudtest.Fault{Route: cloudtest.RouteSearch, Status: 401, Body: `{"message":"token revoked"}`},
			args:  []string{"list"}, code: exitAuth, calls: 1,
			want: "HTTP 401 Unauthorized: token revoked (the stored token for 127.0.0.1:",
		},
		{
			name:  "403 explains the scope",
			fault: cloudtest.Fault{Route: cloudtest.RouteSearch, Status: 403, Body: `{"message":"permission denied"}`},
			args:  []string{"list"}, code: exitFailure, calls: 1,
			want: "HTTP 403 Forbidden: permission denied (the token needs the Extension scope",
		},
		{
			name:  "500 with an HTML page",
			fault: cloudtest.Fault{Route: cloudtest.RouteSummary, Status: 500, Body: "<html>\n<head><title>500 Internal Server Error</title></head>\n</html>"},
			args:  []string{"get", "hello"}, code: exitFailure, calls: 1,
			want: "error: HTTP 500 Internal Server Error: 500 Internal Server Error",
		},
		{
			name:  "502 retried, then reported",
			fault: cloudtest.Fault{Route: cloudtest.RouteSnapshots, Status: 502, Body: "<html><body><h1>502 Bad Gateway</h1></body></html>"},
			args:  []string{"get", "hello"}, code: exitFailure, calls: 4,
			want: "HTTP 502 Bad Gateway: 502 Bad Gateway",
		},
		{
			name:  "429 with Retry-After, then success",
			fault: cloudtest.Fault{Route: cloudtest.RouteSearch, Status: 429, Header: map[string]string{"Retry-After": "1"}, Times: 2},
			args:  []string{"list"}, code: exitOK, calls: 3,
		},
		{
			name:  "truncated JSON",
			fault: cloudtest.Fault{Route: cloudtest.RouteSearch, Status: 200, Body: `{"extensions": [{"name": "hel`},
			args:  []string{"list"}, code: exitFailure, calls: 1,
			want: "cannot be read: the JSON is truncated",
		},
		{
			name:  "slow server",
			fault: cloudtest.Fault{Route: cloudtest.RouteSummary, Delay: time.Minute},
			opts:  []cloud.Option{cloud.WithTimeout(100 * time.Millisecond)},
			args:  []string{"get", "hello"}, code: exitFailure, calls: 1,
			want: "no answer from 127.0.0.1:",
		},
		{
			name:  "413 on the package upload",
			fault: cloudtest.Fault{Route: cloudtest.RoutePackage, Status: 413, Body: `{"message":"package too large"}`},
			args:  []string{"push", "EXT"}, code: exitFailure, calls: 1,
			want: "uploading hello-0.1.0.tgz: HTTP 413 Request Entity Too Large: package too large",
		},
		{
			name:  "404 on unpush by ID",
			fault: cloudtest.Fault{Route: cloudtest.RouteCancelSubmit, Status: 404, Body: `{"message":"snapshot not found"}`},
			args:  []string{"unpush", "42"}, code: exitFailure, calls: 1,
			want: "HTTP 404 Not Found: snapshot not found",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newCloudEnv(t)
			e.login()
			dir := e.extension("hello")
			e.srv.AddExtension("hello", cloudtest.UserID, map[string]string{"0.0.1": cloud.StatusActive})
			e.srv.Fail(tt.fault)
			e.opts = tt.opts
			args := append([]string(nil), tt.args...)
			for i, a := range args {
				if a == "EXT" {
					args[i] = dir
				}
			}
			code, _, stderr := e.run("", args...)
			if code != tt.code || !strings.Contains(stderr, tt.want) {
				t.Fatalf("exit %d (want %d), stderr (want %q):\n%s", code, tt.code, tt.want, stderr)
			}
			if n := e.srv.Count(tt.fault.Route); n != tt.calls {
				t.Fatalf("%s called %d times, want %d", tt.fault.Route, n, tt.calls)
			}
		})
	}
}

func TestConnectionRefused(t *testing.T) {
	e := newCloudEnv(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	t.Setenv(envToken, cloudtest.Token)
	e.expect(exitFailure, "error: cannot connect to "+addr, "", "list", "--server", "http://"+addr)
	e.expect(exitUsage, "--server: invalid server URL", "", "list", "--server", "apis.kubesphere.cloud")
}

// TestTokenNeverPrinted runs every Cloud command, successful and failing,
// with --debug, and checks that the token appears in no output.
func TestTokenNeverPrinted(t *testing.T) {
	e := newCloudEnv(t)
	e.login()
	dir := e.extension("hello")
	e.must("", "--debug", "push", dir)
	e.must("", "--debug", "list")
	e.must("", "--debug", "get", "hello")
	e.must("", "--debug", "unpush", dir)
	e.must("", "--debug", "push", dir, "--dry-run", "-o", "json")
	e.srv.Fail(cloudtest.Fault{Route: cloudtest.RouteSearch, Status: 401, Body: `{"message":"bad token"}`, Times: 1})
	e.run("", "--debug", "list")
	e.must("", "--debug", "logout")
	e.run(cloudtest.Token, "--debug", "login", "--with-token")
	keyring.MockInitWithError(errors.New("no keyring"))
	e.must(cloudtest.Token, "--debug", "login", "--with-token")
	t.Setenv(envToken, cloudtest.Token)
	e.must("", "--debug", "list")

	out := e.all.String()
	if !strings.Contains(out, "Authorization: Bearer [redacted]") {
		t.Fatalf("the debug log was not captured:\n%s", out)
	}
	if strings.Contains(out, cloudtest.Token) || strings.Contains(out, "1e63267b") {
		t.Fatalf("the token was printed:\n%s", out)
	}
}
