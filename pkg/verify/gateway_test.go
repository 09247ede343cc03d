package verify_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	"github.com/ksbuilder/ksbuilder/internal/testcontroller"
	"github.com/ksbuilder/ksbuilder/internal/testutil/testcluster"
	"github.com/ksbuilder/ksbuilder/pkg/cluster"
	"github.com/ksbuilder/ksbuilder/pkg/kubesphere/multicluster"
	"github.com/ksbuilder/ksbuilder/pkg/verify"
)

// gatewayTemplates add to the scaffold's chart (whose APIService is
// v1alpha1.NAME.kubesphere.io) an APIService whose backend is down, one
// ks-apiserver routes nowhere, and ReverseProxies: one answering, one not
// Available, one for POST only.
const gatewayTemplates = `apiVersion: extensions.kubesphere.io/v1alpha1
kind: APIService
metadata:
  name: v1.down.vgate.io
spec:
  group: down.vgate.io
  version: v1
  url: http://down.example:8080
---
apiVersion: extensions.kubesphere.io/v1alpha1
kind: APIService
metadata:
  name: v1.unrouted.vgate.io
spec:
  group: unrouted.vgate.io
  version: v1
  url: http://unrouted.example:8080
---
apiVersion: extensions.kubesphere.io/v1alpha1
kind: ReverseProxy
metadata:
  name: vgate-proxy
spec:
  matcher:
    path: /proxy/vgate/*
    method: '*'
  upstream:
    url: http://proxy.example:8080
---
apiVersion: extensions.kubesphere.io/v1alpha1
kind: ReverseProxy
metadata:
  name: vgate-proxy-off
spec:
  matcher:
    path: /proxy/vgate-off/*
    method: GET
  upstream:
    url: http://off.example:8080
---
apiVersion: extensions.kubesphere.io/v1alpha1
kind: ReverseProxy
metadata:
  name: vgate-proxy-post
spec:
  matcher:
    path: /proxy/vgate-post
    method: POST
  upstream:
    url: http://post.example:8080
`

// fakeGateway behaves as ks-apiserver does for an extension's paths: it
// serves the bundle, hands /kapis and /proxy paths to "backends" (one
// requiring the bearer token), answers 502 and 503 as ks-apiserver does,
// its own 404 for a path nothing serves, and proxies /clusters/member1/ to
// the test API server.
type fakeGateway struct {
	*httptest.Server
	// bundle is the body served as the bundle; "" serves it empty.
	bundle atomic.Value
	// memberRequests counts the requests proxied to member1.
	memberRequests atomic.Int32
}

