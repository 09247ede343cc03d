// Package cloudtest is an in-process fake of the KubeSphere Cloud API for
// tests: every endpoint ksbuilder uses, with state (users, uploaded files,
// extensions, snapshots and their review status), strict checks of each
// request (method, path, Authorization, headers, multipart part names and
// order, JSON bodies) and injectable faults (error statuses, HTML pages,
// truncated JSON, slow answers).
//
// A request that breaks the protocol is answered with HTTP 400 and a
// message starting "fake cloud:", and is recorded; Violations lists them.
package cloudtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ksbuilder/ksbuilder/pkg/extension"
	"github.com/ksbuilder/ksbuilder/pkg/source"
)

// Token is a valid API token of the user UserID, known to every Server.
const Token = "kck-1e63267b-cb3c-4757-b739-3d94a06781aa"

// UserID is the user that Token belongs to.
const UserID = "516955082294610001"

// MaxPackageSize is the largest package the fake accepts (HTTP 413 above).
const MaxPackageSize = 1 << 20

// Route names, as used by Fault and Request.
const (
	RouteUser         = "user"
	RouteFilesUsage   = "files-usage"
	RouteFiles        = "files"
	RoutePackage      = "package"
	RouteSubmit       = "submit"
	RouteCancelSubmit = "cancel-submit"
	RouteSearch       = "search"
	RouteSummary      = "summary"
	RouteSnapshots    = "snapshots"
	RouteVersion      = "version"
)

type route struct {
	name    string
	method  string
	pattern []string
}

var routes = []route{
	{RouteUser, http.MethodGet, split("/apis/user/v1/user")},
	{RouteFilesUsage, http.MethodGet, split("/apis/extension/v1/users/{user}/files/usage")},
	{RouteFiles, http.MethodPost, split("/apis/extension/v1/users/{user}/files")},
	{RoutePackage, http.MethodPost, split("/apis/extension/v1/users/{user}/extensions/{name}/package")},
	{RouteSubmit, http.MethodPost, split("/apis/extension/v1/users/{user}/snapshots/{snapshot}/action:submit")},
	{RouteCancelSubmit, http.MethodPost, split("/apis/extension/v1/users/{user}/snapshots/{snapshot}/action:cancel-submit")},
	{RouteSearch, http.MethodPost, split("/apis/extension/v1/extensions/search")},
	{RouteSummary, http.MethodGet, split("/apis/extension/v1/extensions/{name}/summary")},
	{RouteSnapshots, http.MethodGet, split("/apis/extension/v1/extensions/{name}/snapshots")},
	{RouteVersion, http.MethodGet, split("/apis/extension/v1/extensions/{name}/versions/{version}")},
}

func split(p string) []string { return strings.Split(strings.TrimPrefix(p, "/"), "/") }

// Fault makes the server answer matching requests differently, as a broken
// server or a proxy in front of it would. Faults apply before any check.
type Fault struct {
	// Route limits the fault to one route; "" matches every request.
	Route string
	// Status is the status to answer with; 0 answers normally after Delay.
	Status int
	// Body is the raw answer body; ContentType its type (default JSON when
	// the body starts with "{" or "[", else text/html).
	Body        string
	ContentType string
	// Header adds answer headers, such as Retry-After.
	Header map[string]string
	// Delay waits before answering (or until the client gives up).
	Delay time.Duration
	// Drop closes the connection without answering (after Delay).
	Drop bool
	// Times is how many requests the fault applies to; 0 means all.
	Times int
}

// Request is one request the server received.
type Request struct {
	Route  string
	Method string
	// Path is the escaped path, as sent.
	Path  string
	Query string
	// Status is the answer's status: 0 while it is being served, 499 when
	// the client gave up first, -1 when the connection was dropped.
	Status int
}

// String returns "METHOD PATH STATUS".
func (r Request) String() string {
	p := r.Path
	if r.Query != "" {
		p += "?" + r.Query
	}
	return fmt.Sprintf("%s %s %d", r.Method, p, r.Status)
}

// Extension is the server's record of an extension.
type Extension struct {
	ID        string
	Name      string
	Owner     string
	Status    string
	Snapshots []*Snapshot
}

// Snapshot is the server's record of an uploaded version.
type Snapshot struct {
	ID        string
	Extension string
	Version   string
	Status    string
	UpdatedAt time.Time
	// Package is the uploaded .tgz.
	Package []byte
	// Messages are the messages of submit and cancel-submit, in order.
	Messages []string
}

