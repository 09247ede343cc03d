package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ksbuilder/ksbuilder/create"
	"github.com/ksbuilder/ksbuilder/pkg/cluster"
	"github.com/ksbuilder/ksbuilder/pkg/dependency"
	"github.com/ksbuilder/ksbuilder/pkg/dev"
	"github.com/ksbuilder/ksbuilder/pkg/iostreams"
	"github.com/ksbuilder/ksbuilder/pkg/registry"
	"github.com/ksbuilder/ksbuilder/pkg/values"
)

func TestDevFlags(t *testing.T) {
	dir := t.TempDir()
	valuesFile := filepath.Join(dir, "values-dev.yaml")
	if err := os.WriteFile(valuesFile, []byte("a: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want dev.Options
		err  string
	}{
		{name: "defaults", args: []string{"dev"},
			want: dev.Options{Dir: ".", Keep: 3, Debounce: 200 * time.Millisecond, Wait: cluster.WaitOptions{Timeout: 10 * time.Minute}}},
		{name: "everything", args: []string{"dev", "./ext", "-f", valuesFile, "--set", "b=2", "--cluster", "host", "--cleanup", "--keep", "5", "--debounce", "1s", "--timeout", "0"},
			want: dev.Options{Dir: "./ext", Values: values.Options{ValueFiles: []string{valuesFile}, Values: []string{"b=2"}}, Clusters: []string{"host"},
				Cleanup: true, Keep: 5, Debounce: time.Second}},
		{name: "cluster values", args: []string{"dev", "--cluster-values", "host=" + valuesFile, "--cluster-set", "host:b=2", "--cluster-set", "member1:c=3"},
			want: dev.Options{Dir: ".", Keep: 3, Debounce: 200 * time.Millisecond, Wait: cluster.WaitOptions{Timeout: 10 * time.Minute},
				ClusterValues: map[string]values.Options{"host": {ValueFiles: []string{valuesFile}, Values: []string{"b=2"}}, "member1": {Values: []string{"c=3"}}}}},
		{name: "registry flags", args: []string{"dev", "--ca-file", "ca.pem", "--cert-file", "c.pem", "--key-file", "k.pem", "--registry-config", "reg.json"},
			want: dev.Options{Dir: ".", Keep: 3, Debounce: 200 * time.Millisecond, Wait: cluster.WaitOptions{Timeout: 10 * time.Minute},
				Dependencies: dependency.Options{Registry: registry.Options{CAFile: "ca.pem", CertFile: "c.pem", KeyFile: "k.pem", RegistryConfig: "reg.json"}}}},
		{name: "plain http registry", args: []string{"dev", "--plain-http"},
			want: dev.Options{Dir: ".", Keep: 3, Debounce: 200 * time.Millisecond, Wait: cluster.WaitOptions{Timeout: 10 * time.Minute},
				Dependencies: dependency.Options{Registry: registry.Options{PlainHTTP: true}}}},
		{name: "plain http with a CA", args: []string{"dev", "--plain-http", "--ca-file", "ca.pem"}, err: "--plain-http turns TLS off"},
		{name: "stdin values", args: []string{"dev", "-f", "-"}, err: "cannot be watched"},
		{name: "stdin cluster values", args: []string{"dev", "--cluster-values", "host=-"}, err: "--cluster-values host=- (values from stdin) cannot be watched"},
		{name: "cluster values without cluster", args: []string{"dev", "--cluster-values", valuesFile}, err: "write CLUSTER=FILE"},
		{name: "missing cluster values file", args: []string{"dev", "--cluster-values", "host=" + filepath.Join(dir, "none.yaml")}, err: "the values of cluster host"},
		{name: "keep zero", args: []string{"dev", "--keep", "0"}, err: "--keep must be at least 1"},
		{name: "bad --set", args: []string{"dev", "--set", "novalue"}, err: "--set novalue:"},
		{name: "two paths", args: []string{"dev", "a", "b"}, err: "too many arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got *devOptions
			ios, _, _, _ := iostreams.Test()
			f := newFactory(ios, "test")
			app := newApp(f)
			for i, c := range app.Commands {
				if c.Name == "dev" {
					app.Commands[i] = newDevCmd(f, func(o *devOptions) error { got = o; return nil })
					prepareCommand(f, app.Commands[i])
				}
			}
			err := app.RunContext(context.Background(), reorderArgs(app, append([]string{"ksbuilder"}, tt.args...)))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || exitCode(err) != exitUsage {
					t.Fatalf("got %v (exit %d), want a usage error containing %q", err, exitCode(err), tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			opts := got.Dev
			opts.Now = nil
			if !reflect.DeepEqual(opts, tt.want) {
				t.Errorf("options\n got %+v\nwant %+v", opts, tt.want)
			}
		})
	}
}

// lockedBuffer is a buffer written and read from several goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitFor polls a buffer until it contains want, or ctx ends.
func waitFor(ctx context.Context, b *lockedBuffer, want string, n int) bool {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for strings.Count(b.String(), want) < n {
		select {
		case <-ctx.Done():
			return false
		case <-tick.C:
		}
	}
	return true
}

// TestDevCommand runs "ksbuilder dev --cleanup": the extension is
// installed, a change that KubeSphere fails to install is reported with
// its diagnosis, and Ctrl-C exits 130 leaving nothing on the cluster.
func TestDevCommand(t *testing.T) {
	kubeconfig := requireCluster(t)
	t.Setenv("KUBECONFIG", kubeconfig)
	dir := filepath.Join(t.TempDir(), "devcli")
	if _, err := create.Create(context.Background(), create.Options{Name: "devcli", Category: "dev-tools", Author: "Test", Type: create.Frontend, Dir: dir}); err != nil {
		t.Fatal(err)
	}
	templates, err := filepath.Glob(filepath.Join(dir, "charts", "*", "templates"))
	if err != nil || len(templates) == 0 {
		t.Fatalf("no templates directory: %v", err)
	}
	staging := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stdout, stderr := &lockedBuffer{}, &lockedBuffer{}
	ios, _, _, _ := iostreams.Test()
	ios.Out, ios.ErrOut = stdout, stderr
	steps := make(chan string, 2)
	go func() {
		// Ctrl-C once a broken release has been reported.
		defer cancel()
		waitCtx, stop := context.WithTimeout(ctx, 2*time.Minute)
		defer stop()
		if !waitFor(waitCtx, stdout, "devcli 0.1.0-dev.1 is installed in namespace extension-devcli\n", 1) {
			steps <- "never installed"
			return
		}
		// The API server refuses the object: the executor job fails.
		bad := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Not_A_DNS_Name\n"
		// Written elsewhere and renamed into place: one event, never half
		// written.
		staged := filepath.Join(staging, "bad.yaml")
		if err := os.WriteFile(staged, []byte(bad), 0o644); err != nil {
			steps <- err.Error()
			return
		}
		if err := os.Rename(staged, filepath.Join(templates[0], "bad.yaml")); err != nil {
			steps <- err.Error()
			return
		}
		if !waitFor(waitCtx, stderr, "Watching for changes; Ctrl-C stops.\n", 2) {
			steps <- "the failure was never reported"
		}
	}()
	code := run(ctx, []string{"ksbuilder", "dev", dir, "--cleanup", "--debounce", "50ms"}, ios)
	close(steps)
	for s := range steps {
		t.Error(s)
	}
	t.Logf("stderr:\n%s", stderr)
	if code != exitInterrupted {
		t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, exitInterrupted, stdout, stderr)
	}
	for _, want := range []string{
		"Installing the extension: publishing a development version\n",
		"ExtensionVersion devcli-0.1.0-dev.1 created\n",
		"InstallPlan devcli created\n",
		"devcli: Installed",
		"Changed: charts/",
		"InstallPlan devcli configured (version 0.1.0-dev.1 -> 0.1.0-dev.2)\n",
		"error: devcli: UpgradeFailed",
		"Executor job helm-upgrade-devcli-",
		"Stopped watching; uninstalling devcli and unpublishing its development versions\n",
		"InstallPlan devcli is being deleted\n",
		"ExtensionVersion devcli-0.1.0-dev.2 deleted\n",
		"Extension devcli deleted\n",
		"Interrupted.\n",
	} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q", want)
		}
	}
	c, err := cluster.Connect(cluster.ConnectOptions{Kubeconfig: kubeconfig})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Plan(context.Background(), "devcli"); err == nil {
		t.Error("--cleanup left the InstallPlan")
	}
}

// Each kind of change is announced on stderr; a change of a cluster's
// values file names the cluster.
func TestDevReporterChange(t *testing.T) {
	for _, tc := range []struct {
		ch   dev.Change
		want string
	}{
		{dev.Change{}, "Installing the extension: publishing a development version\n"},
		{dev.Change{Files: []string{"values.yaml"}, ValuesOnly: true}, "Changed: values.yaml: updating the config\n"},
		{dev.Change{Files: []string{"host.yaml", "m.yaml"}, Clusters: []string{"host", "member1"}, ValuesOnly: true},
			"Changed: host.yaml, m.yaml: updating the values (the override of cluster host, member1)\n"},
		{dev.Change{Files: []string{"host.yaml", "templates/x.yaml"}, Clusters: []string{"host"}}, "Changed: host.yaml, templates/x.yaml: publishing a development version\n"},
	} {
		ios, _, _, errOut := iostreams.Test()
		f := newFactory(ios, "test")
		r := &devReporter{f: f, progress: newProgress(f, "")}
		r.Change(tc.ch)
		if got := errOut.String(); got != tc.want {
			t.Errorf("Change(%+v) printed %q, want %q", tc.ch, got, tc.want)
		}
	}
}
