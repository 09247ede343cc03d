package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ksbuilder/ksbuilder/create"
)

func TestCompleteFlagValues(t *testing.T) {
	kubeconfig := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(kubeconfig, []byte(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: t}}]
contexts:
- {name: staging, context: {cluster: c, user: u}}
- {name: dev, context: {cluster: c, user: u}}
current-context: dev
`), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KUBECONFIG", filepath.Join(t.TempDir(), "none"))
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"create", "--type"}, "full\nfrontend\nbackend\napp\n"},
		{[]string{"create", "hello", "--category"}, "ai-machine-learning\ndeepseek\ndatabase\nobservability\nintegration-delivery\nnetworking\nsecurity\nstorage\nstreaming-messaging\ncomputing\ndev-tools\n"},
		{[]string{"lint", "-o"}, "text\njson\nyaml\nsarif\ngithub\n"},
		{[]string{"install", "./hello", "--output"}, "text\njson\nyaml\n"},
		{[]string{"extension", "list", "-o"}, "text\njson\nyaml\n"},
		{[]string{"install", "--kubeconfig", kubeconfig, "--context"}, "dev\nstaging\n"},
		{[]string{"status", "--kubeconfig=" + kubeconfig, "hello", "--context"}, "dev\nstaging\n"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := runCLI(t, false, nil, append(tt.args, completionFlag)...)
			if r.code != 0 || r.stdout != tt.want || r.stderr != "" {
				t.Fatalf("exit %d, stdout %q (want %q), stderr %q", r.code, r.stdout, tt.want, r.stderr)
			}
		})
	}
}

// countingAPIServer is a Kubernetes API server that answers nothing and
// counts the requests it gets; kubeconfig points at it.
func countingAPIServer(t *testing.T) (kubeconfig string, requests *atomic.Int64) {
	t.Helper()
	requests = &atomic.Int64{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		requests.Add(1)
		http.Error(w, "no", http.StatusServiceUnavailable)
	}))
	t.Cleanup(srv.Close)
	kubeconfig = filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(kubeconfig, []byte(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "`+srv.URL+`"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
`), 0o600); err != nil {
		t.Fatal(err)
	}
	return kubeconfig, requests
}

// Completing a flag lists the command's flags and runs nothing: no
// request to KubeSphere Cloud nor to the cluster, with the scripts of this
// version (__complete) and of earlier ones (--generate-bash-completion,
// where bash passed "--" that ended the flags).
func TestCompletionRunsNoCommand(t *testing.T) {
	e := newCloudEnv(t)
	e.login()
	kubeconfig, clusterRequests := countingAPIServer(t)
	t.Setenv("KUBECONFIG", kubeconfig)
	before := len(e.srv.Requests())
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"__complete", "get", "--"}, []string{"--server", "--timeout", "--output", "--no-prompt", "--debug", "--help"}},
		{[]string{"get", "--", completionFlag}, []string{"--server", "--timeout", "--output"}},
		{[]string{"get", "--ser", completionFlag}, []string{"--server"}},
		{[]string{"get", completionFlag}, nil},
		{[]string{"list", "--", completionFlag}, []string{"--server", "--output"}},
		{[]string{"push", "--", completionFlag}, []string{"--dry-run", "--no-submit", "--max-size"}},
		{[]string{"__complete", "status", "--"}, []string{"--watch", "--timeout", "--kubeconfig", "--context", "--output"}},
		{[]string{"status", "--", completionFlag}, []string{"--watch", "--kubeconfig"}},
		{[]string{"__complete", "uninstall", "--f"}, []string{"--force"}},
		{[]string{"__complete", "status", "hello", ""}, nil},
		{[]string{"__complete", "dev", "--"}, []string{"--cleanup", "--debounce"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, stdout, stderr := e.run("", tt.args...)
			if code != 0 || stderr != "" {
				t.Fatalf("exit %d, stderr %q", code, stderr)
			}
			got := strings.Fields(stdout)
			for _, w := range tt.want {
				if !slices.Contains(got, w) {
					t.Errorf("candidates %q lack %s", got, w)
				}
			}
			if tt.want == nil && stdout != "" {
				t.Errorf("candidates %q, want none", got)
			}
		})
	}
	if n := len(e.srv.Requests()) - before; n != 0 {
		t.Errorf("completion sent %d requests to KubeSphere Cloud: %v", n, e.srv.Requests()[before:])
	}
	if n := clusterRequests.Load(); n != 0 {
		t.Errorf("completion sent %d requests to the cluster", n)
	}
}

