package packager

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/chart"
	"sigs.k8s.io/yaml"

	"github.com/ksbuilder/ksbuilder/pkg/diag"
	"github.com/ksbuilder/ksbuilder/pkg/source"
)

const corpus = "../../testdata/corpus"

// corpusPackages maps each ks-extensions directory to the package upstream
// ksbuilder 0.4.5 built from it.
var corpusPackages = map[string]string{
	"deepseek":            "deepseek-0.1.0.tgz",
	"grafana":             "grafana-10.4.1.tgz",
	"higress":             "higress-2.1.4.tgz",
	"metrics-server":      "metrics-server-0.7.1.tgz",
	"nvidia-gpu-operator": "nvidia-gpu-operator-23.9.2.tgz",
	"oceanbase-dashboard": "oceanbase-dashboard-0.4.0.tgz",
}

type tarFile struct {
	header *tar.Header
	data   []byte
}

func readTgz(t testing.TB, data []byte) (names []string, files map[string]tarFile, gz *gzip.Header) {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	files = map[string]tarFile{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
		files[h.Name] = tarFile{h, b}
	}
	return names, files, &zr.Header
}

func build(t testing.TB, path string, opts Options) *Package {
	t.Helper()
	src, err := source.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	pkg, err := Build(src, opts)
	if err != nil {
		t.Fatalf("Build(%s): %v", path, err)
	}
	return pkg
}

// TestCorpusCompatibility packages every corpus extension and compares the
// result with what upstream ksbuilder 0.4.5 made: the same archive entries,
// each with the same content, and an equivalent generated Chart.yaml.
// Entries are in a fixed order here (upstream's order depends on a map) and
// carry a fixed time (upstream: the time of packaging).
func TestCorpusCompatibility(t *testing.T) {
	for dir, tgz := range corpusPackages {
		t.Run(dir, func(t *testing.T) {
			pkg := build(t, filepath.Join(corpus, "ks-extensions", dir), Options{})
			upstream, err := os.ReadFile(filepath.Join(corpus, "ks-extensions", "packaged-by-ksbuilder-0.4.5", tgz))
			if err != nil {
				t.Fatal(err)
			}
			if pkg.FileName() != tgz {
				t.Errorf("file name %s, upstream %s", pkg.FileName(), tgz)
			}
			ourNames, ours, _ := readTgz(t, pkg.Data)
			upNames, ups, _ := readTgz(t, upstream)
			sortedOurs := append([]string(nil), ourNames...)
			sort.Strings(sortedOurs)
			sort.Strings(upNames)
			if !reflect.DeepEqual(sortedOurs, upNames) {
				t.Fatalf("entries differ:\nours     %q\nupstream %q", sortedOurs, upNames)
			}
			for name, up := range ups {
				if !bytes.Equal(ours[name].data, up.data) {
					t.Errorf("%s differs from upstream", name)
				}
			}
			var ourMeta, upMeta chart.Metadata
			chartYAML := dir + "/Chart.yaml"
			if err := yaml.Unmarshal(ours[chartYAML].data, &ourMeta); err != nil {
				t.Fatal(err)
			}
			if err := yaml.Unmarshal(ups[chartYAML].data, &upMeta); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(ourMeta, upMeta) {
				t.Errorf("generated Chart.yaml differs:\nours     %+v\nupstream %+v", ourMeta, upMeta)
			}
			if ourNames[0] != chartYAML {
				t.Errorf("first entry is %s, want %s", ourNames[0], chartYAML)
			}
		})
	}
}

// TestCorpusArchiveInput repackages upstream's packages: a .tgz input gives
// the same entries and content as the directory it was made from.
func TestCorpusArchiveInput(t *testing.T) {
	for dir, tgz := range corpusPackages {
		t.Run(dir, func(t *testing.T) {
			fromDir := build(t, filepath.Join(corpus, "ks-extensions", dir), Options{})
			fromTgz := build(t, filepath.Join(corpus, "ks-extensions", "packaged-by-ksbuilder-0.4.5", tgz), Options{})
			if !bytes.Equal(fromDir.Data, fromTgz.Data) {
				t.Error("packaging the upstream .tgz does not give the same bytes as packaging the directory")
			}
		})
	}
}

