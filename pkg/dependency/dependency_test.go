package dependency

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
	"sigs.k8s.io/yaml"

	"github.com/ksbuilder/ksbuilder/internal/testutil/ociregistry"
	"github.com/ksbuilder/ksbuilder/pkg/extension"
	"github.com/ksbuilder/ksbuilder/pkg/packager"
	"github.com/ksbuilder/ksbuilder/pkg/registry"
	"github.com/ksbuilder/ksbuilder/pkg/repo"
	"github.com/ksbuilder/ksbuilder/pkg/source"
)

// saveChart packages a minimal chart into dir and returns its path.
func saveChart(t *testing.T, dir, name, version string) string {
	t.Helper()
	c := &chart.Chart{Metadata: &chart.Metadata{APIVersion: chart.APIVersionV2, Name: name, Version: version}}
	p, err := chartutil.Save(c, dir)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// chartRepo is a Helm chart repository served in process.
type chartRepo struct {
	dir string
	srv *httptest.Server
}

type repoOptions struct {
	user, password string
	tls            bool
}

// newChartRepo packages the charts ("NAME VERSION"), indexes them with
// ksbuilder's Helm-compatible index and serves the directory.
func newChartRepo(t *testing.T, opts repoOptions, charts ...string) *chartRepo {
	t.Helper()
	r := &chartRepo{dir: t.TempDir()}
	for _, c := range charts {
		name, version, _ := strings.Cut(c, " ")
		saveChart(t, r.dir, name, version)
	}
	if len(charts) > 0 {
		r.reindex(t)
	}
	var h http.Handler = http.FileServer(http.Dir(r.dir))
	if opts.user != "" {
		next := h
		h = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			if u, p, ok := req.BasicAuth(); !ok || u != opts.user || p != opts.password {
				w.Header().Set("WWW-Authenticate", `Basic realm="charts"`)
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
			next.ServeHTTP(w, req)
		})
	}
	r.srv = httptest.NewUnstartedServer(h)
	r.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	if opts.tls {
		r.srv.StartTLS()
	} else {
		r.srv.Start()
	}
	t.Cleanup(r.srv.Close)
	return r
}

func (r *chartRepo) reindex(t *testing.T) {
	t.Helper()
	if _, err := repo.Index(context.Background(), repo.Options{Dir: r.dir}); err != nil {
		t.Fatal(err)
	}
}

// helmEnv is Helm's configuration in a temporary directory.
type helmEnv struct {
	config, cache string
	repos         []map[string]any
}

func newHelmEnv(t *testing.T) *helmEnv {
	t.Helper()
	root := t.TempDir()
	e := &helmEnv{config: filepath.Join(root, "repositories.yaml"), cache: filepath.Join(root, "cache")}
	t.Setenv(RepositoryConfigEnv, e.config)
	t.Setenv(RepositoryCacheEnv, e.cache)
	t.Setenv(registry.ConfigEnv, filepath.Join(root, "registry.json"))
	t.Setenv("HELM_CONFIG_HOME", filepath.Join(root, "config"))
	t.Setenv("HELM_CACHE_HOME", filepath.Join(root, "cachehome"))
	t.Setenv("HELM_DATA_HOME", filepath.Join(root, "data"))
	t.Setenv("DOCKER_CONFIG", filepath.Join(root, "docker"))
	return e
}

