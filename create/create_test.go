package create

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"

	"github.com/ksbuilder/ksbuilder/internal/testutil/fixture"
	"github.com/ksbuilder/ksbuilder/internal/testutil/golden"
	"github.com/ksbuilder/ksbuilder/pkg/extension"
	"github.com/ksbuilder/ksbuilder/pkg/manifest"
	"github.com/ksbuilder/ksbuilder/pkg/packager"
	"github.com/ksbuilder/ksbuilder/pkg/source"
	"github.com/ksbuilder/ksbuilder/templates"
)

// baseOptions are the answers of every golden test; type App publishes
// fixture.StoreChart.
func baseOptions(t *testing.T, typ Type) Options {
	o := Options{Name: "hello-world", Category: "dev-tools", Author: "Jane Doe", Email: "jane@example.com", URL: "https://example.com", Type: typ}
	if typ == App {
		o.From = fixture.StoreChart(t, t.TempDir())
	}
	return o
}

func tree(files map[string][]byte) string {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, "\n") + "\n"
}

// TestRenderGolden pins the scaffold tree and the rendered metadata of every
// project type.
func TestRenderGolden(t *testing.T) {
	for _, typ := range Types {
		t.Run(string(typ), func(t *testing.T) {
			files, notes, err := Render(baseOptions(t, typ))
			if err != nil {
				t.Fatal(err)
			}
			if len(notes) != 0 {
				t.Errorf("notes: %q", notes)
			}
			golden.AssertString(t, tree(files), filepath.Join("testdata", string(typ), "tree.txt"))
			for _, f := range []string{"extension.yaml", "permissions.yaml", "values.yaml"} {
				golden.Assert(t, files[f], filepath.Join("testdata", string(typ), f))
			}
			if typ == Frontend {
				golden.Assert(t, files[BundleFile], filepath.Join("testdata", string(typ), "index.js"))
			}
			if typ == App {
				for _, f := range []string{"app.yaml", "appversion.yaml", "configmap.yaml", "role.yaml", "post-install.yaml"} {
					golden.Assert(t, files["charts/base/templates/"+f], filepath.Join("testdata", string(typ), f))
				}
				golden.Assert(t, files[".ksbuilder-lint.yaml"], filepath.Join("testdata", string(typ), "ksbuilder-lint.yaml"))
			}
			png, _ := templates.FS.ReadFile("base/static/screenshots/screenshot.png")
			if !bytes.Equal(files["static/screenshots/screenshot.png"], png) {
				t.Error("binary file not copied verbatim")
			}
			if _, ok := files[".helmignore"]; !ok {
				t.Error(".helmignore missing: the embed must use all:")
			}
			// Helm's "!" ignores every file a rule does not match
			// (extension.yaml included): the scaffold must not suggest it.
			if bytes.Contains(files[".helmignore"], []byte("!")) {
				t.Errorf(".helmignore mentions \"!\":\n%s", files[".helmignore"])
			}
			if !strings.Contains(string(files[".gitignore"]), "\n*.tgz\n") {
				t.Errorf(".gitignore does not ignore built packages: %q", files[".gitignore"])
			}
		})
	}
}

