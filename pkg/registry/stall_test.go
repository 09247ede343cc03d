package registry

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// stallServer answers /slow-body with headers and a few bytes, then
// nothing; /silent with nothing; /moving with a byte every step for
// steps steps. Handlers end when the client gives up.
func stallServer(t *testing.T, step time.Duration, steps int) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v2/x/blobs/slow-body":
			w.Header().Set("Content-Length", "1000")
			_, _ = w.Write([]byte("partial"))
			w.(http.Flusher).Flush()
		case "/v2/x/moving":
			for range steps {
				_, _ = w.Write([]byte("."))
				w.(http.Flusher).Flush()
				select {
				case <-time.After(step):
				case <-r.Context().Done():
					return
				}
			}
			return
		}
		<-r.Context().Done()
	}))
	t.Cleanup(srv.Close)
	return srv
}

// A request that makes no progress for the timeout fails with a
// *StallError naming the registry and what stalled; one that keeps
// moving runs longer than the timeout.
func TestTransportStall(t *testing.T) {
	timeout := 300 * time.Millisecond
	srv := stallServer(t, timeout/6, 10)
	host := strings.TrimPrefix(srv.URL, "http://")
	rt, err := Options{PlainHTTP: true, Timeout: timeout}.Transport()
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: rt}

	get := func(path string) ([]byte, error) {
		resp, err := client.Get(srv.URL + path)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		return io.ReadAll(resp.Body)
	}
	for path, doing := range map[string]string{
		"/v2/x/manifests/silent": "waiting for the response to GET /v2/x/manifests/silent",
		"/v2/x/blobs/slow-body":  "reading the response to GET /v2/x/blobs/slow-body",
	} {
		_, err := get(path)
		var stall *StallError
		if !errors.As(err, &stall) {
			t.Fatalf("%s: got %v, want a *StallError", path, err)
		}
		want := "registry " + host + " stalled: no progress for 300ms while " + doing
		if stall.Error() != want {
			t.Errorf("%s: got %q, want %q", path, stall.Error(), want)
		}
	}
	body, err := get("/v2/x/moving")
	if err != nil || string(body) != ".........." {
		t.Errorf("a transfer that keeps moving: %q, %v", body, err)
	}
}

// The TLS handshake with a host that accepts the connection and then
// says nothing is bounded too.
func TestTransportHandshakeStall(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
	})
	rt, err := Options{Timeout: 200 * time.Millisecond}.Transport()
	if err != nil {
		t.Fatal(err)
	}
	_, err = (&http.Client{Transport: rt}).Get("https://" + ln.Addr().String() + "/v2/")
	var stall *StallError
	if !errors.As(err, &stall) || stall.Doing != "in the TLS handshake" {
		t.Errorf("got %v, want a stall in the TLS handshake", err)
	}
}
