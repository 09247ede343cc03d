package verify

import (
	"context"
	"errors"
	"fmt"

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
	Options
}

// TestResult is what "ksbuilder test" did.
type TestResult struct {
	// Install is what installing did, when asked.
	Install *cluster.InstallOutcome
	// Report is the checks' outcome; nil when installing failed.
	Report *Report
}

// Test installs (when asked) and checks an extension. An installation that
// fails is returned as install's error (with the outcome so far); every
// problem the checks find is in the report.
func Test(ctx context.Context, req Request) (*TestResult, error) {
	c, err := req.Client, error(nil)
	if c == nil {
		if c, err = cluster.Connect(req.Connect); err != nil {
			return nil, err
		}
	}
	out := &TestResult{}
	if req.Install != nil {
		inst := *req.Install
		inst.Target = cluster.Target{Client: c}
		res, err := cluster.Install(ctx, inst)
		var other *cluster.InstalledVersionError
		if errors.As(err, &other) {
			if inst.Progress != nil {
				inst.Progress.Step(fmt.Sprintf("%s %s is installed: upgrading it to %s", other.Name, other.Installed, other.Requested))
			}
			inst.Upgrade = true
			res, err = cluster.Install(ctx, inst)
		}
		out.Install = res
		if err != nil {
			return out, err
		}
		req.Options.Name = res.Name
	}
	out.Report, err = Run(ctx, c, req.Options)
	return out, err
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
