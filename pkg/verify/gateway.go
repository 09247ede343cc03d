package verify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"k8s.io/client-go/rest"

	"github.com/ksbuilder/ksbuilder/pkg/kubesphere/extensions"
)

// Gateway says how to reach KubeSphere's API gateway, ks-apiserver, which
// serves the extension's bundles (/dist/...), APIServices (/kapis/...)
// and ReverseProxies (/proxy/...), and proxies /clusters/NAME/... to
// member clusters.
type Gateway struct {
	// URL is ks-apiserver's address, such as https://ks.example.com or
	// http://192.168.0.2:30880.
	URL string
	// CAFile verifies ks-apiserver's certificate; "" uses the kubeconfig's
	// CA when ks-apiserver is on the kubeconfig server's host, else the
	// system's roots.
	CAFile string
	// Insecure skips the verification of ks-apiserver's certificate.
	Insecure bool
}

// Check reports whether URL is an address ks-apiserver can be reached at.
func (g Gateway) Check() error {
	_, err := g.parse()
	return err
}

func (g Gateway) parse() (*url.URL, error) {
	u, err := url.Parse(g.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		return nil, fmt.Errorf("KubeSphere API server address %q: want http(s)://HOST[:PORT], such as https://ks.example.com or http://192.168.0.2:30880", g.URL)
	}
	return u, nil
}

// GatewayConfig is the REST config that reaches ks-apiserver with the
// kubeconfig's credentials (bearer token, client certificate, basic
// auth, or exec plugin of kube's user).
func GatewayConfig(kube *rest.Config, g Gateway) (*rest.Config, error) {
	u, err := g.parse()
	if err != nil {
		return nil, err
	}
	cfg := rest.CopyConfig(kube)
	cfg.Host = u.Scheme + "://" + u.Host
	cfg.APIPath = ""
	if k, err := url.Parse(kube.Host); err != nil || k.Hostname() != u.Hostname() {
		// Another host's certificate is not signed by the cluster's CA.
		cfg.CAFile, cfg.CAData, cfg.ServerName = "", nil, ""
	}
	if g.CAFile != "" {
		cfg.CAFile, cfg.CAData = g.CAFile, nil
	}
	if g.Insecure {
		cfg.Insecure, cfg.CAFile, cfg.CAData = true, "", nil
	}
	return cfg, nil
}

// gatewayMember is the REST config reaching a member cluster through
// ks-apiserver's multicluster proxy (/clusters/NAME/...), which forwards
// Kubernetes API requests to the member.
func gatewayMember(gw *rest.Config, name string) *rest.Config {
	cfg := rest.CopyConfig(gw)
	cfg.Host = strings.TrimRight(gw.Host, "/") + "/clusters/" + url.PathEscape(name)
	return cfg
}

// gateway sends the checks' requests to ks-apiserver.
type gateway struct {
	client *http.Client
	base   string
	// credentials names what the requests authenticate with.
	credentials string

	mu sync.Mutex
	// notFound caches, by path prefix, ks-apiserver's answer to a path no
	// object serves.
	notFound map[string]*answer
}

func newGateway(cfg *rest.Config) (*gateway, error) {
	client, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, fmt.Errorf("connecting to KubeSphere's API server %s: %w", cfg.Host, err)
	}
	return &gateway{client: client, base: strings.TrimRight(cfg.Host, "/"), credentials: credentialsOf(cfg), notFound: map[string]*answer{}}, nil
}

// credentialsOf names the kind of credentials a REST config carries.
func credentialsOf(cfg *rest.Config) string {
	switch {
	case cfg.BearerToken != "" || cfg.BearerTokenFile != "":
		return "the kubeconfig's bearer token"
	case cfg.CertData != nil || cfg.CertFile != "":
		return "the kubeconfig's client certificate"
	case cfg.Username != "":
		return fmt.Sprintf("the kubeconfig's basic auth (user %s)", cfg.Username)
	case cfg.ExecProvider != nil:
		return "the credentials of the kubeconfig's exec plugin (" + cfg.ExecProvider.Command + ")"
	case cfg.AuthProvider != nil:
		return "the credentials of the kubeconfig's auth provider " + cfg.AuthProvider.Name
	}
	return "no credentials (the kubeconfig's user has none)"
}

// answer is an HTTP response, its body cut to maxAnswer bytes.
type answer struct {
	status      int
	contentType string
	body        []byte
}