// TestScaffoldPackagesAndRenders checks that every type validates with no
// warning, packages, and renders for the host and the agent release with
// global.imageRegistry and global.nodeSelector reaching every pod.
func TestScaffoldPackagesAndRenders(t *testing.T) {
	for _, typ := range Types {
		t.Run(string(typ), func(t *testing.T) {
			files, _, err := Render(baseOptions(t, typ))
			if err != nil {
				t.Fatal(err)
			}
			pkg := buildPackage(t, files)
			if len(pkg.Warnings) != 0 {
				t.Errorf("warnings: %v", pkg.Warnings)
			}
			workloads := 0
			for _, side := range []map[string]any{
				{"tags": map[string]any{"extension": true, "agent": false}},
				{"tags": map[string]any{"extension": false, "agent": true}, "global": map[string]any{"clusterInfo": map[string]any{"name": "host", "role": "host"}}},
			} {
				side["global"] = merge(side["global"], map[string]any{"imageRegistry": "registry.test", "nodeSelector": map[string]any{"kubernetes.io/os": "marker"}})
				rendered, err := manifest.Render(pkg.Chart, manifest.RenderOptions{ReleaseName: "hello-world", Namespace: "extension-hello-world", Values: side})
				if err != nil {
					t.Fatal(err)
				}
				objects, err := manifest.Objects(rendered)
				if err != nil {
					t.Fatal(err)
				}
				for _, o := range objects {
					if !o.IsWorkload() {
						continue
					}
					workloads++
					for _, c := range o.Containers() {
						if !strings.HasPrefix(c.Image, "registry.test/") {
							t.Errorf("%s %s: image %q ignores global.imageRegistry", o.Kind, o.Name, c.Image)
						}
					}
					sel, _ := o.PodSpec()["nodeSelector"].(map[string]any)
					if sel["kubernetes.io/os"] != "marker" {
						t.Errorf("%s %s: nodeSelector %v ignores global.nodeSelector", o.Kind, o.Name, sel)
					}
				}
			}
			want := map[Type]int{Full: 1, Frontend: 0, Backend: 1, App: 1}[typ]
			if workloads != want {
				t.Errorf("%d workloads rendered across both releases, want %d", workloads, want)
			}
		})
	}
}