// Server is a running fake. Its methods are safe for concurrent use.
type Server struct {
	// URL is the base URL to give the client.
	URL string
	// Now is the server's clock.
	Now func() time.Time

	srv *httptest.Server

	mu         sync.Mutex
	tokens     map[string]string
	files      map[string][]byte
	extensions map[string]*Extension
	nextID     int64
	faults     []*Fault
	requests   []Request
	violations []string
}

// New starts a fake server that knows Token. Close it when done.
func New() *Server {
	s := &Server{
		Now:        time.Now,
		tokens:     map[string]string{Token: UserID},
		files:      map[string][]byte{},
		extensions: map[string]*Extension{},
		nextID:     516955082294618939,
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	return s
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// AddToken makes token valid for userID.
func (s *Server) AddToken(token, userID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[token] = userID
}

// Fail installs a fault.
func (s *Server) Fail(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &f)
}

// Requests returns the requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Count returns how many requests a route received.
func (s *Server) Count(route string) int {
	n := 0
	for _, r := range s.Requests() {
		if r.Route == route {
			n++
		}
	}
	return n
}

// Violations returns the protocol violations seen so far.
func (s *Server) Violations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.violations...)
}

// Files returns the uploaded files by path.
func (s *Server) Files() map[string][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string][]byte, len(s.files))
	for k, v := range s.files {
		out[k] = v
	}
	return out
}

// Extension returns a copy of an extension's record, or nil.
func (s *Server) Extension(name string) *Extension {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.extensions[name]
	if !ok {
		return nil
	}
	cp := *e
	cp.Snapshots = nil
	for _, sn := range e.Snapshots {
		snap := *sn
		snap.Messages = append([]string(nil), sn.Messages...)
		cp.Snapshots = append(cp.Snapshots, &snap)
	}
	return &cp
}

// Approve marks a submitted snapshot active and its extension ready, as a
// reviewer would.
func (s *Server) Approve(name, version string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.extensions[name]
	if !ok {
		return fmt.Errorf("no extension %q", name)
	}
	sn := e.snapshot(version)
	if sn == nil || sn.Status != "submitted" {
		return fmt.Errorf("%s %s is not submitted", name, version)
	}
	sn.Status = "active"
	sn.UpdatedAt = s.Now().UTC()
	e.Status = "ready"
	return nil
}

// AddExtension creates an extension owned by owner with one snapshot per
// version, each in the given status (for listing tests).
func (s *Server) AddExtension(name, owner string, versions map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.extensionFor(name, owner)
	keys := make([]string, 0, len(versions))
	for v := range versions {
		keys = append(keys, v)
	}
	sort.Strings(keys)
	for _, v := range keys {
		sn := &Snapshot{ID: s.newID(), Extension: name, Version: v, Status: versions[v], UpdatedAt: s.Now().UTC()}
		e.Snapshots = append(e.Snapshots, sn)
		if sn.Status == "active" {
			e.Status = "ready"
		}
	}
}

func (e *Extension) snapshot(version string) *Snapshot {
	for _, sn := range e.Snapshots {
		if sn.Version == version {
			return sn
		}
	}
	return nil
}

func (e *Extension) latest() string {
	latest := ""
	for _, sn := range e.Snapshots {
		if sn.Status == "active" {
			latest = sn.Version
		}
	}
	return latest
}

func (s *Server) newID() string {
	s.nextID++
	return strconv.FormatInt(s.nextID, 10)
}

func (s *Server) extensionFor(name, owner string) *Extension {
	e, ok := s.extensions[name]
	if !ok {
		e = &Extension{ID: s.newID(), Name: name, Owner: owner, Status: "draft"}
		s.extensions[name] = e
	}
	return e
}

// exchange is one request being served.
type exchange struct {
	s      *Server
	w      http.ResponseWriter
	r      *http.Request
	route  string
	params map[string]string
	user   string
	status int
}

func (x *exchange) reply(status int, v any) {
	x.status = status
	x.w.Header().Set("Content-Type", "application/json")
	x.w.WriteHeader(status)
	_ = json.NewEncoder(x.w).Encode(v)
}

func (x *exchange) fail(status int, format string, args ...any) {
	x.reply(status, map[string]string{"message": fmt.Sprintf(format, args...)})
}

