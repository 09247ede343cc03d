package cluster_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/ksbuilder/ksbuilder/create"
	"github.com/ksbuilder/ksbuilder/pkg/cluster"
	"github.com/ksbuilder/ksbuilder/pkg/kubesphere"
	"github.com/ksbuilder/ksbuilder/pkg/packager"
	"github.com/ksbuilder/ksbuilder/pkg/source"
)

// scaffold creates an extension with "ksbuilder create" and returns its
// directory.
func scaffold(t *testing.T, name string, typ create.Type) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	if _, err := create.Create(context.Background(), create.Options{Name: name, Category: "dev-tools", Author: "Test", Type: typ, Dir: dir}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// edit rewrites a file of an extension.
func edit(t *testing.T, dir, file string, change func(string) string) {
	t.Helper()
	path := filepath.Join(dir, file)
	data, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(change(string(data))), 0o644); err != nil {
		t.Fatal(err)
	}
}

// addDeployment adds a Deployment "<release>-<chart>" with
// .Values.replicaCount replicas to a subchart of an extension: the
// scaffold's frontend has no workload of its own.
func addDeployment(t *testing.T, dir, chart string) {
	t.Helper()
	edit(t, dir, "charts/"+chart+"/templates/test-deployment.yaml", func(string) string {
		return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-` + chart + `
spec:
  replicas: {{ .Values.replicaCount | default 1 }}
  selector:
    matchLabels: {app: ` + chart + `}
  template:
    metadata:
      labels: {app: ` + chart + `}
    spec:
      containers:
        - name: app
          image: {{ .Values.global.imageRegistry | default "docker.io" }}/library/nginx:1.27
`
	})
}

// setVersion changes the version in extension.yaml.
func setVersion(t *testing.T, dir, version string) {
	edit(t, dir, "extension.yaml", func(s string) string { return strings.Replace(s, "version: 0.1.0", "version: "+version, 1) })
}

// build packages an extension directory.
func build(t *testing.T, dir string) *packager.Package {
	t.Helper()
	src, err := source.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	pkg, err := packager.Build(src, packager.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return pkg
}

// publication builds the objects that publish an extension directory.
func publication(t *testing.T, dir string) *cluster.Publication {
	t.Helper()
	pub, err := cluster.NewPublication(build(t, dir), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return pub
}

// newClient connects to the test control plane as an administrator.
func newClient(t *testing.T) *cluster.Client {
	t.Helper()
	c, err := cluster.NewForConfig(testEnv.Require(t))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// testContext ends with the test.
func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// waitOptions are quick settings for tests, logging events.
func waitOptions(t *testing.T, events *[]cluster.Event) cluster.WaitOptions {
	return cluster.WaitOptions{
		Timeout: time.Minute, Interval: 200 * time.Millisecond,
		Notify: func(e cluster.Event) {
			t.Logf("%s %s %s %s", e.Time.Format("15:04:05.000"), e.Cluster, e.State, e.Detail)
			if events != nil {
				*events = append(*events, e)
			}
		},
	}
}

// install publishes an extension directory, installs it and waits.
func install(t *testing.T, c *cluster.Client, dir string, opts cluster.InstallOptions) (*cluster.InstallResult, *kubesphere.InstallPlan, error) {
	t.Helper()
	ctx := testContext(t)
	opts.Publication = publication(t, dir)
	res, err := c.Install(ctx, opts)
	if err != nil {
		return nil, nil, err
	}
	plan, err := c.Wait(ctx, res.Plan, res.Expect, waitOptions(t, nil))
	return res, plan, err
}

// mustInstall is install that fails the test on error.
func mustInstall(t *testing.T, c *cluster.Client, dir string, opts cluster.InstallOptions) (*cluster.InstallResult, *kubesphere.InstallPlan) {
	t.Helper()
	res, plan, err := install(t, c, dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	return res, plan
}

// uninstall deletes an extension's plan and waits until it is gone.
func uninstall(t *testing.T, c *cluster.Client, name string, force bool) error {
	t.Helper()
	ctx := testContext(t)
	plan, err := c.Uninstall(ctx, cluster.UninstallOptions{Name: name, Force: force})
	if err != nil || plan == nil {
		return err
	}
	return c.WaitDeleted(ctx, plan, waitOptions(t, nil))
}

// waitResult is the outcome of a wait run in the background.
type waitResult struct {
	plan *kubesphere.InstallPlan
	err  error
}

// startWait runs Wait in the background with a fake clock, which only moves
// when the test steps it. It returns the clock, the wait's events and its
// outcome.
func startWait(ctx context.Context, t *testing.T, c *cluster.Client, start *kubesphere.InstallPlan, exp cluster.Expectation, opts cluster.WaitOptions) (*clocktesting.FakeClock, <-chan cluster.Event, <-chan waitResult) {
	t.Helper()
	clk := clocktesting.NewFakeClock(time.Now())
	opts.Clock = clk
	events := make(chan cluster.Event, 256)
	log := opts.Notify
	opts.Notify = func(e cluster.Event) {
		log(e)
		select {
		case events <- e:
		case <-ctx.Done():
		}
	}
	result := make(chan waitResult, 1)
	go func() {
		plan, err := c.Wait(ctx, start, exp, opts)
		result <- waitResult{plan, err}
	}()
	return clk, events, result
}

// awaitEvent reads events until one matches.
func awaitEvent(ctx context.Context, t *testing.T, events <-chan cluster.Event, match func(cluster.Event) bool) {
	t.Helper()
	for {
		select {
		case e := <-events:
			if match(e) {
				return
			}
		case <-ctx.Done():
			t.Fatal("the awaited event never came")
		}
	}
}

// awaitResult returns the outcome of a background wait.
func awaitResult(ctx context.Context, t *testing.T, result <-chan waitResult) waitResult {
	t.Helper()
	select {
	case r := <-result:
		return r
	case <-ctx.Done():
		t.Fatal("the wait never ended")
	}
	return waitResult{}
}
