// Package cloud is a client for the KubeSphere Cloud marketplace API used to
// publish extensions: the current user, file uploads (icons, screenshots),
// package uploads, submitting a snapshot for review and cancelling it, and
// looking extensions up. It speaks the same wire protocol as upstream
// ksbuilder, with timeouts, retries of idempotent calls only, and errors that
// keep the HTTP status and the server's message.
package cloud

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/go-resty/resty/v2"
)

// DefaultServer is the KubeSphere Cloud API endpoint.
const DefaultServer = "https://apis.kubesphere.cloud"

// Default limits of a Client.
const (
	// DefaultTimeout bounds each API call, retries included.
	DefaultTimeout = 30 * time.Second
	// DefaultUploadTimeout bounds each upload.
	DefaultUploadTimeout = 5 * time.Minute
	// DefaultRetries is how many times an idempotent call is retried.
	DefaultRetries = 3
	// DefaultRetryWait is the first wait between retries; it doubles (with
	// jitter) up to DefaultRetryMaxWait, which also caps Retry-After.
	DefaultRetryWait    = 500 * time.Millisecond
	DefaultRetryMaxWait = 10 * time.Second
)

// maxResponseSize bounds a response body; the API's answers are small.
const maxResponseSize = 16 << 20

// Logger receives debug lines about each HTTP exchange. The Authorization
// header is never passed to it.
type Logger interface {
	Debugf(format string, args ...any)
}

// Progress is told how an upload's request body is being sent.
type Progress interface {
	// Start begins an upload of total bytes described by name.
	Start(name string, total int64)
	// Add reports n more bytes sent.
	Add(n int)
	// Finish ends the upload, successful or not.
	Finish()
}

// Client calls the KubeSphere Cloud API with one token. It makes no network
// call until a method is called, and caches the caller's user ID.
type Client struct {
	host          string
	rc            *resty.Client
	timeout       time.Duration
	uploadTimeout time.Duration
	progress      Progress

	mu     sync.Mutex
	userID string
}

type settings struct {
	timeout       time.Duration
	uploadTimeout time.Duration
	userAgent     string
	logger        Logger
	progress      Progress
	retries       int
	retryWait     time.Duration
	retryMaxWait  time.Duration
	transport     http.RoundTripper
}

// Option configures a Client.
type Option func(*settings)

// WithTimeout bounds each API call, retries included.
func WithTimeout(d time.Duration) Option { return func(s *settings) { s.timeout = d } }

// WithUploadTimeout bounds each upload of a file or package.
func WithUploadTimeout(d time.Duration) Option { return func(s *settings) { s.uploadTimeout = d } }

// WithUserAgent sets the User-Agent header, e.g. "ksbuilder/1.0.0".
func WithUserAgent(ua string) Option { return func(s *settings) { s.userAgent = ua } }

// WithLogger logs every request and response (without secrets) to l.
func WithLogger(l Logger) Option { return func(s *settings) { s.logger = l } }

// WithProgress reports the progress of uploads to p.
func WithProgress(p Progress) Option { return func(s *settings) { s.progress = p } }

// WithRetry sets how often idempotent calls are retried and how long to wait
// between attempts: wait doubles (with jitter) up to maxWait, which also
// caps a server's Retry-After.
func WithRetry(retries int, wait, maxWait time.Duration) Option {
	return func(s *settings) { s.retries, s.retryWait, s.retryMaxWait = retries, wait, maxWait }
}

// WithTransport replaces the HTTP transport (default: a clone of
// http.DefaultTransport, which honours HTTP(S)_PROXY).
func WithTransport(rt http.RoundTripper) Option { return func(s *settings) { s.transport = rt } }

// ParseServer checks a server URL ("https://apis.kubesphere.cloud") and
// returns it without a trailing slash. Only http and https are accepted.
func ParseServer(raw string) (string, *url.URL, error) {
	raw = strings.TrimSpace(raw)
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", nil, fmt.Errorf("invalid server URL %q: want http(s)://host[:port][/path]", withoutUserInfo(raw))
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", nil, fmt.Errorf("invalid server URL %q: no user info, query or fragment allowed", withoutUserInfo(raw))
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u.String(), u, nil
}