// maxAnswer bounds how much of a response is read.
const maxAnswer = 4 << 20

func (g *gateway) get(ctx context.Context, path string) (*answer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, g.base+path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := g.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return nil, fmt.Errorf("reading the answer to GET %s: %w", path, err)
	}
	return &answer{status: resp.StatusCode, contentType: resp.Header.Get("Content-Type"), body: body}, nil
}

// message is the answer's error message: a Kubernetes Status's, else the
// body's first line.
func (a *answer) message() string {
	var st struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(a.body, &st) == nil && st.Message != "" {
		return oneLine(st.Message)
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(a.body)), "\n")
	if len(line) > 200 {
		line = line[:200] + "..."
	}
	return strings.TrimSpace(line)
}

// describe is the status with its message: "502 Bad Gateway: ...".
func (a *answer) describe() string {
	s := fmt.Sprintf("%d %s", a.status, http.StatusText(a.status))
	if m := a.message(); m != "" {
		s += ": " + m
	}
	return s
}

// unmatched is ks-apiserver's answer to a path under prefix that no
// object serves (a name under the reserved .invalid domain), asked once.
func (g *gateway) unmatched(ctx context.Context, prefix string) *answer {
	g.mu.Lock()
	defer g.mu.Unlock()
	if a, ok := g.notFound[prefix]; ok {
		return a
	}
	a, err := g.get(ctx, prefix+"/ksbuilder-probe.invalid/v0/ksbuilder-probe")
	if err != nil {
		a = nil
	}
	g.notFound[prefix] = a
	return a
}

// refused explains a 401 or 403.
func (g *gateway) refused(a *answer) string {
	if a.status == http.StatusUnauthorized {
		return fmt.Sprintf("ks-apiserver did not accept %s (%s): use a kubeconfig whose user KubeSphere knows", g.credentials, a.describe())
	}
	return fmt.Sprintf("the kubeconfig's user, authenticated with %s, may not send this request (%s)", g.credentials, a.describe())
}

// gatewayChecks checks, through ks-apiserver, that the extension's
// objects on a cluster are served: each JSBundle's link returns
// JavaScript, each APIService and ReverseProxy answers. prefix is ""
// for the host, /clusters/NAME for a member (ks-apiserver's multicluster
// proxy).
func gatewayChecks(ctx context.Context, g *gateway, cn *conn, name, prefix string, r *runner) []Check {
	objs, err := cn.client.ExtensionObjects(ctx, name)
	if err != nil {
		// The Available checks report it.
		return nil
	}
	var checks []Check
	for _, b := range objs.JSBundles {
		link := extensions.BundleLink(&b, name)
		checks = append(checks, Check{Name: fmt.Sprintf("JSBundle %s is served at %s", b.Name, prefix+link), Cluster: cn.cluster,
			Run: func(ctx context.Context) Outcome {
				return r.poll(ctx, r.deadline, func() (bool, Outcome) { return g.bundle(ctx, prefix+link) })
			}})
	}
	for _, a := range objs.APIServices {
		// ks-apiserver hands only /kapis/GROUP/VERSION/RESOURCE... to an
		// APIService: the group and version alone are no resource request.
		path := fmt.Sprintf("/kapis/%s/%s/ksbuilder-probe", a.Spec.Group, a.Spec.Version)
		checks = append(checks, Check{Name: fmt.Sprintf("APIService %s answers at %s/kapis/%s/%s", a.Name, prefix, a.Spec.Group, a.Spec.Version), Cluster: cn.cluster,
			Run: func(ctx context.Context) Outcome {
				return r.poll(ctx, r.deadline, func() (bool, Outcome) { return g.routed(ctx, prefix+path, prefix+"/kapis") })
			}})
	}
	for _, p := range objs.ReverseProxies {
		m := p.Spec.Matcher
		path := strings.TrimSuffix(m.Path, "*")
		chk := Check{Name: fmt.Sprintf("ReverseProxy %s answers at %s%s", p.Name, prefix, path), Cluster: cn.cluster}
		switch {
		case p.Labels[extensions.LabelReverseProxyTarget] == "ks-console":
			chk.Run = skip("it is handed to ks-console (label " + extensions.LabelReverseProxyTarget + "), not served by ks-apiserver")
		case m.Method != "*" && !strings.EqualFold(m.Method, http.MethodGet):
			chk.Run = skip(fmt.Sprintf("it matches %s requests only, and ksbuilder sends GET only", m.Method))
		case !strings.HasPrefix(path, extensions.ProxyPathPrefix):
			chk.Run = func(context.Context) Outcome {
				return Outcome{Status: Failed, Reason: fmt.Sprintf("its path %s is outside %s, the only prefix ks-apiserver hands to ReverseProxies", m.Path, extensions.ProxyPathPrefix)}
			}
		default:
			chk.Run = func(ctx context.Context) Outcome {
				return r.poll(ctx, r.deadline, func() (bool, Outcome) { return g.routed(ctx, prefix+path, prefix+extensions.ProxyPathPrefix) })
			}
		}
		checks = append(checks, chk)
	}
	return checks
}

