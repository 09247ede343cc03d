package dev_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/ksbuilder/ksbuilder/create"
	"github.com/ksbuilder/ksbuilder/internal/testutil/testcluster"
	"github.com/ksbuilder/ksbuilder/pkg/cluster"
	"github.com/ksbuilder/ksbuilder/pkg/dev"
	"github.com/ksbuilder/ksbuilder/pkg/diag"
	"github.com/ksbuilder/ksbuilder/pkg/kubesphere"
	"github.com/ksbuilder/ksbuilder/pkg/values"
)

// What a recorder saw, one type per Reporter call.
type (
	step    string
	warning string
	problem struct{ err error }
	ended   struct{ err error } // Run returned
	live    string              // an Event with Live set: a wait started
	settled struct {
		plan *kubesphere.InstallPlan
		err  error
	}
)

// recorder is a Reporter that logs every call and hands it to the test.
type recorder struct {
	t  testing.TB
	ch chan any
	// quiet logs nothing (benchmarks).
	quiet bool
}

func newRecorder(t testing.TB) *recorder { return &recorder{t: t, ch: make(chan any, 10000)} }

func (r *recorder) logf(format string, args ...any) {
	if !r.quiet {
		r.t.Logf(format, args...)
	}
}

// put hands a call to the test; when the test is far behind, steps and
// warnings are dropped rather than block the session.
func (r *recorder) put(v any) {
	switch v.(type) {
	case step, warning:
		select {
		case r.ch <- v:
		default:
		}
		return
	}
	r.ch <- v
}

func (r *recorder) Step(msg string)         { r.logf("step: %s", msg); r.put(step(msg)) }
func (r *recorder) Warn(msg string)         { r.logf("warn: %s", msg); r.put(warning(msg)) }
func (r *recorder) Change(c dev.Change)     { r.logf("change: %+v", c); r.put(c) }
func (r *recorder) Problem(err error)       { r.logf("problem: %v", err); r.put(problem{err}) }
func (r *recorder) Warnings(list diag.List) { r.logf("warnings: %v", list) }
func (r *recorder) Applied(a dev.Applied)   { r.logf("applied: %+v", a); r.put(a) }
func (r *recorder) Event(e cluster.Event) {
	r.logf("event: %s %s %s", e.Cluster, e.State, e.Detail)
	if e.Live != "" {
		r.put(live(e.Live))
	}
}
func (r *recorder) BundleUpdated(u dev.BundleUpdate) {
	r.logf("bundle updated: %+v", u)
	r.put(u)
}
func (r *recorder) Settled(p *kubesphere.InstallPlan, err error) {
	version := ""
	if p != nil {
		version = p.Spec.Extension.Version
	}
	r.logf("settled: %s %v", version, err)
	r.put(settled{p, err})
}

// await reads what the session reports until match is true, and returns
// that.
func (r *recorder) await(ctx context.Context, what string, match func(any) bool) any {
	r.t.Helper()
	for {
		select {
		case v := <-r.ch:
			if match(v) {
				return v
			}
		case <-ctx.Done():
			r.t.Fatalf("never saw %s", what)
		}
	}
}

// awaitInstalled waits until KubeSphere reports a version installed.
func (r *recorder) awaitInstalled(ctx context.Context, version string) *kubesphere.InstallPlan {
	r.t.Helper()
	v := r.await(ctx, version+" installed", func(v any) bool {
		s, ok := v.(settled)
		if ok && s.err != nil {
			r.t.Fatalf("installation failed: %v", s.err)
		}
		return ok && s.plan.Spec.Extension.Version == version
	})
	return v.(settled).plan
}

// awaitApplied waits until an InstallPlan write.
func (r *recorder) awaitApplied(ctx context.Context) dev.Applied {
	r.t.Helper()
	return r.await(ctx, "an InstallPlan write", func(v any) bool {
		if p, ok := v.(problem); ok {
			r.t.Fatalf("unexpected problem: %v", p.err)
		}
		_, ok := v.(dev.Applied)
		return ok
	}).(dev.Applied)
}

