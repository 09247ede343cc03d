// Package doctor checks that this machine and a cluster are ready for
// ksbuilder's cluster and Cloud commands: the kubeconfig, the API server,
// KubeSphere's CRDs, version, controller and museum, the node clocks, the
// user's permissions, and the local Cloud and registry logins; and, for a
// console project, Node.js, Yarn and the @ks-console npm registry. Every check
// runs concurrently with its own timeout; Run returns one Check per check,
// in a fixed order, and never prints.
package doctor

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Status is a check's outcome.
type Status string

// The outcomes of a check.
const (
	// OK means nothing to fix.
	OK Status = "ok"
	// Warn is a problem that does not stop the commands, or one doctor
	// cannot judge.
	Warn Status = "warn"
	// Fail is a problem that makes publish or install fail.
	Fail Status = "fail"
	// Skip means the check could not run because an earlier one failed
	// (no kubeconfig, API server unreachable).
	Skip Status = "skip"
)

// The IDs of the checks, stable for scripts reading the JSON output.
const (
	IDKubeconfig        = "kubeconfig"
	IDAPIServer         = "api-server"
	IDCRDs              = "crds"
	IDKubeSphereVersion = "kubesphere-version"
	IDController        = "controller"
	IDMuseum            = "museum"
	IDClockSkew         = "clock-skew"
	IDPermissions       = "permissions"
	IDCloudLogin        = "cloud-login"
	IDRegistryLogin     = "registry-login"
)

// Check is the result of one check.
type Check struct {
	ID      string `json:"id"`
	Status  Status `json:"status"`
	Message string `json:"message"`
	// Fix says in one line what to do; empty when Status is OK.
	Fix string `json:"fix,omitempty"`
}

// DefaultTimeout bounds each check.
const DefaultTimeout = 5 * time.Second

// MaxClockSkew is how far a node's heartbeat may be ahead of this machine's
// clock, and how far past its expiry a Ready node's Lease may be (a clock
// behind).
const MaxClockSkew = 30 * time.Second

// CloudLogin is the Cloud server whose stored token is looked up.
type CloudLogin struct {
	// Server is the Cloud server's URL, as the Cloud commands resolve it.
	Server string
	// Lookup finds the stored token locally (no request, no prompt) and
	// says where it was found ("keyring", "file", ...); ErrNotLoggedIn
	// when there is none.
	Lookup func() (source string, err error)
}

// ErrNotLoggedIn is returned by CloudLogin.Lookup when no token is stored.
var ErrNotLoggedIn = errors.New("not logged in")

// Options say what to check.
type Options struct {
	// Kubeconfig and Context select the cluster with kubectl's rules.
	Kubeconfig string
	Context    string
	// KubeVersion and KSVersion are an extension's constraints (from
	// PATH's extension.yaml); empty skips the comparison.
	KubeVersion string
	KSVersion   string
	// Cloud is the Cloud login to look for; nil skips the check.
	Cloud *CloudLogin
	// RegistryConfig is Helm's registry config file (docker config.json
	// format); empty skips the check.
	RegistryConfig string
	// Timeout bounds each check; 0 means DefaultTimeout.
	Timeout time.Duration
	// Now is this machine's clock; nil means time.Now.
	Now func() time.Time
	// Console is a console project whose Node.js, Yarn and npm registry
	// are checked too; nil checks none.
	Console *Console
}

// run holds what the checks share: the connection, made once.
type run struct {
	opts Options

	conn  func() (*connection, Check)
	reach func() (*serverInfo, error)
}

// Run runs every check and returns their results in a fixed order.
func Run(ctx context.Context, opts Options) []Check {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	r := &run{opts: opts}
	r.conn = sync.OnceValues(func() (*connection, Check) { return connect(opts) })
	r.reach = sync.OnceValues(func() (*serverInfo, error) {
		c, _ := r.conn()
		if c == nil {
			return nil, errNoConnection
		}
		cctx, cancel := context.WithTimeout(ctx, opts.Timeout)
		defer cancel()
		return c.serverInfo(cctx)
	})

	// The api-server check and the cluster checks first wait for the
	// reachability probe, which has its own timeout; a cluster check's
	// timeout starts once the server has answered it.
	checks := []namedCheck{
		{IDKubeconfig, r.bounded(IDKubeconfig, func(context.Context) Check { _, ch := r.conn(); return ch })},
		{IDAPIServer, r.apiServer},
		{IDCRDs, r.cluster(IDCRDs, checkCRDs)},
		{IDKubeSphereVersion, r.cluster(IDKubeSphereVersion, r.checkKubeSphereVersion)},
		{IDController, r.cluster(IDController, checkController)},
		{IDMuseum, r.cluster(IDMuseum, checkMuseum)},
		{IDClockSkew, r.cluster(IDClockSkew, r.checkClockSkew)},
		{IDPermissions, r.cluster(IDPermissions, checkPermissions)},
		{IDCloudLogin, r.bounded(IDCloudLogin, r.cloudLogin)},
		{IDRegistryLogin, r.bounded(IDRegistryLogin, r.registryLogin)},
	}
	if opts.Console != nil {
		checks = append(checks, r.consoleChecks()...)
	}
	out := make([]Check, len(checks))
	var wg sync.WaitGroup
	for i, c := range checks {
		wg.Go(func() {
			out[i] = c.fn(ctx)
			out[i].ID = c.id
		})
	}
	wg.Wait()
	return out
}

// namedCheck is a check and its ID.
type namedCheck struct {
	id string
	fn func(context.Context) Check
}

// bounded wraps a check with the per-check timeout: a check that cannot
// complete within it fails, since whatever it checks did not answer.
func (r *run) bounded(id string, fn func(context.Context) Check) func(context.Context) Check {
	return func(ctx context.Context) Check {
		cctx, cancel := context.WithTimeout(ctx, r.opts.Timeout)
		defer cancel()
		done := make(chan Check, 1)
		go func() { done <- fn(cctx) }()
		select {
		case ch := <-done:
			ch.ID = id
			return ch
		case <-cctx.Done():
			return Check{ID: id, Status: Fail, Message: fmt.Sprintf("no answer within %s", r.opts.Timeout),
				Fix: "check that the API server answers (kubectl get --raw /readyz) and the network path to it, then run again"}
		}
	}
}

// errNoConnection is the reason cluster checks are skipped when the
// kubeconfig check failed.
var errNoConnection = errors.New("no cluster connection (see the kubeconfig check)")

// cluster wraps a check that needs a reachable API server: without one it
// is skipped; with one it runs with the per-check timeout.
func (r *run) cluster(id string, fn func(context.Context, *connection) Check) func(context.Context) Check {
	return func(ctx context.Context) Check {
		c, _ := r.conn()
		if c == nil {
			return Check{Status: Skip, Message: errNoConnection.Error()}
		}
		if _, err := r.reach(); err != nil {
			return Check{Status: Skip, Message: "the API server is not reachable (see the api-server check)"}
		}
		return r.bounded(id, func(ctx context.Context) Check { return fn(ctx, c) })(ctx)
	}
}

// Failed reports whether any check failed.
func Failed(checks []Check) bool {
	for _, c := range checks {
		if c.Status == Fail {
			return true
		}
	}
	return false
}
