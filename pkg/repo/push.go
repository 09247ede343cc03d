package repo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path"
	"strings"

	"helm.sh/helm/v3/pkg/chart/loader"

	"github.com/ksbuilder/ksbuilder/pkg/safetext"
	"github.com/ksbuilder/ksbuilder/pkg/source"
)

// PushOptions control Push.
type PushOptions struct {
	// URL is the ChartMuseum repository: its root, or a tenant's path
	// (https://museum.example.com/org/repo) on a multi-tenant server.
	URL string
	// ContextPath is the path ChartMuseum is served under, when it has one
	// (its --context-path): "/charts" for https://example.com/charts.
	ContextPath string
	// Packages are the .tgz files to upload, in order.
	Packages []string
	// Username and Password authenticate with HTTP basic auth; Token, when
	// set, is sent as a bearer token instead.
	Username, Password, Token string
	// Force replaces a version the repository already holds.
	Force bool
	// Transport carries the requests (TLS settings, stall timeout); nil is
	// http.DefaultTransport.
	Transport http.RoundTripper
}

// Pushed is one uploaded package.
type Pushed struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Package string `json:"package"`
}

// ExistsError is a version the repository already holds (409 Conflict).
type ExistsError struct {
	Name, Version, URL string
}

func (e *ExistsError) Error() string {
	return fmt.Sprintf("%s %s already exists in %s", e.Name, e.Version, e.URL)
}

// AuthError is a repository that refused the credentials (401 or 403).
type AuthError struct {
	URL    string
	Status int
}

func (e *AuthError) Error() string {
	return fmt.Sprintf("%s refused the upload: %d %s", e.URL, e.Status, http.StatusText(e.Status))
}

// PartialError is a push that failed after some packages were uploaded;
// Pushed names them.
type PartialError struct {
	Pushed []Pushed
	Err    error
}

func (e *PartialError) Error() string {
	names := make([]string, len(e.Pushed))
	for i, p := range e.Pushed {
		names[i] = p.Name + " " + p.Version
	}
	return fmt.Sprintf("%v (already uploaded: %s)", e.Err, strings.Join(names, ", "))
}

func (e *PartialError) Unwrap() error { return e.Err }

// maxErrorBody bounds how much of an error response is read.
const maxErrorBody = 64 << 10

// pushPackage is a package read and checked before any upload; it is read
// again to be sent (so that memory holds one package at a time) and must
// still have the digest it was checked with.
type pushPackage struct {
	path, name, version string
	digest              [sha256.Size]byte
}

// Push uploads packages to a ChartMuseum with its API (POST
// <URL>/api/charts, the chart as the multipart field "chart"), as
// KubeSphere's extension museum and `helm cm-push` use it. Every package is
// read and checked first (an extension chart within Helm's limits, no
// name and version twice), so a bad one uploads nothing; then they go one
// by one, in order. A failure after the first upload is a *PartialError.
func Push(ctx context.Context, opts PushOptions) ([]Pushed, error) {
	endpoint, err := UploadURL(opts.URL, opts.ContextPath)
	if err != nil {
		return nil, err
	}
	if len(opts.Packages) == 0 {
		return nil, errors.New("no packages to push: name the .tgz files made by \"ksbuilder package\"")
	}
	pkgs, err := readPackages(opts.Packages)
	if err != nil {
		return nil, err
	}
	client := &http.Client{Transport: opts.Transport}
	pushed := []Pushed{}
	for _, p := range pkgs {
		if err := ctx.Err(); err != nil {
			return pushed, partial(pushed, err)
		}
		if err := upload(ctx, client, endpoint, opts, p); err != nil {
			return pushed, partial(pushed, fmt.Errorf("pushing %s: %w", p.path, err))
		}
		pushed = append(pushed, Pushed{Name: p.name, Version: p.version, Package: p.path})
	}
	return pushed, nil
}

func partial(pushed []Pushed, err error) error {
	if len(pushed) == 0 {
		return err
	}
	return &PartialError{Pushed: append([]Pushed(nil), pushed...), Err: err}
}