// scaffold creates a Multicluster extension with a backend subchart.
func scaffold(t *testing.T, name string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	if _, err := create.Create(context.Background(), create.Options{Name: name, Category: "dev-tools", Author: "Test", Type: create.Backend, Dir: dir}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// edit rewrites a file of an extension as many editors save one: the new
// content is written elsewhere and renamed over the file, so the watcher
// never sees it half written.
func edit(t *testing.T, dir, file string, change func(string) string) {
	t.Helper()
	p := filepath.Join(dir, file)
	data, err := os.ReadFile(p)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	staged := filepath.Join(t.TempDir(), filepath.Base(p))
	if err := os.WriteFile(staged, []byte(change(string(data))), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(staged, p); err != nil {
		t.Fatal(err)
	}
}

func replace(old, new string) func(string) string {
	return func(s string) string {
		if !strings.Contains(s, old) {
			panic("the fixture has no " + old)
		}
		return strings.Replace(s, old, new, 1)
	}
}

func content(s string) func(string) string { return func(string) string { return s } }

// session runs dev.Run in the background; stop cancels it and returns its
// error.
func session(t *testing.T, opts dev.Options) (rec *recorder, stop func() error) {
	t.Helper()
	rec = newRecorder(t)
	return rec, startSession(t, rec, opts)
}

// startSession runs dev.Run in the background, reporting to rec, on
// opts.Target's client or a new one; stop cancels it and returns its
// error.
func startSession(t testing.TB, rec *recorder, opts dev.Options) (stop func() error) {
	t.Helper()
	if opts.Target.Client == nil {
		c, err := cluster.NewForConfig(testEnv.Require(t))
		if err != nil {
			t.Fatal(err)
		}
		opts.Target = cluster.Target{Client: c}
	}
	opts.Reporter = rec
	if opts.Debounce == 0 {
		opts.Debounce = 50 * time.Millisecond
	}
	if opts.Wait.Timeout == 0 {
		opts.Wait = cluster.WaitOptions{Timeout: time.Minute, Interval: 200 * time.Millisecond}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		err := dev.Run(ctx, opts)
		rec.put(ended{err})
		done <- err
	}()
	stopped := false
	stop = func() error {
		stopped = true
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(3 * time.Minute):
			t.Fatal("the session did not stop")
			return nil
		}
	}
	t.Cleanup(func() {
		if !stopped {
			_ = stop()
		}
	})
	return stop
}

func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func devVersions(ctx context.Context, t *testing.T, c *cluster.Client, name string) []string {
	t.Helper()
	devs, err := c.DevVersions(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, d := range devs {
		out = append(out, d.Version)
	}
	return out
}

// TestSession edits an extension through a dev session on the real file
// system: a template, values.yaml, a broken template, extension.yaml, and
// Ctrl-C; then a restarted session continues the numbering, keeps only
// three development versions and cleans up.
func TestSession(t *testing.T) {
	cfg := testEnv.Require(t)
	ctx := testContext(t)
	c, err := cluster.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	const name = "devhello"
	ns := kubesphere.DefaultTargetNamespace(name)
	dir := scaffold(t, name)

	rec, stop := session(t, dev.Options{Dir: dir})
	rec.awaitInstalled(ctx, "0.1.0-dev.1")

	// A template: a new development version, really installed.
	edit(t, dir, "charts/backend/templates/dev-configmap.yaml", content(
		"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dev-marker\ndata:\n  edit: \"1\"\n"))
	if a := rec.awaitApplied(ctx); a.Version != "0.1.0-dev.2" || a.ValuesOnly {
		t.Fatalf("after a template edit: %+v", a)
	}
	rec.awaitInstalled(ctx, "0.1.0-dev.2")
	if _, err := kube.CoreV1().ConfigMaps(ns).Get(ctx, "dev-marker", metav1.GetOptions{}); err != nil {
		t.Fatalf("the new template was not installed: %v", err)
	}

	// values.yaml: the same version, a new config.
	edit(t, dir, "values.yaml", replace("replicaCount: 1", "replicaCount: 3"))
	a := rec.awaitApplied(ctx)
	if a.Version != "0.1.0-dev.2" || !a.ValuesOnly || a.Action != cluster.Configured {
		t.Fatalf("after a values edit: %+v", a)
	}
	plan := rec.awaitInstalled(ctx, "0.1.0-dev.2")
	if !strings.Contains(plan.Spec.Config, "replicaCount: 3") {
		t.Errorf("config %q does not carry the new value", plan.Spec.Config)
	}
	deploys, err := kube.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{})
	if err != nil || len(deploys.Items) != 1 {
		t.Fatalf("deployments: %v %v", deploys, err)
	}
	if r := deploys.Items[0].Spec.Replicas; r == nil || *r != 3 {
		t.Errorf("replicas %v after the values edit, want 3", r)
	}
	if got := devVersions(ctx, t, c, name); !slices.Equal(got, []string{"0.1.0-dev.1", "0.1.0-dev.2"}) {
		t.Errorf("dev versions %v after a values edit", got)
	}

	// A broken template: diagnostics, the cluster untouched.
	before, err := c.Plan(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	edit(t, dir, "charts/backend/templates/broken.yaml", content("kind: {{ .Values.x \n"))
	p := rec.await(ctx, "a problem", func(v any) bool {
		if _, ok := v.(dev.Applied); ok {
			t.Fatal("a broken template was applied")
		}
		_, ok := v.(problem)
		return ok
	}).(problem)
	list, ok := diag.AsErrors(p.err)
	if !ok || !strings.Contains(list[0].File, "broken.yaml") {
		t.Fatalf("problem %v is not a diagnostic of broken.yaml", p.err)
	}
	after, err := c.Plan(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	if after.ResourceVersion != before.ResourceVersion {
		t.Error("a broken change wrote the InstallPlan")
	}
	if got := devVersions(ctx, t, c, name); len(got) != 2 {
		t.Errorf("a broken change published: %v", got)
	}

	// Fixing it brings back what is installed: nothing to do.
	if err := os.Remove(filepath.Join(dir, "charts/backend/templates/broken.yaml")); err != nil {
		t.Fatal(err)
	}
	rec.await(ctx, "nothing changed", func(v any) bool {
		if _, ok := v.(dev.Applied); ok {
			t.Fatal("an unchanged extension was published again")
		}
		s, ok := v.(step)
		return ok && strings.Contains(string(s), "Nothing changed")
	})

	// extension.yaml: the new version's development versions.
	edit(t, dir, "extension.yaml", replace("version: 0.1.0", "version: 0.2.0"))
	if a := rec.awaitApplied(ctx); a.Version != "0.2.0-dev.3" {
		t.Fatalf("after an extension.yaml edit: %+v", a)
	}
	plan = rec.awaitInstalled(ctx, "0.2.0-dev.3")
	if plan.Spec.Config != "" {
		t.Errorf("config %q: the published chart carries values.yaml now, and no values flag was given", plan.Spec.Config)
	}

	if err := stop(); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run returned %v, want context.Canceled", err)
	}
	if _, err := c.Plan(ctx, name); err != nil {
		t.Fatalf("without --cleanup the plan must stay: %v", err)
	}

	// A restarted session continues after dev.3, keeps three development
	// versions, and cleans up.
	rec, stop = session(t, dev.Options{Dir: dir, Cleanup: true})
	rec.awaitInstalled(ctx, "0.2.0-dev.4")
	edit(t, dir, "charts/backend/templates/dev-configmap.yaml", replace(`edit: "1"`, `edit: "2"`))
	a = rec.awaitApplied(ctx)
	if a.Version != "0.2.0-dev.5" || len(a.Pruned) == 0 {
		t.Fatalf("after the fifth publication: %+v", a)
	}
	if got := devVersions(ctx, t, c, name); !slices.Equal(got, []string{"0.2.0-dev.3", "0.2.0-dev.4", "0.2.0-dev.5"}) {
		t.Errorf("dev versions %v, want the last three", got)
	}
	rec.awaitInstalled(ctx, "0.2.0-dev.5")

	if err := stop(); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run returned %v, want context.Canceled", err)
	}
	if _, err := c.Plan(ctx, name); !errors.Is(err, cluster.ErrNotInstalled) {
		t.Errorf("after cleanup the plan is still there: %v", err)
	}
	if got := devVersions(ctx, t, c, name); len(got) != 0 {
		t.Errorf("after cleanup dev versions remain: %v", got)
	}
}

// fakeSource is an EventSource the test feeds.
type fakeSource struct {
	events chan string
	errs   chan error
	once   sync.Once
}

func newFakeSource() *fakeSource {
	return &fakeSource{events: make(chan string, 100), errs: make(chan error, 1)}
}

func (f *fakeSource) Events() <-chan string { return f.events }
func (f *fakeSource) Errors() <-chan error  { return f.errs }
func (f *fakeSource) Close() error {
	f.once.Do(func() { close(f.events) })
	return nil
}

// TestValuesFile changes a values file given with -f, outside the
// extension: the config changes, the version does not, and an editor's
// swap file and a temporary file that came and went do not count; after a
// change that failed, a values change publishes.
func TestValuesFile(t *testing.T) {
	ctx := testContext(t)
	const name = "devvalues"
	dir := scaffold(t, name)
	valuesFile := filepath.Join(t.TempDir(), "values-dev.yaml")
	edit(t, filepath.Dir(valuesFile), "values-dev.yaml", content("backend:\n  replicaCount: 2\n"))
	src := newFakeSource()
	rec, stop := session(t, dev.Options{Dir: dir, Events: src, Cleanup: true,
		Values: values.Options{ValueFiles: []string{valuesFile}, Values: []string{"backend.extra=x"}}})
	plan := rec.awaitInstalled(ctx, "0.1.0-dev.1")
	if !strings.Contains(plan.Spec.Config, "replicaCount: 2") || !strings.Contains(plan.Spec.Config, "extra: x") {
		t.Fatalf("config %q does not carry the values flags", plan.Spec.Config)
	}

	edit(t, filepath.Dir(valuesFile), "values-dev.yaml", content("backend:\n  replicaCount: 4\n"))
	src.events <- filepath.Join(dir, ".values.yaml.swp")
	src.events <- filepath.Join(dir, "values.yaml.sb-1234") // came and went
	src.events <- valuesFile
	ch := rec.await(ctx, "a change", func(v any) bool { _, ok := v.(dev.Change); return ok }).(dev.Change)
	if !ch.ValuesOnly || !slices.Equal(ch.Files, []string{valuesFile}) {
		t.Errorf("change %+v, want the values file alone", ch)
	}
	if a := rec.awaitApplied(ctx); !a.ValuesOnly || a.Version != "0.1.0-dev.1" {
		t.Errorf("applied %+v, want a config update of 0.1.0-dev.1", a)
	}
	plan = rec.awaitInstalled(ctx, "0.1.0-dev.1")
	if !strings.Contains(plan.Spec.Config, "replicaCount: 4") {
		t.Errorf("config %q does not carry the edited values file", plan.Spec.Config)
	}

	// A change that was not applied is still pending: a values change
	// after it publishes everything.
	tmpl := "charts/backend/templates/extra.yaml"
	edit(t, dir, tmpl, content("kind: {{ .Values.x \n"))
	src.events <- filepath.Join(dir, tmpl)
	rec.await(ctx, "a problem", func(v any) bool { _, ok := v.(problem); return ok })
	edit(t, dir, tmpl, content("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n"))
	edit(t, filepath.Dir(valuesFile), "values-dev.yaml", content("backend:\n  replicaCount: 5\n"))
	src.events <- valuesFile
	if a := rec.awaitApplied(ctx); a.ValuesOnly || a.Version != "0.1.0-dev.2" {
		t.Errorf("applied %+v, want a publication of 0.1.0-dev.2", a)
	}
	plan = rec.awaitInstalled(ctx, "0.1.0-dev.2")
	if !strings.Contains(plan.Spec.Config, "replicaCount: 5") {
		t.Errorf("config %q does not carry the edited values file", plan.Spec.Config)
	}
	if err := stop(); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run returned %v", err)
	}
}

// TestFailedInstallation reports KubeSphere's failure with its diagnosis,
// keeps watching, and installs the fix.
func TestFailedInstallation(t *testing.T) {
	ctx := testContext(t)
	const name = "devfail"
	dir := scaffold(t, name)
	src := newFakeSource()
	rec, stop := session(t, dev.Options{Dir: dir, Events: src, Cleanup: true})
	rec.awaitInstalled(ctx, "0.1.0-dev.1")

	// The API server refuses the object: Helm's install fails in the job.
	bad := "charts/backend/templates/bad.yaml"
	edit(t, dir, bad, content("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Not_A_DNS_Name\n"))
	src.events <- filepath.Join(dir, bad)
	if a := rec.awaitApplied(ctx); a.Version != "0.1.0-dev.2" {
		t.Fatalf("applied %+v", a)
	}
	s := rec.await(ctx, "the failure", func(v any) bool { _, ok := v.(settled); return ok }).(settled)
	var failed *cluster.FailedError
	if !errors.As(s.err, &failed) || failed.Diagnosis == nil {
		t.Fatalf("settled with %v, want a *cluster.FailedError with a diagnosis", s.err)
	}

	if err := os.Remove(filepath.Join(dir, bad)); err != nil {
		t.Fatal(err)
	}
	src.events <- filepath.Join(dir, bad)
	rec.awaitInstalled(ctx, "0.1.0-dev.3")
	if err := stop(); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run returned %v", err)
	}
}