// add is "helm repo add" (without the update): an entry in
// repositories.yaml.
func (e *helmEnv) add(t *testing.T, name, url string, extra map[string]any) {
	t.Helper()
	entry := map[string]any{"name": name, "url": url}
	for k, v := range extra {
		entry[k] = v
	}
	e.repos = append(e.repos, entry)
	data, err := yaml.Marshal(map[string]any{"apiVersion": "", "repositories": e.repos})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(e.config, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// update is "helm repo update NAME": the repository's index in the cache.
func (e *helmEnv) update(t *testing.T, name string, r *chartRepo) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(r.dir, "index.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(e.cache, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(e.cache, name+"-index.yaml"), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

const extensionHead = `apiVersion: kubesphere.io/v1alpha1
name: demo
version: 0.1.0
displayName:
  en: Demo
description:
  en: Demo
category: dev-tools
provider:
  en:
    name: Demo
icon: https://example.com/icon.png
`

// newExtension writes an extension whose dependencies are the YAML given.
func newExtension(t *testing.T, deps string) string {
	t.Helper()
	dir := t.TempDir()
	writeExtension(t, dir, deps)
	if err := os.WriteFile(filepath.Join(dir, "values.yaml"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func writeExtension(t *testing.T, dir, deps string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, extension.MetadataFile), []byte(extensionHead+"dependencies:\n"+deps), 0o644); err != nil {
		t.Fatal(err)
	}
}

func loadExtension(t *testing.T, dir string) *extension.Extension {
	t.Helper()
	src, err := source.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	ext, diags := packager.Validate(src)
	if err := diags.Err(); err != nil {
		t.Fatal(err)
	}
	return ext
}

func build(t *testing.T, dir string, opts Options) (*Result, error) {
	t.Helper()
	opts.Now = func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }
	return Build(context.Background(), dir, loadExtension(t, dir), opts)
}

func mustBuild(t *testing.T, dir string, opts Options) *Result {
	t.Helper()
	res, err := build(t, dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func chartsOf(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(dir, "charts"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func readLockFile(t *testing.T, dir string) *chart.Lock {
	t.Helper()
	lock, err := readLock(dir)
	if err != nil || lock == nil {
		t.Fatalf("Chart.lock: %v, %v", lock, err)
	}
	return lock
}

func TestUpdatePicksNewestMatching(t *testing.T) {
	env := newHelmEnv(t)
	r := newChartRepo(t, repoOptions{}, "redis 1.0.0", "redis 1.2.0", "redis 1.10.0-rc.1", "redis 2.0.0")
	env.add(t, "stable", r.srv.URL, nil)
	env.update(t, "stable", r)
	dir := newExtension(t, "  - name: redis\n    version: ^1.0.0\n    repository: '@stable'\n")
	res := mustBuild(t, dir, Options{Update: true})
	if got := chartsOf(t, dir); len(got) != 1 || got[0] != "redis-1.2.0.tgz" {
		t.Fatalf("charts/ = %v, want [redis-1.2.0.tgz]", got)
	}
	lock := readLockFile(t, dir)
	if d := lock.Dependencies[0]; d.Version != "1.2.0" || d.Repository != r.srv.URL {
		t.Errorf("locked %+v, want 1.2.0 from %s", d, r.srv.URL)
	}
	if res.Lock == nil || res.Written["charts/redis-1.2.0.tgz"] == nil {
		t.Errorf("result %+v: want the lock and the chart", res)
	}
}

func TestSubchartWithoutVersion(t *testing.T) {
	env := newHelmEnv(t)
	r := newChartRepo(t, repoOptions{}, "redis 1.0.0")
	env.add(t, "stable", r.srv.URL, nil)
	env.update(t, "stable", r)
	// The scaffold's subcharts under charts/ carry no version.
	dir := newExtension(t, "  - name: app\n    tags: [extension]\n  - name: redis\n    version: ^1.0.0\n    repository: '@stable'\n")
	saveChartDir(t, filepath.Join(dir, "charts", "app"), "app", "0.1.0")
	mustBuild(t, dir, Options{Update: true})
	lock := readLockFile(t, dir)
	if len(lock.Dependencies) != 2 || lock.Dependencies[0].Name != "app" || lock.Dependencies[0].Version != "0.1.0" || lock.Dependencies[1].Version != "1.0.0" {
		t.Errorf("locked %+v %+v, want app at its version 0.1.0 and redis 1.0.0", lock.Dependencies[0], lock.Dependencies[1])
	}
	if got := chartsOf(t, dir); len(got) != 2 || got[0] != "app" || got[1] != "redis-1.0.0.tgz" {
		t.Errorf("charts/ = %v", got)
	}
	// A build from that lock agrees with it.
	if err := os.Remove(filepath.Join(dir, "charts", "redis-1.0.0.tgz")); err != nil {
		t.Fatal(err)
	}
	mustBuild(t, dir, Options{})
}

func TestBuildFromLock(t *testing.T) {
	env := newHelmEnv(t)
	r := newChartRepo(t, repoOptions{}, "redis 1.0.0")
	env.add(t, "stable", r.srv.URL, nil)
	env.update(t, "stable", r)
	dir := newExtension(t, "  - name: redis\n    version: ^1.0.0\n    repository: '@stable'\n")
	mustBuild(t, dir, Options{Update: true})
	before, _ := os.ReadFile(filepath.Join(dir, LockFile))

	// A newer version appears; the lock keeps 1.0.0.
	saveChart(t, r.dir, "redis", "1.5.0")
	r.reindex(t)
	env.update(t, "stable", r)
	if err := os.RemoveAll(filepath.Join(dir, "charts")); err != nil {
		t.Fatal(err)
	}
	res := mustBuild(t, dir, Options{})
	if got := chartsOf(t, dir); len(got) != 1 || got[0] != "redis-1.0.0.tgz" {
		t.Fatalf("charts/ = %v, want the locked redis-1.0.0.tgz", got)
	}
	if res.Lock != nil {
		t.Error("a build from the lock rewrote it")
	}
	after, _ := os.ReadFile(filepath.Join(dir, LockFile))
	if string(before) != string(after) {
		t.Errorf("Chart.lock changed:\n%s\n%s", before, after)
	}

	// Offline: the cached index and the archive are enough.
	r.srv.Close()
	res = mustBuild(t, dir, Options{})
	if len(res.Kept) != 1 || len(res.Written) != 0 {
		t.Errorf("offline build: %+v, want the archive kept", res)
	}

	// --dependency-update offline: the cached index resolves to 1.5.0,
	// which cannot be downloaded; the error names the repository.
	var notes []string
	_, err := build(t, dir, Options{Update: true, Progress: func(f string, a ...any) { notes = append(notes, f) }})
	if err == nil || !strings.Contains(err.Error(), `repository "stable"`) || !strings.Contains(err.Error(), "offline?") {
		t.Errorf("offline update: %v", err)
	}
	if len(notes) == 0 || !strings.Contains(notes[0], "cached index") {
		t.Errorf("notes %q: want the cached index used", notes)
	}
	if got := chartsOf(t, dir); len(got) != 1 || got[0] != "redis-1.0.0.tgz" {
		t.Errorf("charts/ = %v after a failed update", got)
	}
}

func TestUpdateReplacesOlderVersion(t *testing.T) {
	env := newHelmEnv(t)
	r := newChartRepo(t, repoOptions{}, "redis 1.0.0")
	env.add(t, "stable", r.srv.URL, nil)
	env.update(t, "stable", r)
	dir := newExtension(t, "  - name: redis\n    version: ^1.0.0\n    repository: '@stable'\n")
	mustBuild(t, dir, Options{Update: true})
	saveChart(t, r.dir, "redis", "1.1.0")
	r.reindex(t)
	res := mustBuild(t, dir, Options{Update: true})
	if got := chartsOf(t, dir); len(got) != 1 || got[0] != "redis-1.1.0.tgz" {
		t.Fatalf("charts/ = %v, want only redis-1.1.0.tgz", got)
	}
	if len(res.Removed) != 1 || res.Removed[0] != "charts/redis-1.0.0.tgz" {
		t.Errorf("removed %v", res.Removed)
	}
}

func TestInMemoryLeavesTheDirectoryAlone(t *testing.T) {
	env := newHelmEnv(t)
	r := newChartRepo(t, repoOptions{}, "redis 1.0.0")
	env.add(t, "stable", r.srv.URL, nil)
	env.update(t, "stable", r)
	dir := newExtension(t, "  - name: redis\n    version: ^1.0.0\n    repository: '@stable'\n")

	// Without a lock: resolved and fetched, but neither charts/ nor
	// Chart.lock is written.
	res := mustBuild(t, dir, Options{InMemory: true})
	if _, ok := res.Written["charts/redis-1.0.0.tgz"]; !ok || res.Lock == nil {
		t.Fatalf("in memory: %d archives, lock %v; want redis-1.0.0.tgz and a lock", len(res.Written), res.Lock != nil)
	}
	if got := chartsOf(t, dir); len(got) != 0 {
		t.Errorf("charts/ = %v, want it left alone", got)
	}
	if _, err := os.Stat(filepath.Join(dir, LockFile)); !os.IsNotExist(err) {
		t.Errorf("Chart.lock written: %v", err)
	}

	// From a lock, with an older archive on disk: it is listed, not deleted.
	mustBuild(t, dir, Options{Update: true})
	saveChart(t, r.dir, "redis", "1.1.0")
	r.reindex(t)
	env.update(t, "stable", r)
	res = mustBuild(t, dir, Options{Update: true, InMemory: true})
	if _, ok := res.Written["charts/redis-1.1.0.tgz"]; !ok || len(res.Removed) != 1 || res.Removed[0] != "charts/redis-1.0.0.tgz" {
		t.Errorf("in-memory update: written %d, removed %v", len(res.Written), res.Removed)
	}
	if got := chartsOf(t, dir); len(got) != 1 || got[0] != "redis-1.0.0.tgz" {
		t.Errorf("charts/ = %v, want redis-1.0.0.tgz untouched", got)
	}
}

func TestLockOutOfSync(t *testing.T) {
	env := newHelmEnv(t)
	r := newChartRepo(t, repoOptions{}, "redis 1.0.0", "redis 2.0.0")
	env.add(t, "stable", r.srv.URL, nil)
	env.update(t, "stable", r)
	dir := newExtension(t, "  - name: redis\n    version: ^1.0.0\n    repository: '@stable'\n")
	mustBuild(t, dir, Options{Update: true})
	writeExtension(t, dir, "  - name: redis\n    version: ^2.0.0\n    repository: '@stable'\n")
	_, err := build(t, dir, Options{})
	var sync *OutOfSyncError
	if !errors.As(err, &sync) || !strings.Contains(err.Error(), "--dependency-update") {
		t.Fatalf("err = %v, want out of sync naming --dependency-update", err)
	}
	mustBuild(t, dir, Options{Update: true})
	if got := chartsOf(t, dir); len(got) != 1 || got[0] != "redis-2.0.0.tgz" {
		t.Errorf("charts/ = %v after the update", got)
	}
}

func TestMissingRepositoryCache(t *testing.T) {
	env := newHelmEnv(t)
	r := newChartRepo(t, repoOptions{}, "redis 1.0.0")
	env.add(t, "stable", r.srv.URL, nil)
	env.update(t, "stable", r)
	dir := newExtension(t, "  - name: redis\n    version: ^1.0.0\n    repository: '@stable'\n")
	mustBuild(t, dir, Options{Update: true})
	if err := os.RemoveAll(env.cache); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(dir, "charts")); err != nil {
		t.Fatal(err)
	}
	_, err := build(t, dir, Options{})
	var repoErr *Error
	if !errors.As(err, &repoErr) || repoErr.Kind != NoCache || !strings.Contains(err.Error(), `helm repo update stable`) {
		t.Fatalf("err = %v, want a missing cache naming helm repo update", err)
	}
}

func TestUnknownRepositoryName(t *testing.T) {
	newHelmEnv(t)
	dir := newExtension(t, "  - name: redis\n    version: ^1.0.0\n    repository: '@nope'\n")
	_, err := build(t, dir, Options{Update: true})
	if err == nil || !strings.Contains(err.Error(), `no repository named "nope"`) || !strings.Contains(err.Error(), "dependencies[0].repository") {
		t.Fatalf("err = %v", err)
	}
}

func TestBasicAuth(t *testing.T) {
	env := newHelmEnv(t)
	r := newChartRepo(t, repoOptions{user: "u", password: "p"}, "redis 1.0.0")
	env.add(t, "private", r.srv.URL, nil)
	dir := newExtension(t, "  - name: redis\n    version: 1.0.0\n    repository: '@private'\n")
	_, err := build(t, dir, Options{Update: true})
	var repoErr *Error
	if !errors.As(err, &repoErr) || repoErr.Kind != Unauthorized || !strings.Contains(err.Error(), "401") || !strings.Contains(err.Error(), `"private"`) {
		t.Fatalf("err = %v, want 401 naming the repository", err)
	}
	env.repos = nil
	env.add(t, "private", r.srv.URL, map[string]any{"username": "u", "password": "p"})
	mustBuild(t, dir, Options{Update: true})
	if got := chartsOf(t, dir); len(got) != 1 {
		t.Fatalf("charts/ = %v", got)
	}
}

func TestTLSWithCAFile(t *testing.T) {
	env := newHelmEnv(t)
	r := newChartRepo(t, repoOptions{tls: true}, "redis 1.0.0")
	env.add(t, "secure", r.srv.URL, nil)
	dir := newExtension(t, "  - name: redis\n    version: 1.0.0\n    repository: '@secure'\n")
	_, err := build(t, dir, Options{Update: true})
	var repoErr *Error
	if !errors.As(err, &repoErr) || repoErr.Kind != TLSFailure || !strings.Contains(err.Error(), "--ca-file") {
		t.Fatalf("err = %v, want a certificate failure naming the CA", err)
	}
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: r.srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	env.repos = nil
	env.add(t, "secure", r.srv.URL, map[string]any{"caFile": ca})
	mustBuild(t, dir, Options{Update: true})
	if got := chartsOf(t, dir); len(got) != 1 {
		t.Fatalf("charts/ = %v", got)
	}
}

func TestChartNotFound(t *testing.T) {
	env := newHelmEnv(t)
	r := newChartRepo(t, repoOptions{}, "redis 1.0.0")
	env.add(t, "stable", r.srv.URL, nil)
	env.update(t, "stable", r)
	if err := os.Remove(filepath.Join(r.dir, "redis-1.0.0.tgz")); err != nil {
		t.Fatal(err)
	}
	dir := newExtension(t, "  - name: redis\n    version: ^1.0.0\n    repository: '@stable'\n")
	_, err := build(t, dir, Options{})
	var repoErr *Error
	if !errors.As(err, &repoErr) || repoErr.Kind != NotFound || !strings.Contains(err.Error(), "404") || !strings.Contains(err.Error(), "redis-1.0.0.tgz") {
		t.Fatalf("err = %v, want a 404 naming the package", err)
	}
	if _, err := os.Stat(filepath.Join(dir, LockFile)); !os.IsNotExist(err) {
		t.Errorf("Chart.lock written after a failure: %v", err)
	}
	if got := chartsOf(t, dir); len(got) != 0 {
		t.Errorf("charts/ = %v after a failure", got)
	}
}

func TestChecksumMismatch(t *testing.T) {
	env := newHelmEnv(t)
	r := newChartRepo(t, repoOptions{}, "redis 1.0.0", "other 1.0.0")
	env.add(t, "stable", r.srv.URL, nil)
	env.update(t, "stable", r)
	// Replace the package after indexing: same name, other bytes.
	if err := os.Remove(filepath.Join(r.dir, "redis-1.0.0.tgz")); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(r.dir, "other-1.0.0.tgz")
	if err := os.Rename(other, filepath.Join(r.dir, "redis-1.0.0.tgz")); err != nil {
		t.Fatal(err)
	}
	dir := newExtension(t, "  - name: redis\n    version: 1.0.0\n    repository: '@stable'\n")
	_, err := build(t, dir, Options{})
	if err == nil || !strings.Contains(err.Error(), "checksum mismatch") || !strings.Contains(err.Error(), `"stable"`) {
		t.Fatalf("err = %v", err)
	}
	if got := chartsOf(t, dir); len(got) != 0 {
		t.Errorf("charts/ = %v after a failure", got)
	}
}

func TestHostileIndexAndChart(t *testing.T) {
	env := newHelmEnv(t)
	r := newChartRepo(t, repoOptions{}, "redis 1.0.0")
	env.add(t, "stable", r.srv.URL, nil)
	dir := newExtension(t, "  - name: redis\n    version: 1.0.0\n    repository: '@stable'\n")

	old := maxIndexSize
	maxIndexSize = 1024
	t.Cleanup(func() { maxIndexSize = old })
	big := append([]byte("apiVersion: v1\nentries: {}\n#"), make([]byte, 4096)...)
	if err := os.WriteFile(filepath.Join(r.dir, "index.yaml"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := build(t, dir, Options{Update: true}); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("oversized index: %v", err)
	}
	maxIndexSize = old

	if err := os.WriteFile(filepath.Join(r.dir, "index.yaml"), []byte("entries: [1, 2"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := build(t, dir, Options{Update: true}); err == nil || !strings.Contains(err.Error(), "not a chart repository index") {
		t.Fatalf("broken index: %v", err)
	}

	// A package that escapes its directory.
	if err := os.WriteFile(filepath.Join(r.dir, "redis-1.0.0.tgz"), evilArchive(t), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(r.dir, "index.yaml"), []byte("apiVersion: v1\nentries:\n  redis:\n  - name: redis\n    version: 1.0.0\n    urls: [redis-1.0.0.tgz]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := build(t, dir, Options{Update: true})
	if !errors.Is(err, source.ErrUnsafeArchive) {
		t.Fatalf("hostile chart: %v", err)
	}
	if got := chartsOf(t, dir); len(got) != 0 {
		t.Errorf("charts/ = %v after a failure", got)
	}
}

// evilArchive is a .tgz with a "../" entry.
func evilArchive(t *testing.T) []byte {
	t.Helper()
	return tgz(t, map[string]string{"redis/Chart.yaml": "apiVersion: v2\nname: redis\nversion: 1.0.0\n", "../escape": "x"})
}

func TestUnnamedRepositoryURL(t *testing.T) {
	newHelmEnv(t)
	r := newChartRepo(t, repoOptions{}, "redis 1.0.0", "redis 1.3.0")
	dir := newExtension(t, "  - name: redis\n    version: ^1.0.0\n    repository: "+r.srv.URL+"\n")
	mustBuild(t, dir, Options{Update: true})
	lock := readLockFile(t, dir)
	if v := lock.Dependencies[0].Version; v != "1.3.0" {
		t.Errorf("locked %q, want 1.3.0", v)
	}
	if got := chartsOf(t, dir); len(got) != 1 || got[0] != "redis-1.3.0.tgz" {
		t.Fatalf("charts/ = %v", got)
	}
	mustBuild(t, dir, Options{})
}

func TestOCIDependency(t *testing.T) {
	newHelmEnv(t)
	reg := ociregistry.Start(ociregistry.Options{})
	t.Cleanup(reg.Close)
	client, err := registry.New(registry.Options{PlainHTTP: true})
	if err != nil {
		t.Fatal(err)
	}
	base, err := registry.ParseReference("oci://" + reg.Host + "/charts")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"1.0.0", "1.4.0", "2.0.0"} {
		data, err := os.ReadFile(saveChart(t, t.TempDir(), "redis", v))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := client.Push(base.Child("redis").WithTag(v), data, false, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	dir := newExtension(t, "  - name: redis\n    version: ~1.0\n    repository: oci://"+reg.Host+"/charts\n")
	mustBuild(t, dir, Options{Update: true, Registry: registry.Options{PlainHTTP: true}})
	if got := chartsOf(t, dir); len(got) != 1 || got[0] != "redis-1.0.0.tgz" {
		t.Fatalf("charts/ = %v", got)
	}
	writeExtension(t, dir, "  - name: redis\n    version: ^1.0.0\n    repository: oci://"+reg.Host+"/charts\n")
	mustBuild(t, dir, Options{Update: true, Registry: registry.Options{PlainHTTP: true}})
	if got := chartsOf(t, dir); len(got) != 1 || got[0] != "redis-1.4.0.tgz" {
		t.Fatalf("charts/ = %v, want the newest 1.x", got)
	}
	if v := readLockFile(t, dir).Dependencies[0].Version; v != "1.4.0" {
		t.Errorf("locked %q", v)
	}
	reg.Close()
	res := mustBuild(t, dir, Options{Registry: registry.Options{PlainHTTP: true}})
	if len(res.Kept) != 1 {
		t.Errorf("offline build from the lock: %+v", res)
	}
}

func TestPrepareSkipsLocalOnly(t *testing.T) {
	t.Setenv(RepositoryConfigEnv, filepath.Join(t.TempDir(), "does-not-exist", "repositories.yaml"))
	dir := newExtension(t, "  - name: app\n    version: 1.0.0\n")
	src, err := source.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Prepare(context.Background(), src, Options{})
	if err != nil || res != nil {
		t.Fatalf("Prepare = %v, %v; want nothing done", res, err)
	}
}

func TestPrepareAddsCharts(t *testing.T) {
	env := newHelmEnv(t)
	r := newChartRepo(t, repoOptions{}, "redis 1.0.0")
	env.add(t, "stable", r.srv.URL, nil)
	env.update(t, "stable", r)
	dir := newExtension(t, "  - name: redis\n    version: ^1.0.0\n    repository: '@stable'\n")
	src, err := source.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Prepare(context.Background(), src, Options{}); err != nil {
		t.Fatal(err)
	}
	if !src.HasFile("charts/redis-1.0.0.tgz") || !src.HasFile(LockFile) {
		t.Fatalf("source files %v", src.Names())
	}
	pkg, err := packager.Build(src, packager.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(pkg.Chart.Dependencies()) != 1 {
		t.Errorf("package subcharts: %d", len(pkg.Chart.Dependencies()))
	}
}

// TestLockMatchesHelm runs the real "helm dependency update" on the chart
// ksbuilder generates and compares its Chart.lock with ours.
func TestLockMatchesHelm(t *testing.T) {
	home, _ := os.UserHomeDir()
	helm := filepath.Join(home, ".cache", "ksbuilder-tools", "bin", "helm-v3.22.0")
	if _, err := os.Stat(helm); err != nil {
		t.Skip("no helm-v3.22.0 in ~/.cache/ksbuilder-tools/bin")
	}
	env := newHelmEnv(t)
	r := newChartRepo(t, repoOptions{}, "redis 1.0.0", "redis 1.2.0", "nginx 3.0.0", "nginx 3.1.0")
	unnamed := newChartRepo(t, repoOptions{}, "mysql 8.0.0", "mysql 8.1.0")
	env.add(t, "stable", r.srv.URL, nil)
	env.update(t, "stable", r)
	deps := "  - name: redis\n    version: ^1.0.0\n    repository: '@stable'\n    condition: redis.enabled\n    tags: [extension]\n" +
		"  - name: nginx\n    version: '>=3.0.0'\n    repository: " + r.srv.URL + "/\n    alias: web\n" +
		"  - name: mysql\n    version: ~8.0\n    repository: " + unnamed.srv.URL + "\n" +
		"  - name: app\n    version: 0.1.0\n"
	dir := newExtension(t, deps)
	saveChartDir(t, filepath.Join(dir, "charts", "app"), "app", "0.1.0")
	ext := loadExtension(t, dir)
	mustBuild(t, dir, Options{Update: true})
	ours := readLockFile(t, dir)

	chartDir := t.TempDir()
	chartYAML, err := extension.MarshalChartYAML(ext.ChartMetadata(""))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(chartDir, "Chart.yaml"), chartYAML, 0o644); err != nil {
		t.Fatal(err)
	}
	saveChartDir(t, filepath.Join(chartDir, "charts", "app"), "app", "0.1.0")
	cmd := exec.Command(helm, "dependency", "update", chartDir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("helm dependency update: %v\n%s", err, out)
	}
	theirs := readLockFile(t, chartDir)
	ours.Generated, theirs.Generated = time.Time{}, time.Time{}
	a, _ := yaml.Marshal(ours)
	b, _ := yaml.Marshal(theirs)
	if string(a) != string(b) {
		t.Errorf("Chart.lock differs from Helm's:\nours:\n%s\nhelm's:\n%s", a, b)
	}
	// And Helm builds from our lock (once it knows every repository).
	env.add(t, "unnamed", unnamed.srv.URL, nil)
	env.update(t, "unnamed", unnamed)
	if err := os.Rename(filepath.Join(dir, LockFile), filepath.Join(chartDir, LockFile)); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(helm, "dependency", "build", "--skip-refresh", chartDir).CombinedOutput(); err != nil {
		t.Fatalf("helm dependency build on our Chart.lock: %v\n%s", err, out)
	}
}

func saveChartDir(t *testing.T, dir, name, version string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	body := "apiVersion: v2\nname: " + name + "\nversion: " + version + "\n"
	if err := os.WriteFile(filepath.Join(dir, "Chart.yaml"), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

// tgz builds a gzip-compressed tar archive of the files, in name order.
func tgz(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := tw.WriteHeader(&tar.Header{Name: n, Mode: 0o644, Size: int64(len(files[n])), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(files[n])); err != nil {
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

func TestPrepareKeepsVendoredSubcharts(t *testing.T) {
	newHelmEnv(t)
	dir := newExtension(t, "  - name: app\n    version: 0.1.0\n    repository: https://charts.invalid\n")
	saveChartDir(t, filepath.Join(dir, "charts", "app"), "app", "0.1.0")
	src, err := source.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if res, err := Prepare(context.Background(), src, Options{}); err != nil || res != nil {
		t.Fatalf("Prepare = %v, %v; want nothing fetched for a vendored subchart", res, err)
	}
	if _, err := Prepare(context.Background(), src, Options{Update: true}); err == nil || !strings.Contains(err.Error(), "charts.invalid") {
		t.Fatalf("Prepare with Update = %v; want the repository asked", err)
	}
}

func TestArchiveChartName(t *testing.T) {
	for base, want := range map[string]string{
		"redis-1.0.0.tgz":             "redis",
		"my-chart-1.0.0-rc.1.tgz":     "my-chart",
		"my-chart-v2.3.4+build.1.tgz": "my-chart",
		"redis.tgz":                   "",
		"redis-latest.tgz":            "",
		"-1.0.0.tgz":                  "",
		"redis-1.0.0.tar.gz":          "",
	} {
		if got := archiveChartName(base); got != want {
			t.Errorf("archiveChartName(%q) = %q, want %q", base, got, want)
		}
	}
}

// TestCredentialsStayOnTheRepositoryHost: an index pointing at another
// host gets no password there, unless pass_credentials_all.
func TestCredentialsStayOnTheRepositoryHost(t *testing.T) {
	env := newHelmEnv(t)
	charts := t.TempDir()
	saveChart(t, charts, "redis", "1.0.0")
	var gotAuth []bool
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _, ok := r.BasicAuth()
		gotAuth = append(gotAuth, ok)
		http.ServeFile(w, r, filepath.Join(charts, filepath.Base(r.URL.Path)))
	}))
	t.Cleanup(other.Close)
	r := newChartRepo(t, repoOptions{user: "u", password: "p"})
	index := "apiVersion: v1\nentries:\n  redis:\n  - name: redis\n    version: 1.0.0\n    urls: [" + other.URL + "/redis-1.0.0.tgz]\n"
	if err := os.WriteFile(filepath.Join(r.dir, "index.yaml"), []byte(index), 0o644); err != nil {
		t.Fatal(err)
	}
	env.add(t, "private", r.srv.URL, map[string]any{"username": "u", "password": "p"})
	dir := newExtension(t, "  - name: redis\n    version: 1.0.0\n    repository: '@private'\n")
	mustBuild(t, dir, Options{Update: true})
	env.repos = nil
	env.add(t, "private", r.srv.URL, map[string]any{"username": "u", "password": "p", "pass_credentials_all": true})
	if err := os.RemoveAll(filepath.Join(dir, "charts")); err != nil {
		t.Fatal(err)
	}
	mustBuild(t, dir, Options{})
	if len(gotAuth) != 2 || gotAuth[0] || !gotAuth[1] {
		t.Errorf("credentials sent to the other host: %v, want [false true]", gotAuth)
	}
}
