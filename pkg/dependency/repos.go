package dependency

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/Masterminds/semver/v3"
	"helm.sh/helm/v3/pkg/helmpath"
	"sigs.k8s.io/yaml"

	"github.com/ksbuilder/ksbuilder/pkg/registry"
	"github.com/ksbuilder/ksbuilder/pkg/safetext"
	"github.com/ksbuilder/ksbuilder/pkg/source"
	"github.com/ksbuilder/ksbuilder/pkg/units"
)

// The variables that move Helm's repository configuration and cache, as in
// Helm.
const (
	RepositoryConfigEnv = "HELM_REPOSITORY_CONFIG"
	RepositoryCacheEnv  = "HELM_REPOSITORY_CACHE"
)

// maxIndexSize bounds a repository index (or repositories.yaml, Chart.lock)
// read from disk or the network; a variable for the tests.
var maxIndexSize int64 = 64 * units.MiB

// maxChartSize bounds a downloaded chart archive: Helm's loader refuses
// more than this uncompressed, so no honest package is larger compressed.
var maxChartSize = source.DefaultLimits.MaxTotalSize

// DefaultRepositoryConfig is Helm's repositories.yaml: $HELM_REPOSITORY_CONFIG,
// else repositories.yaml in Helm's configuration directory.
func DefaultRepositoryConfig() string {
	if p := os.Getenv(RepositoryConfigEnv); p != "" {
		return p
	}
	return helmpath.ConfigPath("repositories.yaml")
}

// DefaultRepositoryCache is Helm's index cache: $HELM_REPOSITORY_CACHE, else
// repository/ in Helm's cache directory.
func DefaultRepositoryCache() string {
	if p := os.Getenv(RepositoryCacheEnv); p != "" {
		return p
	}
	return helmpath.CachePath("repository")
}

// repoEntry is one repository of repositories.yaml ("helm repo add").
type repoEntry struct {
	Name                  string `json:"name"`
	URL                   string `json:"url"`
	Username              string `json:"username"`
	Password              string `json:"password"`
	CertFile              string `json:"certFile"`
	KeyFile               string `json:"keyFile"`
	CAFile                string `json:"caFile"`
	InsecureSkipTLSVerify bool   `json:"insecure_skip_tls_verify"`
	PassCredentialsAll    bool   `json:"pass_credentials_all"`
}

// label names a repository in messages: "NAME (URL)", or the URL alone.
func (r *repoEntry) label() string {
	if r.Name == "" {
		return r.URL
	}
	return fmt.Sprintf("%q (%s)", r.Name, r.URL)
}

// repoConfig is repositories.yaml.
type repoConfig struct {
	file         string
	Repositories []*repoEntry `json:"repositories"`
}

// loadRepoConfig reads repositories.yaml; a missing file is no repository.
func loadRepoConfig(file string) (*repoConfig, error) {
	cfg := &repoConfig{file: file}
	data, err := readBounded(file, maxIndexSize)
	if errors.Is(err, os.ErrNotExist) {
		return cfg, nil
	}
	if err != nil {
		return nil, err
	}
	if err := yaml.Unmarshal(data, cfg); err != nil {
		return nil, fmt.Errorf("%s: %s (Helm's repository configuration; fix or remove it)", file, strings.ReplaceAll(err.Error(), "\n", " "))
	}
	cfg.file = file
	return cfg, nil
}

// byName finds a repository by its name.
func (c *repoConfig) byName(name string) *repoEntry {
	for _, r := range c.Repositories {
		if r.Name == name {
			return r
		}
	}
	return nil
}

// byURL finds a repository by its URL, compared as Helm compares them.
func (c *repoConfig) byURL(u string) *repoEntry {
	for _, r := range c.Repositories {
		if urlEqual(r.URL, u) {
			return r
		}
	}
	return nil
}

// urlEqual compares two URLs with their paths cleaned ("" as "/").
func urlEqual(a, b string) bool {
	au, err := url.Parse(a)
	if err != nil {
		return filepath.Clean(a) == filepath.Clean(b)
	}
	bu, err := url.Parse(b)
	if err != nil {
		return false
	}
	for _, u := range []*url.URL{au, bu} {
		if u.Path == "" {
			u.Path = "/"
		}
		u.Path = path.Clean(u.Path)
	}
	return au.String() == bu.String()
}

