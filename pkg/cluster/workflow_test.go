package cluster_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ksbuilder/ksbuilder/create"
	"github.com/ksbuilder/ksbuilder/pkg/cluster"
	"github.com/ksbuilder/ksbuilder/pkg/kubesphere"
)

// recorder is a cluster.Progress that keeps what it is told.
type recorder struct {
	mu     sync.Mutex
	steps  []string
	warns  []string
	events []cluster.Event
}

func (r *recorder) Step(msg string) { r.mu.Lock(); defer r.mu.Unlock(); r.steps = append(r.steps, msg) }
func (r *recorder) Warn(msg string) { r.mu.Lock(); defer r.mu.Unlock(); r.warns = append(r.warns, msg) }
func (r *recorder) Event(e cluster.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

// The workflows of the commands, one call each, reporting through
// Progress.
func TestWorkflows(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	ctx := testContext(t)
	dir := scaffold(t, "flow", create.Frontend)
	target := cluster.Target{Client: c}
	wait := cluster.WaitOptions{Timeout: time.Minute, Interval: 200 * time.Millisecond}

	pub, err := cluster.Publish(ctx, cluster.PublishRequest{Target: target, Package: build(t, dir), Created: time.Now(), DryRun: true})
	if err != nil || len(pub.Objects) != 3 || pub.Result != nil {
		t.Fatalf("publish dry run: %+v %v", pub, err)
	}

	var p recorder
	res, err := cluster.Install(ctx, cluster.InstallRequest{Target: target, Package: build(t, dir), Created: time.Now(), Wait: wait, Progress: &p})
	if err != nil {
		t.Fatal(err)
	}
	if res.Name != "flow" || res.Final == nil || res.Final.Status.State != kubesphere.StateInstalled {
		t.Fatalf("install: %+v", res)
	}
	for _, want := range []string{"ConfigMap kubesphere-system/extension-flow-0.1.0-chart created", "ExtensionVersion flow-0.1.0 created", "InstallPlan flow created"} {
		if !slices.Contains(p.steps, want) {
			t.Errorf("no step %q in %q", want, p.steps)
		}
	}
	if i := slices.IndexFunc(p.events, func(e cluster.Event) bool { return e.State == kubesphere.StateInstalled }); i < 0 || p.events[i].Name != "flow" {
		t.Errorf("events %+v", p.events)
	}

	st, err := cluster.Status(ctx, cluster.StatusRequest{Target: target, Name: "flow", Watch: true, Wait: wait})
	if err != nil || st.Plan.Status.State != kubesphere.StateInstalled || st.Uninstalled {
		t.Fatalf("status: %+v %v", st, err)
	}

	// Unpublishing an installed extension uninstalls it first when asked.
	p = recorder{}
	results, err := cluster.Unpublish(ctx, cluster.UnpublishRequest{Target: target, UnpublishOptions: cluster.UnpublishOptions{Name: "flow"}, Uninstall: true, Wait: wait, Progress: &p})
	if err != nil || len(results) != 3 || results[2].String() != "Extension flow deleted" {
		t.Fatalf("unpublish: %v %v", results, err)
	}
	if !slices.Contains(p.steps, "Uninstalling flow 0.1.0 first") {
		t.Errorf("steps %q", p.steps)
	}
	res2, err := cluster.Uninstall(ctx, cluster.UninstallRequest{Target: target, UninstallOptions: cluster.UninstallOptions{Name: "flow"}})
	if !errors.Is(err, cluster.ErrNotInstalled) || res2 != nil {
		t.Errorf("uninstall again: %v %v", res2, err)
	}
	if _, err := cluster.Status(ctx, cluster.StatusRequest{Target: target, Name: "flow"}); !errors.Is(err, cluster.ErrNotInstalled) {
		t.Errorf("status when gone: %v", err)
	}
}

// Library errors are neutral: the CLI maps them to its flags.
func TestWorkflowErrorsNameNoFlags(t *testing.T) {
	ctx := context.Background()
	dir := scaffold(t, "neutral", create.Frontend)
	_, err := cluster.Install(ctx, cluster.InstallRequest{Package: build(t, dir), InstallOptions: cluster.InstallOptions{Version: "9.9.9"}})
	var mismatch *cluster.VersionMismatchError
	if !errors.As(err, &mismatch) || mismatch.Requested != "9.9.9" || mismatch.Version != "0.1.0" {
		t.Errorf("version mismatch: %v", err)
	}
	errs := []error{err}
	_, err = cluster.Install(ctx, cluster.InstallRequest{Package: build(t, dir), InstallOptions: cluster.InstallOptions{Clusters: []string{"host"}}})
	if !errors.Is(err, cluster.ErrNotMulticluster) {
		t.Errorf("not multicluster: %v", err)
	}
	errs = append(errs, err)
	_, err = cluster.Install(ctx, cluster.InstallRequest{InstallOptions: cluster.InstallOptions{Name: "neutral"}})
	if !errors.Is(err, cluster.ErrVersionRequired) {
		t.Errorf("no version: %v", err)
	}
	errs = append(errs, err)
	_, err = cluster.Uninstall(ctx, cluster.UninstallRequest{UninstallOptions: cluster.UninstallOptions{Name: "neutral"}, Unpublish: true, NoWait: true})
	if !errors.Is(err, cluster.ErrUnpublishNeedsWait) {
		t.Errorf("unpublish without waiting: %v", err)
	}
	errs = append(errs, err, &cluster.PlanExistsError{Name: "neutral", Version: "0.1.0"}, cluster.ErrNoConfig,
		&cluster.KubeconfigNotFoundError{Paths: []string{"/missing"}},
		&cluster.InstalledVersionError{Name: "neutral", Installed: "0.1.0", Requested: "0.2.0"},
		&cluster.PlanBusyError{Name: "neutral", State: kubesphere.StateUninstalling}, errors.New(cluster.ForceHint))
	for _, err := range errs {
		if err != nil && strings.Contains(err.Error(), "--") {
			t.Errorf("names a flag: %v", err)
		}
	}
}
