package repo_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/provenance"
	helmrepo "helm.sh/helm/v3/pkg/repo"
	"sigs.k8s.io/yaml"

	"github.com/ksbuilder/ksbuilder/pkg/repo"
)

func savePackage(t *testing.T, dir, name, version string) string {
	t.Helper()
	c := &chart.Chart{Metadata: &chart.Metadata{
		APIVersion: chart.APIVersionV2, Name: name, Version: version,
		Annotations: map[string]string{"kubesphere.io/category": "observability"},
	}}
	p, err := chartutil.Save(c, dir)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// writePackage writes a chart package whose entries carry the given
// modification times, the newest last.
func writePackage(t testing.TB, dir, name, version string, mtimes ...time.Time) string {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	files := []string{"Chart.yaml", "values.yaml", "templates/NOTES.txt"}
	for i, mtime := range mtimes {
		body := fmt.Sprintf("# file %d\n", i)
		if i == 0 {
			body = fmt.Sprintf("apiVersion: v2\nname: %s\nversion: %s\n", name, version)
		}
		h := &tar.Header{Name: name + "/" + files[i], Mode: 0o644, Size: int64(len(body)), ModTime: mtime, Typeflag: tar.TypeReg}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name+"-"+version+".tgz")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// dirNames lists a directory.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestIndex(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	hello := savePackage(t, dir, "hello", "0.1.0")
	if err := os.Mkdir(filepath.Join(dir, "more"), 0o755); err != nil {
		t.Fatal(err)
	}
	savePackage(t, filepath.Join(dir, "more"), "hello", "0.2.0")
	savePackage(t, dir, "alpha", "1.0.0")

	res, err := repo.Index(context.Background(), repo.Options{Dir: dir, URL: "https://charts.example.com/ks"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range res.Entries {
		got = append(got, e.Name+" "+e.Version+" "+strings.Join(e.URLs, ","))
	}
	want := []string{
		"alpha 1.0.0 https://charts.example.com/ks/alpha-1.0.0.tgz",
		"hello 0.2.0 https://charts.example.com/ks/more/hello-0.2.0.tgz",
		"hello 0.1.0 https://charts.example.com/ks/hello-0.1.0.tgz",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("entries:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// Helm reads the index back, with digests and annotations.
	index, err := helmrepo.LoadIndexFile(filepath.Join(dir, repo.IndexFileName))
	if err != nil {
		t.Fatal(err)
	}
	cv, err := index.Get("hello", "0.1.0")
	if err != nil {
		t.Fatal(err)
	}
	digest, err := provenance.DigestFile(hello)
	if err != nil {
		t.Fatal(err)
	}
	if cv.Digest != digest {
		t.Errorf("digest %s, want %s", cv.Digest, digest)
	}
	if cv.Annotations["kubesphere.io/category"] != "observability" {
		t.Errorf("annotations lost: %v", cv.Annotations)
	}
}

func TestIndexMerge(t *testing.T) {
	t.Parallel()
	old := t.TempDir()
	savePackage(t, old, "hello", "0.1.0")
	savePackage(t, old, "hello", "0.2.0")
	if _, err := repo.Index(context.Background(), repo.Options{Dir: old, URL: "https://old.example.com"}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	savePackage(t, dir, "hello", "0.2.0")
	savePackage(t, dir, "hello", "0.3.0")
	res, err := repo.Index(context.Background(), repo.Options{Dir: dir, URL: "https://new.example.com", Merge: filepath.Join(old, repo.IndexFileName)})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range res.Entries {
		got = append(got, e.Version+" "+e.URLs[0])
	}
	want := "0.3.0 https://new.example.com/hello-0.3.0.tgz\n0.2.0 https://new.example.com/hello-0.2.0.tgz\n0.1.0 https://old.example.com/hello-0.1.0.tgz"
	if strings.Join(got, "\n") != want {
		t.Errorf("merged:\n%s\nwant:\n%s", strings.Join(got, "\n"), want)
	}
}

func TestIndexErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	savePackage(t, dir, "hello", "0.1.0")
	if _, err := repo.Index(context.Background(), repo.Options{Dir: dir, URL: "https://charts.example.com"}); err != nil {
		t.Fatal(err)
	}
	indexPath := filepath.Join(dir, repo.IndexFileName)
	before, err := os.ReadFile(indexPath)
	if err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("entries: [unclosed"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := t.TempDir()
	tests := []struct {
		opts repo.Options
		want string
	}{
		{repo.Options{Dir: dir, URL: "charts.example.com"}, "not an http(s) URL"},
		{repo.Options{Dir: dir, URL: "https://charts.example.com", Merge: empty}, "merging " + empty},
		{repo.Options{Dir: dir, URL: "https://charts.example.com", Merge: bad}, "merging " + bad},
		{repo.Options{Dir: dir, URL: "https://charts.example.com", Merge: filepath.Join(empty, "missing.yaml")}, "missing.yaml"},
		{repo.Options{Dir: empty, URL: "https://charts.example.com"}, "has no chart packages"},
		{repo.Options{Dir: indexPath, URL: "https://charts.example.com"}, "is not a directory"},
	}
	for _, tt := range tests {
		_, err := repo.Index(context.Background(), tt.opts)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: %v, want an error containing %q", tt.opts, err, tt.want)
		}
	}
	after, err := os.ReadFile(indexPath)
	if err != nil {
		t.Fatal(err)
	}
	if string(after) != string(before) {
		t.Error("a failed run changed the index")
	}
	if _, err := os.Stat(filepath.Join(empty, repo.IndexFileName)); !os.IsNotExist(err) {
		t.Errorf("an index was written for an empty directory: %v", err)
	}
}

func TestIndexIsReproducible(t *testing.T) {
	t.Parallel()
	day := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	dir := t.TempDir()
	writePackage(t, dir, "hello", "0.1.0", day, day.Add(time.Hour))
	newest := day.Add(48 * time.Hour)
	writePackage(t, dir, "hello", "0.2.0", day, newest, day.Add(time.Minute))
	index := filepath.Join(dir, repo.IndexFileName)

	first, err := repo.Index(context.Background(), repo.Options{Dir: dir, URL: "https://charts.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	firstBytes, err := os.ReadFile(index)
	if err != nil {
		t.Fatal(err)
	}
	// The files' own time stamps do not matter (a copy, a checkout).
	for _, name := range []string{"hello-0.1.0.tgz", "hello-0.2.0.tgz"} {
		if err := os.Chtimes(filepath.Join(dir, name), time.Now(), time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := repo.Index(context.Background(), repo.Options{Dir: dir, URL: "https://charts.example.com"}); err != nil {
		t.Fatal(err)
	}
	secondBytes, err := os.ReadFile(index)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(firstBytes, secondBytes) {
		t.Errorf("two runs over the same packages differ:\n%s\n---\n%s", firstBytes, secondBytes)
	}
	if got := first.Entries[0].Created; !got.Equal(newest) {
		t.Errorf("hello 0.2.0 created %v, want the newest time in its archive %v", got, newest)
	}
	if got := first.Entries[1].Created; !got.Equal(day.Add(time.Hour)) {
		t.Errorf("hello 0.1.0 created %v, want %v", got, day.Add(time.Hour))
	}
	loaded, err := helmrepo.LoadIndexFile(index)
	if err != nil {
		t.Fatal(err)
	}
	if !loaded.Generated.Equal(newest) {
		t.Errorf("generated %v, want the newest entry's %v", loaded.Generated, newest)
	}

	// A package whose archive has no time stamps (the Unix epoch) is
	// stamped with the file's time.
	fileTime := time.Date(2025, 6, 1, 8, 30, 0, 0, time.UTC)
	unstamped := writePackage(t, dir, "bare", "1.0.0", time.Unix(0, 0))
	if err := os.Chtimes(unstamped, fileTime, fileTime); err != nil {
		t.Fatal(err)
	}
	res, err := repo.Index(context.Background(), repo.Options{Dir: dir, URL: "https://charts.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Entries[0]; got.Name != "bare" || !got.Created.Equal(fileTime) {
		t.Errorf("%s %s created %v, want the file's time %v", got.Name, got.Version, got.Created, fileTime)
	}

	// SOURCE_DATE_EPOCH sets every stamp.
	stamp := time.Unix(1700000000, 0).UTC()
	res, err = repo.Index(context.Background(), repo.Options{Dir: dir, URL: "https://charts.example.com", Stamp: stamp})
	if err != nil {
		t.Fatal(err)
	}
	loaded, err = helmrepo.LoadIndexFile(index)
	if err != nil {
		t.Fatal(err)
	}
	if !loaded.Generated.Equal(stamp) {
		t.Errorf("generated %v, want %v", loaded.Generated, stamp)
	}
	for _, e := range res.Entries {
		if !e.Created.Equal(stamp) {
			t.Errorf("%s %s created %v, want %v", e.Name, e.Version, e.Created, stamp)
		}
	}
}

func TestIndexNamesSkippedFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writePackage(t, dir, "hello", "0.1.0", time.Unix(0, 0))
	notes := filepath.Join(dir, "notes.tgz")
	if err := os.WriteFile(notes, []byte("not an archive"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := repo.Index(context.Background(), repo.Options{Dir: dir, URL: "https://charts.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Skipped) != 1 || res.Skipped[0].Path != notes || !strings.HasPrefix(res.Skipped[0].Reason, "not a chart") {
		t.Errorf("skipped %+v, want %s", res.Skipped, notes)
	}
	if len(res.Entries) != 1 {
		t.Errorf("entries %+v", res.Entries)
	}

	// When every package is skipped, the error names one.
	only := t.TempDir()
	if err := os.WriteFile(filepath.Join(only, "notes.tgz"), []byte("not an archive"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = repo.Index(context.Background(), repo.Options{Dir: only})
	if err == nil || !strings.Contains(err.Error(), "every *.tgz was skipped ("+filepath.Join(only, "notes.tgz")+": not a chart") {
		t.Errorf("got %v", err)
	}
}

func TestIndexWithoutURL(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writePackage(t, dir, "hello", "0.1.0", time.Unix(0, 0))
	if err := os.Mkdir(filepath.Join(dir, "more"), 0o755); err != nil {
		t.Fatal(err)
	}
	writePackage(t, filepath.Join(dir, "more"), "hello", "0.2.0", time.Unix(0, 0))
	res, err := repo.Index(context.Background(), repo.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range res.Entries {
		got = append(got, strings.Join(e.URLs, ","))
	}
	if strings.Join(got, " ") != "more/hello-0.2.0.tgz hello-0.1.0.tgz" {
		t.Errorf("URLs %q, want them relative to the index", got)
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "root of its host") {
		t.Errorf("warnings %q", res.Warnings)
	}
	// Helm reads the relative URLs back.
	if _, err := helmrepo.LoadIndexFile(filepath.Join(dir, repo.IndexFileName)); err != nil {
		t.Fatal(err)
	}
}

func TestIndexLeavesNoTemporaryFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writePackage(t, dir, "hello", "0.1.0", time.Unix(0, 0))
	// The target is a directory: the rename fails.
	if err := os.Mkdir(filepath.Join(dir, repo.IndexFileName), 0o755); err != nil {
		t.Fatal(err)
	}
	before := dirNames(t, dir)
	if _, err := repo.Index(context.Background(), repo.Options{Dir: dir, URL: "https://charts.example.com"}); err == nil || !strings.Contains(err.Error(), "writing "+filepath.Join(dir, repo.IndexFileName)) {
		t.Errorf("got %v", err)
	}
	if after := dirNames(t, dir); strings.Join(after, " ") != strings.Join(before, " ") {
		t.Errorf("a failed write left files behind: %q, before %q", after, before)
	}
}

func TestIndexMergeSkipsInvalidEntries(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writePackage(t, dir, "hello", "0.2.0", time.Unix(0, 0))
	old := filepath.Join(t.TempDir(), "old.yaml")
	err := os.WriteFile(old, []byte(`apiVersion: v1
entries:
  hello:
  - {apiVersion: v2, name: hello, version: 0.1.0, urls: [https://old.example.com/hello-0.1.0.tgz], created: "2024-01-01T00:00:00Z"}
  - {apiVersion: v2, name: hello, version: not-semver, urls: [https://old.example.com/bad.tgz]}
  - {apiVersion: v2, name: other, version: 0.0.1, urls: [https://old.example.com/other-0.0.1.tgz]}
  - {apiVersion: v2, name: hello, version: 0.2.0, urls: [https://old.example.com/hello-0.2.0.tgz]}
  empty:
  -
generated: "2024-01-01T00:00:00Z"
`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	res, err := repo.Index(context.Background(), repo.Options{Dir: dir, URL: "https://new.example.com", Merge: old})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range res.Entries {
		got = append(got, e.Name+" "+e.Version+" "+e.URLs[0])
	}
	want := "hello 0.2.0 https://new.example.com/hello-0.2.0.tgz\nhello 0.1.0 https://old.example.com/hello-0.1.0.tgz"
	if strings.Join(got, "\n") != want {
		t.Errorf("entries:\n%s\nwant:\n%s", strings.Join(got, "\n"), want)
	}
	var skipped []string
	for _, s := range res.Skipped {
		skipped = append(skipped, s.String())
	}
	wantSkipped := []string{
		old + ": entry empty: empty entry",
		old + ": entry hello not-semver: validation: chart.metadata.version \"not-semver\" is invalid",
		old + ": entry hello 0.0.1: its chart is named \"other\": KubeSphere skips it",
	}
	if strings.Join(skipped, "\n") != strings.Join(wantSkipped, "\n") {
		t.Errorf("skipped:\n%s\nwant:\n%s", strings.Join(skipped, "\n"), strings.Join(wantSkipped, "\n"))
	}
}

// FuzzIndexMerge merges an untrusted index: Index must not panic, and an
// index it writes must load in Helm, keep the package of the directory, and
// be the same on a second run.
func FuzzIndexMerge(f *testing.F) {
	f.Add([]byte("apiVersion: v1\nentries:\n  hello:\n  - {apiVersion: v2, name: hello, version: 0.0.9, urls: [https://old.example.com/hello-0.0.9.tgz]}\n"))
	f.Add([]byte(`{"apiVersion":"v1","entries":{"hello":[{"name":"hello","version":"1.0.0+a"},{"name":"hello","version":"1.0.0+b"}]}}`))
	f.Add([]byte("apiVersion: v1\nentries:\n  x:\n  - name: x\n    version: 1.0.0\n    dependencies: [null]\n    maintainers: [null]\n"))
	f.Add([]byte("apiVersion: v1\nentries: {a: [null], b: [{name: c, version: 1.0.0}]}\n"))
	f.Add([]byte("entries: {}\n"))
	dir := f.TempDir()
	writePackage(f, dir, "hello", "0.1.0", time.Unix(0, 0))
	merge := filepath.Join(f.TempDir(), "merge.yaml")
	index := filepath.Join(dir, repo.IndexFileName)
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(merge, data, 0o600); err != nil {
			t.Fatal(err)
		}
		opts := repo.Options{Dir: dir, URL: "https://charts.example.com", Merge: merge}
		res, err := repo.Index(context.Background(), opts)
		if err != nil {
			return
		}
		first, err := os.ReadFile(index)
		if err != nil {
			t.Fatal(err)
		}
		loaded, err := helmrepo.LoadIndexFile(index)
		if err != nil {
			t.Fatalf("Helm cannot read the index: %v\n%s", err, first)
		}
		cv, err := loaded.Get("hello", "0.1.0")
		if err != nil || cv.URLs[0] != "https://charts.example.com/hello-0.1.0.tgz" {
			t.Fatalf("the directory's package is lost: %v %+v", err, cv)
		}
		for _, e := range res.Entries {
			if e.Name == "" || e.Version == "" {
				t.Fatalf("entry without a name or version: %+v", e)
			}
		}
		if _, err := repo.Index(context.Background(), opts); err != nil {
			t.Fatal(err)
		}
		second, err := os.ReadFile(index)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(first, second) {
			t.Fatalf("two runs differ:\n%s\n---\n%s", first, second)
		}
	})
}

func TestIndexAsHelmWritesIt(t *testing.T) {
	// The index is written without helm.sh/helm/v3/pkg/repo (start-up
	// cost); it must be the one Helm writes, time stamps aside.
	t.Parallel()
	old := t.TempDir()
	savePackage(t, old, "hello", "0.0.9")
	savePackage(t, old, "hello", "0.2.0")
	if _, err := repo.Index(context.Background(), repo.Options{Dir: old, URL: "https://old.example.com"}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	savePackage(t, dir, "hello", "0.2.0")
	savePackage(t, dir, "hello", "0.10.0-rc.1")
	if err := os.Mkdir(filepath.Join(dir, "sub dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	savePackage(t, filepath.Join(dir, "sub dir"), "alpha", "1.0.0")
	if err := os.WriteFile(filepath.Join(dir, "not-a-chart.tgz"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	const url = "https://charts.example.com/base/"
	oldIndex := filepath.Join(old, repo.IndexFileName)
	if _, err := repo.Index(context.Background(), repo.Options{Dir: dir, URL: url, Merge: oldIndex}); err != nil {
		t.Fatal(err)
	}
	got, err := helmrepo.LoadIndexFile(filepath.Join(dir, repo.IndexFileName))
	if err != nil {
		t.Fatal(err)
	}
	want, err := helmrepo.IndexDirectory(dir, url)
	if err != nil {
		t.Fatal(err)
	}
	merged, err := helmrepo.LoadIndexFile(oldIndex)
	if err != nil {
		t.Fatal(err)
	}
	want.Merge(merged)
	want.SortEntries()
	if g, w := indexYAML(t, got), indexYAML(t, want); g != w {
		t.Errorf("index.yaml:\n%s\nHelm writes:\n%s", g, w)
	}
}

// indexYAML is an index as YAML without its time stamps.
func indexYAML(t *testing.T, index *helmrepo.IndexFile) string {
	t.Helper()
	index.Generated = time.Time{}
	for _, versions := range index.Entries {
		for _, v := range versions {
			v.Created = time.Time{}
		}
	}
	data, err := yaml.Marshal(index)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestIndexCancelled: a cancelled run writes no index.
func TestIndexCancelled(t *testing.T) {
	dir := t.TempDir()
	savePackage(t, dir, "hello", "0.1.0")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := repo.Index(ctx, repo.Options{Dir: dir, URL: "https://charts.example.com"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if _, err := os.Stat(filepath.Join(dir, repo.IndexFileName)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("index written: %v", err)
	}
}

// A package over our limits (here 10001 files, which Helm's loader takes)
// is skipped by the bounded reader, never handed to Helm's loader, which
// expands nested chart archives without limits of ours.
func TestIndexSkipsPackagesOverTheLimits(t *testing.T) {
	dir := t.TempDir()
	savePackage(t, dir, "hello", "0.1.0")
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	write := func(name string, data []byte) {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	write("big/Chart.yaml", []byte("apiVersion: v2\nname: big\nversion: 0.1.0\n"))
	for i := range 10001 {
		write(fmt.Sprintf("big/files/f%d.txt", i), nil)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	bigPath := filepath.Join(dir, "big-0.1.0.tgz")
	if err := os.WriteFile(bigPath, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := repo.Index(context.Background(), repo.Options{Dir: dir, URL: "https://charts.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Entries) != 1 || res.Entries[0].Name != "hello" {
		t.Errorf("entries %+v, want hello only", res.Entries)
	}
	if len(res.Skipped) != 1 || res.Skipped[0].Path != bigPath || !strings.Contains(res.Skipped[0].Reason, "not a chart: ") || strings.Contains(res.Skipped[0].Reason, bigPath) {
		t.Errorf("skipped %+v, want big-0.1.0.tgz named once, as not a chart", res.Skipped)
	}
}
