package repo_test

import (
	"context"
	"errors"
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
