package cloud

import (
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
)

// transport logs each HTTP exchange (secrets redacted) and reports upload
// progress. It sees every attempt, so retries show up in the log.
type transport struct {
	next http.RoundTripper
	log  Logger
}

// redactedHeaders are never logged with their value.
var redactedHeaders = map[string]bool{"Authorization": true, "Cookie": true, "Set-Cookie": true, "Proxy-Authorization": true}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if up, ok := req.Context().Value(progressKey{}).(*uploadProgress); ok && req.Body != nil {
		req = req.Clone(req.Context())
		req.Body = up.wrap(req.Body, req.ContentLength)
	}
	if t.log == nil {
		return t.next.RoundTrip(req)
	}
	start := time.Now()
	t.log.Debugf("http: > %s %s", req.Method, req.URL.Redacted())
	for _, line := range headerLines(req.Header) {
		t.log.Debugf("http: >   %s", line)
	}
	resp, err := t.next.RoundTrip(req)
	elapsed := time.Since(start).Round(time.Millisecond)
	if err != nil {
		t.log.Debugf("http: < %s %s failed after %s: %v", req.Method, req.URL.Path, elapsed, err)
		return nil, err
	}
	t.log.Debugf("http: < %s (%s, %s)", resp.Status, elapsed, resp.Header.Get("Content-Type"))
	return resp, nil
}

// headerLines renders headers sorted by name, secrets redacted.
func headerLines(h http.Header) []string {
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	sort.Strings(names)
	var out []string
	for _, k := range names {
		v := strings.Join(h[k], ", ")
		if redactedHeaders[http.CanonicalHeaderKey(k)] {
			scheme, _, found := strings.Cut(v, " ")
			v = "[redacted]"
			if found {
				v = scheme + " [redacted]"
			}
		}
		out = append(out, k+": "+v)
	}
	return out
}

type progressKey struct{}

// uploadProgress reports one upload to a Progress.
type uploadProgress struct {
	p    Progress
	name string
	once sync.Once
}

func (u *uploadProgress) wrap(body io.ReadCloser, total int64) io.ReadCloser {
	u.once.Do(func() { u.p.Start(u.name, total) })
	return &progressReader{body: body, p: u.p}
}

// progressReader counts the bytes the HTTP client reads from a request body.
type progressReader struct {
	body io.ReadCloser
	p    Progress
	done bool
}

func (r *progressReader) Read(b []byte) (int, error) {
	n, err := r.body.Read(b)
	if n > 0 {
		r.p.Add(n)
	}
	return n, err
}

func (r *progressReader) Close() error {
	if !r.done {
		r.done = true
		r.p.Finish()
	}
	return r.body.Close()
}
