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
	"github.com/ksbuilder/ksbuilder/pkg/dev"
	"github.com/ksbuilder/ksbuilder/pkg/iostreams"
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
		{name: "stdin values", args: []string{"dev", "-f", "-"}, err: "cannot be watched"},
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

// lockedBuffer is a buffer written from several goroutines, which calls
// seen once its content contains want.
type lockedBuffer struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	want string
	seen func()
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n, err := b.buf.Write(p)
	if b.seen != nil && strings.Contains(b.buf.String(), b.want) {
		b.seen()
		b.seen = nil
	}
	return n, err
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestDevCommand runs "ksbuilder dev --cleanup" until the extension is
// installed, then interrupts it: exit status 130, and nothing is left on
// the cluster.
func TestDevCommand(t *testing.T) {
	kubeconfig := requireCluster(t)
	t.Setenv("KUBECONFIG", kubeconfig)
	dir := filepath.Join(t.TempDir(), "devcli")
	if _, err := create.Create(create.Options{Name: "devcli", Category: "dev-tools", Author: "Test", Type: create.Frontend, Dir: dir}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Ctrl-C once the first version is reported installed.
	stdout := &lockedBuffer{want: "devcli 0.1.0-dev.1 is installed in namespace extension-devcli\n", seen: cancel}
	stderr := &lockedBuffer{}
	ios, _, _, _ := iostreams.Test()
	ios.Out, ios.ErrOut = stdout, stderr
	code := run(ctx, []string{"ksbuilder", "dev", dir, "--cleanup"}, ios)
	t.Logf("stderr:\n%s", stderr)
	if code != exitInterrupted {
		t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, exitInterrupted, stdout, stderr)
	}
	for _, want := range []string{
		"Installing the extension: publishing a development version\n",
		"ExtensionVersion devcli-0.1.0-dev.1 created\n",
		"InstallPlan devcli created\n",
		"devcli: Installed",
		"InstallPlan devcli is being deleted\n",
		"ExtensionVersion devcli-0.1.0-dev.1 deleted\n",
		"Extension devcli deleted\n",
		"Interrupted.\n",
	} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
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