// UploadURL is ChartMuseum's upload endpoint for a repository URL: the
// URL's path after the context path names the tenant, as cm-push maps it
// ("/org/repo" -> "/api/org/repo/charts").
func UploadURL(repoURL, contextPath string) (*url.URL, error) {
	u, err := url.Parse(repoURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("the ChartMuseum URL %q is not an http(s) URL without credentials or query, e.g. https://museum.example.com", safetext.Line(repoURL, 200))
	}
	ctxPath := "/" + strings.Trim(contextPath, "/")
	tenant := u.Path
	if ctxPath != "/" {
		if tenant != ctxPath && !strings.HasPrefix(tenant, ctxPath+"/") {
			return nil, fmt.Errorf("the ChartMuseum URL %s is not under the context path %s", u.Redacted(), ctxPath)
		}
		tenant = strings.TrimPrefix(tenant, ctxPath)
	}
	u.Path = path.Join(ctxPath, "api", tenant, "charts")
	u.RawPath = ""
	return u, nil
}

// readPackages reads and checks every package before anything is sent.
func readPackages(paths []string) ([]pushPackage, error) {
	seen := map[string]string{}
	pkgs := make([]pushPackage, 0, len(paths))
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !info.Mode().IsRegular() {
			return nil, fmt.Errorf("%s is not a file: name the .tgz packages made by \"ksbuilder package\"", p)
		}
		if info.Size() > source.DefaultLimits.MaxTotalSize {
			return nil, fmt.Errorf("%s: %d bytes is larger than any chart Helm installs", p, info.Size())
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		// The bounded reader first: Helm's loader expands nested archives
		// without limits of ours.
		if _, err := source.ReadArchive(bytes.NewReader(data), p, source.DefaultLimits); err != nil {
			return nil, err
		}
		c, err := loader.LoadArchive(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("%s: not a chart: %w", p, err)
		}
		if err := c.Metadata.Validate(); err != nil {
			return nil, fmt.Errorf("%s: Chart.yaml: %w", p, err)
		}
		key := c.Metadata.Name + " " + c.Metadata.Version
		if other, ok := seen[key]; ok {
			return nil, fmt.Errorf("%s and %s are both %s: push one of them", other, p, key)
		}
		seen[key] = p
		pkgs = append(pkgs, pushPackage{path: p, name: c.Metadata.Name, version: c.Metadata.Version, digest: sha256.Sum256(data)})
	}
	return pkgs, nil
}

// upload posts one package.
func upload(ctx context.Context, client *http.Client, endpoint *url.URL, opts PushOptions, p pushPackage) error {
	data, err := os.ReadFile(p.path)
	if err != nil {
		return err
	}
	if sha256.Sum256(data) != p.digest {
		return fmt.Errorf("%s changed while pushing: run the push again", p.path)
	}
	var body bytes.Buffer
	form := multipart.NewWriter(&body)
	part, err := form.CreateFormFile("chart", path.Base(strings.ReplaceAll(p.path, "\\", "/")))
	if err != nil {
		return err
	}
	if _, err := part.Write(data); err != nil {
		return err
	}
	if err := form.Close(); err != nil {
		return err
	}
	u := *endpoint
	if opts.Force {
		u.RawQuery = "force=true"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), &body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", form.FormDataContentType())
	switch {
	case opts.Token != "":
		req.Header.Set("Authorization", "Bearer "+opts.Token)
	case opts.Username != "" || opts.Password != "":
		req.SetBasicAuth(opts.Username, opts.Password)
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg := errorMessage(io.LimitReader(resp.Body, maxErrorBody))
	repoURL := strings.TrimSuffix(opts.URL, "/")
	switch {
	case resp.StatusCode == http.StatusCreated || resp.StatusCode == http.StatusOK:
		return nil
	case resp.StatusCode == http.StatusConflict:
		return &ExistsError{Name: p.name, Version: p.version, URL: repoURL}
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return &AuthError{URL: repoURL, Status: resp.StatusCode}
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusMethodNotAllowed:
		return fmt.Errorf("%s has no ChartMuseum upload API: POST %s answered %s (check the URL, and --context-path when ChartMuseum is served under a path)", repoURL, u.Path, resp.Status)
	default:
		if msg != "" {
			return fmt.Errorf("%s answered %s: %s", repoURL, resp.Status, msg)
		}
		return fmt.Errorf("%s answered %s", repoURL, resp.Status)
	}
}

// errorMessage is ChartMuseum's {"error": "..."} text, else the body's
// first line, made safe for a terminal.
func errorMessage(r io.Reader) string {
	data, _ := io.ReadAll(r)
	var body struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(data, &body) == nil && body.Error != "" {
		return safetext.Line(body.Error, 300)
	}
	return safetext.Line(strings.TrimSpace(string(data)), 300)
}
