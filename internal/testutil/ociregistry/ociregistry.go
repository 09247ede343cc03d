// Package ociregistry runs in-process OCI registries for tests
// (go-containerregistry's), optionally behind basic auth or TLS.
package ociregistry

import (
	"encoding/pem"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"

	ggcr "github.com/google/go-containerregistry/pkg/registry"
)

// Options choose how the registry is served.
type Options struct {
	// Username and Password, when set, are required as basic auth; other
	// requests get 401 with a Basic challenge.
	Username, Password string
	// TLS serves HTTPS with a self-signed certificate.
	TLS bool
}

// Server is a running registry.
type Server struct {
	// Host is "127.0.0.1:PORT".
	Host string
	srv  *httptest.Server
}

// Start starts a registry; Close stops it.
func Start(opts Options) *Server {
	var h http.Handler = ggcr.New(ggcr.Logger(log.New(io.Discard, "", 0)))
	if opts.Username != "" {
		h = basicAuth(h, opts.Username, opts.Password)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	if opts.TLS {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	host := strings.TrimPrefix(strings.TrimPrefix(srv.URL, "http://"), "https://")
	return &Server{Host: host, srv: srv}
}

// Close stops the registry.
func (s *Server) Close() { s.srv.Close() }

// WriteCA writes the server's certificate (PEM) to path, for --ca-file.
// It fails for a plain-HTTP server.
func (s *Server) WriteCA(path string) error {
	cert := s.srv.Certificate()
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), 0o600)
}

func basicAuth(next http.Handler, user, password string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok || u != user || p != password {
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`)
			return
		}
		next.ServeHTTP(w, r)
	})
}
