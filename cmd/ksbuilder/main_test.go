package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/ksbuilder/ksbuilder/create"
	"github.com/ksbuilder/ksbuilder/internal/testutil/fixture"
	"github.com/ksbuilder/ksbuilder/pkg/iostreams"
)

func TestWatchSignals(t *testing.T) {
	signals := make(chan os.Signal, 2)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var received atomic.Value
	var errOut bytes.Buffer
	exited := make(chan int, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		watchSignals(signals, cancel, &received, &errOut, func(code int) { exited <- code })
	}()

	signals <- syscall.SIGTERM
	<-ctx.Done()
	if sig, _ := received.Load().(os.Signal); sig != syscall.SIGTERM {
		t.Fatalf("received = %v, want SIGTERM", sig)
	}
	select {
	case code := <-exited:
		t.Fatalf("exited with %d after the first signal", code)
	default:
	}
	// The second signal ends the process at once, with the first's code.
	signals <- os.Interrupt
	if code := <-exited; code != exitTerminated {
		t.Fatalf("exit code = %d, want %d", code, exitTerminated)
	}
	<-done
	if errOut.String() != "Interrupted again: exiting now.\n" {
		t.Fatalf("stderr = %q", errOut.String())
	}
}

func TestSignalExitCode(t *testing.T) {
	if got := signalExitCode(os.Interrupt); got != 130 {
		t.Errorf("SIGINT: %d", got)
	}
	if got := signalExitCode(syscall.SIGTERM); got != 143 {
		t.Errorf("SIGTERM: %d", got)
	}
}

// SIGTERM while a command waits on the network stops it cleanly with 143.
func TestSIGTERMExitCode(t *testing.T) {
	bin, err := exec.LookPath("ksbuilder") // testscript.Main put it on PATH
	if err != nil {
		t.Fatal(err)
	}
	requested := make(chan struct{}, 1)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requested <- struct{}{}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)

	home := t.TempDir()
	cmd := exec.Command(bin, "list")
	cmd.Env = append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+home, "KSBUILDER_CONFIG_DIR="+home,
		"KSBUILDER_SERVER="+srv.URL, "KSBUILDER_TOKEN=kck-test", "NO_COLOR=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	<-requested // the command is running and waiting for the server
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != exitTerminated {
		t.Fatalf("exit = %v, want exit status %d; stderr:\n%s", err, exitTerminated, stderr.String())
	}
	if !strings.HasSuffix(stderr.String(), "Terminated.\n") {
		t.Errorf("SIGTERM does not end with \"Terminated.\": %q", stderr.String())
	}
}

