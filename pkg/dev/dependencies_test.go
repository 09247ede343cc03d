package dev_test

import (
	"context"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/ksbuilder/ksbuilder/internal/testutil/ociregistry"
	"github.com/ksbuilder/ksbuilder/pkg/dependency"
	"github.com/ksbuilder/ksbuilder/pkg/dev"
	"github.com/ksbuilder/ksbuilder/pkg/diag"
	"github.com/ksbuilder/ksbuilder/pkg/kubesphere"
	"github.com/ksbuilder/ksbuilder/pkg/packager"
	"github.com/ksbuilder/ksbuilder/pkg/registry"
	"github.com/ksbuilder/ksbuilder/pkg/repo"
	"github.com/ksbuilder/ksbuilder/pkg/source"
)

// countingRepo is a Helm chart repository served in process that counts
// the requests it answers.
type countingRepo struct {
	dir      string
	url      string
	requests atomic.Int64
}

func newCountingRepo(t *testing.T) *countingRepo {
	t.Helper()
	r := &countingRepo{dir: t.TempDir()}
	files := http.FileServer(http.Dir(r.dir))
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.requests.Add(1)
		files.ServeHTTP(w, req)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.Start()
	t.Cleanup(srv.Close)
	r.url = srv.URL
	return r
}

// add publishes the chart "extra" at version, whose template is a
// ConfigMap extra-marker carrying the version, and indexes the repository.
func (r *countingRepo) add(t *testing.T, version string) {
	t.Helper()
	c := &chart.Chart{
		Metadata: &chart.Metadata{APIVersion: chart.APIVersionV2, Name: "extra", Version: version},
		Templates: []*chart.File{{Name: "templates/marker.yaml", Data: []byte(
			"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra-marker\ndata:\n  version: {{ .Chart.Version | quote }}\n")}},
	}
	if _, err := chartutil.Save(c, r.dir); err != nil {
		t.Fatal(err)
	}
	if _, err := repo.Index(context.Background(), repo.Options{Dir: r.dir}); err != nil {
		t.Fatal(err)
	}
}

// lockFor resolves the extension's dependencies against the repository
// as it is now, in memory, and returns the Chart.lock that locks them.
func lockFor(t *testing.T, dir string, opts dependency.Options) []byte {
	t.Helper()
	src, err := source.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	ext, diags := packager.Validate(src)
	if err := diags.Err(); err != nil {
		t.Fatal(err)
	}
	opts.Update, opts.InMemory = true, true
	res, err := dependency.Build(context.Background(), dir, ext, opts)
	if err != nil {
		t.Fatal(err)
	}
	return res.Lock
}