// TestSetFile checks that a change to a --set-file file is a change of
// values, and that a config the chart does not render with, or renders
// into a document that is not an object, is refused before anything is
// written.
func TestSetFile(t *testing.T) {
	ctx := testContext(t)
	const name = "devsetfile"
	dir := scaffold(t, name)
	edit(t, dir, "charts/backend/values.yaml", func(s string) string { return s + "token: default\n" })
	edit(t, dir, "charts/backend/templates/token.yaml", content(
		"{{ if eq .Values.token \"raw\" }}just text{{ else }}apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: token\ndata:\n"+
			"  token: {{ required \"backend.token is required\" .Values.token | quote }}\n{{ end }}"))
	tokenFile := filepath.Join(t.TempDir(), "token")
	edit(t, filepath.Dir(tokenFile), "token", content("t1"))
	src := newFakeSource()
	rec, stop := session(t, dev.Options{Dir: dir, Events: src, Cleanup: true,
		Values: values.Options{FileValues: []string{"backend.token=" + tokenFile}}})
	plan := rec.awaitInstalled(ctx, "0.1.0-dev.1")
	if !strings.Contains(plan.Spec.Config, "token: t1") {
		t.Fatalf("config %q does not carry the --set-file value", plan.Spec.Config)
	}

	// An empty token: the chart does not render with the config.
	edit(t, filepath.Dir(tokenFile), "token", content(""))
	src.events <- tokenFile
	ch := rec.await(ctx, "a change", func(v any) bool { _, ok := v.(dev.Change); return ok }).(dev.Change)
	if !ch.ValuesOnly || !slices.Equal(ch.Files, []string{tokenFile}) {
		t.Errorf("change %+v, want the --set-file file alone, values only", ch)
	}
	p := rec.await(ctx, "a problem", func(v any) bool { _, ok := v.(problem); return ok }).(problem)
	if msg := p.err.Error(); !strings.Contains(msg, "with these values") || !strings.Contains(msg, "backend.token is required") {
		t.Errorf("problem %v, want the render's failure with the config", p.err)
	}

	// A config with which a document is not an object.
	edit(t, filepath.Dir(tokenFile), "token", content("raw"))
	src.events <- tokenFile
	p = rec.await(ctx, "a problem", func(v any) bool { _, ok := v.(problem); return ok }).(problem)
	if msg := p.err.Error(); !strings.Contains(msg, "token.yaml: document 1 is not a valid object") {
		t.Errorf("problem %v, want the document that is not an object", p.err)
	}

	edit(t, filepath.Dir(tokenFile), "token", content("t2"))
	src.events <- tokenFile
	if a := rec.awaitApplied(ctx); !a.ValuesOnly || a.Version != "0.1.0-dev.1" {
		t.Errorf("applied %+v, want a config update of 0.1.0-dev.1", a)
	}
	plan = rec.awaitInstalled(ctx, "0.1.0-dev.1")
	if !strings.Contains(plan.Spec.Config, "token: t2") {
		t.Errorf("config %q does not carry the edited --set-file file", plan.Spec.Config)
	}
	if err := stop(); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run returned %v", err)
	}
}