// TestDeliberateDifferences documents where we differ from upstream on
// purpose: a previous package at the root and .git/ are never packaged
// (upstream packs both), and .helmignore'd content is never read.
func TestDeliberateDifferences(t *testing.T) {
	dir := copyTree(t, filepath.Join(corpus, "ks-extensions", "metrics-server"))
	writeFile(t, dir, "metrics-server-0.7.0.tgz", "an older package")
	writeFile(t, dir, ".git/HEAD", "ref: refs/heads/main")
	writeFile(t, dir, "charts/metrics-server/.git/config", "[core]")
	pkg := build(t, dir, Options{})
	names, _, _ := readTgz(t, pkg.Data)
	for _, n := range names {
		if strings.HasSuffix(n, ".tgz") || strings.Contains(n, ".git/") {
			t.Errorf("%s was packaged", n)
		}
	}
	want := build(t, filepath.Join(corpus, "ks-extensions", "metrics-server"), Options{})
	if !bytes.Equal(pkg.Data, want.Data) {
		t.Error("ignored files changed the package")
	}
}

func TestReproducible(t *testing.T) {
	dir := filepath.Join(corpus, "ks-extensions", "oceanbase-dashboard")
	a := build(t, dir, Options{})
	b := build(t, dir, Options{})
	if !bytes.Equal(a.Data, b.Data) {
		t.Fatal("two builds of the same input differ")
	}
	_, files, gz := readTgz(t, a.Data)
	if !gz.ModTime.IsZero() || gz.Name != "" || gz.Comment != "" {
		t.Errorf("gzip header not fixed: %+v", gz)
	}
	for name, f := range files {
		h := f.header
		if h.Mode != 0o644 || h.Uid != 0 || h.Gid != 0 || h.Uname != "" || h.Gname != "" || !h.ModTime.Equal(time.Unix(0, 0)) || h.Typeflag != tar.TypeReg {
			t.Errorf("%s: header not normalised: mode %o uid %d gid %d %q %q %v %c", name, h.Mode, h.Uid, h.Gid, h.Uname, h.Gname, h.ModTime, h.Typeflag)
		}
	}

	epoch := time.Unix(1700000000, 0)
	c := build(t, dir, Options{ModTime: epoch})
	_, files, gz = readTgz(t, c.Data)
	if !gz.ModTime.Equal(epoch) || !files["oceanbase-dashboard/Chart.yaml"].header.ModTime.Equal(epoch) {
		t.Error("SOURCE_DATE_EPOCH time not applied")
	}

	// File system order and timestamps do not matter.
	copied := copyTree(t, dir)
	if err := os.Chtimes(filepath.Join(copied, "values.yaml"), time.Now(), time.Now()); err != nil {
		t.Fatal(err)
	}
	if d := build(t, copied, Options{}); !bytes.Equal(a.Data, d.Data) {
		t.Error("a copy of the directory packages differently")
	}
}

