package bundle_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ksbuilder/ksbuilder/create"
	"github.com/ksbuilder/ksbuilder/internal/testutil/fixture"
	"github.com/ksbuilder/ksbuilder/pkg/bundle"
	"github.com/ksbuilder/ksbuilder/pkg/manifest"
	"github.com/ksbuilder/ksbuilder/pkg/packager"
	"github.com/ksbuilder/ksbuilder/pkg/source"
)

// built is a bundle as the console tooling writes it (minified, 4.1+).
const built = `System.register(["react"],(function(e,t){var r={};return{setters:[function(e){r.default=e.default}],execute:function(){e("default",{routes:[{path:"/hello"}],menus:[],locales:{}})}}}));` + "\n"

// legacy is a bundle in KubeSphere 4.0's form.
const legacy = `System.register(["react"],(function(e,t){return{setters:[function(){}],execute:function(){globals.context.registerExtension({routes:[]})}}}));`

func TestCheck(t *testing.T) {
	tests := []struct {
		name, data string
		err, warn  string
	}{
		{"built", built, "", ""},
		{"legacy", legacy, "", "b.js calls globals.context.registerExtension, the KubeSphere 4.0 form: 4.1 and later load a module that default-exports {routes, menus, locales}"},
		{"empty", "", "b.js is empty: build the bundle first (yarn build:ext NAME writes extensions/NAME/dist/index.js)", ""},
		{"blank", " \n\t\n", "b.js is empty", ""},
		{"not utf-8", "System.register([], x)\xff\xfe", "b.js is not UTF-8 text (invalid byte at offset 22)", ""},
		{"not systemjs", "define(['react'], function (React) {})", "b.js is not a SystemJS module (no System.register( call)", ""},
		{"html", "<!doctype html><script src=index.js></script>", "b.js is not a SystemJS module", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			warnings, err := bundle.Check("b.js", []byte(tt.data))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.warn == "" && len(warnings) != 0 || tt.warn != "" && (len(warnings) != 1 || !strings.Contains(warnings[0], tt.warn)) {
				t.Errorf("warnings = %q, want %q", warnings, tt.warn)
			}
		})
	}
}

// TestCheckSize refuses a bundle over 1 MiB, naming the size and the way
// out (a Service), and takes one of exactly 1 MiB.
func TestCheckSize(t *testing.T) {
	fits := []byte(built + strings.Repeat("/", int(bundle.MaxSize)-len(built)))
	if _, err := bundle.Check("b.js", fits); err != nil {
		t.Fatalf("1 MiB refused: %v", err)
	}
	_, err := bundle.Check("b.js", append(fits, '\n'))
	var tooLarge *bundle.TooLargeError
	if !errors.As(err, &tooLarge) {
		t.Fatalf("error = %v", err)
	}
	for _, want := range []string{"b.js is 1.0 MiB, over the 1.0 MiB a ConfigMap (and the package) holds", "spec.rawFrom.service", "without a port that means HTTPS on 443"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
}

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := bundle.ReadFile(dir); err == nil || !strings.Contains(err.Error(), "is not a file") {
		t.Errorf("directory: %v", err)
	}
	if _, _, err := bundle.ReadFile(filepath.Join(dir, "missing.js")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing: %v", err)
	}
	big := filepath.Join(dir, "big.js")
	if err := os.WriteFile(big, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(big, 64*bundle.MaxSize); err != nil { // sparse: refused by size, never read
		t.Fatal(err)
	}
	var tooLarge *bundle.TooLargeError
	if _, _, err := bundle.ReadFile(big); !errors.As(err, &tooLarge) || tooLarge.Size != 64*bundle.MaxSize {
		t.Errorf("big: %v", err)
	}
}

// scaffold writes a fresh project of a type and returns its directory.
func scaffold(t *testing.T, typ create.Type) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "hello")
	if _, err := create.Create(context.Background(), create.Options{Name: "hello", Category: "dev-tools", Author: "Test", Type: typ, Dir: dir}); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestLocate(t *testing.T) {
	for _, typ := range []create.Type{create.Full, create.Frontend} {
		src, err := source.LoadDir(scaffold(t, typ))
		if err != nil {
			t.Fatal(err)
		}
		got, err := bundle.Locate(src, "")
		want := bundle.Target{File: create.BundleFile, JSBundle: "hello-frontend", ConfigMap: "hello-frontend", Namespace: "extension-hello", Key: "index.js"}
		if err != nil || got != want {
			t.Errorf("%s: Locate = %+v, %v; want %+v", typ, got, err, want)
		}
	}
}