func skip(reason string) func(context.Context) Outcome {
	return func(context.Context) Outcome { return Outcome{Status: Skipped, Reason: reason} }
}

// javaScriptTypes are the media types a JavaScript file is served as;
// ks-apiserver serves bundles as application/javascript.
var javaScriptTypes = []string{"application/javascript", "text/javascript", "application/x-javascript", "application/ecmascript", "text/ecmascript"}

// bundle checks that path returns JavaScript.
func (g *gateway) bundle(ctx context.Context, path string) (bool, Outcome) {
	a, err := g.get(ctx, path)
	if err != nil {
		return false, Outcome{Status: Failed, Reason: err.Error()}
	}
	fail := func(why string) (bool, Outcome) { return false, Outcome{Status: Failed, Reason: why} }
	switch {
	case a.status == http.StatusUnauthorized || a.status == http.StatusForbidden:
		return fail(g.refused(a))
	case a.status == http.StatusNotFound:
		return fail("ks-apiserver does not serve it (" + a.describe() + "): it serves a bundle once its status.state is Available, at its status.link")
	case a.status != http.StatusOK:
		return fail(a.describe())
	}
	media, _, _ := mime.ParseMediaType(a.contentType)
	text := bytes.TrimSpace(a.body)
	switch {
	case len(text) == 0:
		return fail("it is served empty: the ConfigMap or Secret key the bundle reads (spec.rawFrom) is missing or empty, or its upstream answers nothing")
	case text[0] == '<':
		return fail(fmt.Sprintf("it is served as an HTML page (%s), not JavaScript: %s", orDefault(a.contentType, "no Content-Type"), a.message()))
	case !containsFold(javaScriptTypes, media):
		return fail(fmt.Sprintf("it is served as %s, not JavaScript", orDefault(a.contentType, "no Content-Type")))
	}
	return true, Outcome{Status: Passed, Reason: fmt.Sprintf("%d bytes of %s", len(a.body), media)}
}

// routed checks that ks-apiserver hands path to a backend that answers:
// not ks-apiserver's own 404 (the same answer as for a path under prefix
// no object serves), nor its 502 (the backend cannot be reached) or 503
// (the object is not Available). Any answer of the backend's own, a 404
// included, passes.
func (g *gateway) routed(ctx context.Context, path, prefix string) (bool, Outcome) {
	a, err := g.get(ctx, path)
	if err != nil {
		return false, Outcome{Status: Failed, Reason: err.Error()}
	}
	fail := func(why string) (bool, Outcome) { return false, Outcome{Status: Failed, Reason: why} }
	switch a.status {
	case http.StatusUnauthorized, http.StatusForbidden:
		return fail(g.refused(a))
	case http.StatusBadGateway:
		return fail("ks-apiserver cannot reach the backend (" + a.describe() + "): check the upstream's URL or Service, port and scheme (a service: upstream means HTTPS on port 443 unless set)")
	case http.StatusServiceUnavailable:
		return fail("ks-apiserver does not hand it on (" + a.describe() + ")")
	case http.StatusNotFound:
		if base := g.unmatched(ctx, prefix); base == nil || base.status == a.status && bytes.Equal(base.body, a.body) {
			return fail("ks-apiserver routes it to no backend (" + a.describe() + ", the same answer as for a path nothing serves)")
		}
	}
	return true, Outcome{Status: Passed, Reason: "GET " + path + ": the backend answered " + fmt.Sprintf("%d %s", a.status, http.StatusText(a.status))}
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}