func TestSizeLimit(t *testing.T) {
	dir := copyTree(t, filepath.Join(corpus, "ks-extensions", "metrics-server"))
	noise := make([]byte, 1200*1024)
	rand.New(rand.NewSource(1)).Read(noise)
	writeFile(t, dir, "static/video.bin", string(noise))

	src, err := source.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	pkg, err := Build(src, Options{})
	var tooLarge *TooLargeError
	if !errors.As(err, &tooLarge) {
		t.Fatalf("error = %v, want *TooLargeError", err)
	}
	if !strings.Contains(err.Error(), "metrics-server-0.7.1.tgz is 1.2 MiB, over the 1.0 MiB limit of the ConfigMap a published chart is stored in") {
		t.Errorf("message: %s", err)
	}
	largest := tooLarge.Largest(3)
	if len(largest) != 3 || largest[0].Name != "metrics-server/static/video.bin" || largest[0].CompressedSize < 1200*1024 {
		t.Errorf("largest = %+v", largest)
	}
	if pkg == nil || pkg.Size() <= MaxSize {
		t.Error("the oversized package should still be returned for inspection")
	}

	// A bigger limit accepts it.
	if _, err := Build(src, Options{MaxSize: 2 * MaxSize}); err != nil {
		t.Errorf("with --max-size 2MiB: %v", err)
	}

	// Between 900 KiB and 1 MiB: a warning.
	src.Write("static/video.bin", noise[:930*1024])
	pkg, err = Build(src, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if w := pkg.Warnings.Filter(diag.Warning); len(w) == 0 || w[len(w)-1].Code != CodePackageSize {
		t.Errorf("warnings = %v", pkg.Warnings)
	}
}

func TestBuildErrors(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(t *testing.T, dir string)
		wantErr string
	}{
		{"missing extension.yaml", func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, "extension.yaml")) }, "extension.yaml: not found in"},
		{"missing subchart", func(t *testing.T, dir string) { os.RemoveAll(filepath.Join(dir, "charts", "metrics-server")) },
			`extension.yaml:35:11 dependencies[0].name: subchart "metrics-server" is declared but not found under charts/`},
		{"broken subchart", func(t *testing.T, dir string) {
			writeFile(t, dir, "charts/metrics-server/Chart.yaml", "name: [")
		}, "the chart cannot be loaded"},
		{"invalid extension.yaml", func(t *testing.T, dir string) {
			replaceIn(t, filepath.Join(dir, "extension.yaml"), "version: 0.7.1", "version: 0.7")
		}, `extension.yaml:3:10 version: "0.7" is not a semantic version`},
		{"broken permissions.yaml", func(t *testing.T, dir string) { writeFile(t, dir, "permissions.yaml", "kind: Binding\n") },
			`permissions.yaml:1:7 kind: "Binding" is not supported`},
		{"template that does not parse", func(t *testing.T, dir string) {
			writeFile(t, dir, "charts/metrics-server/templates/extra.yaml", "kind: ConfigMap\ndata:\n  x: {{ .Values.x \n")
		}, "charts/metrics-server/templates/extra.yaml:3 the template does not parse: unclosed action"},
		{"top-level template with an unknown function", func(t *testing.T, dir string) {
			writeFile(t, dir, "templates/x.yaml", "{{ nosuch . }}\n")
		}, `templates/x.yaml:1 the template does not parse: function "nosuch" not defined`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := copyTree(t, filepath.Join(corpus, "ks-extensions", "metrics-server"))
			tt.edit(t, dir)
			src, err := source.Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			_, err = Build(src, Options{})
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestGrafanaExtSampleNamesMissingIcon(t *testing.T) {
	src, err := source.Load(filepath.Join(corpus, "extension-samples", "grafana-ext"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Build(src, Options{})
	if err == nil || !strings.Contains(err.Error(), `icon: file "static/favicon.svg" does not exist in the package (the file exists at ./favicon.svg; fix the path)`) {
		t.Fatalf("error = %v", err)
	}
}

func TestWriteFile(t *testing.T) {
	pkg := build(t, filepath.Join(corpus, "extension-samples", "hello-world"), Options{})
	dir := filepath.Join(t.TempDir(), "new", "dir")
	p, err := WriteFile(pkg, dir)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(p) != "hello-world-0.1.0.tgz" {
		t.Errorf("path %s", p)
	}
	got, _ := os.ReadFile(p)
	if !bytes.Equal(got, pkg.Data) {
		t.Error("written bytes differ")
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v", fi.Mode())
	}
	// Overwriting is atomic and leaves no temporary file.
	if _, err := WriteFile(pkg, dir); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries", len(entries))
	}
	// A destination that is a file fails cleanly.
	if _, err := WriteFile(pkg, p); err == nil {
		t.Error("writing into a file should fail")
	}
}

func BenchmarkBuild(b *testing.B) {
	for _, dir := range []string{"deepseek", "grafana", "higress", "metrics-server", "nvidia-gpu-operator", "oceanbase-dashboard"} {
		b.Run(dir, func(b *testing.B) {
			path := filepath.Join(corpus, "ks-extensions", dir)
			for i := 0; i < b.N; i++ {
				src, err := source.Load(path)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := Build(src, Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func writeFile(t testing.TB, root, name, body string) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func replaceIn(t testing.TB, file, old, new string) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(old)) {
		t.Fatalf("%s does not contain %q", file, old)
	}
	if err := os.WriteFile(file, bytes.Replace(b, []byte(old), []byte(new), 1), 0o644); err != nil {
		t.Fatal(err)
	}
}

func copyTree(t testing.TB, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), filepath.Base(src))
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	return dst
}

// TestNearLimitUsesBestCompression: a package above WarnSize is compressed
// again at the best level.
func TestNearLimitUsesBestCompression(t *testing.T) {
	dir := copyTree(t, filepath.Join(corpus, "ks-extensions", "metrics-server"))
	r := rand.New(rand.NewSource(2))
	text := make([]byte, 1800*1024)
	for i := range text {
		text[i] = "abcdefghijklmnop"[r.Intn(16)]
	}
	writeFile(t, dir, "static/notes.txt", string(text))
	pkg := build(t, dir, Options{MaxSize: 2 * MaxSize})
	fast, _, err := writeArchiveLevel(pkg.Chart, nil, time.Time{}, 6)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(fast)) <= WarnSize {
		t.Fatalf("test input too small: %d bytes at the default level", len(fast))
	}
	if pkg.Size() >= int64(len(fast)) {
		t.Errorf("near the limit: %d bytes, no smaller than the default level's %d", pkg.Size(), len(fast))
	}
}

// TestBuildChecksTemplatesInArchives checks that a subchart kept as an
// archive is parsed too, and reported at the archive and its inner path.
func TestBuildChecksTemplatesInArchives(t *testing.T) {
	dir := copyTree(t, filepath.Join(corpus, "ks-extensions", "metrics-server"))
	writeFile(t, dir, "charts/metrics-server/templates/bad.tpl", "{{ define \"x\" }}\n{{ if }}{{ end }}{{ end }}\n")
	sub, err := source.Load(filepath.Join(dir, "charts", "metrics-server"))
	if err != nil {
		t.Fatal(err)
	}
	var files []source.File
	for _, f := range sub.Files() {
		files = append(files, source.File{Name: "metrics-server/" + f.Name, Data: f.Data})
	}
	if err := os.RemoveAll(filepath.Join(dir, "charts", "metrics-server")); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "charts/metrics-server-3.12.1.tgz", string(makeArchive(t, files)))
	src, err := source.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Build(src, Options{})
	list, ok := diag.AsErrors(err)
	if !ok || len(list) != 1 {
		t.Fatalf("error = %v", err)
	}
	want := diag.Diagnostic{Severity: diag.Error, Code: CodeRender, File: "charts/metrics-server-3.12.1.tgz",
		Message: "metrics-server/templates/bad.tpl:2: the template does not parse: missing value for if",
		Hint:    "Helm refuses to install the chart until it parses"}
	if list[0] != want {
		t.Errorf("got  %+v\nwant %+v", list[0], want)
	}
}

// makeArchive writes files into a gzip-compressed tar.
func makeArchive(t *testing.T, files []source.File) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, f := range files {
		if err := tw.WriteHeader(&tar.Header{Name: f.Name, Mode: 0o644, Size: int64(len(f.Data)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(f.Data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestCheckRender checks that both releases of a Multicluster extension are
// rendered: a template of the agent-tagged subchart that fails is an error
// at its file and line, in the agent release.
func TestCheckRender(t *testing.T) {
	dir := copyTree(t, filepath.Join(corpus, "ks-extensions", "metrics-server"))
	src, err := source.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	ext, diags := Validate(src)
	if err := diags.Err(); err != nil {
		t.Fatal(err)
	}
	if err := CheckRender(src, ext); err != nil {
		t.Fatalf("the corpus extension does not render: %v", err)
	}
	writeFile(t, dir, "charts/metrics-server/templates/x.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ required \"set x\" .Values.x }}\n")
	if src, err = source.Load(dir); err != nil {
		t.Fatal(err)
	}
	list, ok := diag.AsErrors(CheckRender(src, ext))
	if !ok || len(list) != 1 {
		t.Fatalf("diagnostics = %v", list)
	}
	d := list[0]
	if d.File != "charts/metrics-server/templates/x.yaml" || d.Line != 4 || d.Code != CodeRender ||
		!strings.HasPrefix(d.Message, `agent release "metrics-server-agent": execution error at`) || !strings.HasSuffix(d.Message, "set x") {
		t.Errorf("got %+v", d)
	}
}

func TestBuildVersionOverride(t *testing.T) {
	dir := filepath.Join(corpus, "ks-extensions", "metrics-server")
	pkg := build(t, dir, Options{Version: "0.7.1-dev.4"})
	if pkg.Extension.Version != "0.7.1-dev.4" || pkg.Chart.Metadata.Version != "0.7.1-dev.4" {
		t.Fatalf("extension %s, chart %s; want both 0.7.1-dev.4", pkg.Extension.Version, pkg.Chart.Metadata.Version)
	}
	if pkg.FileName() != "metrics-server-0.7.1-dev.4.tgz" {
		t.Errorf("file name %s", pkg.FileName())
	}
	_, files, _ := readTgz(t, pkg.Data)
	md := &chart.Metadata{}
	if err := yaml.Unmarshal(files["metrics-server/Chart.yaml"].data, md); err != nil {
		t.Fatal(err)
	}
	if md.Version != "0.7.1-dev.4" {
		t.Errorf("Chart.yaml in the archive says version %s", md.Version)
	}
}

// TestSizeAdviceKeepsAssets fills the package with a large screenshot: the
// limit is named, and the advice never suggests .helmignore for a file
// that extension.yaml names, but says how push differs.
func TestSizeAdviceKeepsAssets(t *testing.T) {
	dir := copyTree(t, filepath.Join(corpus, "ks-extensions", "metrics-server"))
	noise := make([]byte, 1200*1024)
	rand.New(rand.NewSource(2)).Read(noise)
	writeFile(t, dir, "static/shot.png", string(noise))
	meta, err := os.ReadFile(filepath.Join(dir, "extension.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "extension.yaml", string(meta)+"screenshots:\n  - static/shot.png\n")
	src, err := source.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		target    Target
		limit     string
		pushShown bool
	}{
		{TargetCluster, "limit of the ConfigMap a published chart is stored in", true},
		{TargetMarketplace, "limit of a KubeSphere Cloud package", false},
	} {
		_, err := Build(src, Options{Target: tt.target})
		var tooLarge *TooLargeError
		if !errors.As(err, &tooLarge) || !strings.Contains(err.Error(), tt.limit) {
			t.Fatalf("error = %v, want the %s", err, tt.limit)
		}
		if l := tooLarge.Largest(1); len(l) != 1 || strings.Join(l[0].NamedBy, ",") != "screenshots[0]" {
			t.Errorf("largest = %+v", l)
		}
		hint := tooLarge.Hint()
		if !strings.Contains(hint, "keep metrics-server/static/shot.png, named by screenshots[0] in extension.yaml, but make it smaller or give its URL instead") {
			t.Errorf("hint: %s", hint)
		}
		if strings.Contains(hint, "shot.png") && strings.Contains(hint, ".helmignore, such as metrics-server/static/shot.png") {
			t.Errorf("hint suggests ignoring the screenshot: %s", hint)
		}
		if got := strings.Contains(hint, "ksbuilder push leaves staticFileDirectory out"); got != tt.pushShown {
			t.Errorf("target %d: hint %q", tt.target, hint)
		}
	}
}

// TestLoadForRender: a problem that does not change the render (a missing
// icon) comes back as a warning with the chart; one that does (the name)
// is the error.
func TestLoadForRender(t *testing.T) {
	dir := copyTree(t, filepath.Join(corpus, "ks-extensions", "metrics-server"))
	if err := os.Remove(filepath.Join(dir, "static", "favicon.svg")); err != nil {
		t.Fatal(err)
	}
	src, err := source.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	ext, c, ignored, err := LoadForRender(src)
	if err != nil || ext == nil || c == nil {
		t.Fatalf("LoadForRender = %v", err)
	}
	if len(ignored) != 1 || ignored[0].Field != "icon" || ignored[0].Severity != diag.Warning {
		t.Errorf("ignored = %v", ignored)
	}

	replaceIn(t, filepath.Join(dir, "extension.yaml"), "name: metrics-server", "name: Metrics_Server")
	if src, err = source.Load(dir); err != nil {
		t.Fatal(err)
	}
	_, _, _, err = LoadForRender(src)
	list, ok := diag.AsErrors(err)
	if !ok || len(list) != 1 || list[0].Field != "name" {
		t.Errorf("err = %v", err)
	}
}