// maxRedirects is how many redirects a call follows, as net/http's default.
const maxRedirects = 10

// keepCredentialsToOrigin follows redirects, but sends the token and
// cookies only to the exact origin (scheme, host and port) of the first
// request: net/http forwards them to the same host on any port.
func keepCredentialsToOrigin(req *http.Request, via []*http.Request) error {
	if len(via) >= maxRedirects {
		return fmt.Errorf("stopped after %d redirects", maxRedirects)
	}
	if !sameOrigin(req.URL, via[0].URL) {
		for _, h := range []string{"Authorization", "Cookie", "Proxy-Authorization"} {
			req.Header.Del(h)
		}
	}
	return nil
}

// sameOrigin reports whether two URLs have the same scheme, host and port
// (the scheme's default port when none is written).
func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Hostname(), b.Hostname()) && portOf(a) == portOf(b)
}

// portOf returns a URL's port, or its scheme's default one.
func portOf(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if strings.EqualFold(u.Scheme, "https") {
		return "443"
	}
	return "80"
}

// withoutUserInfo removes the "user:password@" of a URL, parsable or not,
// so an error can quote the rest without leaking a secret.
func withoutUserInfo(raw string) string {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		scheme, rest = "", raw
	}
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	if at := strings.LastIndex(rest[:end], "@"); at >= 0 {
		rest = rest[at+1:]
	}
	if !ok {
		return rest
	}
	return scheme + "://" + rest
}

// New returns a client for server that authenticates with token.
func New(server, token string, opts ...Option) (*Client, error) {
	base, u, err := ParseServer(server)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(token) == "" {
		return nil, errors.New("empty API token")
	}
	s := settings{
		timeout:       DefaultTimeout,
		uploadTimeout: DefaultUploadTimeout,
		userAgent:     "ksbuilder",
		retries:       DefaultRetries,
		retryWait:     DefaultRetryWait,
		retryMaxWait:  DefaultRetryMaxWait,
	}
	for _, o := range opts {
		o(&s)
	}
	rt := s.transport
	if rt == nil {
		rt = http.DefaultTransport.(*http.Transport).Clone()
	}
	rt = &transport{next: rt, log: s.logger}

	rc := resty.NewWithClient(&http.Client{Transport: rt, CheckRedirect: keepCredentialsToOrigin}).
		SetBaseURL(base).
		SetAuthToken(token).
		SetHeader("User-Agent", s.userAgent).
		SetLogger(restyLogger{s.logger}).
		SetResponseBodyLimit(maxResponseSize).
		SetRetryCount(s.retries).
		SetRetryWaitTime(s.retryWait).
		SetRetryMaxWaitTime(s.retryMaxWait).
		SetRetryAfter(retryAfter).
		// Replaces resty's default of retrying every failed request: only
		// requests marked idempotent add a condition that allows a retry.
		AddRetryCondition(func(*resty.Response, error) bool { return false })
	return &Client{
		host:          u.Host,
		rc:            rc,
		timeout:       s.timeout,
		uploadTimeout: s.uploadTimeout,
		progress:      s.progress,
	}, nil
}

// call describes one API request.
type call struct {
	method string
	// path is the URL path with {name} placeholders filled from params,
	// each value escaped as one path segment.
	path   string
	params map[string]string
	query  map[string]string
	// body is sent as JSON when not nil, unless contentType is set, in
	// which case it must be []byte.
	body        any
	contentType string
	// idempotent calls are retried on connection errors, 429 and 502/503/504.
	idempotent bool
	upload     string // non-empty for uploads: a name for progress reports
}

