// Package requestlog records the kinds of Kubernetes API request a client
// sends, as RBAC sees them (verb, group, resource, namespace), so tests can
// check that "ksbuilder doctor" asks for every permission a command needs;
// and every request in order, so tests can check which requests a step
// sends.
package requestlog

import (
	"net/http"
	"strings"
	"sync"

	"k8s.io/client-go/rest"

	"github.com/ksbuilder/ksbuilder/pkg/doctor"
)

// Log records requests: one URL per kind, and every request in order.
type Log struct {
	mu   sync.Mutex
	seen map[doctor.Access]string
	// sent are the requests since the last Reset, as "METHOD PATH".
	sent []string
}

// Wrap returns a copy of cfg whose requests are recorded in a new Log.
func Wrap(cfg *rest.Config) (*rest.Config, *Log) {
	log := &Log{seen: map[doctor.Access]string{}}
	cfg = rest.CopyConfig(cfg)
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { return roundTripper{rt, log} })
	return cfg, log
}

// Seen returns the kinds of request sent, each with one of its URLs.
func (l *Log) Seen() map[doctor.Access]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[doctor.Access]string, len(l.seen))
	for a, u := range l.seen {
		out[a] = u
	}
	return out
}

// Requests returns the requests sent since the log was made or last
// reset, in the order they were sent, each as "METHOD PATH" (the query
// left out; a watch is "WATCH PATH"), discovery and other non-resource
// requests included.
func (l *Log) Requests() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.sent...)
}

// Reset forgets the requests Requests returns (not the kinds Seen does).
func (l *Log) Reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sent = nil
}

// Unchecked returns the requests sent that none of checked covers (the
// same verb, group and resource, in the namespace or in any), with their
// URLs.
func (l *Log) Unchecked(checked []doctor.Access) map[doctor.Access]string {
	out := map[doctor.Access]string{}
	for a, url := range l.Seen() {
		covered := false
		for _, c := range checked {
			covered = covered || c.Verb == a.Verb && c.Group == a.Group && c.Resource == a.Resource && (c.Namespace == "" || c.Namespace == a.Namespace)
		}
		if !covered {
			out[a] = url
		}
	}
	return out
}

type roundTripper struct {
	next http.RoundTripper
	log  *Log
}

func (rt roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	a, ok := AccessOf(req)
	rt.log.mu.Lock()
	if ok {
		rt.log.seen[a] = req.Method + " " + req.URL.Path
	}
	method := req.Method
	if ok && a.Verb == "watch" {
		method = "WATCH"
	}
	rt.log.sent = append(rt.log.sent, method+" "+req.URL.Path)
	rt.log.mu.Unlock()
	return rt.next.RoundTrip(req)
}

// AccessOf reads the RBAC verb, group, resource and namespace of a
// request; false for discovery and other non-resource requests.
func AccessOf(req *http.Request) (doctor.Access, bool) {
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
