package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/ksbuilder/ksbuilder/create"
	"github.com/ksbuilder/ksbuilder/internal/testcontroller"
	"github.com/ksbuilder/ksbuilder/internal/testutil/golden"
	"github.com/ksbuilder/ksbuilder/pkg/iostreams"
	"github.com/ksbuilder/ksbuilder/pkg/output"
)

// runCLIContext runs ksbuilder in-process with ctx and returns its exit code and output.
func runCLIContext(ctx context.Context, args ...string) (int, string, string) {
	ios, _, stdout, stderr := iostreams.Test()
	code := run(ctx, append([]string{"ksbuilder"}, args...), ios)
	return code, stdout.String(), stderr.String()
}

func TestInstallFlags(t *testing.T) {
	dir := t.TempDir()
	values := filepath.Join(dir, "values.yaml")
	if err := os.WriteFile(values, []byte("a:\n  b: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want installOptions
		err  string
	}{
		{name: "path", args: []string{"install", "./ext"}, want: installOptions{Path: "./ext", Output: output.Text}},
		{name: "name and version", args: []string{"install", "hello", "--version", "1.0.0", "--timeout", "1m", "--no-wait"},
			want: installOptions{Name: "hello", Version: "1.0.0", NoWait: true, Output: output.Text}},
		{name: "values", args: []string{"upgrade", "hello", "--version", "2.0.0", "-f", values, "--set", "a.c=x,d=2", "--set-json", `j={"k":[1,2]}`},
			want: installOptions{Name: "hello", Version: "2.0.0", Upgrade: true, Output: output.Text, Values: map[string]any{
				"a": map[string]any{"b": float64(1), "c": "x"}, "d": int64(2), "j": map[string]any{"k": []any{float64(1), float64(2)}}}}},
		{name: "clusters", args: []string{"install", "./ext", "--cluster", "host", "--cluster", "m1,m2", "-o", "json"},
			want: installOptions{Path: "./ext", Clusters: []string{"host", "m1", "m2"}, Output: output.JSON}},
		{name: "reset", args: []string{"install", "./ext", "--reset-values"}, want: installOptions{Path: "./ext", ResetValues: true, Output: output.Text}},
		{name: "name without version", args: []string{"install", "hello"}, err: "--version is required with an extension NAME"},
		{name: "reset with values", args: []string{"install", "./ext", "--reset-values", "--set", "a=1"}, err: "--reset-values cannot be used with other values flags"},
		{name: "bad --set", args: []string{"install", "./ext", "--set", "novalue"}, err: "--set novalue:"},
		{name: "no argument", args: []string{"install"}, err: "missing argument PATH|NAME"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got *installOptions
			ios, _, _, _ := iostreams.Test()
			f := newFactory(ios, "test")
			app := newApp(f)
			for i, c := range app.Commands {
				switch c.Name {
				case "install":
					app.Commands[i] = newInstallCmd(f, func(o *installOptions) error { got = o; return nil })
				case "upgrade":
					app.Commands[i] = newUpgradeCmd(f, func(o *installOptions) error { got = o; return nil })
				}
				prepareCommand(f, app.Commands[i])
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
			if tt.want.Values != nil {
				// The values name their flags (for values.schema.json's refusals).
				if got.ValueSource == nil {
					t.Fatal("no ValueSource with values flags")
				}
				if src := got.ValueSource([]string{"a", "c"}); src != "--set a.c=x,d=2" {
					t.Errorf("a.c comes from %q, want --set a.c=x,d=2", src)
				}
			}
			got.f, got.Connect, got.Wait, got.ValueSource = nil, tt.want.Connect, tt.want.Wait, nil
			if !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("options\n got %+v\nwant %+v", *got, tt.want)
			}
		})
	}
}

func TestPublishDryRun(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "0")
	ios, _, stdout, _ := iostreams.Test()
	f := newFactory(ios, "test")
	f.Now = func() time.Time { return time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC) }
	app := newApp(f)
	args := []string{"ksbuilder", "publish", "--dry-run", "../../testdata/corpus/extension-samples/hello-world", "--kubeconfig", "/nonexistent"}
	if err := app.RunContext(context.Background(), reorderArgs(app, args)); err != nil {
		t.Fatal(err)
	}
	golden.Assert(t, decodeCharts(t, stdout.Bytes()), "testdata/publish-dry-run.golden")
}

