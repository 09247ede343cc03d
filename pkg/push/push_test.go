package push_test

import (
	"context"
	"crypto/rand"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ksbuilder/ksbuilder/internal/cloudtest"
	"github.com/ksbuilder/ksbuilder/pkg/cloud"
	"github.com/ksbuilder/ksbuilder/pkg/diag"
	"github.com/ksbuilder/ksbuilder/pkg/packager"
	"github.com/ksbuilder/ksbuilder/pkg/push"
	"github.com/ksbuilder/ksbuilder/pkg/source"
)

const metadata = `# Hello extension.
apiVersion: kubesphere.io/v1alpha1
name: hello
version: 0.1.0
displayName:
  en: Hello
description:
  en: Says hello
category: dev-tools
provider:
  en:
    name: Jane
# Uploaded by push, then left out of the package.
staticFileDirectory: static
icon: ./static/icon.svg # the icon
screenshots:
  - static/shots/a.png
  - https://example.com/remote.png
  - docs/a.png
  - ./static/icon.svg
installationMode: HostOnly
`

const permissions = `kind: ClusterRole
rules:
  - apiGroups: [extensions.kubesphere.io]
    resources: [jsbundles]
    verbs: [get, list]
`

// extensionFiles returns a valid extension with local assets, two of them
// with the same base name.
func extensionFiles(meta string) map[string][]byte {
	return map[string][]byte{
		"extension.yaml":          []byte(meta),
		"permissions.yaml":        []byte(permissions),
		"values.yaml":             []byte("replicas: 1\n"),
		"templates/cm.yaml":       []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: hello\n"),
		"static/icon.svg":         []byte("<svg/>"),
		"static/shots/a.png":      []byte("png A"),
		"static/unused/notes.txt": []byte("left out"),
		"docs/a.png":              []byte("png docs"),
	}
}

func newSource(files map[string][]byte) *source.Source {
	var list []source.File
	for n, d := range files {
		list = append(list, source.File{Name: n, Data: d})
	}
	return source.New("hello", source.Directory, list)
}