func TestResolveVersion(t *testing.T) {
	settings := func(kv ...string) []debug.BuildSetting {
		var out []debug.BuildSetting
		for i := 0; i < len(kv); i += 2 {
			out = append(out, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return out
	}
	tests := []struct {
		name   string
		linked string
		info   *debug.BuildInfo
		want   string
	}{
		{"linked by make or goreleaser", "1.2.3", nil, "1.2.3"},
		{"linked with a v", "v1.2.3", nil, "1.2.3"},
		{"go install of a tag", "", &debug.BuildInfo{Main: debug.Module{Version: "v0.5.0"}}, "0.5.0"},
		{"go install of a pseudo-version", "", &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261206101010-abcdefabcdef"}}, "0.0.0-20261206101010-abcdefabcdef"},
		{"go build in a checkout", "", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"},
			Settings: settings("vcs.revision", "0123456789abcdef0123", "vcs.modified", "false")}, "0.0.0-dev+0123456789ab"},
		{"go build of a modified checkout", "", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"},
			Settings: settings("vcs.revision", "0123456789abcdef0123", "vcs.modified", "true")}, "0.0.0-dev+0123456789ab.dirty"},
		{"no build info", "", nil, "0.0.0-dev"},
		{"no vcs", "", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "0.0.0-dev"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := resolveVersion(tt.linked, tt.info); got != tt.want {
				t.Fatalf("resolveVersion = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestCancelledCommandsWriteNothing: every command that works on files
// stops with 130 when its context is cancelled (the first Ctrl-C or
// SIGTERM) and writes nothing.
func TestCancelledCommandsWriteNothing(t *testing.T) {
	t.Chdir(t.TempDir())
	if r := runCLI(t, false, nil, "create", "--name", "hello", "--category", "storage", "--author", "me"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	if r := runCLI(t, false, nil, "package", "hello", "-d", "dist"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		args    []string
		mustNot string // a path the command must not create
	}{
		{[]string{"create", "--name", "other", "--category", "storage", "--author", "me"}, "other"},
		{[]string{"package", "hello", "-d", "out"}, "out/hello-0.1.0.tgz"},
		{[]string{"package", "hello", "-d", "pushed", "--push", "oci://127.0.0.1:1/charts", "--plain-http"}, "pushed/hello-0.1.0.tgz"},
		{[]string{"repo", "index", "dist", "--url", "https://charts.example.com"}, "dist/index.yaml"},
		{[]string{"lint", "hello"}, ""},
		{[]string{"images", "push", "missing.tar", "--registry", "127.0.0.1:1", "--plain-http"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.args[0], func(t *testing.T) {
			ios, _, _, errOut := iostreams.Test()
			code := runWith(ctx, newFactory(ios, "1.2.3"), append([]string{"ksbuilder"}, tt.args...))
			if code != exitInterrupted {
				t.Errorf("%v: exit %d, want %d; stderr:\n%s", tt.args, code, exitInterrupted, errOut.String())
			}
			if tt.mustNot != "" {
				if _, err := os.Stat(tt.mustNot); err == nil {
					t.Errorf("%v: %s written", tt.args, tt.mustNot)
				}
			}
		})
	}
}

// TestSIGINTStopsLint: one SIGINT stops a lint that Helm's linter keeps
// busy (eight extensions with subcharts nested 15 deep), with exit 130 and
// Helm's temporary directories removed.
func TestSIGINTStopsLint(t *testing.T) {
	bin, err := exec.LookPath("ksbuilder") // testscript.Main put it on PATH
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	args := []string{"--debug", "lint"}
	for i := range 8 {
		dir := filepath.Join(root, fmt.Sprintf("ext%d", i))
		files, _, err := create.Render(create.Options{Name: fmt.Sprintf("ext%d", i), Category: "storage", Author: "me", Type: create.Full})
		if err != nil {
			t.Fatal(err)
		}
		sub := "charts/" + firstChartDir(files)
		for level := 1; level <= 15; level++ {
			sub += fmt.Sprintf("/charts/n%d", level)
			files[sub+"/Chart.yaml"] = []byte(fmt.Sprintf("apiVersion: v2\nname: n%d\nversion: 0.1.0\n", level))
			files[sub+"/templates/cm.yaml"] = []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Chart.Name }}\n")
		}
		fixture.Write(t, dir, files)
		args = append(args, dir)
	}
	tmp := t.TempDir()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp, "NO_COLOR=1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stderr)
	for lines.Scan() && !strings.HasPrefix(lines.Text(), "debug: linting ") {
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(stderr)
	err = cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != exitInterrupted {
		t.Fatalf("exit = %v, want exit status %d; stderr:\n%s", err, exitInterrupted, rest)
	}
	if left, _ := os.ReadDir(tmp); len(left) > 0 {
		t.Errorf("%s left in the temporary directory", left[0].Name())
	}
}

// firstChartDir returns the name of the first subchart directory among
// scaffold files.
func firstChartDir(files map[string][]byte) string {
	for name := range files {
		if rest, ok := strings.CutPrefix(name, "charts/"); ok {
			dir, _, _ := strings.Cut(rest, "/")
			return dir
		}
	}
	return "app"
}