// violation records a protocol violation and answers 400. Call with s.mu held.
func (x *exchange) violation(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	x.s.violations = append(x.s.violations, fmt.Sprintf("%s %s: %s", x.r.Method, x.r.URL.EscapedPath(), msg))
	x.fail(http.StatusBadRequest, "fake cloud: %s", msg)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	x := &exchange{s: s, w: w, r: r}
	rt, params, methodOK := match(r.Method, r.URL.EscapedPath())
	if rt != nil {
		x.route, x.params = rt.name, params
	}
	// Record the request on arrival, so a client that gives up early still
	// sees it counted, and its status when answered.
	s.mu.Lock()
	index := len(s.requests)
	s.requests = append(s.requests, Request{Route: x.route, Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.RawQuery})
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.requests[index].Status = x.status
		s.mu.Unlock()
	}()
	if s.injectFault(x) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case rt == nil:
		x.violation("no such endpoint")
		return
	case !methodOK:
		x.violation("method %s not allowed; want %s", r.Method, rt.method)
		return
	}
	if !s.checkHeaders(x) {
		return
	}
	if p, ok := x.params["user"]; ok && p != x.user {
		x.fail(http.StatusForbidden, "permission denied")
		return
	}
	handlers[rt.name](x)
}

// match finds the route of an escaped path. methodOK is false when the path
// matches but the method does not.
func match(method, escaped string) (rt *route, params map[string]string, methodOK bool) {
	segs := split(escaped)
	for i := range routes {
		cand := &routes[i]
		p, ok := matchPattern(cand.pattern, segs)
		if !ok {
			continue
		}
		if cand.method == method {
			return cand, p, true
		}
		rt, params = cand, p
	}
	return rt, params, false
}

func matchPattern(pattern, segs []string) (map[string]string, bool) {
	if len(pattern) != len(segs) {
		return nil, false
	}
	params := map[string]string{}
	for i, p := range pattern {
		if strings.HasPrefix(p, "{") {
			v, err := url.PathUnescape(segs[i])
			if err != nil || v == "" {
				return nil, false
			}
			params[strings.Trim(p, "{}")] = v
			continue
		}
		if p != segs[i] {
			return nil, false
		}
	}
	return params, true
}

func (s *Server) injectFault(x *exchange) bool {
	s.mu.Lock()
	var f *Fault
	for i, cand := range s.faults {
		if cand.Route != "" && cand.Route != x.route {
			continue
		}
		f = cand
		if f.Times > 0 {
			f.Times--
			if f.Times == 0 {
				s.faults = append(s.faults[:i], s.faults[i+1:]...)
			}
		}
		break
	}
	s.mu.Unlock()
	if f == nil {
		return false
	}
	if f.Delay > 0 {
		select {
		case <-time.After(f.Delay):
		case <-x.r.Context().Done():
			x.status = 499 // client closed the request
			return true
		}
	}
	if f.Drop {
		x.status = -1
		if hj, ok := x.w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
			}
		}
		return true
	}
	if f.Status == 0 {
		return false
	}
	ct := f.ContentType
	if ct == "" {
		ct = "text/html; charset=utf-8"
		if b := strings.TrimSpace(f.Body); strings.HasPrefix(b, "{") || strings.HasPrefix(b, "[") {
			ct = "application/json"
		}
	}
	for k, v := range f.Header {
		x.w.Header().Set(k, v)
	}
	x.w.Header().Set("Content-Type", ct)
	x.status = f.Status
	x.w.WriteHeader(f.Status)
	_, _ = io.WriteString(x.w, f.Body)
	return true
}

// checkHeaders checks authentication and the headers every request must
// carry. Call with s.mu held.
func (s *Server) checkHeaders(x *exchange) bool {
	r := x.r
	auth, ok := r.Header["Authorization"]
	if !ok || len(auth) != 1 {
		x.violation("want exactly one Authorization header")
		return false
	}
	token, found := strings.CutPrefix(auth[0], "Bearer ")
	if !found {
		x.violation("the Authorization header must be %q", "Bearer <token>")
		return false
	}
	user, known := s.tokens[token]
	if !known {
		x.fail(http.StatusUnauthorized, "unauthorized: invalid token")
		return false
	}
	x.user = user
	if ua := r.Header.Get("User-Agent"); !strings.HasPrefix(ua, "ksbuilder") {
		x.violation("User-Agent %q does not name ksbuilder", ua)
		return false
	}
	if r.Method == http.MethodGet {
		if r.Header.Get("Content-Type") != "" || r.ContentLength > 0 {
			x.violation("a GET carries no body and no Content-Type")
			return false
		}
	}
	return true
}