// TestSessionFetchesRepositorySubcharts runs a session on an extension
// with a subchart declared with a repository and no charts/ archive of
// it: it is fetched into memory and installed, charts/ stays without it, a
// template edit republishes with no request to the repository, and a new
// Chart.lock fetches the version it locks.
func TestSessionFetchesRepositorySubcharts(t *testing.T) {
	cfg := testEnv.Require(t)
	ctx := testContext(t)
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	const name = "devdeps"
	ns := kubesphere.DefaultTargetNamespace(name)
	dir := scaffold(t, name)
	r := newCountingRepo(t)
	r.add(t, "1.0.0")
	helm := t.TempDir()
	deps := dependency.Options{RepositoryConfig: filepath.Join(helm, "repositories.yaml"), RepositoryCache: filepath.Join(helm, "cache")}
	// Resolving needs a constraint for every dependency, as with Helm.
	edit(t, dir, "extension.yaml", replace("  - name: \"backend\"\n", "  - name: \"backend\"\n    version: \">=0.0.0-0\"\n"))
	edit(t, dir, "extension.yaml", replace("dependencies:\n", "dependencies:\n  - name: extra\n    version: \"^1.0.0\"\n    repository: "+r.url+"\n    tags:\n      - extension\n"))
	lock1 := lockFor(t, dir, deps)
	r.add(t, "1.1.0")
	lock2 := lockFor(t, dir, deps)
	if err := os.WriteFile(filepath.Join(dir, dependency.LockFile), lock1, 0o644); err != nil {
		t.Fatal(err)
	}
	marker := func() string {
		t.Helper()
		cm, err := kube.CoreV1().ConfigMaps(ns).Get(ctx, "extra-marker", metav1.GetOptions{})
		if err != nil {
			t.Fatalf("the repository subchart was not installed: %v", err)
		}
		return cm.Data["version"]
	}
	chartsDir := func() []string {
		t.Helper()
		entries, err := os.ReadDir(filepath.Join(dir, "charts"))
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		return names
	}

	r.requests.Store(0)
	rec, _ := session(t, dev.Options{Dir: dir, Dependencies: deps})
	rec.awaitInstalled(ctx, "0.1.0-dev.1")
	if v := marker(); v != "1.0.0" {
		t.Errorf("extra %s installed, want 1.0.0 (Chart.lock)", v)
	}
	fetched := r.requests.Load()
	if fetched == 0 {
		t.Fatal("nothing was asked of the repository")
	}
	if got := chartsDir(); !slices.Equal(got, []string{"backend"}) {
		t.Errorf("charts/ = %v: the session wrote into the extension", got)
	}

	// A template edit: republished with the subchart kept in memory.
	edit(t, dir, "charts/backend/templates/dev-configmap.yaml", content(
		"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dev-marker\ndata:\n  edit: \"1\"\n"))
	if a := rec.awaitApplied(ctx); a.Version != "0.1.0-dev.2" {
		t.Fatalf("after a template edit: %+v", a)
	}
	rec.awaitInstalled(ctx, "0.1.0-dev.2")
	if n := r.requests.Load(); n != fetched {
		t.Errorf("a template edit made %d requests to the repository", n-fetched)
	}
	if v := marker(); v != "1.0.0" {
		t.Errorf("extra %s installed after a template edit, want 1.0.0", v)
	}

	// A new Chart.lock: fetched again.
	edit(t, dir, dependency.LockFile, content(string(lock2)))
	if a := rec.awaitApplied(ctx); a.Version != "0.1.0-dev.3" {
		t.Fatalf("after a Chart.lock edit: %+v", a)
	}
	rec.awaitInstalled(ctx, "0.1.0-dev.3")
	if n := r.requests.Load(); n == fetched {
		t.Error("a new Chart.lock was not fetched")
	}
	if v := marker(); v != "1.1.0" {
		t.Errorf("extra %s installed after Chart.lock locked 1.1.0", v)
	}
	if got := chartsDir(); !slices.Equal(got, []string{"backend"}) {
		t.Errorf("charts/ = %v: the session wrote into the extension", got)
	}
	if data, err := os.ReadFile(filepath.Join(dir, dependency.LockFile)); err != nil || string(data) != string(lock2) {
		t.Errorf("Chart.lock changed on disk: %v", err)
	}
}

// TestSessionReportsFailedFetch starts a session whose repository cannot
// be reached: a diagnostic of extension.yaml, nothing published, and the
// session keeps watching.
func TestSessionReportsFailedFetch(t *testing.T) {
	ctx := testContext(t)
	dir := scaffold(t, "devdepsfail")
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close() // nothing listens there any more
	helm := t.TempDir()
	edit(t, dir, "extension.yaml", replace("dependencies:\n", "dependencies:\n  - name: extra\n    version: \"^1.0.0\"\n    repository: "+srv.URL+"\n"))
	rec, stop := session(t, dev.Options{Dir: dir, Dependencies: dependency.Options{
		RepositoryConfig: filepath.Join(helm, "repositories.yaml"), RepositoryCache: filepath.Join(helm, "cache")}})
	p := rec.await(ctx, "a problem", func(v any) bool {
		if _, ok := v.(dev.Applied); ok {
			t.Fatal("published without its subchart")
		}
		_, ok := v.(problem)
		return ok
	}).(problem)
	list, ok := diag.AsErrors(p.err)
	if !ok || list[0].File != "extension.yaml" || list[0].Code != packager.CodeDependencyMissing || !strings.Contains(list[0].Message, srv.URL) {
		t.Fatalf("problem %v is not a diagnostic of extension.yaml naming the repository", p.err)
	}
	if err := stop(); !errors.Is(err, context.Canceled) {
		t.Errorf("the session ended with %v, want it to keep watching until Ctrl-C", err)
	}
}