func TestLocateErrors(t *testing.T) {
	backend, err := source.LoadDir(scaffold(t, create.Backend))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bundle.Locate(backend, ""); err == nil || !strings.Contains(err.Error(), "renders no JSBundle with spec.rawFrom.configMapKeyRef, so there is no bundle file to replace (JSBundles: none)") {
		t.Errorf("backend: %v", err)
	}

	// The public hello-world sample writes its bundle inline in the template.
	sample, err := source.LoadDir(filepath.Join("..", "..", "testdata", "corpus", "extension-samples", "hello-world"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = bundle.Locate(sample, "")
	want := `key "index.js" of ConfigMap hello-world-js-bundle (charts/frontend/templates/extension.yaml) holds no file of charts/frontend: ` +
		`to keep the bundle as a file, move it to charts/frontend/files/index.js and write the key as {{ .Files.Get "files/index.js" | toJson }}`
	if err == nil || err.Error() != want {
		t.Errorf("inline bundle:\n got %v\nwant %s", err, want)
	}

	// Two bundles: the choice is asked for, and --jsbundle makes it.
	dir := scaffold(t, create.Frontend)
	fixture.WriteStrings(t, dir, map[string]string{
		"charts/frontend/files/admin.js": built,
		"charts/frontend/templates/admin.yaml": `apiVersion: v1
kind: ConfigMap
metadata: {name: admin, namespace: {{ .Release.Namespace }}}
data:
  main.js: {{ .Files.Get "files/admin.js" | toJson }}
---
apiVersion: extensions.kubesphere.io/v1alpha1
kind: JSBundle
metadata: {name: admin}
spec:
  rawFrom:
    configMapKeyRef: {name: admin, namespace: {{ .Release.Namespace }}, key: main.js}
`,
	})
	two, err := source.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bundle.Locate(two, ""); err == nil || !strings.Contains(err.Error(), "has several bundle files: charts/frontend/files/admin.js (JSBundle admin), charts/frontend/files/index.js (JSBundle hello-frontend); choose one with --jsbundle NAME") {
		t.Errorf("two: %v", err)
	}
	if got, err := bundle.Locate(two, "admin"); err != nil || got.File != "charts/frontend/files/admin.js" || got.Key != "main.js" {
		t.Errorf("--jsbundle admin: %+v, %v", got, err)
	}
	if _, err := bundle.Locate(two, "nope"); err == nil || !strings.Contains(err.Error(), `renders no JSBundle "nope" that reads a ConfigMap (JSBundles: admin, hello-frontend)`) {
		t.Errorf("--jsbundle nope: %v", err)
	}

	// A JSBundle that names a ConfigMap the chart does not create.
	fixture.WriteStrings(t, dir, map[string]string{"charts/frontend/templates/admin.yaml": `apiVersion: extensions.kubesphere.io/v1alpha1
kind: JSBundle
metadata: {name: admin}
spec:
  rawFrom:
    configMapKeyRef: {name: elsewhere, namespace: default, key: main.js}
`})
	dangling, err := source.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bundle.Locate(dangling, "admin"); err == nil || err.Error() != "JSBundle admin reads ConfigMap default/elsewhere, which the chart does not create" {
		t.Errorf("dangling: %v", err)
	}
}

// TestReplace puts a built bundle into a fresh project: the chart's file
// holds it byte for byte, the rendered ConfigMap serves it, no temporary
// file is left, and a second run changes nothing.
func TestReplace(t *testing.T) {
	dir := scaffold(t, create.Full)
	file := filepath.Join(t.TempDir(), "index.js")
	if err := os.WriteFile(file, []byte(built), 0o644); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, dir)
	res, err := bundle.Replace(context.Background(), bundle.ReplaceOptions{File: file, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if res.File != create.BundleFile || res.Size != int64(len(built)) || res.Unchanged || len(res.Warnings) != 0 || res.PackageSize == 0 {
		t.Errorf("result %+v", res)
	}
	after := snapshot(t, dir)
	if after[create.BundleFile] != built {
		t.Errorf("%s = %q", create.BundleFile, after[create.BundleFile])
	}
	delete(before, create.BundleFile)
	delete(after, create.BundleFile)
	if len(before) != len(after) {
		t.Errorf("files before %d, after %d (a temporary file left?)", len(before), len(after))
	}
	for name, data := range before {
		if after[name] != data {
			t.Errorf("%s changed", name)
		}
	}
	if got := renderedBundle(t, dir); got != built {
		t.Errorf("the rendered ConfigMap holds %q", got)
	}

	res, err = bundle.Replace(context.Background(), bundle.ReplaceOptions{File: file, Dir: dir})
	if err != nil || !res.Unchanged {
		t.Errorf("again: %+v, %v", res, err)
	}

	// A 4.0 bundle is taken, with the warning.
	if err := os.WriteFile(file, []byte(legacy), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err = bundle.Replace(context.Background(), bundle.ReplaceOptions{File: file, Dir: dir})
	if err != nil || len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "globals.context.registerExtension") {
		t.Errorf("legacy: %+v, %v", res, err)
	}
}

// TestReplaceRefuses: nothing is written for a bad bundle, a bundle over
// 1 MiB, a package that the bundle takes over 1 MiB, a package instead of a
// directory, or a cancelled context.
func TestReplaceRefuses(t *testing.T) {
	dir := scaffold(t, create.Frontend)
	tmp := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(tmp, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// Incompressible text: base64 of random bytes.
	random := func(n int) []byte {
		raw := make([]byte, n*3/4)
		rand.New(rand.NewSource(1)).Read(raw)
		return []byte(base64.StdEncoding.EncodeToString(raw))
	}
	// Other data of the chart, which leaves less room for the bundle.
	fixture.WriteStrings(t, dir, map[string]string{"charts/frontend/files/data.txt": string(random(512 * 1024))})
	before := snapshot(t, dir)
	tests := []struct {
		name string
		opts bundle.ReplaceOptions
		ctx  context.Context
		want string
	}{
		{"not a module", bundle.ReplaceOptions{File: write("a.js", []byte("console.log(1)")), Dir: dir}, nil, "a.js is not a SystemJS module"},
		{"over 1 MiB", bundle.ReplaceOptions{File: write("big.js", append([]byte(built+"//"), random(int(bundle.MaxSize))...)), Dir: dir}, nil,
			"big.js is 1.0 MiB, over the 1.0 MiB a ConfigMap (and the package) holds; serve it from a Service instead"},
		{"package over 1 MiB", bundle.ReplaceOptions{File: write("wide.js", append([]byte(built+"//"), random(int(bundle.MaxSize)*7/8)...)), Dir: dir}, nil,
			"wide.js, the package hello-0.1.0.tgz would be"},
		{"a package", bundle.ReplaceOptions{File: write("ok.js", []byte(built)), Dir: write("hello-0.1.0.tgz", []byte("x"))}, nil, "is not a directory: give the extension's directory"},
		{"cancelled", bundle.ReplaceOptions{File: write("ok.js", []byte(built)), Dir: dir}, cancelled(), context.Canceled.Error()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := tt.ctx
			if ctx == nil {
				ctx = context.Background()
			}
			_, err := bundle.Replace(ctx, tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want %q", err, tt.want)
			}
			after := snapshot(t, dir)
			if len(after) != len(before) || after[create.BundleFile] != before[create.BundleFile] {
				t.Error("the project changed")
			}
		})
	}
}

func cancelled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

// snapshot reads every file under dir.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// renderedBundle packages the project and returns what its ConfigMap
// serves.
func renderedBundle(t *testing.T, dir string) string {
	t.Helper()
	src, err := source.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	pkg, err := packager.Build(src, packager.Options{})
	if err != nil {
		t.Fatal(err)
	}
	opts, err := manifest.InstallerRelease(pkg.Extension, pkg.Chart, manifest.Host, nil)
	if err != nil {
		t.Fatal(err)
	}
	rendered, err := manifest.Render(pkg.Chart, opts)
	if err != nil {
		t.Fatal(err)
	}
	objects, err := manifest.Objects(rendered)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objects {
		if o.Kind == "ConfigMap" {
			data, _ := o.Content["data"].(map[string]any)
			s, _ := data["index.js"].(string)
			return s
		}
	}
	t.Fatal("no ConfigMap")
	return ""
}

func FuzzCheck(f *testing.F) {
	for _, s := range []string{built, legacy, "", "System.register(", "\xffSystem.register(", " System.register(\x00"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		warnings, err := bundle.Check("b.js", data)
		if err != nil {
			if len(warnings) != 0 {
				t.Errorf("warnings with an error: %q", warnings)
			}
			return
		}
		if !bytes.Contains(data, []byte("System.register(")) || int64(len(data)) > bundle.MaxSize {
			t.Errorf("accepted %q", data)
		}
		if len(warnings) != 0 && !bytes.Contains(data, []byte("globals.context.registerExtension")) {
			t.Errorf("warned about %q", data)
		}
	})
}