func merge(a any, b map[string]any) map[string]any {
	out := map[string]any{}
	if m, ok := a.(map[string]any); ok {
		for k, v := range m {
			out[k] = v
		}
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

func buildPackage(t *testing.T, files map[string][]byte) *packager.Package {
	t.Helper()
	var list []source.File
	for n, d := range files {
		list = append(list, source.File{Name: n, Data: d})
	}
	pkg, err := packager.Build(source.New("scaffold", source.Directory, list), packager.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return pkg
}

// TestUserInputIsQuoted makes sure answers cannot change the YAML structure.
func TestUserInputIsQuoted(t *testing.T) {
	o := baseOptions(t, Frontend)
	o.Author = "O'Brien \"the\" dev: #1\nkind: Secret"
	files, _, err := Render(o)
	if err != nil {
		t.Fatal(err)
	}
	ext, diags := extension.Parse(files["extension.yaml"])
	if diags.HasErrors() || len(diags) != 0 {
		t.Fatalf("diagnostics: %v", diags)
	}
	if ext.Maintainers[0].Name != o.Author || ext.Provider["en"].Name != o.Author {
		t.Errorf("author round-trip: %q", ext.Maintainers[0].Name)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		edit    func(*Options)
		wantErr string
	}{
		{func(o *Options) { o.Name = "Hello" }, `--name: "Hello" is not a valid name`},
		{func(o *Options) { o.Name = "../escape" }, `--name: "../escape" is not a valid name`},
		{func(o *Options) { o.Name = strings.Repeat("a", 33) }, "the limit is 32"},
		{func(o *Options) { o.Name = "Hello_World" }, `--name: "Hello_World" is not a valid name: use lower-case letters, digits and '-', starting and ending with a letter or digit (did you mean "hello-world"?)`},
		{func(o *Options) { o.Category = "dev-tool" }, `--category: "dev-tool" is not a built-in category; did you mean "dev-tools"?`},
		{func(o *Options) { o.Category = "DevTools" }, `did you mean "dev-tools"?`},
		{func(o *Options) { o.Category = "CI/CD" }, `did you mean "integration-delivery"?`},
		{func(o *Options) { o.Category = " " }, `--category: must not be empty`},
		{func(o *Options) { o.Author = "  " }, "--author: must not be empty"},
		{func(o *Options) { o.Email = "jane" }, `--email: "jane" is not an e-mail address`},
		{func(o *Options) { o.URL = "example.com" }, `--url: "example.com" is not an http(s) URL`},
		{func(o *Options) { o.Type = "mobile" }, `--type: "mobile" is not a project type (one of: full, frontend, backend, app)`},
		{func(o *Options) { o.Type, o.From, o.Entry = "", "x.tgz", "popup" }, `--entry: "popup" is not an entry mode`},
		{func(o *Options) { o.Type = App }, `--from: --type app publishes an existing Helm chart in the App Store; give its archive with --from CHART.tgz`},
		{func(o *Options) { o.From = "x.tgz" }, `--type: "full" cannot wrap a chart; with --from, give no --type (a console entry) or --type app (the App Store)`},
		{func(o *Options) { o.Type, o.From, o.FrontendDist = App, "x.tgz", "index.js" }, `--frontend-dist: only a project with a console UI takes a bundle`},
	}
	for _, tt := range tests {
		o := baseOptions(t, Full)
		tt.edit(&o)
		err := o.Validate()
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("Validate() = %v, want %q", err, tt.wantErr)
		}
	}
}

func TestCreateWritesAtomically(t *testing.T) {
	parent := t.TempDir()
	o := baseOptions(t, Full)
	o.Dir = filepath.Join(parent, "ext")
	res, err := Create(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Dir != o.Dir || len(res.Files) != 24 {
		t.Errorf("result %s, %d files", res.Dir, len(res.Files))
	}
	for _, f := range res.Files {
		fi, err := os.Stat(filepath.Join(o.Dir, f))
		if err != nil || fi.Mode().Perm() != 0o644 {
			t.Errorf("%s: %v %v", f, err, fi)
		}
	}
	entries, _ := os.ReadDir(parent)
	if len(entries) != 1 {
		t.Errorf("temporary directories left behind: %v", entries)
	}

	// A non-empty directory is refused and left untouched.
	os.WriteFile(filepath.Join(o.Dir, "extension.yaml"), []byte("mine"), 0o644)
	var exists *ExistsError
	if _, err := Create(context.Background(), o); !errors.As(err, &exists) {
		t.Fatalf("error = %v, want *ExistsError", err)
	}
	if b, _ := os.ReadFile(filepath.Join(o.Dir, "extension.yaml")); string(b) != "mine" {
		t.Error("refused create modified the directory")
	}

	// With --force, template files are replaced and other files kept.
	os.WriteFile(filepath.Join(o.Dir, "NOTES.md"), []byte("keep"), 0o644)
	o.Force = true
	if _, err := Create(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(o.Dir, "extension.yaml")); string(b) == "mine" {
		t.Error("--force did not replace extension.yaml")
	}
	if b, _ := os.ReadFile(filepath.Join(o.Dir, "NOTES.md")); string(b) != "keep" {
		t.Error("--force removed an unrelated file")
	}
}

func TestCreateIntoEmptyDirAndFile(t *testing.T) {
	dir := t.TempDir()
	o := baseOptions(t, Frontend)
	o.Dir = dir // exists and is empty
	if _, err := Create(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "extension.yaml")); err != nil {
		t.Error(err)
	}
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o644)
	o.Dir = file
	if _, err := Create(context.Background(), o); err == nil || !strings.Contains(err.Error(), "exists and is not a directory") {
		t.Errorf("error = %v", err)
	}
}

// TestCreateNeverWritesThroughSymlinks: with --force, a symbolic link inside
// the target pointing elsewhere is never followed.
func TestCreateNeverWritesThroughSymlinks(t *testing.T) {
	outside := t.TempDir()
	dir := t.TempDir()
	if err := os.Symlink(outside, filepath.Join(dir, "charts")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "victim.yaml"), filepath.Join(dir, "values.yaml")); err != nil {
		t.Fatal(err)
	}
	o := baseOptions(t, Full)
	o.Dir, o.Force = dir, true
	_, err := Create(context.Background(), o)
	if err == nil || !strings.Contains(err.Error(), "refusing to write through symbolic link") {
		t.Fatalf("error = %v", err)
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Errorf("wrote outside the target: %v", entries)
	}
}