// TestClusterValues checks that the per-cluster values are written as the
// cluster's override by every installation, that the agent of that
// cluster gets them, that a change to a --cluster-values file only updates
// the plan, and that values for a cluster the agent is not placed on stop
// the session before anything is written.
func TestClusterValues(t *testing.T) {
	ctx := testContext(t)
	const name = "devoverride"
	host := testcluster.HostClusterName
	dir := scaffold(t, name)
	hostFile := filepath.Join(t.TempDir(), "host.yaml")
	edit(t, filepath.Dir(hostFile), "host.yaml", content("backend:\n  replicaCount: 2\n"))
	src := newFakeSource()
	rec, stop := session(t, dev.Options{Dir: dir, Events: src, Cleanup: true,
		ClusterValues: map[string]values.Options{host: {ValueFiles: []string{hostFile}, Values: []string{"backend.image.pullPolicy=Always"}}}})
	plan := rec.awaitInstalled(ctx, "0.1.0-dev.1")
	if got := plan.Spec.ClusterScheduling.Overrides[host]; got != "backend:\n  image:\n    pullPolicy: Always\n  replicaCount: 2\n" {
		t.Fatalf("override of %s %q", host, got)
	}
	agentReplicas := func() int32 {
		t.Helper()
		dep, err := kubernetes.NewForConfigOrDie(testEnv.Config).AppsV1().Deployments("extension-"+name).Get(ctx, name+"-agent-backend", metav1.GetOptions{})
		if err != nil || dep.Spec.Replicas == nil {
			t.Fatalf("the agent's deployment: %v", err)
		}
		return *dep.Spec.Replicas
	}
	if got := agentReplicas(); got != 2 {
		t.Errorf("the agent runs %d replicas, want 2 from the override", got)
	}

	edit(t, filepath.Dir(hostFile), "host.yaml", content("backend:\n  replicaCount: 3\n"))
	src.events <- hostFile
	ch := rec.await(ctx, "a change", func(v any) bool { _, ok := v.(dev.Change); return ok }).(dev.Change)
	if !ch.ValuesOnly || !slices.Equal(ch.Files, []string{hostFile}) || !slices.Equal(ch.Clusters, []string{host}) {
		t.Errorf("change %+v, want the values of cluster %s alone", ch, host)
	}
	if a := rec.awaitApplied(ctx); !a.ValuesOnly || a.Version != "0.1.0-dev.1" {
		t.Errorf("applied %+v, want a plan update of 0.1.0-dev.1", a)
	}
	plan = rec.awaitInstalled(ctx, "0.1.0-dev.1")
	if got := plan.Spec.ClusterScheduling.Overrides[host]; !strings.Contains(got, "replicaCount: 3") || plan.Spec.Config != "" {
		t.Errorf("override %q, config %q: want the edited file in the override only", got, plan.Spec.Config)
	}
	if got := agentReplicas(); got != 3 {
		t.Errorf("the agent runs %d replicas, want 3 from the edited override", got)
	}

	// A new version carries the override too.
	tmpl := "charts/backend/templates/extra.yaml"
	edit(t, dir, tmpl, content("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n"))
	src.events <- filepath.Join(dir, tmpl)
	plan = rec.awaitInstalled(ctx, "0.1.0-dev.2")
	if got := plan.Spec.ClusterScheduling.Overrides[host]; !strings.Contains(got, "replicaCount: 3") {
		t.Errorf("override after a publication %q", got)
	}
	if err := stop(); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run returned %v", err)
	}

	// Values for a cluster the agent is not placed on: nothing is written.
	other := scaffold(t, "devoverride-unplaced")
	rec, _ = session(t, dev.Options{Dir: other, Events: newFakeSource(),
		ClusterValues: map[string]values.Options{"member9": {Values: []string{"backend.replicaCount=2"}}}})
	end := rec.await(ctx, "the end of the session", func(v any) bool { _, ok := v.(ended); return ok }).(ended)
	var notPlaced *cluster.OverrideClusterError
	if !errors.As(end.err, &notPlaced) || notPlaced.Cluster != "member9" {
		t.Fatalf("Run returned %v, want an *OverrideClusterError for member9", end.err)
	}
	c, err := cluster.NewForConfig(testEnv.Config)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Plan(ctx, "devoverride-unplaced"); !errors.Is(err, cluster.ErrNotInstalled) {
		t.Errorf("the plan: %v, want none", err)
	}
	if devs := devVersions(ctx, t, c, "devoverride-unplaced"); len(devs) != 0 {
		t.Errorf("published %v, want nothing", devs)
	}
}

