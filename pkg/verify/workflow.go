package verify

import (
	"context"
	"errors"
	"fmt"
	"time"

	"k8s.io/client-go/rest"

	"github.com/ksbuilder/ksbuilder/pkg/cluster"
)

// Request is "ksbuilder test": install first when asked, then check.
type Request struct {
	cluster.Target
	// Install, when set, installs a package first as "ksbuilder install
	// PATH" does (upgrading when another version is installed); its Target
	// is replaced by the request's.
	Install *cluster.InstallRequest
	// UpgradeFrom, when set with Install, installs that version first and
	// checks it, then upgrades to Install's and checks again (chart
	// testing's upgrade test).
	UpgradeFrom *cluster.InstallRequest
	// Cleanup uninstalls the extension at the end, whatever happened
	// (also when ctx ends), and unpublishes the versions this test
	// published.
	Cleanup bool
	// Progress receives the cleanup's steps (the installations report to
	// their own).
	Progress cluster.Progress
	Options
}

// TestResult is what "ksbuilder test" did.
type TestResult struct {
	// Install is what installing did, when asked.
	Install *cluster.InstallOutcome
	// Report is the checks' outcome (those made before the upgrade first,
	// with their Phase); nil when installing failed.
	Report *Report
	// CleanupErr is why the cleanup failed; nil when it succeeded or was
	// not asked for.
	CleanupErr error
}

// cleanupTimeout bounds the cleanup when the run was interrupted.
const cleanupTimeout = 5 * time.Minute

// Test installs (when asked) and checks an extension. An installation that
// fails is returned as install's error (with the outcome so far); every
// problem the checks find is in the report.
func Test(ctx context.Context, req Request) (out *TestResult, err error) {
	c := req.Client
	if c == nil {
		if c, err = cluster.Connect(req.Connect); err != nil {
			return nil, err
		}
	}
	out = &TestResult{}
	t := &tester{client: c, progress: req.Progress}
	if req.Cleanup {
		defer func() {
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
			defer cancel()
			out.CleanupErr = t.cleanup(cctx, req.Options.Timeout)
		}()
	}
	opts := req.Options
	if req.UpgradeFrom != nil && req.Install != nil {
		res, err := t.install(ctx, *req.UpgradeFrom)
		if err != nil {
			out.Install = res
			return out, err
		}
		before := opts
		before.Name, before.Phase = res.Name, "before the upgrade, "+res.Plan.Spec.Extension.Version
		if out.Report, err = Run(ctx, c, before); err != nil {
			return out, err
		}
	}
	if req.Install != nil {
		if out.Install, err = t.install(ctx, *req.Install); err != nil {
			return out, err
		}
		opts.Name = out.Install.Name
	}
	t.name = opts.Name
	rep, err := Run(ctx, c, opts)
	if rep != nil {
		out.Report = out.Report.merge(rep)
	}
	return out, err
}

// tester remembers what a test installed and published, for the cleanup.
type tester struct {
	client   *cluster.Client
	progress cluster.Progress
	// name is the extension; versions are those this test published.
	name     string
	versions []string
}

// install installs as "ksbuilder install" does, upgrading (or downgrading)
// when another version is installed.
func (t *tester) install(ctx context.Context, inst cluster.InstallRequest) (*cluster.InstallOutcome, error) {
	inst.Target = cluster.Target{Client: t.client}
	res, err := cluster.Install(ctx, inst)
	var other *cluster.InstalledVersionError
	if errors.As(err, &other) {
		t.step(fmt.Sprintf("%s %s is installed: upgrading it to %s", other.Name, other.Installed, other.Requested))
		inst.Upgrade = true
		res, err = cluster.Install(ctx, inst)
	}
	if res != nil {
		t.name = res.Name
		if res.InstallResult != nil && res.Publish != nil {
			for _, o := range res.Publish.Objects {
				if o.Kind == "ExtensionVersion" && o.Action == cluster.Created {
					t.versions = append(t.versions, res.Plan.Spec.Extension.Version)
				}
			}
		}
	}
	return res, err
}

// cleanup uninstalls the extension and unpublishes the versions the test
// published.
func (t *tester) cleanup(ctx context.Context, timeout time.Duration) error {
	if t.name == "" {
		return nil
	}
	_, err := cluster.Uninstall(ctx, cluster.UninstallRequest{
		Target: cluster.Target{Client: t.client}, UninstallOptions: cluster.UninstallOptions{Name: t.name},
		Wait: cluster.WaitOptions{Timeout: timeout}, Progress: t.progress,
	})
	if err != nil && !errors.Is(err, cluster.ErrNotInstalled) {
		return fmt.Errorf("uninstalling %s: %w", t.name, err)
	}
	for _, v := range t.versions {
		results, err := t.client.Unpublish(ctx, cluster.UnpublishOptions{Name: t.name, Version: v})
		for _, r := range results {
			t.step(r.String())
		}
		if err != nil {
			return fmt.Errorf("unpublishing %s %s: %w", t.name, v, err)
		}
	}
	return nil
}

func (t *tester) step(msg string) {
	if t.progress != nil {
		t.progress.Step(msg)
	}
}

// ContextMembers reaches member clusters through kubeconfig contexts (from
// kubeconfig, or kubectl's default files when empty): the context contexts
// names for a cluster, else the context named after the cluster.
func ContextMembers(kubeconfig string, contexts map[string]string) func(ctx context.Context, name string) (*rest.Config, error) {
	return func(_ context.Context, name string) (*rest.Config, error) {
		ctxName := contexts[name]
		if ctxName == "" {
			ctxName = name
		}
		c, err := cluster.Connect(cluster.ConnectOptions{Kubeconfig: kubeconfig, Context: ctxName})
		if err != nil {
			var missing *cluster.ContextNotFoundError
			if errors.As(err, &missing) {
				return nil, fmt.Errorf("no kubeconfig context %q (name one with --cluster-context %s=CONTEXT)", ctxName, name)
			}
			return nil, err
		}
		return c.RESTConfig(), nil
	}
}
