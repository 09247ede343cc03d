package packager

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chart/loader"

	"github.com/ksbuilder/ksbuilder/pkg/diag"
	"github.com/ksbuilder/ksbuilder/pkg/source"
	"github.com/ksbuilder/ksbuilder/pkg/units"
)

// helloWorld is a small extension to start tests from.
var helloWorld = filepath.Join(corpus, "extension-samples", "hello-world")

// pngOf returns an incompressible PNG-looking file of n bytes.
func pngOf(n int) string {
	data := make([]byte, n)
	rand.New(rand.NewSource(1)).Read(data)
	copy(data, "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
	return string(data)
}

// TestBuildRefusesChartYAMLOverHelmLimit checks that an icon whose data URI
// makes Chart.yaml larger than Helm's 5 MiB per file is refused (Helm's
// loader, hence KubeSphere's installer, would refuse the package), naming
// the icon.
func TestBuildRefusesChartYAMLOverHelmLimit(t *testing.T) {
	dir := copyTree(t, helloWorld)
	writeFile(t, dir, "static/icon.png", pngOf(4*int(units.MiB)))
	replaceIn(t, filepath.Join(dir, "extension.yaml"), "icon: ./favicon.svg", "icon: ./static/icon.png")
	src, err := source.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Build(src, Options{MaxSize: 100 * units.MiB})
	list, ok := diag.AsErrors(err)
	if !ok || len(list) != 1 {
		t.Fatalf("error = %v", err)
	}
	d := list[0]
	if d.Code != CodeChart || !strings.Contains(d.Message, "hello-world/Chart.yaml is 5.3 MiB, over Helm's limit of 5.0 MiB per file") ||
		!strings.Contains(d.Hint, "the icon ./static/icon.png is inlined into Chart.yaml") {
		t.Errorf("diagnostic = %+v", d)
	}
}

// TestPackagesAreReadable checks the guarantee of package: whatever it
// writes, validate (source.ReadArchive) and Helm's loader accept, and
// packaging the package gives the same bytes.
func TestPackagesAreReadable(t *testing.T) {
	dirs := []string{helloWorld, filepath.Join(corpus, "extension-samples", "grafana-ext")}
	for d := range corpusPackages {
		dirs = append(dirs, filepath.Join(corpus, "ks-extensions", d))
	}
	built := 0
	for _, dir := range dirs {
		src, err := source.Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		pkg, err := Build(src, Options{})
		if err != nil {
			continue // refused: nothing written
		}
		built++
		assertReadable(t, pkg)
	}
	if built < len(corpusPackages) {
		t.Errorf("only %d of %d extensions built", built, len(dirs))
	}
}

// assertReadable asserts that a built package reads back, with our reader
// and Helm's, and rebuilds to the same bytes.
func assertReadable(t *testing.T, pkg *Package) {
	t.Helper()
	again, err := source.ReadArchive(bytes.NewReader(pkg.Data), pkg.FileName(), source.DefaultLimits)
	if err != nil {
		t.Fatalf("%s: our reader refuses what package wrote: %v", pkg.FileName(), err)
	}
	if _, err := loader.LoadArchive(bytes.NewReader(pkg.Data)); err != nil {
		t.Fatalf("%s: Helm's loader refuses what package wrote: %v", pkg.FileName(), err)
	}
	rebuilt, err := Build(again, Options{})
	if err != nil {
		t.Fatalf("%s: packaging the package fails: %v", pkg.FileName(), err)
	}
	if !bytes.Equal(rebuilt.Data, pkg.Data) {
		t.Fatalf("%s: packaging the package gives other bytes", pkg.FileName())
	}
}

// TestTemporaryFiles checks that packaging in place never takes a
// temporary package file in (a killed run leaves one behind), and that
// WriteFile removes those whose process is gone and keeps a running one's.
func TestTemporaryFiles(t *testing.T) {
	dir := copyTree(t, helloWorld)
	// No process ever has this id: Linux's pid_max is at most 2^22.
	const gone = 1<<22 + 1
	stale := filepath.Join(dir, strings.Replace(source.TempFilePattern(gone, "hello-world-0.1.0.tgz"), "*", "123", 1))
	staleInDist := filepath.Join(dir, "dist", strings.Replace(source.TempFilePattern(gone, "hello-world-0.1.0.tgz"), "*", "456", 1))
	running := filepath.Join(dir, "dist", strings.Replace(source.TempFilePattern(os.Getppid(), "hello-world-0.1.0.tgz"), "*", "789", 1))
	for _, f := range []string{stale, staleInDist, running} {
		writeFile(t, filepath.Dir(f), filepath.Base(f), "partial package")
	}
	src, err := source.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range src.Names() {
		if source.IsTempFile(filepath.Base(n)) {
			t.Errorf("temporary file %s taken into the extension", n)
		}
	}
	pkg, err := Build(src, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := WriteFile(pkg, filepath.Join(dir, "dist")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(staleInDist); !os.IsNotExist(err) {
		t.Errorf("stale temporary file left in place: %v", err)
	}
	if _, err := os.Stat(running); err != nil {
		t.Errorf("a running process's temporary file was removed: %v", err)
	}
	if _, err := os.Stat(stale); err != nil {
		t.Errorf("a file outside the destination was removed: %v", err)
	}
}

// TestHelmignoreHidingMetadata checks that a .helmignore line that leaves
// extension.yaml out is named, a "!" line included, instead of "not found".
func TestHelmignoreHidingMetadata(t *testing.T) {
	for _, tt := range []struct {
		helmignore string
		line       int
		rule       string
	}{
		{"# editors\n*.swp\n*.yaml\n", 3, "*.yaml"},
		{"node_modules/\n!templates/\n", 2, "!templates/"},
		{"\ufeffextension.yaml\n", 1, "extension.yaml"},
	} {
		dir := copyTree(t, helloWorld)
		writeFile(t, dir, ".helmignore", tt.helmignore)
		src, err := source.Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		_, diags := Validate(src)
		want := diag.Diagnostic{Severity: diag.Error, Code: CodeMissingMetadata, File: ".helmignore", Line: tt.line,
			Message: fmt.Sprintf("%q leaves extension.yaml out of the extension", tt.rule),
			Hint:    `remove or narrow the line; a "!" line ignores every file it does not match`}
		if len(diags) != 1 || diags[0] != want {
			t.Errorf("%q: diagnostics = %+v\nwant %+v", tt.helmignore, diags, want)
		}
	}
}

// FuzzPackageRoundTrip checks the guarantee of package on arbitrary extra
// files: whatever Build accepts, our reader and Helm's loader read back,
// and packaging the package gives the same bytes.
func FuzzPackageRoundTrip(f *testing.F) {
	base, err := source.Load(helloWorld)
	if err != nil {
		f.Fatal(err)
	}
	f.Add("static/a.txt", []byte("hello"), "values.yaml", []byte("a: 1\n"))
	f.Add("templates/x.yaml", []byte("{{ .Values.a }}"), "charts/b/Chart.yaml", []byte("name: b\nversion: 1.0.0\napiVersion: v2\n"))
	f.Add("a\xffb", []byte{0}, "charts/x.tgz", []byte{0x1f, 0x8b})
	f.Add("extension.yaml", []byte("name: x"), ".helmignore", []byte("!x\n"))
	f.Fuzz(func(t *testing.T, name1 string, data1 []byte, name2 string, data2 []byte) {
		files := base.Files()
		files = append(files, source.File{Name: name1, Data: data1}, source.File{Name: name2, Data: data2})
		// Through an archive, so that names and limits are those of the reader.
		archive, err := tryArchive(files)
		if err != nil {
			return // a name tar cannot hold
		}
		src, err := source.ReadArchive(bytes.NewReader(archive), "fuzz.tgz", source.DefaultLimits)
		if err != nil {
			return
		}
		pkg, err := Build(src, Options{})
		if err != nil {
			return
		}
		assertReadable(t, pkg)
	})
}

// tryArchive writes files into a gzip-compressed tar, failing on names tar
// cannot hold.
func tryArchive(files []source.File) ([]byte, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, f := range files {
		if err := tw.WriteHeader(&tar.Header{Name: f.Name, Mode: 0o644, Size: int64(len(f.Data)), Typeflag: tar.TypeReg}); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.Data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