func newFake(t *testing.T) (*cloudtest.Server, *cloud.Client) {
	t.Helper()
	srv := cloudtest.New()
	t.Cleanup(func() {
		srv.Close()
		for _, v := range srv.Violations() {
			t.Errorf("protocol violation: %s", v)
		}
	})
	c, err := cloud.New(srv.URL, cloudtest.Token, cloud.WithUserAgent("ksbuilder/test"), cloud.WithRetry(1, time.Millisecond, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	return srv, c
}

type lines []string

func (l *lines) Infof(format string, args ...any) {
	*l = append(*l, strings.TrimSpace(strings.ReplaceAll(format, "%s", "_")))
}

var fixedNow = func() time.Time { return time.Date(2024, 6, 6, 7, 27, 20, 0, time.FixedZone("CST", 8*3600)) }

func TestPush(t *testing.T) {
	srv, c := newFake(t)
	plan, err := push.NewPlan(newSource(extensionFiles(metadata)))
	if err != nil {
		t.Fatal(err)
	}
	var log lines
	res, err := push.Run(context.Background(), plan, c, push.Options{Submit: true, Now: fixedNow}, &log)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != cloud.StatusSubmitted || res.SnapshotID == "" || res.Name != "hello" || res.Version != "0.1.0" {
		t.Fatalf("result = %+v", res)
	}

	// Three distinct local files, uploaded once each, names made unique.
	dir := cloudtest.FilesDir(cloudtest.UserID) + "/hello/0.1.0/"
	files := srv.Files()
	want := map[string]string{dir + "icon.svg": "<svg/>", dir + "a.png": "png A", dir + "a-2.png": "png docs"}
	if len(files) != len(want) {
		t.Fatalf("uploaded %d files: %v", len(files), files)
	}
	for p, data := range want {
		if string(files[p]) != data {
			t.Errorf("%s = %q, want %q", p, files[p], data)
		}
	}
	if n := srv.Count(cloudtest.RouteFilesUsage); n != 1 {
		t.Errorf("files/usage asked %d times", n)
	}

	ext := srv.Extension("hello")
	snap := ext.Snapshots[0]
	if snap.ID != res.SnapshotID || snap.Status != cloud.StatusSubmitted {
		t.Fatalf("snapshot = %+v", snap)
	}
	if len(snap.Messages) != 1 || snap.Messages[0] != "2024-06-06T07:27:20+08:00 submit for review" {
		t.Fatalf("submit messages = %q", snap.Messages)
	}
	pkg, err := source.ReadArchive(strings.NewReader(string(snap.Package)), "pkg", source.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	if pkg.HasDir("static") {
		t.Errorf("the package still holds static/: %v", pkg.Names())
	}
	if !pkg.HasFile("docs/a.png") {
		t.Errorf("a screenshot outside staticFileDirectory was dropped: %v", pkg.Names())
	}
	url := srv.URL + "/files/" + dir
	gotMeta, _ := pkg.Read("extension.yaml")
	wantMeta := strings.NewReplacer(
		"# Uploaded by push, then left out of the package.\nstaticFileDirectory: static\n", "# Uploaded by push, then left out of the package.\n",
		"./static/icon.svg # the icon", url+"icon.svg # the icon",
		"  - static/shots/a.png", "  - "+url+"a.png",
		"  - docs/a.png", "  - "+url+"a-2.png",
		"  - ./static/icon.svg", "  - "+url+"icon.svg",
	).Replace(metadata)
	if string(gotMeta) != wantMeta {
		t.Errorf("extension.yaml in the package:\n%s\nwant:\n%s", gotMeta, wantMeta)
	}
	if res.Metadata != wantMeta {
		t.Errorf("result metadata differs from the package's")
	}
	chart, _ := pkg.Read("Chart.yaml")
	if !strings.Contains(string(chart), "icon: "+url+"icon.svg\n") {
		t.Errorf("Chart.yaml icon is not the URL:\n%s", chart)
	}
	if strings.Join(log, "\n") == "" {
		t.Error("no progress was reported")
	}
}

func TestPushNoSubmit(t *testing.T) {
	srv, c := newFake(t)
	plan, err := push.NewPlan(newSource(extensionFiles(metadata)))
	if err != nil {
		t.Fatal(err)
	}
	res, err := push.Run(context.Background(), plan, c, push.Options{}, new(lines))
	if err != nil || res.Status != cloud.StatusDraft {
		t.Fatalf("Run = %+v, %v", res, err)
	}
	if n := srv.Count(cloudtest.RouteSubmit); n != 0 {
		t.Fatalf("submitted %d times", n)
	}
}

func TestPushSubmitFailsOnce(t *testing.T) {
	srv, c := newFake(t)
	srv.Fail(cloudtest.Fault{Route: cloudtest.RouteSubmit, Status: 502, Body: "<html><title>502 Bad Gateway</title></html>"})
	plan, err := push.NewPlan(newSource(extensionFiles(metadata)))
	if err != nil {
		t.Fatal(err)
	}
	res, err := push.Run(context.Background(), plan, c, push.Options{Submit: true}, new(lines))
	var submitErr *push.SubmitError
	if !errors.As(err, &submitErr) || submitErr.SnapshotID == "" || res.SnapshotID != submitErr.SnapshotID {
		t.Fatalf("err = %v", err)
	}
	if !strings.Contains(err.Error(), "HTTP 502 Bad Gateway: 502 Bad Gateway") {
		t.Fatalf("err = %v", err)
	}
	if n := srv.Count(cloudtest.RouteSubmit); n != 1 {
		t.Fatalf("submit sent %d times, want exactly 1", n)
	}
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func TestOverLimitUploadsNothing(t *testing.T) {
	srv, c := newFake(t)
	files := extensionFiles(metadata)
	files["data/blob.bin"] = randomBytes(t, 1100*1024)
	plan, err := push.NewPlan(newSource(files))
	if err != nil {
		t.Fatal(err)
	}
	_, err = push.Run(context.Background(), plan, c, push.Options{Submit: true}, new(lines))
	var tooLarge *packager.TooLargeError
	if !errors.As(err, &tooLarge) {
		t.Fatalf("err = %v", err)
	}
	if got := tooLarge.Largest(1); got[0].Name != "hello/data/blob.bin" {
		t.Fatalf("largest = %+v", got)
	}
	if reqs := srv.Requests(); len(reqs) != 0 {
		t.Fatalf("an oversized push sent requests: %v", reqs)
	}
}

func TestLimitAppliesAfterRewriting(t *testing.T) {
	srv, c := newFake(t)
	files := extensionFiles(metadata)
	// A big screenshot under staticFileDirectory is uploaded, not packaged.
	files["static/shots/a.png"] = randomBytes(t, 1500*1024)
	if _, err := packager.Build(newSource(files), packager.Options{}); err == nil {
		t.Fatal("the fixture should be too large to package as is")
	}
	plan, err := push.NewPlan(newSource(files))
	if err != nil {
		t.Fatal(err)
	}
	res, err := push.Run(context.Background(), plan, c, push.Options{}, new(lines))
	if err != nil {
		t.Fatal(err)
	}
	if res.Size > 100*1024 {
		t.Fatalf("package size %d", res.Size)
	}
	if n := srv.Count(cloudtest.RoutePackage); n != 1 {
		t.Fatalf("package uploaded %d times", n)
	}
}

func TestDryRun(t *testing.T) {
	plan, err := push.NewPlan(newSource(extensionFiles(metadata)))
	if err != nil {
		t.Fatal(err)
	}
	res, err := plan.DryRun(packager.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !res.DryRun || res.SnapshotID != "" || res.Size == 0 || res.StaticDir != "static" {
		t.Fatalf("result = %+v", res)
	}
	var got []string
	for _, a := range res.Assets {
		got = append(got, a.Path+" "+a.Name+" "+strings.Join(a.Fields, ",")+" "+a.URL)
	}
	want := []string{
		"static/icon.svg icon.svg icon,screenshots[3] " + push.PlaceholderBase + "hello/0.1.0/icon.svg",
		"static/shots/a.png a.png screenshots[0] " + push.PlaceholderBase + "hello/0.1.0/a.png",
		"docs/a.png a-2.png screenshots[2] " + push.PlaceholderBase + "hello/0.1.0/a-2.png",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("assets:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !strings.Contains(res.Metadata, "icon: "+push.PlaceholderBase+"hello/0.1.0/icon.svg # the icon") {
		t.Fatalf("metadata:\n%s", res.Metadata)
	}
}

func TestNothingToRewrite(t *testing.T) {
	meta := strings.NewReplacer(
		"staticFileDirectory: static\n", "",
		"icon: ./static/icon.svg # the icon", "icon: https://example.com/icon.svg",
		"  - static/shots/a.png\n", "", "  - docs/a.png\n", "", "  - ./static/icon.svg\n", "",
	).Replace(metadata)
	srv, c := newFake(t)
	plan, err := push.NewPlan(newSource(extensionFiles(meta)))
	if err != nil {
		t.Fatal(err)
	}
	res, err := push.Run(context.Background(), plan, c, push.Options{}, new(lines))
	if err != nil {
		t.Fatal(err)
	}
	if res.Metadata != meta || len(res.Assets) != 0 {
		t.Fatalf("metadata changed or assets found:\n%s", res.Metadata)
	}
	if srv.Count(cloudtest.RouteFiles)+srv.Count(cloudtest.RouteFilesUsage) != 0 {
		t.Fatal("files endpoints called with nothing to upload")
	}
}

func TestStaticDirRefused(t *testing.T) {
	tests := []struct{ dir, want string }{
		{".", "names the extension directory itself"},
		{"templates", `"templates" holds chart files`},
		{"missing", "does not exist in the package"},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			meta := strings.Replace(metadata, "staticFileDirectory: static", "staticFileDirectory: "+tt.dir, 1)
			_, err := push.NewPlan(newSource(extensionFiles(meta)))
			list, ok := diag.AsErrors(err)
			if !ok || !strings.Contains(list.Err().Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

// TestRenderFailureRefusedLocally checks that what lint would fail with a
// render error is refused before any request, at its file and line.
func TestRenderFailureRefusedLocally(t *testing.T) {
	tests := []struct {
		name, file, text string
		want             diag.Diagnostic
	}{
		{"parse", "templates/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Values.x \n",
			diag.Diagnostic{File: "templates/cm.yaml", Line: 4, Message: "the template does not parse: unclosed action"}},
		{"execution", "templates/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ required \"name is required\" .Values.name }}\n",
			diag.Diagnostic{File: "templates/cm.yaml", Line: 4, Column: 11, Message: `host release "hello": execution error at (hello/templates/cm.yaml:4:11): name is required`}},
		{"not an object", "templates/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: [\n",
			diag.Diagnostic{File: "templates/cm.yaml", Message: `host release "hello": document 1 is not a valid object`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, c := newFake(t)
			files := extensionFiles(metadata)
			files[tt.file] = []byte(tt.text)
			plan, err := push.NewPlan(newSource(files))
			if err == nil {
				_, err = push.Run(context.Background(), plan, c, push.Options{Submit: true}, new(lines))
			}
			list, ok := diag.AsErrors(err)
			if !ok || len(list) != 1 {
				t.Fatalf("err = %v", err)
			}
			got := list[0]
			if got.Code != packager.CodeRender || got.File != tt.want.File || got.Line != tt.want.Line || got.Column != tt.want.Column ||
				!strings.HasPrefix(got.Message, tt.want.Message) {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
			if reqs := srv.Requests(); len(reqs) != 0 {
				t.Fatalf("requests sent: %v", reqs)
			}
		})
	}
}

// TestAnchoredIcon: an icon with a YAML anchor used elsewhere in
// extension.yaml is rewritten and the anchor's other use keeps its value.
func TestAnchoredIcon(t *testing.T) {
	meta := strings.Replace(metadata, "icon: ./static/icon.svg # the icon", "icon: &icon ./static/icon.svg # the icon", 1) +
		"annotations:\n  example.com/icon-source: *icon\n"
	plan, err := push.NewPlan(newSource(extensionFiles(meta)))
	if err != nil {
		t.Fatal(err)
	}
	res, err := plan.DryRun(packager.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(res.Metadata, "icon: "+push.PlaceholderBase+"hello/0.1.0/icon.svg # the icon") ||
		!strings.Contains(res.Metadata, "example.com/icon-source: ./static/icon.svg") {
		t.Fatalf("metadata:\n%s", res.Metadata)
	}
}

// TestPublishedVersionUploadsNothing pushes a version the marketplace has
// approved: the version is looked up first and nothing is uploaded.
func TestPublishedVersionUploadsNothing(t *testing.T) {
	srv, c := newFake(t)
	srv.AddExtension("hello", cloudtest.UserID, map[string]string{"0.1.0": cloud.StatusActive})
	plan, err := push.NewPlan(newSource(extensionFiles(metadata)))
	if err != nil {
		t.Fatal(err)
	}
	_, err = push.Run(context.Background(), plan, c, push.Options{Submit: true}, new(lines))
	var published *push.PublishedError
	if !errors.As(err, &published) || err.Error() != "hello 0.1.0 is already published; bump version in extension.yaml" {
		t.Fatalf("err = %v", err)
	}
	for _, route := range []string{cloudtest.RouteFilesUsage, cloudtest.RouteFiles, cloudtest.RoutePackage, cloudtest.RouteSubmit} {
		if n := srv.Count(route); n != 0 {
			t.Errorf("%s called %d times", route, n)
		}
	}
	// A draft or submitted snapshot of the version is replaced as before.
	srv.AddExtension("hello", cloudtest.UserID, map[string]string{"0.2.0": cloud.StatusSubmitted})
	plan, err = push.NewPlan(newSource(extensionFiles(strings.Replace(metadata, "version: 0.1.0", "version: 0.2.0", 1))))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := push.Run(context.Background(), plan, c, push.Options{}, new(lines)); err != nil {
		t.Fatal(err)
	}
}
