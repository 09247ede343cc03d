package cloud_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ksbuilder/ksbuilder/internal/cloudtest"
	"github.com/ksbuilder/ksbuilder/pkg/cloud"
)

// newFake starts a fake server that fails the test on protocol violations.
func newFake(t *testing.T) *cloudtest.Server {
	t.Helper()
	srv := cloudtest.New()
	t.Cleanup(func() {
		srv.Close()
		for _, v := range srv.Violations() {
			t.Errorf("protocol violation: %s", v)
		}
	})
	return srv
}

func newClient(t *testing.T, server, token string, opts ...cloud.Option) *cloud.Client {
	t.Helper()
	opts = append([]cloud.Option{cloud.WithUserAgent("ksbuilder/test"), cloud.WithRetry(3, time.Millisecond, 5*time.Millisecond)}, opts...)
	c, err := cloud.New(server, token, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// tgz builds a minimal package <name>-<version>.tgz.
func tgz(t *testing.T, name, version string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	files := map[string]string{
		"Chart.yaml":     fmt.Sprintf("apiVersion: v2\nname: %s\nversion: %s\n", name, version),
		"extension.yaml": fmt.Sprintf("apiVersion: v1\nname: %s\nversion: %s\n", name, version),
	}
	for _, n := range []string{"Chart.yaml", "extension.yaml"} {
		body := files[n]
		if err := tw.WriteHeader(&tar.Header{Name: name + "/" + n, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestParseServer(t *testing.T) {
	tests := []struct {
		in, want, wantErr string
	}{
		{in: "https://apis.kubesphere.cloud", want: "https://apis.kubesphere.cloud"},
		{in: " https://apis.kubesphere.cloud/ ", want: "https://apis.kubesphere.cloud"},
		{in: "http://127.0.0.1:8080/prefix//", want: "http://127.0.0.1:8080/prefix"},
		{in: "apis.kubesphere.cloud", wantErr: "want http(s)://host"},
		{in: "ftp://host", wantErr: "want http(s)://host"},
		{in: "https://user:pw@host", wantErr: "no user info"},
		{in: "https://host/?q=1", wantErr: "no user info, query or fragment"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, _, err := cloud.ParseServer(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestNewMakesNoRequest(t *testing.T) {
	srv := newFake(t)
	newClient(t, srv.URL, cloudtest.Token)
	if n := len(srv.Requests()); n != 0 {
		t.Fatalf("New made %d requests", n)
	}
	if _, err := cloud.New(srv.URL, "  "); err == nil {
		t.Fatal("New accepted an empty token")
	}
}

// TestPublishFlow walks through every endpoint the way push, list, get and
// unpush use them, against the strict fake.
func TestPublishFlow(t *testing.T) {
	srv := newFake(t)
	ctx := context.Background()
	c := newClient(t, srv.URL, cloudtest.Token)

	u, err := c.CurrentUser(ctx)
	if err != nil || string(u.ID) != cloudtest.UserID {
		t.Fatalf("CurrentUser = %v, %v", u, err)
	}
	dir, err := c.FilesDir(ctx)
	if err != nil || dir != cloudtest.FilesDir(cloudtest.UserID) {
		t.Fatalf("FilesDir = %q, %v", dir, err)
	}
	urls, err := c.UploadFiles(ctx, []cloud.File{
		{Name: "icon.svg", Path: dir + "/hello/0.1.0/icon.svg", Data: []byte("<svg/>")},
		{Name: "a b.png", Path: dir + "/hello/0.1.0/a b.png", Data: []byte("png")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(urls) != 2 || !strings.HasSuffix(urls[0], "/icon.svg") || !strings.HasSuffix(urls[1], "/a b.png") {
		t.Fatalf("URLs = %q", urls)
	}
	if got := string(srv.Files()[dir+"/hello/0.1.0/a b.png"]); got != "png" {
		t.Fatalf("stored file = %q", got)
	}

	id, err := c.UploadPackage(ctx, "hello", "hello-0.1.0.tgz", tgz(t, "hello", "0.1.0"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Submit(ctx, id, time.Now().Format(time.RFC3339)+" submit for review"); err != nil {
		t.Fatal(err)
	}
	ext := srv.Extension("hello")
	if ext == nil || ext.Snapshots[0].Status != cloud.StatusSubmitted || ext.Snapshots[0].ID != id {
		t.Fatalf("server state after submit: %+v", ext)
	}

	list, err := c.MyExtensions(ctx)
	if err != nil || len(list) != 1 || list[0].Name != "hello" || list[0].Status != cloud.StatusDraft || list[0].Latest() != "" {
		t.Fatalf("MyExtensions = %+v, %v", list, err)
	}
	sum, err := c.ExtensionSummary(ctx, "hello")
	if err != nil || string(sum.ID) != ext.ID {
		t.Fatalf("ExtensionSummary = %+v, %v", sum, err)
	}
	snaps, err := c.Snapshots(ctx, "hello")
	if err != nil || len(snaps) != 1 || string(snaps[0].ID) != id || snaps[0].Metadata.Version != "0.1.0" || snaps[0].UpdatedAt == "" {
		t.Fatalf("Snapshots = %+v, %v", snaps, err)
	}
	snap, err := c.SnapshotOf(ctx, "hello", "0.1.0")
	if err != nil || string(snap.ID) != id {
		t.Fatalf("SnapshotOf = %+v, %v", snap, err)
	}
	if err := c.CancelSubmit(ctx, id); err != nil {
		t.Fatal(err)
	}
	if got := srv.Extension("hello").Snapshots[0].Status; got != cloud.StatusDraft {
		t.Fatalf("status after cancel = %s", got)
	}
	// The user ID is asked once and cached.
	if n := srv.Count(cloudtest.RouteUser); n != 1 {
		t.Fatalf("user endpoint called %d times", n)
	}
}

func TestPathSegmentsAreEscaped(t *testing.T) {
	srv := newFake(t)
	c := newClient(t, srv.URL, cloudtest.Token)
	_, err := c.ExtensionSummary(context.Background(), "a/b?c")
	if !cloud.IsNotFound(err) {
		t.Fatalf("err = %v, want a 404", err)
	}
	reqs := srv.Requests()
	if got := reqs[len(reqs)-1].Path; got != "/apis/extension/v1/extensions/a%2Fb%3Fc/summary" {
		t.Fatalf("path = %s", got)
	}
	if _, err := c.SnapshotOf(context.Background(), "hello", ".."); err == nil || !strings.Contains(err.Error(), `invalid version ".."`) {
		t.Fatalf("err = %v", err)
	}
}

const htmlPage = `<!DOCTYPE html>
<html>
<head><title>502 Bad Gateway</title><style>body { color: red }</style></head>
<body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body>
</html>`

func TestErrors(t *testing.T) {
	tests := []struct {
		name      string
		fault     cloudtest.Fault
		call      func(context.Context, *cloud.Client) error
		wantErr   string
		wantCalls int // requests to the faulty route
		check     func(error) bool
	}{
		{
			name:    "401 is unauthorized",
			fault:   cloudtest.Fault{Route: cloudtest.RouteUser, Status: 401, Body: `{"message":"token expired"}`},
			call:    currentUser,
			wantErr: "HTTP 401 Unauthorized: token expired", wantCalls: 1,
			check: cloud.IsUnauthorized,
		},
		{
			name:    "403 keeps the message",
			fault:   cloudtest.Fault{Route: cloudtest.RouteSearch, Status: 403, Body: `{"message":"permission denied"}`},
			call:    myExtensions,
			wantErr: "HTTP 403 Forbidden: permission denied", wantCalls: 1,
			check: cloud.IsForbidden,
		},
		{
			name:    "404",
			fault:   cloudtest.Fault{Route: cloudtest.RouteSummary, Status: 404, Body: `{"message":"extension not found"}`},
			call:    summary,
			wantErr: "HTTP 404 Not Found: extension not found", wantCalls: 1,
			check: cloud.IsNotFound,
		},
		{
			name:    "413 on upload is not retried",
			fault:   cloudtest.Fault{Route: cloudtest.RoutePackage, Status: 413, Body: "<html><body><h1>413 Request Entity Too Large</h1></body></html>"},
			call:    uploadPackage,
			wantErr: "HTTP 413 Request Entity Too Large: 413 Request Entity Too Large", wantCalls: 1,
		},
		{
			name:    "500 with an HTML body keeps the status",
			fault:   cloudtest.Fault{Route: cloudtest.RouteSummary, Status: 500, Body: "<!DOCTYPE html>\n<html><body>\n<p>Internal error, id 42</p></body></html>"},
			call:    summary,
			wantErr: "HTTP 500 Internal Server Error: Internal error, id 42", wantCalls: 1,
		},
		{
			name:    "502 from a proxy: GET retried, then the page's first line",
			fault:   cloudtest.Fault{Route: cloudtest.RouteSnapshots, Status: 502, Body: htmlPage},
			call:    snapshots,
			wantErr: "HTTP 502 Bad Gateway: 502 Bad Gateway", wantCalls: 4,
		},
		{
			name:    "plain text body",
			fault:   cloudtest.Fault{Route: cloudtest.RouteSummary, Status: 400, Body: "\n\nbad name < 3\nsecond line", ContentType: "text/plain"},
			call:    summary,
			wantErr: "HTTP 400 Bad Request: bad name < 3", wantCalls: 1,
		},
		{
			name:    "empty error body",
			fault:   cloudtest.Fault{Route: cloudtest.RouteSummary, Status: 500},
			call:    summary,
			wantErr: "HTTP 500 Internal Server Error", wantCalls: 1,
		},
		{
			name:    "503 on submit is not retried",
			fault:   cloudtest.Fault{Route: cloudtest.RouteSubmit, Status: 503, Body: `{"message":"maintenance"}`},
			call:    submit,
			wantErr: "HTTP 503 Service Unavailable: maintenance", wantCalls: 1,
		},
		{
			name:    "dropped connection on submit is not retried",
			fault:   cloudtest.Fault{Route: cloudtest.RouteSubmit, Drop: true},
			call:    submit,
			wantErr: "closed the connection without an answer", wantCalls: 1,
		},
		{
			name:    "dropped connection on GET is retried",
			fault:   cloudtest.Fault{Route: cloudtest.RouteSummary, Drop: true},
			call:    summary,
			wantErr: "closed the connection without an answer", wantCalls: 4,
		},
		{
			name:    "truncated JSON",
			fault:   cloudtest.Fault{Route: cloudtest.RouteUser, Status: 200, Body: `{"user_id": "5169`},
			call:    currentUser,
			wantErr: "the server's answer (HTTP 200) cannot be read: the JSON is truncated", wantCalls: 1,
		},
		{
			name:    "HTML with status 200",
			fault:   cloudtest.Fault{Route: cloudtest.RouteSnapshots, Status: 200, Body: htmlPage},
			call:    snapshots,
			wantErr: "cannot be read: invalid character '<'", wantCalls: 1,
		},
		{
			name:    "missing URLs in an upload answer",
			fault:   cloudtest.Fault{Route: cloudtest.RouteFiles, Status: 200, Body: `{"files": []}`},
			call:    uploadFile,
			wantErr: "the server returned 0 URLs for 1 files", wantCalls: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFake(t)
			srv.AddExtension("hello", cloudtest.UserID, map[string]string{"0.1.0": cloud.StatusDraft})
			srv.Fail(tt.fault)
			c := newClient(t, srv.URL, cloudtest.Token)
			err := tt.call(context.Background(), c)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
			}
			// The request line is for the debug log, not the error.
			if strings.Contains(err.Error(), "/apis/") {
				t.Errorf("err = %v names the request", err)
			}
			if tt.check != nil && !tt.check(err) {
				t.Errorf("the error is not classified: %#v", err)
			}
			if n := srv.Count(tt.fault.Route); n != tt.wantCalls {
				t.Errorf("%s called %d times, want %d", tt.fault.Route, n, tt.wantCalls)
			}
		})
	}
}

func currentUser(ctx context.Context, c *cloud.Client) error {
	_, err := c.CurrentUser(ctx)
	return err
}

func myExtensions(ctx context.Context, c *cloud.Client) error {
	_, err := c.MyExtensions(ctx)
	return err
}

func summary(ctx context.Context, c *cloud.Client) error {
	_, err := c.ExtensionSummary(ctx, "hello")
	return err
}

func snapshots(ctx context.Context, c *cloud.Client) error {
	_, err := c.Snapshots(ctx, "hello")
	return err
}

func uploadPackage(ctx context.Context, c *cloud.Client) error {
	_, err := c.UploadPackage(ctx, "hello", "hello-0.1.0.tgz", []byte("data"))
	return err
}

func uploadFile(ctx context.Context, c *cloud.Client) error {
	_, err := c.UploadFiles(ctx, []cloud.File{{Name: "a.png", Path: "x/hello/0.1.0/a.png", Data: []byte("a")}})
	return err
}

func submit(ctx context.Context, c *cloud.Client) error {
	snap, err := c.SnapshotOf(ctx, "hello", "0.1.0")
	if err != nil {
		return err
	}
	return c.Submit(ctx, string(snap.ID), time.Now().Format(time.RFC3339)+" submit for review")
}

func TestAnySuccessStatus(t *testing.T) {
	for _, status := range []int{200, 201, 202, 204} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			srv := newFake(t)
			srv.AddExtension("hello", cloudtest.UserID, map[string]string{"0.1.0": cloud.StatusSubmitted})
			srv.Fail(cloudtest.Fault{Route: cloudtest.RouteCancelSubmit, Status: status})
			c := newClient(t, srv.URL, cloudtest.Token)
			snap, err := c.SnapshotOf(context.Background(), "hello", "0.1.0")
			if err != nil {
				t.Fatal(err)
			}
			if err := c.CancelSubmit(context.Background(), string(snap.ID)); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestOtherDevelopersExtension(t *testing.T) {
	srv := newFake(t)
	srv.AddExtension("hello", "516955082294610002", map[string]string{"0.1.0": cloud.StatusActive})
	srv.AddToken("kck-other", "516955082294610003")
	ctx := context.Background()
	mine := newClient(t, srv.URL, cloudtest.Token)
	if _, err := mine.UploadPackage(ctx, "hello", "hello-0.2.0.tgz", tgz(t, "hello", "0.2.0")); !cloud.IsForbidden(err) {
		t.Fatalf("uploading to another developer's extension: %v", err)
	}
	// Each token lists its own extensions.
	other := newClient(t, srv.URL, "kck-other")
	if list, err := other.MyExtensions(ctx); err != nil || len(list) != 0 {
		t.Fatalf("MyExtensions = %v, %v", list, err)
	}
	if u, err := other.CurrentUser(ctx); err != nil || u.ID != "516955082294610003" {
		t.Fatalf("CurrentUser = %v, %v", u, err)
	}
}

func TestNumericIDs(t *testing.T) {
	srv := newFake(t)
	srv.Fail(cloudtest.Fault{Route: cloudtest.RouteUser, Status: 200, Body: `{"user_id": 516955082294610001}`})
	c := newClient(t, srv.URL, cloudtest.Token)
	u, err := c.CurrentUser(context.Background())
	if err != nil || u.ID != "516955082294610001" {
		t.Fatalf("CurrentUser = %+v, %v", u, err)
	}
}

func TestRetryOn429HonoursRetryAfter(t *testing.T) {
	srv := newFake(t)
	srv.Fail(cloudtest.Fault{Route: cloudtest.RouteSearch, Status: 429, Body: `{"message":"slow down"}`, Header: map[string]string{"Retry-After": "1"}, Times: 1})
	c := newClient(t, srv.URL, cloudtest.Token, cloud.WithRetry(3, time.Millisecond, 5*time.Second))
	start := time.Now()
	list, err := c.MyExtensions(context.Background())
	if err != nil || len(list) != 0 {
		t.Fatalf("MyExtensions = %v, %v", list, err)
	}
	if n := srv.Count(cloudtest.RouteSearch); n != 2 {
		t.Fatalf("search called %d times, want 2", n)
	}
	// The 1 ms backoff would have retried at once; Retry-After asked for 1 s.
	if waited := time.Since(start); waited < time.Second {
		t.Fatalf("retried after %s, before Retry-After", waited)
	}
}

func TestRetryAfterIsCapped(t *testing.T) {
	srv := newFake(t)
	srv.Fail(cloudtest.Fault{Route: cloudtest.RouteUser, Status: 429, Header: map[string]string{"Retry-After": "3600"}})
	c := newClient(t, srv.URL, cloudtest.Token, cloud.WithRetry(2, time.Millisecond, 10*time.Millisecond))
	_, err := c.CurrentUser(context.Background())
	var apiErr *cloud.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 429 {
		t.Fatalf("err = %v", err)
	}
	if n := srv.Count(cloudtest.RouteUser); n != 3 {
		t.Fatalf("user endpoint called %d times, want 3", n)
	}
}

func TestSlowServerTimesOut(t *testing.T) {
	srv := newFake(t)
	srv.Fail(cloudtest.Fault{Route: cloudtest.RouteUser, Delay: time.Minute})
	c := newClient(t, srv.URL, cloudtest.Token, cloud.WithTimeout(50*time.Millisecond))
	_, err := c.CurrentUser(context.Background())
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "no answer from 127.0.0.1") || !strings.Contains(err.Error(), "within 50ms") {
		t.Fatalf("err = %v", err)
	}
}

func TestUploadTimeoutIsSeparate(t *testing.T) {
	srv := newFake(t)
	srv.Fail(cloudtest.Fault{Route: cloudtest.RoutePackage, Delay: 800 * time.Millisecond, Times: 1})
	c := newClient(t, srv.URL, cloudtest.Token, cloud.WithTimeout(500*time.Millisecond), cloud.WithUploadTimeout(time.Minute))
	// The user lookup is well within the API timeout (a 20 ms timeout was
	// missed now and then under -race on a loaded machine); the upload is
	// slower than the API timeout but within the upload timeout.
	if _, err := c.UploadPackage(context.Background(), "hello", "hello-0.1.0.tgz", tgz(t, "hello", "0.1.0")); err != nil {
		t.Fatal(err)
	}
}

func TestCancelledContext(t *testing.T) {
	srv := newFake(t)
	c := newClient(t, srv.URL, cloudtest.Token)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.CurrentUser(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}

// logLines collects debug lines.
type logLines struct {
	mu    sync.Mutex
	lines []string
}

func (l *logLines) Debugf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

func (l *logLines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// Nothing listens: another attempt cannot help, so the call fails at once.
func TestConnectionRefusedFailsAtOnce(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	var log logLines
	c := newClient(t, "http://"+addr, cloudtest.Token, cloud.WithLogger(&log))
	_, err = c.CurrentUser(context.Background())
	if err == nil || !strings.Contains(err.Error(), "cannot connect to "+addr) {
		t.Fatalf("err = %v", err)
	}
	if n := strings.Count(log.String(), "> GET "); n != 1 {
		t.Fatalf("%d attempts, want 1:\n%s", n, log.String())
	}
}

func TestDebugLogRedactsToken(t *testing.T) {
	srv := newFake(t)
	var log logLines
	c := newClient(t, srv.URL, cloudtest.Token, cloud.WithLogger(&log))
	if _, err := c.UploadPackage(context.Background(), "hello", "hello-0.1.0.tgz", tgz(t, "hello", "0.1.0")); err != nil {
		t.Fatal(err)
	}
	out := log.String()
	if strings.Contains(out, cloudtest.Token) || strings.Contains(out, "1e63267b") {
		t.Fatalf("the token leaked into the debug log:\n%s", out)
	}
	for _, want := range []string{"Authorization: Bearer [redacted]", "User-Agent: ksbuilder/test", "> POST " + srv.URL + "/apis/extension/v1/users/" + cloudtest.UserID + "/extensions/hello/package?", "< 200 OK"} {
		if !strings.Contains(out, want) {
			t.Errorf("debug log lacks %q:\n%s", want, out)
		}
	}
}

// progressRecorder records upload progress.
type progressRecorder struct {
	name        string
	total, sent int64
	finished    int
}

func (p *progressRecorder) Start(name string, total int64) { p.name, p.total = name, total }
func (p *progressRecorder) Add(n int)                      { p.sent += int64(n) }
func (p *progressRecorder) Finish()                        { p.finished++ }

func TestUploadProgress(t *testing.T) {
	srv := newFake(t)
	var p progressRecorder
	c := newClient(t, srv.URL, cloudtest.Token, cloud.WithProgress(&p))
	if _, err := c.UploadPackage(context.Background(), "hello", "hello-0.1.0.tgz", tgz(t, "hello", "0.1.0")); err != nil {
		t.Fatal(err)
	}
	if p.name != "hello-0.1.0.tgz" || p.total <= 0 || p.sent != p.total || p.finished != 1 {
		t.Fatalf("progress = %+v", p)
	}
}

func TestStatusText(t *testing.T) {
	err := &cloud.APIError{Status: http.StatusTooManyRequests, Message: "slow down"}
	if got := err.Error(); got != "HTTP 429 Too Many Requests: slow down" {
		t.Fatal(got)
	}
}

// TestRedirectKeepsTokenToItsOrigin checks that the bearer token follows a
// redirect only to the exact origin it was issued for: the same host on
// another port is another server.
func TestRedirectKeepsTokenToItsOrigin(t *testing.T) {
	var (
		mu   sync.Mutex
		seen = map[string]string{}
	)
	record := func(name string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			seen[name] = r.Header.Get("Authorization")
			mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"user_id":"u1","username":"alice"}`)
		}
	}
	other := httptest.NewServer(record("other port"))
	defer other.Close()
	var origin *httptest.Server
	origin = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("hop") {
		case "":
			// Same host, same port: the token may follow.
			http.Redirect(w, r, origin.URL+r.URL.Path+"?hop=1", http.StatusFound)
		case "1":
			mu.Lock()
			seen["same origin"] = r.Header.Get("Authorization")
			mu.Unlock()
			http.Redirect(w, r, other.URL+r.URL.Path, http.StatusFound)
		}
	}))
	defer origin.Close()
	if _, err := newClient(t, origin.URL, "s3cret").CurrentUser(context.Background()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if got := seen["same origin"]; got != "Bearer s3cret" {
		t.Errorf("redirect to the same origin: Authorization %q, want the token", got)
	}
	if got, ok := seen["other port"]; !ok || got != "" {
		t.Errorf("redirect to another port: Authorization %q (reached: %v), want none", got, ok)
	}
}

// TestParseServerHidesUserInfo checks that a server URL with user info is
// refused without echoing the secret.
func TestParseServerHidesUserInfo(t *testing.T) {
	for _, raw := range []string{"https://alice:hunter2@cloud.example", "https://hunter2@cloud.example/x", "https://alice:hunter2@cloud.example:bad port"} {
		_, _, err := cloud.ParseServer(raw)
		if err == nil {
			t.Fatalf("%s: accepted", raw)
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: error echoes the secret: %v", raw, err)
		}
	}
}

// TestServerMessageIsSanitized: an error message from the server prints
// without its escape sequences and capped, however long it is.
func TestServerMessageIsSanitized(t *testing.T) {
	long := strings.Repeat("A", 10<<20)
	for name, body := range map[string]string{
		"json": `{"message":"\u001b[2J\u001b]0;pwned\u0007denied ` + long + `"}`,
		"text": "\x1b[2J\x1b]0;pwned\x07denied " + long,
	} {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusForbidden)
				fmt.Fprint(w, body)
			}))
			defer srv.Close()
			_, err := newClient(t, srv.URL, "t").CurrentUser(context.Background())
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if strings.ContainsAny(msg, "\x1b\x07") || strings.Contains(msg, "pwned") {
				t.Errorf("escape sequences pass through: %q", msg[:min(len(msg), 80)])
			}
			if len(msg) > 2*1024 || !strings.Contains(msg, "more bytes") || !strings.Contains(msg, "denied AAA") {
				t.Errorf("message of %d bytes, want the start capped with a count: %q…", len(msg), msg[:min(len(msg), 80)])
			}
		})
	}
}
