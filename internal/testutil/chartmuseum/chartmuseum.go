// Package chartmuseum is an in-process server speaking the part of
// ChartMuseum's API that clients upload with: POST <context>/api[/tenant]/charts
// (multipart field "chart", or the package as the whole body), 409 for a
// version it holds unless ?force is given, and GET <context>[/tenant]/index.yaml,
// written by Helm's own repository code.
package chartmuseum

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"helm.sh/helm/v3/pkg/chart/loader"
	helmrepo "helm.sh/helm/v3/pkg/repo"
	"sigs.k8s.io/yaml"
)

// Options configure a Server.
type Options struct {
	// Username and Password, when set, are required (basic auth) to upload.
	Username, Password string
	// ContextPath is the path the API is served under ("/charts").
	ContextPath string
}

// Server is a running in-process ChartMuseum.
type Server struct {
	// URL is the server's root, without the context path.
	URL  string
	opts Options
	srv  *httptest.Server

	mu       sync.Mutex
	charts   map[string]map[string][]byte // tenant -> "name-version" -> package
	requests []string
}

// Start starts a server; Close stops it.
func Start(opts Options) *Server {
	s := &Server{opts: opts, charts: map[string]map[string][]byte{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	return s
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// Requests returns "METHOD PATH STATUS" for each request, in order.
func (s *Server) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.requests...)
}

// Package returns the stored package of a tenant ("" for the root).
func (s *Server) Package(tenant, name, version string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	data, ok := s.charts[tenant][name+"-"+version]
	return data, ok
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	s.route(rec, r)
	s.mu.Lock()
	s.requests = append(s.requests, fmt.Sprintf("%s %s %d", r.Method, r.URL.Path, rec.status))
	s.mu.Unlock()
}

func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	if cp := "/" + strings.Trim(s.opts.ContextPath, "/"); cp != "/" {
		if !strings.HasPrefix(p, cp+"/") {
			writeError(w, http.StatusNotFound, "not found")
			return
		}
		p = strings.TrimPrefix(p, cp)
	}
	switch {
	case strings.HasPrefix(p, "/api/") && strings.HasSuffix(p, "/charts"):
		if r.Method != http.MethodPost {
			writeError(w, http.StatusMethodNotAllowed, "method not allowed")
			return
		}
		if !s.authorized(r) {
			w.Header().Set("WWW-Authenticate", `Basic realm="ChartMuseum"`)
			writeError(w, http.StatusUnauthorized, "unauthorized")
			return
		}
		s.upload(w, r, strings.Trim(strings.TrimSuffix(strings.TrimPrefix(p, "/api"), "/charts"), "/"))
	case strings.HasSuffix(p, "/index.yaml") && r.Method == http.MethodGet:
		s.index(w, strings.Trim(strings.TrimSuffix(p, "/index.yaml"), "/"))
	default:
		writeError(w, http.StatusNotFound, "not found")
	}
}

func (s *Server) authorized(r *http.Request) bool {
	if s.opts.Username == "" && s.opts.Password == "" {
		return true
	}
	u, p, ok := r.BasicAuth()
	return ok && u == s.opts.Username && p == s.opts.Password
}

func (s *Server) upload(w http.ResponseWriter, r *http.Request, tenant string) {
	var data []byte
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		f, _, err := r.FormFile("chart")
		if err != nil {
			writeError(w, http.StatusBadRequest, "no chart in the form: "+err.Error())
			return
		}
		defer f.Close()
		if data, err = io.ReadAll(f); err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
	} else {
		var err error
		if data, err = io.ReadAll(r.Body); err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
	}
	c, err := loader.LoadArchive(bytes.NewReader(data))
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid chart: "+err.Error())
		return
	}
	_, force := r.URL.Query()["force"]
	key := c.Metadata.Name + "-" + c.Metadata.Version
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.charts[tenant] == nil {
		s.charts[tenant] = map[string][]byte{}
	}
	if _, exists := s.charts[tenant][key]; exists && !force {
		writeError(w, http.StatusConflict, "file already exists")
		return
	}
	s.charts[tenant][key] = data
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_, _ = w.Write([]byte(`{"saved":true}`))
}

func (s *Server) index(w http.ResponseWriter, tenant string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	index := helmrepo.NewIndexFile()
	for key, data := range s.charts[tenant] {
		c, err := loader.LoadArchive(bytes.NewReader(data))
		if err != nil {
			writeError(w, http.StatusInternalServerError, err.Error())
			return
		}
		if err := index.MustAdd(c.Metadata, "charts/"+key+".tgz", "", digest(data)); err != nil {
			writeError(w, http.StatusInternalServerError, err.Error())
			return
		}
	}
	index.SortEntries()
	index.Generated = time.Unix(0, 0).UTC()
	out, err := yaml.Marshal(index)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/x-yaml")
	_, _ = w.Write(out)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}

func digest(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}