// makeChart writes a Helm chart archive with a Deployment, a Service and a
// ClusterRole.
func makeChart(t *testing.T, name string) string {
	t.Helper()
	c := &chart.Chart{
		Metadata: &chart.Metadata{APIVersion: "v2", Name: name, Version: "1.2.3", AppVersion: "9.9"},
		Raw:      []*chart.File{{Name: "values.yaml", Data: []byte("image: docker.io/example/web:9.9\n")}},
		Templates: []*chart.File{
			{Name: "templates/deployment.yaml", Data: []byte(`apiVersion: apps/v1
kind: Deployment
metadata: {name: {{ .Release.Name }}-web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      initContainers: [{name: init, image: "docker.io/library/busybox:1.36"}]
      containers: [{name: web, image: {{ .Values.image | quote }}}]
`)},
			{Name: "templates/service.yaml", Data: []byte("apiVersion: v1\nkind: Service\nmetadata: {name: {{ .Release.Name }}-web}\nspec:\n  ports: [{port: 8080}]\n")},
			{Name: "templates/clusterrole.yaml", Data: []byte("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: {{ .Release.Name }}}\nrules: []\n")},
		},
	}
	dir := t.TempDir()
	p, err := chartutil.Save(c, dir)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestFromChart(t *testing.T) {
	archive := makeChart(t, "webapp")
	name, err := ChartName(archive)
	if err != nil || name != "webapp" {
		t.Fatalf("ChartName = %q, %v", name, err)
	}
	for _, entry := range []string{EntryIframe, EntryLink} {
		t.Run(entry, func(t *testing.T) {
			o := baseOptions(t, "")
			o.Name, o.From, o.Entry = "webapp", archive, entry
			files, notes, err := Render(o)
			if err != nil {
				t.Fatal(err)
			}
			orig, _ := os.ReadFile(archive)
			if !bytes.Equal(files["charts/webapp-1.2.3.tgz"], orig) {
				t.Error("the chart archive is not copied verbatim")
			}
			golden.AssertString(t, tree(files), filepath.Join("testdata", "from-"+entry, "tree.txt"))
			golden.Assert(t, files["extension.yaml"], filepath.Join("testdata", "from-"+entry, "extension.yaml"))
			golden.Assert(t, files["charts/entry/values.yaml"], filepath.Join("testdata", "from-"+entry, "entry-values.yaml"))
			golden.Assert(t, files["permissions.yaml"], filepath.Join("testdata", "from-"+entry, "permissions.yaml"))
			if len(notes) != 1 || !strings.Contains(notes[0], "permissions.yaml grants what the chart creates") {
				t.Errorf("notes = %q", notes)
			}

			pkg := buildPackage(t, files)
			vals := map[string]any{"global": map[string]any{"extension": map[string]any{"ingress": map[string]any{"domainSuffix": "kubesphere.local", "httpPort": 30888}}}}
			rendered, err := manifest.Render(pkg.Chart, manifest.RenderOptions{ReleaseName: "webapp", Namespace: "extension-webapp", Values: vals})
			if err != nil {
				t.Fatal(err)
			}
			bundle := rendered["webapp/charts/entry/templates/bundle.yaml"]
			for _, want := range []string{`var target = "http://webapp.kubesphere.local:30888";`, `path: "/webapp"`, map[string]string{EntryIframe: "h(Embedded)", EntryLink: "h(OpenInNewTab)"}[entry]} {
				if !strings.Contains(bundle, want) {
					t.Errorf("bundle lacks %q", want)
				}
			}
			ingress := rendered["webapp/charts/entry/templates/ingress.yaml"]
			if !strings.Contains(ingress, `host: "webapp.kubesphere.local"`) || !strings.Contains(ingress, `name: "webapp-web"`) || !strings.Contains(ingress, "number: 8080") {
				t.Errorf("ingress:\n%s", ingress)
			}
			// Without ingress settings it still renders (no Ingress).
			rendered, err = manifest.Render(pkg.Chart, manifest.RenderOptions{ReleaseName: "webapp", Namespace: "extension-webapp"})
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := rendered["webapp/charts/entry/templates/ingress.yaml"]; ok {
				t.Error("Ingress rendered without global.extension.ingress.domainSuffix")
			}
		})
	}
}

func TestFromChartErrors(t *testing.T) {
	o := baseOptions(t, "")
	o.From, o.Entry = filepath.Join(t.TempDir(), "missing.tgz"), EntryIframe
	if _, _, err := Render(o); err == nil || !strings.Contains(err.Error(), "--from:") {
		t.Errorf("missing archive: %v", err)
	}
	bad := filepath.Join(t.TempDir(), "bad.tgz")
	os.WriteFile(bad, []byte("not a chart"), 0o644)
	o.From = bad
	if _, _, err := Render(o); err == nil || !strings.Contains(err.Error(), "is not a Helm chart archive") {
		t.Errorf("bad archive: %v", err)
	}
	o.From = makeChart(t, "entry")
	if _, _, err := Render(o); err == nil || !strings.Contains(err.Error(), `the chart is named "entry"`) {
		t.Errorf("name clash: %v", err)
	}
}

func TestDisplayName(t *testing.T) {
	for in, want := range map[string]string{"hello": "Hello", "hello-world": "Hello World", "a1-b2": "A1 B2"} {
		if got := displayName(in); got != want {
			t.Errorf("displayName(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestCreateInPlace checks that an existing directory holding only
// dot-files is filled in place: never removed, renamed or emptied.
func TestCreateInPlace(t *testing.T) {
	for _, dirArg := range []string{".", "abs"} {
		t.Run(dirArg, func(t *testing.T) {
			dir := t.TempDir()
			t.Chdir(dir)
			fixture.WriteStrings(t, dir, map[string]string{".git/HEAD": "ref: refs/heads/main\n", ".gitignore": "*.tgz\n", ".idea/x.xml": "<x/>"})
			before, err := os.Stat(dir)
			if err != nil {
				t.Fatal(err)
			}
			o := baseOptions(t, Frontend)
			o.Dir = dirArg
			if dirArg == "abs" {
				o.Dir = dir
			}
			res, err := Create(context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			if res.Dir != o.Dir {
				t.Errorf("Dir = %q", res.Dir)
			}
			after, err := os.Stat(dir)
			if err != nil || !os.SameFile(before, after) {
				t.Fatalf("the directory was replaced: %v", err)
			}
			for name, want := range map[string]string{".git/HEAD": "ref: refs/heads/main\n", ".gitignore": "*.tgz\n", ".idea/x.xml": "<x/>"} {
				if b, err := os.ReadFile(filepath.Join(dir, name)); err != nil || string(b) != want {
					t.Errorf("%s changed: %q, %v", name, b, err)
				}
			}
			if _, err := os.Stat(filepath.Join(dir, "extension.yaml")); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestCreateRefusesNonEmpty checks that a directory with other entries, or
// with a dot-file the project would overwrite, is refused and untouched.
func TestCreateRefusesNonEmpty(t *testing.T) {
	dir := t.TempDir()
	fixture.WriteStrings(t, dir, map[string]string{".git/HEAD": "x", "main.go": "package main"})
	o := baseOptions(t, Frontend)
	o.Dir = dir
	var exists *ExistsError
	if _, err := Create(context.Background(), o); !errors.As(err, &exists) || !strings.Contains(err.Error(), dir+" already exists and is not empty") {
		t.Fatalf("error = %v", err)
	}
	assertEntries(t, dir, ".git", "main.go")

	dir = t.TempDir()
	fixture.WriteStrings(t, dir, map[string]string{".helmignore": "mine\n"})
	o.Dir = dir
	_, err := Create(context.Background(), o)
	if err == nil || err.Error() != filepath.Join(dir, ".helmignore")+" already exists (move it away, or use --force to replace it)" {
		t.Fatalf("error = %v", err)
	}
	assertEntries(t, dir, ".helmignore")
	if b, _ := os.ReadFile(filepath.Join(dir, ".helmignore")); string(b) != "mine\n" {
		t.Error(".helmignore changed")
	}
}

// TestCreateRollsBack checks that a write failing half-way removes exactly
// what Create made, and that errors name the user's paths.
func TestCreateRollsBack(t *testing.T) {
	o := baseOptions(t, Full)
	// With --force, a file in the way of static/ fails the write after
	// other files were written; the user's files stay.
	dir := t.TempDir()
	fixture.WriteStrings(t, dir, map[string]string{"mine.txt": "keep", "static": "a file", "values.yaml": "old"})
	o.Dir, o.Force = dir, true
	_, err := Create(context.Background(), o)
	if err == nil || err.Error() != filepath.Join(dir, "static")+" exists and is not a directory" {
		t.Fatalf("error = %v", err)
	}
	assertEntries(t, dir, "mine.txt", "static", "values.yaml")
	if b, _ := os.ReadFile(filepath.Join(dir, "mine.txt")); string(b) != "keep" {
		t.Error("mine.txt changed")
	}
	if strings.Contains(err.Error(), ".tmp-") {
		t.Errorf("temporary path in %v", err)
	}
}

func assertEntries(t *testing.T, dir string, want ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("%s holds %q, want %q", dir, got, want)
	}
}

func TestPermissionsFor(t *testing.T) {
	objects, bad := manifest.ParseObjects(map[string]string{"x/templates/all.yaml": `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: web}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: web, namespace: kube-system}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: elsewhere, namespace: monitoring}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: web}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Cluster
  names: {kind: Widget, plural: widgets}
  versions: [{name: v1, served: true, storage: true}]
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: w}
---
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: web}
`})
	if len(bad) > 0 {
		t.Fatal(bad[0])
	}
	cluster, role := permissionsFor(objects, "extension-x")
	wantCluster := []permissionRule{
		{Group: "", Resources: []string{"configmaps"}},
		{Group: "apiextensions.k8s.io", Resources: []string{"customresourcedefinitions"}},
		{Group: "example.com", Resources: []string{"widgets"}},
		{Group: "rbac.authorization.k8s.io", Resources: []string{"clusterroles", "rolebindings"}},
	}
	wantRole := []permissionRule{
		{Group: "monitoring.coreos.com", Resources: []string{"servicemonitors"}},
		{Group: "rbac.authorization.k8s.io", Resources: []string{"roles"}},
	}
	if !reflect.DeepEqual(cluster, wantCluster) || !reflect.DeepEqual(role, wantRole) {
		t.Fatalf("cluster = %+v\nrole = %+v", cluster, role)
	}
}

// TestCreateKeepsGitignore checks that a .gitignore already in the target
// directory is kept, with or without --force, and that a note says when it
// does not ignore built packages.
func TestCreateKeepsGitignore(t *testing.T) {
	for _, tt := range []struct {
		mine string
		note bool
	}{{"node_modules/\n", true}, {"node_modules/\n*.tgz\n", false}} {
		for _, force := range []bool{false, true} {
			dir := t.TempDir()
			fixture.WriteStrings(t, dir, map[string]string{".gitignore": tt.mine})
			o := baseOptions(t, Frontend)
			o.Dir, o.Force = dir, force
			res, err := Create(context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			if b, _ := os.ReadFile(filepath.Join(dir, ".gitignore")); string(b) != tt.mine {
				t.Errorf("force=%v: .gitignore replaced: %q", force, b)
			}
			hasNote := len(res.Notes) == 1 && strings.Contains(res.Notes[0], "add *.tgz to it")
			if hasNote != tt.note {
				t.Errorf("force=%v, %q: notes = %q", force, tt.mine, res.Notes)
			}
		}
	}
}

// TestCustomCategory: KubeSphere accepts any category, so a name that is no
// typo of a built-in one is scaffolded, with a note.
func TestCustomCategory(t *testing.T) {
	o := baseOptions(t, Frontend)
	o.Category = "monitoring"
	files, notes, err := Render(o)
	if err != nil {
		t.Fatal(err)
	}
	if len(notes) != 1 || !strings.Contains(notes[0], `"monitoring" is a custom category`) {
		t.Errorf("notes = %q", notes)
	}
	if !strings.Contains(string(files["extension.yaml"]), "\ncategory: \"monitoring\"\n") {
		t.Errorf("extension.yaml:\n%s", files["extension.yaml"])
	}
}

func TestSuggestName(t *testing.T) {
	for in, want := range map[string]string{
		"Hello_World": "hello-world", "my.ext": "my-ext", "  a  b ": "a-b", "--x--": "x", "__": "", "ok": "ok",
	} {
		if got := SuggestName(in); got != want {
			t.Errorf("SuggestName(%q) = %q, want %q", in, got, want)
		}
	}
}

// renderObjects renders one release of a scaffold with the given values,
// as KubeSphere's installer does, and reads its objects.
func renderObjects(t *testing.T, files map[string][]byte, side manifest.Side, values map[string]any) []manifest.Object {
	t.Helper()
	pkg := buildPackage(t, files)
	opts, err := manifest.InstallerRelease(pkg.Extension, pkg.Chart, side, values)
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
	return objects
}

// find returns the only object of a kind.
func find(t *testing.T, objects []manifest.Object, kind string) manifest.Object {
	t.Helper()
	var found []manifest.Object
	for _, o := range objects {
		if o.Kind == kind {
			found = append(found, o)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d objects of kind %s", len(found), kind)
	}
	return found[0]
}

func field(m map[string]any, keys ...string) any {
	var v any = m
	for _, k := range keys {
		mm, _ := v.(map[string]any)
		v = mm[k]
	}
	return v
}

// TestScaffoldBundleNeedsNoImage checks what the console needs from a fresh
// frontend: a ConfigMap in the release namespace holding the chart's
// bundle file byte for byte, a JSBundle reading it with the link
// /dist/<name>/index.js, and a 4.1+ module (default export with a route,
// a menu shown in 4.2, en and zh locales); and no workload.
func TestScaffoldBundleNeedsNoImage(t *testing.T) {
	for _, typ := range []Type{Full, Frontend} {
		t.Run(string(typ), func(t *testing.T) {
			files, _, err := Render(baseOptions(t, typ))
			if err != nil {
				t.Fatal(err)
			}
			objects := renderObjects(t, files, manifest.Host, nil)
			for _, o := range objects {
				if o.IsWorkload() {
					t.Errorf("the host release runs %s %s", o.Kind, o.Name)
				}
			}
			cm := find(t, objects, "ConfigMap")
			if cm.Namespace != "extension-hello-world" {
				t.Errorf("ConfigMap namespace %q", cm.Namespace)
			}
			if got := field(cm.Content, "data", "index.js"); got != string(files[BundleFile]) {
				t.Errorf("ConfigMap data differs from %s", BundleFile)
			}
			jsb := find(t, objects, "JSBundle")
			ref := field(jsb.Content, "spec", "rawFrom", "configMapKeyRef")
			want := map[string]any{"name": cm.Name, "namespace": "extension-hello-world", "key": "index.js"}
			if !reflect.DeepEqual(ref, want) {
				t.Errorf("configMapKeyRef = %v, want %v", ref, want)
			}
			if link := field(jsb.Content, "status", "link"); link != "/dist/hello-world/index.js" {
				t.Errorf("link = %v", link)
			}
			js := string(files[BundleFile])
			for _, want := range []string{`System.register(["react"], function (exportValue) {`, `exportValue("default", {`,
				`{ path: "/hello-world", element: h(Page) }`, `parent: "global",`, "en: {", "zh: {", `"HELLO_WORLD_TITLE": "Hello World",`} {
				if !strings.Contains(js, want) {
					t.Errorf("bundle lacks %q", want)
				}
			}
			if strings.Contains(js, "registerExtension") {
				t.Error("bundle uses KubeSphere 4.0's registerExtension")
			}
		})
	}
}

// TestScaffoldAPIServiceMatchesService checks that the APIService reaches
// the backend Service on the Service's port, over plain HTTP (a service
// upstream without a port would mean HTTPS on 443), also when the port is
// changed.
func TestScaffoldAPIServiceMatchesService(t *testing.T) {
	files, _, err := Render(baseOptions(t, Backend))
	if err != nil {
		t.Fatal(err)
	}
	for _, port := range []int{0, 8443} {
		var values map[string]any
		if port != 0 {
			values = map[string]any{"backend": map[string]any{"service": map[string]any{"port": port}}}
		}
		objects := renderObjects(t, files, manifest.Agent, values)
		svc := find(t, objects, "Service")
		ports, _ := field(svc.Content, "spec", "ports").([]any)
		if len(ports) != 1 {
			t.Fatalf("Service ports %v", ports)
		}
		svcPort := field(ports[0].(map[string]any), "port")
		if port != 0 && fmt.Sprint(svcPort) != fmt.Sprint(port) {
			t.Errorf("Service port %v, want %d", svcPort, port)
		}
		api := find(t, objects, "APIService")
		want := fmt.Sprintf("http://%s.extension-hello-world.svc:%v", svc.Name, svcPort)
		if got := field(api.Content, "spec", "url"); got != want {
			t.Errorf("APIService url %v, want %s", got, want)
		}
		if field(api.Content, "spec", "service") != nil {
			t.Error("APIService has both url and service")
		}
	}
}

// cancelAfter is a context whose Err turns to context.Canceled after it has
// answered nil n times: a signal arriving while Create writes.
type cancelAfter struct {
	context.Context
	n int
}

func (c *cancelAfter) Err() error {
	if c.n <= 0 {
		return context.Canceled
	}
	c.n--
	return nil
}

// TestCreateCancelledMidWrite cancels Create after some files are written:
// it stops, and the directory it made is gone; in an existing directory
// (with --force) the files it replaced get their content back, the user's
// other files stay, and nothing it made remains.
func TestCreateCancelledMidWrite(t *testing.T) {
	for _, after := range []int{0, 1, 5, 20} {
		t.Run(fmt.Sprintf("new-dir/after-%d", after), func(t *testing.T) {
			parent := t.TempDir()
			o := baseOptions(t, Full)
			o.Dir = filepath.Join(parent, "a", "ext")
			_, err := Create(&cancelAfter{Context: context.Background(), n: after}, o)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("error = %v, want context.Canceled", err)
			}
			assertEntries(t, parent)
		})
	}
	t.Run("force", func(t *testing.T) {
		dir := t.TempDir()
		mine := map[string]string{"mine.txt": "keep", "values.yaml": "old values", "extension.yaml": "old metadata", "charts/frontend/Chart.yaml": "old chart"}
		fixture.WriteStrings(t, dir, mine)
		if err := os.Symlink("mine.txt", filepath.Join(dir, "permissions.yaml")); err != nil {
			t.Fatal(err)
		}
		o := baseOptions(t, Full)
		o.Dir, o.Force = dir, true
		// The files are written in name order: values.yaml is the last.
		_, err := Create(&cancelAfter{Context: context.Background(), n: 22}, o)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("error = %v, want context.Canceled", err)
		}
		assertEntries(t, dir, "charts", "extension.yaml", "mine.txt", "permissions.yaml", "values.yaml")
		assertEntries(t, filepath.Join(dir, "charts"), "frontend")
		assertEntries(t, filepath.Join(dir, "charts", "frontend"), "Chart.yaml")
		for name, want := range mine {
			if b, err := os.ReadFile(filepath.Join(dir, name)); err != nil || string(b) != want {
				t.Errorf("%s = %q, %v; want %q", name, b, err, want)
			}
		}
		if link, err := os.Readlink(filepath.Join(dir, "permissions.yaml")); err != nil || link != "mine.txt" {
			t.Errorf("permissions.yaml link = %q, %v", link, err)
		}
	})
}

// TestScaffoldBundleEvaluates runs the scaffold's bundle under Node.js (when
// installed) with a stand-in for SystemJS and React: it registers with the
// externals it declares, and its default export is {routes, menus, locales}
// with the page rendering its English texts.
func TestScaffoldBundleEvaluates(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("node is not installed (.ci/run installs Debian's)")
		}
		t.Skip("node is not installed")
	}
	files, _, err := Render(baseOptions(t, Frontend))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	harness := `
globalThis.window = {};
globalThis.System = {
  register(deps, declare) {
    let exported = {};
    const module = declare((name, value) => { exported[name] = value; });
    module.setters[0]({ default: { createElement: (type, props, ...children) =>
      typeof type === "function" ? type(props) : { type, children } } });
    module.execute();
    const d = exported.default;
    console.log(JSON.stringify({ deps, keys: Object.keys(d), route: d.routes[0].path, page: d.routes[0].element,
      menu: d.menus[0], locales: Object.keys(d.locales) }));
  },
};
require("./index.js");
`
	fixture.WriteStrings(t, dir, map[string]string{"index.js": string(files[BundleFile]), "harness.js": harness})
	cmd := exec.Command(node, "harness.js")
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, out)
	}
	want := `{"deps":["react"],"keys":["routes","menus","locales"],"route":"/hello-world",` +
		`"page":{"type":"div","children":[{"type":"h2","children":["Hello World"]},{"type":"p","children":["Hello from Hello World!"]}]},` +
		`"menu":{"parent":"global","name":"hello-world","title":"HELLO_WORLD_TITLE","desc":"HELLO_WORLD_DESC","icon":"cluster","order":0,"skipAuth":true},` +
		`"locales":["en","zh"]}`
	if got := strings.TrimSpace(string(out)); got != want {
		t.Errorf("node printed\n%s\nwant\n%s", got, want)
	}
}