var handlers = map[string]func(*exchange){
	RouteUser:         (*exchange).currentUser,
	RouteFilesUsage:   (*exchange).filesUsage,
	RouteFiles:        (*exchange).uploadFiles,
	RoutePackage:      (*exchange).uploadPackage,
	RouteSubmit:       (*exchange).submit,
	RouteCancelSubmit: (*exchange).cancelSubmit,
	RouteSearch:       (*exchange).search,
	RouteSummary:      (*exchange).summary,
	RouteSnapshots:    (*exchange).snapshots,
	RouteVersion:      (*exchange).version,
}

// FilesDir is the storage directory the fake gives a user.
func FilesDir(userID string) string { return "extension-files/" + userID }

func (x *exchange) currentUser() {
	x.reply(http.StatusOK, map[string]string{"user_id": x.user})
}

func (x *exchange) filesUsage() {
	x.reply(http.StatusOK, map[string]any{"dir": FilesDir(x.user), "used": len(x.s.files)})
}

// multipartReader checks the Content-Type of a multipart request.
func (x *exchange) multipartReader() *multipart.Reader {
	mt, params, err := mime.ParseMediaType(x.r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		x.violation("Content-Type %q is not multipart/form-data with a boundary", x.r.Header.Get("Content-Type"))
		return nil
	}
	if x.r.ContentLength < 0 {
		x.violation("uploads must have a Content-Length")
		return nil
	}
	return multipart.NewReader(x.r.Body, params["boundary"])
}

type part struct {
	name, fileName, contentType string
	data                        []byte
}

func readParts(mr *multipart.Reader) ([]part, error) {
	var parts []part
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return parts, nil
		}
		if err != nil {
			return nil, err
		}
		data, err := io.ReadAll(io.LimitReader(p, 10<<20))
		if err != nil {
			return nil, err
		}
		parts = append(parts, part{name: p.FormName(), fileName: p.FileName(), contentType: p.Header.Get("Content-Type"), data: data})
	}
}

