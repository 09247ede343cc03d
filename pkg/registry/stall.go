package registry

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"sync"
	"time"
)

// DefaultTimeout is how long a registry may stay silent (Options.Timeout).
const DefaultTimeout = 30 * time.Second

// StallError is a request to a registry that made no progress for the
// timeout: no connection, no handshake, no response, or no byte sent or
// received.
type StallError struct {
	// Host is the registry; Doing what the request was doing ("reading
	// the response to GET /v2/.../blobs/sha256:...").
	Host, Doing string
	Timeout     time.Duration
}

func (e *StallError) Error() string {
	return fmt.Sprintf("registry %s stalled: no progress for %s while %s", e.Host, e.Timeout, e.Doing)
}

// stallTransport ends a request that makes no progress for timeout:
// connecting, the TLS handshake, sending the request, waiting for the
// response and reading it each restart the clock, so a large transfer
// that keeps moving is never cut.
type stallTransport struct {
	next    http.RoundTripper
	timeout time.Duration
}

// watchdog cancels a request when it is not fed for timeout.
type watchdog struct {
	mu      sync.Mutex
	timer   *time.Timer
	doing   string
	err     *StallError
	timeout time.Duration
	host    string
	cancel  context.CancelCauseFunc
}

func newWatchdog(host string, timeout time.Duration, cancel context.CancelCauseFunc) *watchdog {
	w := &watchdog{host: host, timeout: timeout, cancel: cancel, doing: "connecting"}
	w.timer = time.AfterFunc(timeout, w.fire)
	return w
}

func (w *watchdog) fire() {
	w.mu.Lock()
	w.err = &StallError{Host: w.host, Doing: w.doing, Timeout: w.timeout}
	err := w.err
	w.mu.Unlock()
	w.cancel(err)
}

// feed restarts the clock; doing, when set, is the new phase.
func (w *watchdog) feed(doing string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return
	}
	if doing != "" {
		w.doing = doing
	}
	w.timer.Reset(w.timeout)
}

func (w *watchdog) stop() { w.timer.Stop() }

// stalled returns the stall, if the watchdog fired.
func (w *watchdog) stalled() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err == nil {
		return nil
	}
	return w.err
}

func (t *stallTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancelCause(req.Context())
	w := newWatchdog(req.URL.Host, t.timeout, cancel)
	what := req.Method + " " + req.URL.Path
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		TLSHandshakeStart: func() { w.feed("in the TLS handshake") },
		GotConn:           func(httptrace.GotConnInfo) { w.feed("sending " + what) },
		WroteRequest:      func(httptrace.WroteRequestInfo) { w.feed("waiting for the response to " + what) },
	})
	out := req.WithContext(ctx)
	if req.Body != nil && req.Body != http.NoBody {
		out.Body = &fedReader{rc: req.Body, w: w}
	}
	resp, err := t.next.RoundTrip(out)
	if err != nil {
		w.stop()
		cancel(nil)
		if s := w.stalled(); s != nil {
			return nil, s
		}
		return nil, err
	}
	w.feed("reading the response to " + what)
	resp.Body = &fedReader{rc: resp.Body, w: w, done: func() { cancel(nil) }}
	return resp, nil
}

// fedReader feeds the watchdog with every read; a read cut by the
// watchdog returns the stall.
type fedReader struct {
	rc   io.ReadCloser
	w    *watchdog
	done func()
	once sync.Once
}

func (f *fedReader) Read(p []byte) (int, error) {
	n, err := f.rc.Read(p)
	if n > 0 {
		f.w.feed("")
	}
	if err != nil && !errors.Is(err, io.EOF) {
		if s := f.w.stalled(); s != nil {
			return n, s
		}
	}
	return n, err
}

func (f *fedReader) Close() error {
	if f.done != nil {
		f.once.Do(func() {
			f.w.stop()
			f.done()
		})
	}
	return f.rc.Close()
}

// Transport returns an HTTP transport with the TLS settings of opts (CA
// file, client certificate, certificate check) that ends a request making
// no progress for opts.Timeout (DefaultTimeout when zero) with a
// *StallError, for clients other than Helm's that talk to the same
// registries.
func (o Options) Transport() (http.RoundTripper, error) {
	conf, err := tlsConfig(o)
	if err != nil {
		return nil, err
	}
	return newTransport(conf, o.Timeout), nil
}

func newTransport(conf *tls.Config, timeout time.Duration) http.RoundTripper {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	// The transport's own limits are a backstop at twice the watchdog's,
	// so that the watchdog, which names the phase, ends a stall first.
	backstop := 2 * timeout
	return &stallTransport{timeout: timeout, next: &http.Transport{
		TLSClientConfig:     conf,
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         (&net.Dialer{Timeout: backstop, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout: backstop,
		ForceAttemptHTTP2:   true,
		MaxIdleConnsPerHost: 16,
	}}
}
