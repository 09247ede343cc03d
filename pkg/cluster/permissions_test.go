package cluster_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"

	"k8s.io/client-go/rest"

	"github.com/ksbuilder/ksbuilder/create"
	"github.com/ksbuilder/ksbuilder/pkg/cluster"
	"github.com/ksbuilder/ksbuilder/pkg/doctor"
)

// Every request publish, install, upgrade, status, uninstall, unpublish and
// the extension listings send is among the permissions doctor checks: a
// command that starts using a new verb or resource fails here until doctor
// checks it too.
func TestDoctorChecksEveryRequest(t *testing.T) {
	t.Parallel()
	cfg := rest.CopyConfig(testEnv.Require(t))
	log := &requestLog{seen: map[doctor.Access]string{}}
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { return roundTripper{rt, log} })
	c, err := cluster.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := testContext(t)
	const name = "audited"
	dir := scaffold(t, name, create.Frontend)
	_, plan := mustInstall(t, c, dir, cluster.InstallOptions{})
	mustInstall(t, c, dir, cluster.InstallOptions{Values: map[string]any{"frontend": map[string]any{"replicaCount": 2}}})
	c.Diagnose(ctx, plan, "")
	if _, err := cluster.Status(ctx, cluster.StatusRequest{Target: cluster.Target{Client: c}, Name: name}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListExtensions(ctx, "dev-tools"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListVersions(ctx, name); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ShowVersion(ctx, name, ""); err != nil {
		t.Fatal(err)
	}
	if err := uninstall(t, c, name, false); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Unpublish(ctx, cluster.UnpublishOptions{Name: name}); err != nil {
		t.Fatal(err)
	}

	checked := doctor.ClusterAccess()
	log.mu.Lock()
	defer log.mu.Unlock()
	if len(log.seen) < 10 {
		t.Fatalf("recorded only %d kinds of request: %v", len(log.seen), log.seen)
	}
	for a, url := range log.seen {
		covered := false
		for _, c := range checked {
			covered = covered || c.Verb == a.Verb && c.Group == a.Group && c.Resource == a.Resource && (c.Namespace == "" || c.Namespace == a.Namespace)
		}
		if !covered {
			t.Errorf("%s (%s) is not among doctor's permissions (doctor.ClusterAccess)", a, url)
		}
	}
}

// requestLog records the kinds of API request sent, with one URL each.
type requestLog struct {
	mu   sync.Mutex
	seen map[doctor.Access]string
}

type roundTripper struct {
	next http.RoundTripper
	log  *requestLog
}

func (rt roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	if a, ok := accessOf(req); ok {
		rt.log.mu.Lock()
		rt.log.seen[a] = req.Method + " " + req.URL.Path
		rt.log.mu.Unlock()
	}
	return rt.next.RoundTrip(req)
}

// accessOf reads the RBAC verb, group, resource and namespace of a
// request; false for discovery and other non-resource requests.
func accessOf(req *http.Request) (doctor.Access, bool) {
	parts := strings.Split(strings.Trim(req.URL.Path, "/"), "/")
	var group string
	switch {
	case len(parts) >= 3 && parts[0] == "api":
		parts = parts[2:]
	case len(parts) >= 4 && parts[0] == "apis":
		group, parts = parts[1], parts[3:]
	default:
		return doctor.Access{}, false
	}
	var a doctor.Access
	a.Group = group
	if parts[0] == "namespaces" && len(parts) >= 3 {
		a.Namespace, parts = parts[1], parts[2:]
	}
	a.Resource = parts[0]
	name := ""
	if len(parts) > 1 {
		name = parts[1]
	}
	if len(parts) > 2 {
		a.Resource += "/" + parts[2]
	}
	switch req.Method {
	case http.MethodGet:
		switch {
		case req.URL.Query().Get("watch") == "true" || req.URL.Query().Get("watch") == "1":
			a.Verb = "watch"
		case name == "":
			a.Verb = "list"
		default:
			a.Verb = "get"
		}
	case http.MethodPost:
		a.Verb = "create"
	case http.MethodPatch:
		a.Verb = "patch"
	case http.MethodPut:
		a.Verb = "update"
	case http.MethodDelete:
		a.Verb = "delete"
	}
	return a, true
}