// do runs a call and decodes a JSON answer into out (when not nil).
func (c *Client) do(ctx context.Context, cl call, out any) error {
	for k, v := range cl.params {
		if v == "" || v == "." || v == ".." {
			return fmt.Errorf("invalid %s %q in a request path", k, v)
		}
	}
	timeout := c.timeout
	if cl.upload != "" {
		timeout = c.uploadTimeout
		if c.progress != nil {
			ctx = context.WithValue(ctx, progressKey{}, &uploadProgress{p: c.progress, name: cl.upload})
		}
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	req := c.rc.R().SetContext(ctx).SetPathParams(cl.params).SetQueryParams(cl.query)
	if cl.body != nil {
		ct := cl.contentType
		if ct == "" {
			ct = "application/json"
		}
		req.SetHeader("Content-Type", ct).SetBody(cl.body)
	}
	if cl.idempotent {
		req.AddRetryCondition(shouldRetry)
	}
	// Errors leave the request line out: the debug log (WithLogger) has
	// every request and answer.
	resp, err := req.Execute(cl.method, cl.path)
	if err != nil {
		return c.transportError(ctx, timeout, err)
	}
	status := resp.StatusCode()
	if status < 200 || status > 299 {
		return newAPIError(status, resp.Body())
	}
	if out == nil {
		return nil
	}
	if err := decodeJSON(resp.Body(), out); err != nil {
		return fmt.Errorf("the server's answer (HTTP %d) cannot be read: %w", status, err)
	}
	return nil
}

// transportError explains a request that got no HTTP answer.
func (c *Client) transportError(ctx context.Context, timeout time.Duration, err error) error {
	if errors.Is(err, context.Canceled) {
		return context.Canceled
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("no answer from %s within %s: %w", c.host, timeout, context.DeadlineExceeded)
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "dial" {
		return fmt.Errorf("cannot connect to %s: %w", c.host, opErr.Err)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%s closed the connection without an answer", c.host)
	}
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		return fmt.Errorf("%s: %w", c.host, urlErr.Err)
	}
	return err
}

// shouldRetry allows a retry after a connection error or a status that
// says "try again later". Errors that another attempt cannot change fail at
// once: nothing listening (connection refused), an unknown host, a TLS
// certificate the client refuses.
func shouldRetry(resp *resty.Response, err error) bool {
	if err != nil {
		return !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) && !permanent(err)
	}
	if resp == nil {
		return false
	}
	switch resp.StatusCode() {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// permanent reports whether a transport error will be the same on retry.
func permanent(err error) bool {
	var (
		dnsErr     *net.DNSError
		certErr    *tls.CertificateVerificationError
		unknownCA  x509.UnknownAuthorityError
		hostnameEr x509.HostnameError
	)
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return true
	case errors.As(err, &dnsErr):
		return dnsErr.IsNotFound
	case errors.As(err, &certErr), errors.As(err, &unknownCA), errors.As(err, &hostnameEr):
		return true
	}
	return false
}

// retryAfter reads a Retry-After header (seconds or an HTTP date). Zero
// means "use the backoff".
func retryAfter(_ *resty.Client, resp *resty.Response) (time.Duration, error) {
	if resp == nil {
		return 0, nil
	}
	v := strings.TrimSpace(resp.Header().Get("Retry-After"))
	if v == "" {
		return 0, nil
	}
	if secs, err := strconv.Atoi(v); err == nil && secs >= 0 {
		return time.Duration(secs) * time.Second, nil
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 {
			return d, nil
		}
	}
	return 0, nil
}

// restyLogger sends resty's own messages (retry attempts) to the debug log.
type restyLogger struct{ l Logger }

func (r restyLogger) Errorf(format string, v ...any) { r.Debugf(format, v...) }
func (r restyLogger) Warnf(format string, v ...any)  { r.Debugf(format, v...) }
func (r restyLogger) Debugf(format string, v ...any) {
	if r.l != nil {
		r.l.Debugf("http: "+strings.TrimSpace(format), v...)
	}
}