func newFakeGateway(t *testing.T, member *rest.Config) *fakeGateway {
	t.Helper()
	g := &fakeGateway{}
	g.bundle.Store("System.register([], function (e) { return { execute: function () { e('default', {}) } } })\n")
	status := func(w http.ResponseWriter, code int, msg string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		fmt.Fprintf(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","message":%q,"code":%d}`, msg, code)
	}
	transport, err := rest.TransportFor(member)
	if err != nil {
		t.Fatal(err)
	}
	target, err := http.NewRequest(http.MethodGet, member.Host, nil)
	if err != nil {
		t.Fatal(err)
	}
	toMember := &httputil.ReverseProxy{Transport: transport, Rewrite: func(r *httputil.ProxyRequest) {
		r.Out.URL.Scheme, r.Out.URL.Host = target.URL.Scheme, target.URL.Host
		r.Out.URL.Path = strings.TrimPrefix(r.In.URL.Path, "/clusters/member1")
		r.Out.URL.RawPath = ""
		r.Out.Header.Del("Authorization")
	}}
	mux := http.NewServeMux()
	mux.HandleFunc("/dist/vgate/index.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/javascript; charset=utf-8")
		fmt.Fprint(w, g.bundle.Load().(string))
	})
	mux.HandleFunc("/kapis/vgate.kubesphere.io/v1alpha1/", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer gw-token" {
			status(w, http.StatusUnauthorized, "token is invalid")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"items":[]}`)
	})
	mux.HandleFunc("/kapis/down.vgate.io/v1/", func(w http.ResponseWriter, r *http.Request) {
		status(w, http.StatusBadGateway, "Error while proxying request: dial tcp: lookup down.example: no such host")
	})
	mux.HandleFunc("/proxy/vgate/", func(w http.ResponseWriter, r *http.Request) {
		// The backend's own 404: it answered.
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, "<h1>no such page in vgate</h1>")
	})
	mux.HandleFunc("/proxy/vgate-off/", func(w http.ResponseWriter, r *http.Request) {
		status(w, http.StatusServiceUnavailable, "upstream vgate-proxy-off is not available")
	})
	mux.HandleFunc("/clusters/member1/", func(w http.ResponseWriter, r *http.Request) {
		g.memberRequests.Add(1)
		toMember.ServeHTTP(w, r)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, "404: Page Not Found")
	})
	g.Server = httptest.NewServer(mux)
	t.Cleanup(g.Close)
	return g
}

// withToken is the client of cfg sending a bearer token (besides the
// client certificate the test API server authenticates).
func withToken(t *testing.T, cfg *rest.Config, token string) *cluster.Client {
	t.Helper()
	cfg = rest.CopyConfig(cfg)
	cfg.BearerToken = token
	c, err := cluster.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestGatewayChecks(t *testing.T) {
	f := installExtension(t, "vgate", map[string]string{"bundle.yaml": bundleTemplate, "gateway.yaml": gatewayTemplates}, testcontroller.Behaviour{})
	f.setDeployment(1)
	g := newFakeGateway(t, testEnv.Require(t))
	run := func(token string) *verify.Report {
		t.Helper()
		rep, err := verify.Run(f.ctx, withToken(t, testEnv.Require(t), token), verify.Options{Name: "vgate", Timeout: 300 * time.Millisecond, Interval: 50 * time.Millisecond,
			Logs: f.logs, Gateway: &verify.Gateway{URL: g.URL}})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rep.Results {
			t.Logf("%-4s %s: %s", r.Status, r.Check, r.Reason)
		}
		return rep
	}
	rep := run("gw-token")
	for _, c := range []struct {
		prefix string
		status verify.Status
		reason string
	}{
		{"JSBundle vgate-agent-bundle is served at /dist/vgate/index.js", verify.Passed, "bytes of application/javascript"},
		{"APIService " + f.apiService() + " answers at /kapis/vgate.kubesphere.io/v1alpha1", verify.Passed, "the backend answered 200 OK"},
		{"APIService v1.down.vgate.io answers", verify.Failed, "ks-apiserver cannot reach the backend (502 Bad Gateway: Error while proxying request: dial tcp: lookup down.example"},
		{"APIService v1.unrouted.vgate.io answers", verify.Failed, "ks-apiserver routes it to no backend (404 Not Found: 404: Page Not Found"},
		{"ReverseProxy vgate-proxy answers at /proxy/vgate/", verify.Passed, "the backend answered 404 Not Found"},
		{"ReverseProxy vgate-proxy-off answers", verify.Failed, "ks-apiserver does not hand it on (503 Service Unavailable: upstream vgate-proxy-off is not available)"},
		{"ReverseProxy vgate-proxy-post answers", verify.Skipped, "it matches POST requests only"},
	} {
		if r := result(t, rep, c.prefix); r.Status != c.status || !strings.Contains(r.Reason, c.reason) {
			t.Errorf("%s: want %s with %q, got %s: %s", r.Check, c.status, c.reason, r.Status, r.Reason)
		}
	}

	// Credentials the gateway refuses fail the check naming them; a
	// bundle served empty (its ConfigMap key missing) fails.
	g.bundle.Store("")
	rep = run("stale-token")
	if r := result(t, rep, "APIService "+f.apiService()+" answers"); r.Status != verify.Failed ||
		!strings.Contains(r.Reason, "ks-apiserver did not accept the kubeconfig's bearer token (401 Unauthorized: token is invalid)") {
		t.Errorf("want the refused token named, got %s: %s", r.Status, r.Reason)
	}
	if r := result(t, rep, "JSBundle vgate-agent-bundle is served"); r.Status != verify.Failed || !strings.Contains(r.Reason, "served empty") {
		t.Errorf("want an empty bundle to fail, got %s: %s", r.Status, r.Reason)
	}
	g.bundle.Store("<!DOCTYPE html><title>KubeSphere</title>")
	if r := result(t, run("gw-token"), "JSBundle vgate-agent-bundle is served"); r.Status != verify.Failed || !strings.Contains(r.Reason, "HTML page") {
		t.Errorf("want an HTML page served as the bundle to fail, got %s: %s", r.Status, r.Reason)
	}
}

func TestMemberReachedThroughGateway(t *testing.T) {
	cfg := testEnv.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	member := &multicluster.Cluster{
		TypeMeta:   metav1.TypeMeta{APIVersion: multicluster.GroupVersion.String(), Kind: "Cluster"},
		ObjectMeta: metav1.ObjectMeta{Name: "member1"},
		Status: multicluster.ClusterStatus{Conditions: []multicluster.ClusterCondition{{
			Type: multicluster.ConditionReady, Status: metav1.ConditionTrue, LastTransitionTime: metav1.Now(), Reason: "Ready"}}},
	}
	if err := testcluster.CreateCluster(ctx, cfg, member); err != nil {
		t.Fatal(err)
	}
	f := installOn(t, "vgwmember", nil, testcontroller.Behaviour{}, []string{"member1"})
	f.setDeployment(1)
	g := newFakeGateway(t, cfg)
	noContext := func(_ context.Context, name string) (*rest.Config, error) {
		return nil, fmt.Errorf("no kubeconfig context %q", name)
	}
	rep, err := verify.Run(f.ctx, withToken(t, cfg, "gw-token"), verify.Options{Name: "vgwmember", Timeout: 10 * time.Second, Interval: 50 * time.Millisecond,
		Logs: f.logs, Member: noContext, Gateway: &verify.Gateway{URL: g.URL}})
	if err != nil {
		t.Fatal(err)
	}
	if d := result(t, rep, "Deployment "+f.ns+"/"); d.Status != verify.Passed || d.Cluster != "member1" || rep.Summary.NotChecked != 0 || g.memberRequests.Load() == 0 {
		t.Errorf("want member1's Deployment checked through the gateway's /clusters/member1/ proxy, got %s [%s]: %s (%d proxied requests, %+v)",
			d.Status, d.Cluster, d.Reason, g.memberRequests.Load(), rep.Summary)
	}
	if a := result(t, rep, "APIService v1alpha1.vgwmember.kubesphere.io answers at /clusters/member1/kapis/"); a.Cluster != "member1" {
		t.Errorf("want the member's APIService asked through /clusters/member1, got %+v", a)
	}

	// logs reaches the agent's cluster the same way (its pods, none here,
	// are listed through the proxy).
	before := g.memberRequests.Load()
	err = verify.Logs(f.ctx, withToken(t, cfg, "gw-token"), verify.LogsOptions{Name: "vgwmember", Cluster: "member1", Logs: f.logs, Member: noContext, Gateway: &verify.Gateway{URL: g.URL}})
	if err == nil || strings.Contains(err.Error(), "cannot read the logs of the agent") || g.memberRequests.Load() == before {
		t.Errorf("want logs to read member1 through the gateway (and find no logs), got %v after %d proxied requests", err, g.memberRequests.Load()-before)
	}

	// A member the gateway cannot reach either stays "not checked".
	g.Close()
	rep, err = verify.Run(f.ctx, f.client, verify.Options{Name: "vgwmember", Timeout: time.Second, Interval: 50 * time.Millisecond,
		Logs: f.logs, Member: noContext, Gateway: &verify.Gateway{URL: g.URL}})
	if err != nil {
		t.Fatal(err)
	}
	r := result(t, rep, "agent release vgwmember-agent on cluster member1")
	if r.Status != verify.NotChecked || !strings.Contains(r.Reason, `no kubeconfig context "member1"; through KubeSphere's multicluster proxy:`) {
		t.Errorf("want member1 not checked, naming both routes, got %s: %s", r.Status, r.Reason)
	}
}
