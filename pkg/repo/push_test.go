package repo_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	helmrepo "helm.sh/helm/v3/pkg/repo"
	"sigs.k8s.io/yaml"

	"github.com/ksbuilder/ksbuilder/internal/testutil/chartmuseum"
	"github.com/ksbuilder/ksbuilder/pkg/registry"
	"github.com/ksbuilder/ksbuilder/pkg/repo"
)

// museumIndex fetches and parses a tenant's index.yaml.
func museumIndex(t *testing.T, url string) *helmrepo.IndexFile {
	t.Helper()
	resp, err := http.Get(url + "/index.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET index.yaml: %s %v", resp.Status, err)
	}
	var index helmrepo.IndexFile
	if err := yaml.Unmarshal(data, &index); err != nil {
		t.Fatal(err)
	}
	return &index
}

func TestPushUploadsToChartMuseum(t *testing.T) {
	srv := chartmuseum.Start(chartmuseum.Options{Username: "ks", Password: "pw"})
	defer srv.Close()
	dir := t.TempDir()
	a, b := savePackage(t, dir, "hello", "0.1.0"), savePackage(t, dir, "world", "1.0.0")

	pushed, err := repo.Push(context.Background(), repo.PushOptions{URL: srv.URL, Packages: []string{a, b}, Username: "ks", Password: "pw"})
	if err != nil {
		t.Fatal(err)
	}
	want := []repo.Pushed{{Name: "hello", Version: "0.1.0", Package: a}, {Name: "world", Version: "1.0.0", Package: b}}
	if !reflect.DeepEqual(pushed, want) {
		t.Errorf("pushed %+v, want %+v", pushed, want)
	}
	stored, ok := srv.Package("", "hello", "0.1.0")
	sent, _ := os.ReadFile(a)
	if !ok || !bytes.Equal(stored, sent) {
		t.Errorf("the museum holds %d bytes of hello, want the package's %d", len(stored), len(sent))
	}
	index := museumIndex(t, srv.URL)
	if !index.Has("hello", "0.1.0") || !index.Has("world", "1.0.0") {
		t.Errorf("index.yaml lacks the pushed charts: %+v", index.Entries)
	}
}

func TestPushExistingVersion(t *testing.T) {
	srv := chartmuseum.Start(chartmuseum.Options{})
	defer srv.Close()
	a := savePackage(t, t.TempDir(), "hello", "0.1.0")
	opts := repo.PushOptions{URL: srv.URL, Packages: []string{a}}
	if _, err := repo.Push(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	_, err := repo.Push(context.Background(), opts)
	var exists *repo.ExistsError
	if !errors.As(err, &exists) || exists.Name != "hello" || exists.Version != "0.1.0" {
		t.Fatalf("second push: %v, want an ExistsError for hello 0.1.0", err)
	}
	opts.Force = true
	if _, err := repo.Push(context.Background(), opts); err != nil {
		t.Fatalf("--force: %v", err)
	}
}

func TestPushRefusedCredentials(t *testing.T) {
	srv := chartmuseum.Start(chartmuseum.Options{Username: "ks", Password: "pw"})
	defer srv.Close()
	a := savePackage(t, t.TempDir(), "hello", "0.1.0")
	_, err := repo.Push(context.Background(), repo.PushOptions{URL: srv.URL, Packages: []string{a}, Username: "ks", Password: "wrong"})
	var auth *repo.AuthError
	if !errors.As(err, &auth) || auth.Status != http.StatusUnauthorized {
		t.Fatalf("got %v, want an AuthError 401", err)
	}
}

// A package that is not a chart stops the push before any upload, even
// when it comes after a good one.
func TestPushChecksEveryPackageFirst(t *testing.T) {
	srv := chartmuseum.Start(chartmuseum.Options{})
	defer srv.Close()
	dir := t.TempDir()
	good := savePackage(t, dir, "hello", "0.1.0")
	bad := filepath.Join(dir, "notes.tgz")
	if err := os.WriteFile(bad, []byte("not gzip"), 0o644); err != nil {
		t.Fatal(err)
	}
	dup := filepath.Join(t.TempDir(), "copy.tgz")
	data, _ := os.ReadFile(good)
	if err := os.WriteFile(dup, data, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		pkgs []string
		want string
	}{
		{[]string{good, bad}, "notes.tgz: not a gzip-compressed tar archive"},
		{[]string{good, dup}, "are both hello 0.1.0"},
		{[]string{good, dir}, "is not a file"},
		{nil, "no packages to push"},
	} {
		_, err := repo.Push(context.Background(), repo.PushOptions{URL: srv.URL, Packages: tc.pkgs})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: got %v, want %q", tc.pkgs, err, tc.want)
		}
	}
	if reqs := srv.Requests(); len(reqs) != 0 {
		t.Errorf("requests were sent: %v", reqs)
	}
}