// readBounded reads a file of at most limit bytes.
func readBounded(file string, limit int64) ([]byte, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: larger than %s", file, units.FormatBytes(limit))
	}
	return data, nil
}

// index is the part of a repository's index.yaml that resolving needs.
type index struct {
	APIVersion string                     `json:"apiVersion"`
	Entries    map[string][]*indexVersion `json:"entries"`
}

// indexVersion is one package of an index.
type indexVersion struct {
	Name    string   `json:"name"`
	Version string   `json:"version"`
	URLs    []string `json:"urls"`
	Digest  string   `json:"digest"`

	semver *semver.Version
}

// parseIndex reads an index.yaml; what names it goes in errors.
func parseIndex(data []byte, what string) (*index, error) {
	var idx index
	if err := yaml.Unmarshal(data, &idx); err != nil {
		return nil, fmt.Errorf("%s is not a chart repository index: %s", what, safetext.Line(err.Error(), safetext.MaxLen))
	}
	if idx.APIVersion == "" {
		return nil, fmt.Errorf("%s is not a chart repository index: no apiVersion", what)
	}
	for name, versions := range idx.Entries {
		kept := versions[:0]
		for _, v := range versions {
			if v == nil {
				continue
			}
			sv, err := semver.NewVersion(v.Version)
			if err != nil {
				continue // not a legitimate entry, as in Helm
			}
			v.semver = sv
			kept = append(kept, v)
		}
		sort.SliceStable(kept, func(i, j int) bool { return kept[i].semver.GreaterThan(kept[j].semver) })
		idx.Entries[name] = kept
	}
	return &idx, nil
}

// find returns the newest version of name that has a URL and matches
// version: an exact version or a constraint.
func (idx *index) find(name, version string) (*indexVersion, error) {
	versions, ok := idx.Entries[name]
	if !ok {
		return nil, errChartNotFound
	}
	exact, exactErr := semver.StrictNewVersion(version)
	var constraint *semver.Constraints
	if exactErr != nil {
		c, err := semver.NewConstraint(version)
		if err != nil {
			return nil, fmt.Errorf("version %q is neither a version nor a constraint: %w", version, err)
		}
		constraint = c
	}
	for _, v := range versions {
		if len(v.URLs) == 0 {
			continue
		}
		if exact != nil && v.semver.Equal(exact) || constraint != nil && constraint.Check(v.semver) {
			return v, nil
		}
	}
	return nil, errVersionNotFound
}

var (
	errChartNotFound   = errors.New("chart not found in the index")
	errVersionNotFound = errors.New("no version matches")
)

// fetcher downloads from one chart repository with its settings.
type fetcher struct {
	repo   *repoEntry
	client *http.Client
	host   string
}

func newFetcher(repo *repoEntry, timeout registry.Options) (*fetcher, error) {
	opts := registry.Options{
		CAFile: repo.CAFile, CertFile: repo.CertFile, KeyFile: repo.KeyFile,
		InsecureSkipTLSVerify: repo.InsecureSkipTLSVerify, Timeout: timeout.Timeout,
	}
	tr, err := opts.Transport()
	if err != nil {
		return nil, &Error{Repository: repo.label(), Err: err}
	}
	u, err := url.Parse(repo.URL)
	if err != nil || u.Host == "" || u.Scheme != "http" && u.Scheme != "https" {
		return nil, &Error{Repository: repo.label(), Err: errors.New("not an http:// or https:// URL")}
	}
	return &fetcher{repo: repo, client: &http.Client{Transport: tr}, host: u.Scheme + "://" + u.Host}, nil
}

