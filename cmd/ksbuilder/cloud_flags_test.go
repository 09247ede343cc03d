package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/ksbuilder/ksbuilder/pkg/iostreams"
	"github.com/ksbuilder/ksbuilder/pkg/output"
)

// parseWith runs ksbuilder with the command that build returns (made with
// a runF that captures its options) in place of the one of the same name.
func parseWith(t *testing.T, build func(*Factory) *cli.Command, args ...string) (code int, stderr string) {
	t.Helper()
	ios, _, _, errOut := iostreams.Test()
	f := newFactory(ios, "1.2.3")
	app := newApp(f)
	cmd := build(f)
	prepareCommand(f, cmd)
	for i, c := range app.Commands {
		if c.Name == cmd.Name {
			app.Commands[i] = cmd
		}
	}
	err := app.RunContext(context.Background(), reorderArgs(app, append([]string{"ksbuilder"}, args...)))
	if err != nil {
		printError(f, "ksbuilder "+cmd.Name, err)
	}
	return exitCode(err), errOut.String()
}

func TestNewPushCmd(t *testing.T) {
	t.Setenv("KSBUILDER_CONFIG_DIR", t.TempDir())
	t.Setenv(envServer, "")
	tests := []struct {
		name    string
		args    string
		want    pushOptions
		server  string
		wantErr string
	}{
		{name: "defaults", args: "push", want: pushOptions{Path: ".", MaxSize: 1 << 20, Output: output.Text}, server: "https://apis.kubesphere.cloud"},
		{
			name: "flags after the path",
			args: "push ./hello --dry-run --no-submit --max-size 900KiB -o json --server http://127.0.0.1:9/",
			want: pushOptions{Path: "./hello", DryRun: true, NoSubmit: true, MaxSize: 900 << 10, Output: output.JSON}, server: "http://127.0.0.1:9",
		},
		{name: "yaml output", args: "push -o yaml", want: pushOptions{Path: ".", MaxSize: 1 << 20, Output: output.YAML}, server: "https://apis.kubesphere.cloud"},
		{name: "bad output", args: "push -o xml", wantErr: `unsupported output format "xml"`},
		{name: "two paths", args: "push a b", wantErr: "too many arguments"},
		{name: "bad size", args: "push --max-size lots", wantErr: "--max-size:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got *pushOptions
			code, stderr := parseWith(t, func(f *Factory) *cli.Command {
				return newPushCmd(f, func(o *pushOptions) error { got = o; return nil })
			}, strings.Fields(tt.args)...)
			if tt.wantErr != "" {
				if code != exitUsage || !strings.Contains(stderr, tt.wantErr) {
					t.Fatalf("exit %d, stderr %q; want a usage error %q", code, stderr, tt.wantErr)
				}
				return
			}
			if code != 0 || got == nil {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if got.Path != tt.want.Path || got.DryRun != tt.want.DryRun || got.NoSubmit != tt.want.NoSubmit ||
				got.MaxSize != tt.want.MaxSize || got.Output != tt.want.Output || got.Target.URL != tt.server {
				t.Fatalf("options = %+v (server %s)", *got, got.Target.URL)
			}
		})
	}
}

func TestNewUnpushCmd(t *testing.T) {
	t.Setenv("KSBUILDER_CONFIG_DIR", t.TempDir())
	t.Chdir(t.TempDir())
	if err := os.Mkdir(filepath.Join(".", "2024"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		arg, snapshot, path, stderr string
	}{
		{arg: "516955082311396155", snapshot: "516955082311396155"},
		{arg: "./hello", path: "./hello"},
		{arg: "hello-0.1.0.tgz", path: "hello-0.1.0.tgz"},
		{arg: "2024", path: "2024", stderr: "2024 is an existing path; using it as the extension, not as a snapshot ID"},
	}
	for _, tt := range tests {
		t.Run(tt.arg, func(t *testing.T) {
			var got *unpushOptions
			code, stderr := parseWith(t, func(f *Factory) *cli.Command {
				return newUnpushCmd(f, func(o *unpushOptions) error { got = o; return nil })
			}, "unpush", tt.arg)
			if code != 0 || got.SnapshotID != tt.snapshot || got.Path != tt.path || !strings.Contains(stderr, tt.stderr) {
				t.Fatalf("exit %d, options %+v, stderr %q", code, got, stderr)
			}
		})
	}
	code, stderr := parseWith(t, func(f *Factory) *cli.Command { return newUnpushCmd(f, nil) }, "unpush")
	if code != exitUsage || !strings.Contains(stderr, "missing argument SNAPSHOT_ID|PATH") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
}