// A failure after an upload names what was uploaded.
func TestPushPartialFailure(t *testing.T) {
	srv := chartmuseum.Start(chartmuseum.Options{})
	defer srv.Close()
	dir := t.TempDir()
	a, b := savePackage(t, dir, "hello", "0.1.0"), savePackage(t, dir, "world", "1.0.0")
	if _, err := repo.Push(context.Background(), repo.PushOptions{URL: srv.URL, Packages: []string{b}}); err != nil {
		t.Fatal(err)
	}
	pushed, err := repo.Push(context.Background(), repo.PushOptions{URL: srv.URL, Packages: []string{a, b}})
	var partial *repo.PartialError
	var exists *repo.ExistsError
	if !errors.As(err, &partial) || !errors.As(err, &exists) || len(pushed) != 1 || pushed[0].Name != "hello" {
		t.Fatalf("got %v, %+v; want a PartialError naming hello and an ExistsError for world", err, pushed)
	}
	if !strings.Contains(err.Error(), "already uploaded: hello 0.1.0") {
		t.Errorf("error %q does not name what was uploaded", err)
	}
}

// The repository URL's path names a tenant, after the context path, as
// cm-push maps it.
func TestPushTenantAndContextPath(t *testing.T) {
	srv := chartmuseum.Start(chartmuseum.Options{ContextPath: "/museum"})
	defer srv.Close()
	a := savePackage(t, t.TempDir(), "hello", "0.1.0")
	if _, err := repo.Push(context.Background(), repo.PushOptions{URL: srv.URL + "/museum/org/team", ContextPath: "museum", Packages: []string{a}}); err != nil {
		t.Fatal(err)
	}
	if _, ok := srv.Package("org/team", "hello", "0.1.0"); !ok {
		t.Errorf("not stored under the tenant: %v", srv.Requests())
	}
	if got := srv.Requests(); len(got) != 1 || got[0] != "POST /museum/api/org/team/charts 201" {
		t.Errorf("requests %v", got)
	}
	_, err := repo.Push(context.Background(), repo.PushOptions{URL: srv.URL, Packages: []string{a}})
	if err == nil || !strings.Contains(err.Error(), "has no ChartMuseum upload API") || !strings.Contains(err.Error(), "--context-path") {
		t.Errorf("without the context path: %v", err)
	}
	_, err = repo.Push(context.Background(), repo.PushOptions{URL: srv.URL + "/other", ContextPath: "/museum", Packages: []string{a}})
	if err == nil || !strings.Contains(err.Error(), "not under the context path /museum") {
		t.Errorf("URL outside the context path: %v", err)
	}
}

func TestPushBadURL(t *testing.T) {
	a := savePackage(t, t.TempDir(), "hello", "0.1.0")
	for _, u := range []string{"museum.example.com", "ftp://x", "https://u:p@x.io", "https://x.io/?a=b", "https://"} {
		if _, err := repo.Push(context.Background(), repo.PushOptions{URL: u, Packages: []string{a}}); err == nil || !strings.Contains(err.Error(), "is not an http(s) URL") {
			t.Errorf("%q: %v", u, err)
		}
	}
}

// The server's JSON error is shown, bounded and on one line.
func TestPushServerError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte(`{"error":"storage full\nretry later"}`))
	}))
	defer srv.Close()
	a := savePackage(t, t.TempDir(), "hello", "0.1.0")
	_, err := repo.Push(context.Background(), repo.PushOptions{URL: srv.URL, Packages: []string{a}})
	if err == nil || !strings.Contains(err.Error(), "500 Internal Server Error: storage full") || strings.Contains(err.Error(), "\n") {
		t.Errorf("got %v", err)
	}
}

// A server that never answers ends in the registry transport's stall
// error, not a hang.
func TestPushStall(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
	}))
	defer srv.Close()
	defer close(release)
	tr, err := registry.Options{Timeout: 300 * time.Millisecond}.Transport()
	if err != nil {
		t.Fatal(err)
	}
	a := savePackage(t, t.TempDir(), "hello", "0.1.0")
	_, err = repo.Push(context.Background(), repo.PushOptions{URL: srv.URL, Packages: []string{a}, Transport: tr})
	var stall *registry.StallError
	if !errors.As(err, &stall) {
		t.Fatalf("got %v, want a StallError", err)
	}
}

func TestPushBearerToken(t *testing.T) {
	var got string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Get("Authorization")
		w.WriteHeader(http.StatusCreated)
	}))
	defer srv.Close()
	a := savePackage(t, t.TempDir(), "hello", "0.1.0")
	if _, err := repo.Push(context.Background(), repo.PushOptions{URL: srv.URL, Packages: []string{a}, Token: "tok", Username: "u", Password: "p"}); err != nil {
		t.Fatal(err)
	}
	if got != "Bearer tok" {
		t.Errorf("Authorization %q", got)
	}
}