// get downloads u, at most limit bytes, sending the repository's
// credentials to its own host (any host with pass_credentials_all).
func (f *fetcher) get(ctx context.Context, u string, limit int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, &Error{Repository: f.repo.label(), URL: u, Err: err}
	}
	if f.repo.Username != "" || f.repo.Password != "" {
		if f.repo.PassCredentialsAll || req.URL.Scheme+"://"+req.URL.Host == f.host {
			req.SetBasicAuth(f.repo.Username, f.repo.Password)
		}
	}
	resp, err := f.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &Error{Kind: networkKind(err), Repository: f.repo.label(), URL: u, Err: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		kind := Failed
		switch resp.StatusCode {
		case http.StatusUnauthorized, http.StatusForbidden:
			kind = Unauthorized
		case http.StatusNotFound:
			kind = NotFound
		}
		return nil, &Error{Kind: kind, Repository: f.repo.label(), URL: u, Status: resp.StatusCode}
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, &Error{Kind: Unreachable, Repository: f.repo.label(), URL: u, Err: err}
	}
	if int64(len(data)) > limit {
		return nil, &Error{Repository: f.repo.label(), URL: u, Err: fmt.Errorf("larger than %s", units.FormatBytes(limit))}
	}
	return data, nil
}

// indexURL is the repository's index.yaml.
func (f *fetcher) indexURL() string {
	return strings.TrimSuffix(f.repo.URL, "/") + "/index.yaml"
}

// chartURL resolves a package URL of the index against the repository URL.
func (f *fetcher) chartURL(ref string) (string, error) {
	r, err := url.Parse(ref)
	if err != nil {
		return "", fmt.Errorf("the index gives %q as a URL: %w", ref, err)
	}
	if r.IsAbs() {
		return ref, nil
	}
	base, err := url.Parse(f.repo.URL)
	if err != nil {
		return "", err
	}
	base.RawPath = strings.TrimSuffix(base.RawPath, "/") + "/"
	base.Path = strings.TrimSuffix(base.Path, "/") + "/"
	resolved := base.ResolveReference(r)
	resolved.RawQuery = base.RawQuery
	return resolved.String(), nil
}

// sha256Hex is the digest a Helm index gives for a package.
func sha256Hex(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// ErrorKind says why a repository could not be used.
type ErrorKind int

// The kinds of repository failure.
const (
	// Failed is any other failure: a bad status, a bad file.
	Failed ErrorKind = iota
	// Unreachable is a network failure: no connection, TLS, a cut transfer.
	Unreachable
	// Unauthorized is a 401 or 403.
	Unauthorized
	// NotFound is a 404.
	NotFound
	// NoCache is a named repository without a cached index.
	NoCache
	// TLSFailure is a failed TLS handshake or certificate check.
	TLSFailure
)

// networkKind tells a TLS failure from other network failures.
func networkKind(err error) ErrorKind {
	var (
		certErr  *tls.CertificateVerificationError
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		record   tls.RecordHeaderError
	)
	if errors.As(err, &certErr) || errors.As(err, &unknown) || errors.As(err, &hostname) || errors.As(err, &record) {
		return TLSFailure
	}
	return Unreachable
}

// Error is a failure to use a chart repository; it names the repository.
type Error struct {
	Kind ErrorKind
	// Repository is "NAME (URL)" or the URL.
	Repository string
	// URL is what was requested, when something was.
	URL    string
	Status int
	Err    error
}

func (e *Error) Error() string {
	var msg string
	switch {
	case e.Status != 0:
		msg = fmt.Sprintf("GET %s: %d %s", e.URL, e.Status, http.StatusText(e.Status))
	case e.URL != "":
		msg = fmt.Sprintf("GET %s: %s", e.URL, safetext.Line(rootCause(e.Err), safetext.MaxLen))
	default:
		msg = safetext.Line(e.Err.Error(), safetext.MaxLen)
	}
	msg = "repository " + e.Repository + ": " + msg
	switch e.Kind {
	case Unauthorized:
		msg += " (set the repository's username and password with \"helm repo add NAME URL --username U --password-stdin --force-update\")"
	case TLSFailure:
		msg += " (give the repository's CA with \"helm repo add NAME URL --ca-file FILE --force-update\", or its caFile in repositories.yaml)"
	case Unreachable:
		msg += " (offline? with Chart.lock, a cached index and the charts already under charts/, nothing is downloaded)"
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// rootCause drops the wrappers that repeat the URL.
func rootCause(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return err.Error()
}