// The golden of publish --dry-run survives another compression of the
// same archive: it holds the entries, not the gzip bytes.
func TestDecodeChartsIgnoresCompression(t *testing.T) {
	var tarball bytes.Buffer
	tw := tar.NewWriter(&tarball)
	for _, name := range []string{"x/Chart.yaml", "x/values.yaml"} {
		data := []byte("name: " + name + "\n")
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data))}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	configMap := func(level int) []byte {
		var z bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&z, level)
		_, _ = zw.Write(tarball.Bytes())
		_ = zw.Close()
		return []byte("binaryData:\n  chart.tgz: " + base64.StdEncoding.EncodeToString(z.Bytes()) + "\nkind: ConfigMap\n")
	}
	fast, best := configMap(gzip.BestSpeed), configMap(gzip.BestCompression)
	if bytes.Equal(fast, best) {
		t.Fatal("the two compressions gave the same bytes")
	}
	if got, want := decodeCharts(t, fast), decodeCharts(t, best); !bytes.Equal(got, want) || !bytes.Contains(got, []byte("\n    x/values.yaml 0644 20 sha256:")) {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// chartLine is the chart archive in a YAML ConfigMap: "  chart.tgz: <base64>".
var chartLine = regexp.MustCompile(`(?m)^(\s+chart\.tgz: )(\S+)$`)

// decodeCharts replaces each base64 chart archive in YAML output by the
// list of its entries (name, mode, size, sha256 of the content), so goldens
// do not depend on the compressor's bytes.
func decodeCharts(t *testing.T, out []byte) []byte {
	t.Helper()
	return chartLine.ReplaceAllFunc(out, func(line []byte) []byte {
		m := chartLine.FindSubmatch(line)
		data, err := base64.StdEncoding.DecodeString(string(m[2]))
		if err != nil {
			t.Fatalf("chart.tgz is not base64: %v", err)
		}
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("chart.tgz is not gzip: %v", err)
		}
		var b bytes.Buffer
		b.Write(m[1])
		b.WriteString("<archive entries, decoded by the test>")
		indent := strings.Repeat(" ", len(m[1])-len(strings.TrimLeft(string(m[1]), " "))+2)
		tr := tar.NewReader(zr)
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("chart.tgz: %v", err)
			}
			sum := sha256.New()
			if _, err := io.Copy(sum, tr); err != nil {
				t.Fatalf("chart.tgz: %v", err)
			}
			fmt.Fprintf(&b, "\n%s%s %04o %d sha256:%x", indent, h.Name, h.Mode, h.Size, sum.Sum(nil))
		}
		return b.Bytes()
	})
}

func TestInstallInterruptedAndResumed(t *testing.T) {
	kubeconfig := requireCluster(t)
	t.Setenv("KUBECONFIG", kubeconfig)
	hold := make(chan struct{})
	shared.controller.SetBehaviour("sloth", testcontroller.Behaviour{Hold: hold})
	dir := filepath.Join(t.TempDir(), "sloth")
	if _, err := create.Create(context.Background(), create.Options{Name: "sloth", Category: "dev-tools", Author: "Test", Type: create.Frontend, Dir: dir}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		// Ctrl-C once the job runs; it runs until hold is closed.
		cs := kubernetes.NewForConfigOrDie(shared.env.Config)
		for ctx.Err() == nil {
			jobs, err := cs.BatchV1().Jobs("extension-sloth").List(ctx, metav1.ListOptions{})
			if err == nil && len(jobs.Items) > 0 {
				cancel()
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	code, _, stderr := runCLIContext(ctx, "install", dir)
	close(hold)
	if code != exitInterrupted {
		t.Errorf("exit code %d, want %d\n%s", code, exitInterrupted, stderr)
	}
	if !strings.Contains(stderr, "Follow it with: ksbuilder status sloth --watch\nInterrupted.\n") {
		t.Errorf("no resume hint:\n%s", stderr)
	}
	code, stdout, stderr := runCLIContext(context.Background(), "status", "sloth", "--watch")
	if code != exitOK || !strings.Contains(stdout, "State:             Installed") {
		t.Errorf("status --watch: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if code, _, stderr := runCLIContext(context.Background(), "uninstall", "sloth", "--unpublish"); code != exitOK {
		t.Errorf("uninstall: exit %d\n%s", code, stderr)
	}
}

func TestInstallExitCodes(t *testing.T) {
	kubeconfig := requireCluster(t)
	t.Setenv("KUBECONFIG", kubeconfig)
	tests := []struct {
		args []string
		code int
		err  string
	}{
		{[]string{"install", "nothing-here", "--version", "1.0.0"}, exitFailure, "ExtensionVersion nothing-here-1.0.0 not found"},
		{[]string{"install", "nothing-here"}, exitUsage, "--version is required"},
		{[]string{"status", "nothing-here"}, exitFailure, "nothing-here is not installed"},
		{[]string{"install", "./does/not/exist"}, exitFailure, "does/not/exist"},
	}
	for _, tt := range tests {
		code, _, stderr := runCLIContext(context.Background(), tt.args...)
		if code != tt.code || !strings.Contains(stderr, tt.err) {
			t.Errorf("%v: exit %d, want %d with %q\n%s", tt.args, code, tt.code, tt.err, stderr)
		}
	}
}