// The completion protocol: commands, subcommands, flags of the right
// command, flag values, "--flag=" values, bash's split "--flag = value".
func TestCompleteWords(t *testing.T) {
	t.Setenv("KUBECONFIG", filepath.Join(t.TempDir(), "none"))
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"__complete", "pa"}, "package\n"},
		{[]string{"__complete", "--debug", "pa"}, "package\n"},
		{[]string{"__complete", "extension", ""}, "list\nversions\nshow\n"},
		{[]string{"__complete", "completion", "z"}, "zsh\n"},
		{[]string{"__complete", "lint", "--fail-on", ""}, "error\nwarning\ninfo\n"},
		{[]string{"__complete", "lint", "--skip", "permissions-w"}, "permissions-wildcard\n"},
		{[]string{"__complete", "lint", "--output=j"}, "--output=json\n"},
		{[]string{"__complete", "lint", "--output", "=", "s"}, "sarif\n"},
		{[]string{"__complete", "package", "-o", ""}, "text\njson\nyaml\n"},
		{[]string{"__complete", "images", "save", "-o", ""}, ""},
		{[]string{"__complete", "package", "./ext", "--max"}, "--max-size\n"},
		{[]string{"__complete", "package", "--", "--"}, ""},
		{[]string{"__complete", "version", "--"}, "--output\n--no-prompt\n--debug\n--help\n"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := runCLI(t, false, nil, tt.args...)
			if r.code != 0 || r.stdout != tt.want || r.stderr != "" {
				t.Fatalf("exit %d, stdout %q (want %q), stderr %q", r.code, r.stdout, tt.want, r.stderr)
			}
		})
	}
}

// NAME arguments and --cluster complete from the cluster.
func TestCompleteNamesFromCluster(t *testing.T) {
	kubeconfig := requireCluster(t)
	t.Setenv("KUBECONFIG", kubeconfig)
	dir := filepath.Join(t.TempDir(), "tabby")
	if _, err := create.Create(context.Background(), create.Options{Name: "tabby", Category: "dev-tools", Author: "Test", Type: create.Frontend, Dir: dir}); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runCLIContext(context.Background(), "publish", dir); code != 0 {
		t.Fatalf("publish: exit %d\n%s", code, stderr)
	}
	t.Cleanup(func() { runCLIContext(context.Background(), "unpublish", "tabby") })
	complete := func(args ...string) []string {
		t.Helper()
		r := runCLI(t, false, nil, append([]string{"__complete"}, args...)...)
		if r.code != 0 || r.stderr != "" {
			t.Fatalf("%v: exit %d, stderr %q", args, r.code, r.stderr)
		}
		return strings.Fields(r.stdout)
	}
	if got := complete("extension", "show", "tab"); !slices.Equal(got, []string{"tabby"}) {
		t.Errorf("extension show tab: %q", got)
	}
	if got := complete("status", ""); slices.Contains(got, "tabby") {
		t.Errorf("status offers an extension that is not installed: %q", got)
	}
	if got := complete("install", "--cluster", ""); !slices.Contains(got, "host") {
		t.Errorf("--cluster: %q", got)
	}
	if code, _, stderr := runCLIContext(context.Background(), "install", dir, "--no-wait"); code != 0 {
		t.Fatalf("install: exit %d\n%s", code, stderr)
	}
	t.Cleanup(func() { runCLIContext(context.Background(), "uninstall", "tabby") })
	for _, args := range [][]string{{"status", "ta"}, {"uninstall", "--kubeconfig", kubeconfig, "ta"}, {"upgrade", ""}} {
		if got := complete(args...); !slices.Contains(got, "tabby") {
			t.Errorf("%v: %q", args, got)
		}
	}
	// Only the first argument is a name.
	if got := complete("status", "tabby", ""); len(got) != 0 {
		t.Errorf("second argument: %q", got)
	}
}