// TestSessionNamesTheFlagBehindARefusedValue starts a session whose -f
// file gives a value values.schema.json refuses: the first installation is
// refused, and the error names the file, as install's does.
func TestSessionNamesTheFlagBehindARefusedValue(t *testing.T) {
	testEnv.Require(t)
	ctx := testContext(t)
	dir := scaffold(t, "devschema")
	edit(t, dir, "values.schema.json", content(`{"properties": {"replicas": {"type": "integer"}}}`+"\n"))
	valuesFile := filepath.Join(t.TempDir(), "values-dev.yaml")
	if err := os.WriteFile(valuesFile, []byte("replicas: three\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rec, _ := session(t, dev.Options{Dir: dir, Values: values.Options{ValueFiles: []string{valuesFile}}})
	end := rec.await(ctx, "the end of the session", func(v any) bool {
		if _, ok := v.(dev.Applied); ok {
			t.Fatal("published with a value the schema refuses")
		}
		_, ok := v.(ended)
		return ok
	}).(ended)
	want := "/replicas: got string, want integer (the value comes from -f " + valuesFile + "; fix it or the schema)"
	if end.err == nil || !strings.Contains(end.err.Error(), want) {
		t.Errorf("the session ended with %v, want an error containing %q", end.err, want)
	}
}