func (x *exchange) uploadFiles() {
	mr := x.multipartReader()
	if mr == nil {
		return
	}
	parts, err := readParts(mr)
	if err != nil {
		x.violation("bad multipart body: %v", err)
		return
	}
	if len(parts) == 0 || len(parts)%2 != 0 {
		x.violation("want pairs of parts file<i>, file<i>_path; got %d parts", len(parts))
		return
	}
	dir := FilesDir(x.user) + "/"
	seen := map[string]bool{}
	type upload struct {
		path string
		data []byte
	}
	var uploads []upload
	for i := 0; i < len(parts); i += 2 {
		n := i/2 + 1
		f, p := parts[i], parts[i+1]
		switch {
		case f.name != fmt.Sprintf("file%d", n):
			x.violation("part %d is %q; want %q", i+1, f.name, fmt.Sprintf("file%d", n))
			return
		case f.fileName == "" || f.contentType != "application/octet-stream":
			x.violation("part %q needs a filename and Content-Type application/octet-stream (got %q, %q)", f.name, f.fileName, f.contentType)
			return
		case p.name != fmt.Sprintf("file%d_path", n) || p.fileName != "":
			x.violation("part %d is %q; want the field %q", i+2, p.name, fmt.Sprintf("file%d_path", n))
			return
		}
		remote := string(p.data)
		rel, ok := strings.CutPrefix(remote, dir)
		switch {
		case !ok:
			x.violation("%s %q is not under the storage directory %q", p.name, remote, dir)
			return
		case strings.Contains(remote, `\`) || strings.Contains(remote, "//") || path.Clean(remote) != remote:
			x.violation("%s %q is not a clean slash-separated path", p.name, remote)
			return
		case len(strings.Split(rel, "/")) != 3:
			x.violation("%s %q is not <dir>/<extension>/<version>/<file>", p.name, remote)
			return
		case path.Base(remote) != f.fileName:
			x.violation("%s %q does not end with the file name %q", p.name, remote, f.fileName)
			return
		case seen[remote]:
			x.violation("two files are uploaded to %q", remote)
			return
		}
		seen[remote] = true
		uploads = append(uploads, upload{path: remote, data: f.data})
	}
	var files []map[string]string
	for _, u := range uploads {
		x.s.files[u.path] = u.data
		files = append(files, map[string]string{"url": x.s.URL + "/files/" + u.path})
	}
	x.reply(http.StatusOK, map[string]any{"files": files})
}

func (x *exchange) uploadPackage() {
	q := x.r.URL.Query()
	if q.Get("force") != "true" || q.Get("create_extension") != "true" || len(q) != 2 {
		x.violation("query %q; want force=true&create_extension=true", x.r.URL.RawQuery)
		return
	}
	mr := x.multipartReader()
	if mr == nil {
		return
	}
	parts, err := readParts(mr)
	if err != nil {
		x.violation("bad multipart body: %v", err)
		return
	}
	if len(parts) != 1 || parts[0].name != "extension_package" || parts[0].contentType != "application/octet-stream" {
		x.violation("want one part extension_package (application/octet-stream)")
		return
	}
	pkg := parts[0]
	name := x.params["name"]
	if len(pkg.data) > MaxPackageSize {
		x.fail(http.StatusRequestEntityTooLarge, "the package is larger than 1 MB")
		return
	}
	src, err := source.ReadArchive(bytes.NewReader(pkg.data), pkg.fileName, source.DefaultLimits)
	if err != nil {
		x.fail(http.StatusBadRequest, "invalid package: %v", err)
		return
	}
	meta, ok := src.Read(extension.MetadataFile)
	if !ok || !src.HasFile("Chart.yaml") {
		x.fail(http.StatusBadRequest, "invalid package: no extension.yaml or Chart.yaml")
		return
	}
	ext, diags := extension.Parse(meta)
	if diags.HasErrors() {
		x.fail(http.StatusBadRequest, "invalid extension.yaml: %v", diags.Err())
		return
	}
	if ext.Name != name || pkg.fileName != fmt.Sprintf("%s-%s.tgz", ext.Name, ext.Version) {
		x.violation("package %q (extension %s %s) uploaded to the extension %q", pkg.fileName, ext.Name, ext.Version, name)
		return
	}
	e := x.s.extensionFor(name, x.user)
	if e.Owner != x.user {
		x.fail(http.StatusForbidden, "permission denied: extension %s belongs to another developer", name)
		return
	}
	sn := e.snapshot(ext.Version)
	if sn != nil && sn.Status == "active" {
		// A published version is never replaced, force or not.
		x.fail(http.StatusConflict, "version %s of extension %s already exists", ext.Version, name)
		return
	}
	if sn == nil {
		sn = &Snapshot{ID: x.s.newID(), Extension: name, Version: ext.Version}
		e.Snapshots = append(e.Snapshots, sn)
	}
	sn.Status, sn.Package, sn.UpdatedAt = "draft", pkg.data, x.s.Now().UTC()
	x.reply(http.StatusOK, map[string]any{"snapshot": x.snapshotJSON(sn)})
}

// messageBody decodes the JSON body {"message": "..."}.
func (x *exchange) messageBody() (string, bool) {
	var body struct {
		Message *string `json:"message"`
	}
	if !x.decodeJSON(&body) {
		return "", false
	}
	if body.Message == nil {
		x.violation(`want a JSON body {"message": "..."}`)
		return "", false
	}
	return *body.Message, true
}

// decodeJSON decodes a JSON request body strictly.
func (x *exchange) decodeJSON(v any) bool {
	if mt, _, _ := mime.ParseMediaType(x.r.Header.Get("Content-Type")); mt != "application/json" {
		x.violation("Content-Type %q; want application/json", x.r.Header.Get("Content-Type"))
		return false
	}
	dec := json.NewDecoder(x.r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		x.violation("bad JSON body: %v", err)
		return false
	}
	if dec.More() {
		x.violation("trailing data after the JSON body")
		return false
	}
	return true
}

// ownSnapshot finds the caller's snapshot named in the path.
func (x *exchange) ownSnapshot() *Snapshot {
	id := x.params["snapshot"]
	for _, e := range x.s.extensions {
		for _, sn := range e.Snapshots {
			if sn.ID != id {
				continue
			}
			if e.Owner != x.user {
				x.fail(http.StatusForbidden, "permission denied")
				return nil
			}
			return sn
		}
	}
	x.fail(http.StatusNotFound, "snapshot %s not found", id)
	return nil
}

func (x *exchange) submit() {
	msg, ok := x.messageBody()
	if !ok {
		return
	}
	stamp, rest, _ := strings.Cut(msg, " ")
	if _, err := time.Parse(time.RFC3339, stamp); err != nil || rest != "submit for review" {
		x.violation("submit message %q; want %q", msg, "<RFC 3339 time> submit for review")
		return
	}
	sn := x.ownSnapshot()
	if sn == nil {
		return
	}
	if sn.Status != "draft" {
		x.fail(http.StatusBadRequest, "snapshot %s is %s, only a draft can be submitted", sn.ID, sn.Status)
		return
	}
	sn.Status, sn.UpdatedAt = "submitted", x.s.Now().UTC()
	sn.Messages = append(sn.Messages, msg)
	x.reply(http.StatusOK, map[string]any{})
}

func (x *exchange) cancelSubmit() {
	msg, ok := x.messageBody()
	if !ok {
		return
	}
	if msg != "cancel submit" {
		x.violation("cancel-submit message %q; want %q", msg, "cancel submit")
		return
	}
	sn := x.ownSnapshot()
	if sn == nil {
		return
	}
	if sn.Status != "submitted" {
		x.fail(http.StatusBadRequest, "snapshot %s is %s, only a submitted snapshot can be cancelled", sn.ID, sn.Status)
		return
	}
	sn.Status, sn.UpdatedAt = "draft", x.s.Now().UTC()
	sn.Messages = append(sn.Messages, msg)
	x.reply(http.StatusOK, map[string]any{})
}

func (x *exchange) search() {
	var body struct {
		DeveloperIDs []string `json:"developer_ids"`
		Statuses     []string `json:"statuses"`
	}
	if !x.decodeJSON(&body) {
		return
	}
	if len(body.DeveloperIDs) == 0 || len(body.Statuses) == 0 {
		x.violation("search needs developer_ids and statuses")
		return
	}
	devs := map[string]bool{}
	for _, d := range body.DeveloperIDs {
		devs[d] = true
	}
	all := len(body.Statuses) == 1 && body.Statuses[0] == "*"
	names := make([]string, 0, len(x.s.extensions))
	for n := range x.s.extensions {
		names = append(names, n)
	}
	sort.Strings(names)
	list := []map[string]any{}
	for _, n := range names {
		e := x.s.extensions[n]
		if !devs[e.Owner] || (!all && !contains(body.Statuses, e.Status)) {
			continue
		}
		list = append(list, extensionJSON(e))
	}
	x.reply(http.StatusOK, map[string]any{"extensions": list, "total": len(list)})
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func extensionJSON(e *Extension) map[string]any {
	m := map[string]any{"extension_id": e.ID, "name": e.Name, "status": e.Status}
	if v := e.latest(); v != "" {
		m["latest_version"] = map[string]string{"version": v}
	}
	return m
}

func (x *exchange) snapshotJSON(sn *Snapshot) map[string]any {
	return map[string]any{
		"snapshot_id": sn.ID,
		"metadata":    map[string]string{"name": sn.Extension, "version": sn.Version},
		"status":      sn.Status,
		"updated_at":  sn.UpdatedAt.Format(time.RFC3339),
	}
}

func (x *exchange) extension() *Extension {
	e, ok := x.s.extensions[x.params["name"]]
	if !ok {
		x.fail(http.StatusNotFound, "extension %s not found", x.params["name"])
		return nil
	}
	return e
}

func (x *exchange) summary() {
	if e := x.extension(); e != nil {
		x.reply(http.StatusOK, extensionJSON(e))
	}
}

func (x *exchange) snapshots() {
	e := x.extension()
	if e == nil {
		return
	}
	list := []map[string]any{}
	for _, sn := range e.Snapshots {
		list = append(list, x.snapshotJSON(sn))
	}
	x.reply(http.StatusOK, list)
}

func (x *exchange) version() {
	e := x.extension()
	if e == nil {
		return
	}
	sn := e.snapshot(x.params["version"])
	if sn == nil {
		x.fail(http.StatusNotFound, "version %s of extension %s not found", x.params["version"], e.Name)
		return
	}
	x.reply(http.StatusOK, x.snapshotJSON(sn))
}