// TestSessionFetchesSubchartFromPrivateRegistry runs sessions on an
// extension whose subchart is in an OCI registry with a self-signed
// certificate: without the registry's CA the fetch is a diagnostic of
// extension.yaml naming the certificate, and with Dependencies.Registry
// (dev's --ca-file) the subchart is pulled and installed.
func TestSessionFetchesSubchartFromPrivateRegistry(t *testing.T) {
	cfg := testEnv.Require(t)
	ctx := testContext(t)
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	reg := ociregistry.Start(ociregistry.Options{TLS: true})
	t.Cleanup(reg.Close)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := reg.WriteCA(ca); err != nil {
		t.Fatal(err)
	}
	helm := t.TempDir()
	trusted := registry.Options{CAFile: ca, RegistryConfig: filepath.Join(helm, "registry.json")}
	client, err := registry.New(trusted)
	if err != nil {
		t.Fatal(err)
	}
	charts := t.TempDir()
	archive, err := chartutil.Save(&chart.Chart{
		Metadata: &chart.Metadata{APIVersion: chart.APIVersionV2, Name: "extra", Version: "1.0.0"},
		Templates: []*chart.File{{Name: "templates/marker.yaml", Data: []byte(
			"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra-marker\ndata:\n  version: {{ .Chart.Version | quote }}\n")}},
	}, charts)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(archive)
	if err != nil {
		t.Fatal(err)
	}
	base, err := registry.ParseReference("oci://" + reg.Host + "/charts")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.Push(base.Child("extra").WithTag("1.0.0"), data, false, time.Time{}); err != nil {
		t.Fatal(err)
	}

	const name = "devoci"
	dir := scaffold(t, name)
	// Resolving needs a constraint for every dependency, as with Helm.
	edit(t, dir, "extension.yaml", replace("  - name: \"backend\"\n", "  - name: \"backend\"\n    version: \">=0.0.0-0\"\n"))
	edit(t, dir, "extension.yaml", replace("dependencies:\n", "dependencies:\n  - name: extra\n    version: \"1.0.0\"\n    repository: oci://"+reg.Host+"/charts\n    tags:\n      - extension\n"))
	deps := dependency.Options{RepositoryConfig: filepath.Join(helm, "repositories.yaml"), RepositoryCache: filepath.Join(helm, "cache")}

	// Without the CA: the certificate is refused, nothing is published.
	deps.Registry = registry.Options{RegistryConfig: trusted.RegistryConfig}
	rec, stop := session(t, dev.Options{Dir: dir, Dependencies: deps})
	p := rec.await(ctx, "a problem", func(v any) bool {
		if _, ok := v.(dev.Applied); ok {
			t.Fatal("published without its subchart")
		}
		_, ok := v.(problem)
		return ok
	}).(problem)
	list, ok := diag.AsErrors(p.err)
	if !ok || list[0].File != "extension.yaml" || list[0].Code != packager.CodeDependencyMissing || !strings.Contains(list[0].Message, "certificate") {
		t.Fatalf("problem %v is not a diagnostic of extension.yaml naming the certificate", p.err)
	}
	if err := stop(); !errors.Is(err, context.Canceled) {
		t.Fatalf("the session ended with %v", err)
	}

	// With the CA (dev --ca-file): pulled and installed.
	deps.Registry = trusted
	rec, _ = session(t, dev.Options{Dir: dir, Dependencies: deps})
	rec.awaitInstalled(ctx, "0.1.0-dev.1")
	cm, err := kube.CoreV1().ConfigMaps(kubesphere.DefaultTargetNamespace(name)).Get(ctx, "extra-marker", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the registry's subchart was not installed: %v", err)
	}
	if v := cm.Data["version"]; v != "1.0.0" {
		t.Errorf("extra %s installed, want 1.0.0", v)
	}
}
