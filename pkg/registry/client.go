package registry

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strings"
	"time"

	"helm.sh/helm/v3/pkg/helmpath"
	helmregistry "helm.sh/helm/v3/pkg/registry"
	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/credentials"
	"oras.land/oras-go/v2/registry/remote/errcode"

	"github.com/ksbuilder/ksbuilder/pkg/safetext"
)

// ConfigEnv names the variable that overrides DefaultConfigPath, as in Helm.
const ConfigEnv = "HELM_REGISTRY_CONFIG"

// DefaultConfigPath is Helm's registry credentials file: $HELM_REGISTRY_CONFIG,
// else registry/config.json in Helm's configuration directory. Logins made
// with "helm registry login" are found there.
func DefaultConfigPath() string {
	if p := os.Getenv(ConfigEnv); p != "" {
		return p
	}
	return helmpath.ConfigPath(helmregistry.CredentialsFileBasename)
}

// Options are the connection settings, named after Helm's flags.
type Options struct {
	// PlainHTTP talks HTTP instead of HTTPS.
	PlainHTTP bool
	// InsecureSkipTLSVerify accepts any server certificate.
	InsecureSkipTLSVerify bool
	// CAFile verifies the server with these CA certificates (PEM).
	CAFile string
	// CertFile and KeyFile are a client certificate and its key (PEM).
	CertFile, KeyFile string
	// RegistryConfig is the credentials file; DefaultConfigPath when empty.
	RegistryConfig string
	// Timeout is how long a registry may make no progress: connecting,
	// the TLS handshake, waiting for a response, or between two reads or
	// writes of a transfer. A request that stalls that long fails with a
	// *StallError. DefaultTimeout when zero.
	Timeout time.Duration
}

// Client talks to OCI registries.
type Client struct {
	helm *helmregistry.Client
	// credentials is the credentials file.
	credentials string
}

// New builds a client. Credentials come from the RegistryConfig file, with
// Docker's as a fallback, as in Helm.
func New(opts Options) (*Client, error) {
	tlsConf, err := tlsConfig(opts)
	if err != nil {
		return nil, err
	}
	cfg := opts.RegistryConfig
	if cfg == "" {
		cfg = DefaultConfigPath()
	}
	clientOpts := []helmregistry.ClientOption{
		helmregistry.ClientOptWriter(io.Discard),
		helmregistry.ClientOptEnableCache(true),
		helmregistry.ClientOptCredentialsFile(cfg),
		helmregistry.ClientOptHTTPClient(&http.Client{Transport: newTransport(tlsConf, opts.Timeout)}),
	}
	if opts.PlainHTTP {
		clientOpts = append(clientOpts, helmregistry.ClientOptPlainHTTP())
	}
	c, err := helmregistry.NewClient(clientOpts...)
	if err != nil {
		return nil, fmt.Errorf("registry credentials %s: %w", cfg, err)
	}
	return &Client{helm: c, credentials: cfg}, nil
}

func tlsConfig(opts Options) (*tls.Config, error) {
	conf := &tls.Config{InsecureSkipVerify: opts.InsecureSkipTLSVerify} //nolint:gosec // the user asked for it
	if (opts.CertFile == "") != (opts.KeyFile == "") {
		return nil, errors.New("a client certificate needs both a certificate file and a key file")
	}
	if opts.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(opts.CertFile, opts.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("client certificate %s: %w", opts.CertFile, err)
		}
		conf.Certificates = []tls.Certificate{cert}
	}
	if opts.CAFile != "" {
		pem, err := os.ReadFile(opts.CAFile)
		if err != nil {
			return nil, fmt.Errorf("CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA file %s: no PEM certificate found", opts.CAFile)
		}
		conf.RootCAs = pool
	}
	return conf, nil
}

// ErrorKind says why a registry call failed.
type ErrorKind int

// The kinds of registry failure.
const (
	// Unreachable: no connection to the registry.
	Unreachable ErrorKind = iota + 1
	// Unauthorized: the registry wants credentials or refused them (401, 403).
	Unauthorized
	// NotFound: the repository or tag does not exist.
	NotFound
	// TLSFailure: the TLS handshake or the certificate check failed.
	TLSFailure
)

// Error is a registry failure, classified.
type Error struct {
	Kind ErrorKind
	// Host is the registry; Ref what was asked for.
	Host, Ref string
	// Status is the HTTP status of an Unauthorized failure.
	Status int
	Err    error
}

func (e *Error) Error() string {
	switch e.Kind {
	case Unauthorized:
		return fmt.Sprintf("registry %s refused access to %s (%d %s)", e.Host, e.Ref, e.Status, http.StatusText(e.Status))
	case NotFound:
		return fmt.Sprintf("%s was not found in the registry", e.Ref)
	case TLSFailure:
		return fmt.Sprintf("TLS connection to registry %s failed: %s", e.Host, safetext.Line(rootCause(e.Err), safetext.MaxLen))
	case Unreachable:
		return fmt.Sprintf("cannot reach registry %s: %s", e.Host, safetext.Line(rootCause(e.Err), safetext.MaxLen))
	}
	return fmt.Sprintf("registry %s: %v", e.Host, safetext.Error(e.Err))
}

func (e *Error) Unwrap() error { return e.Err }

// rootCause drops the URL and operation wrappers that repeat the host.
func rootCause(err error) string {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err.Error()
	}
	for {
		u := errors.Unwrap(err)
		if u == nil {
			return err.Error()
		}
		err = u
	}
}

// classify turns an error of Helm's client into an *Error when it can.
func classify(err error, ref Reference) error {
	if err == nil {
		return nil
	}
	var stall *StallError
	if errors.As(err, &stall) {
		return stall
	}
	e := &Error{Host: ref.Registry, Ref: ref.String(), Err: err}
	var (
		resp     *errcode.ErrorResponse
		certErr  *tls.CertificateVerificationError
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		record   tls.RecordHeaderError
		op       *net.OpError
		dns      *net.DNSError
	)
	switch {
	case errors.As(err, &resp) && (resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden):
		e.Kind, e.Status = Unauthorized, resp.StatusCode
	case errors.Is(err, auth.ErrBasicCredentialNotFound):
		e.Kind, e.Status = Unauthorized, http.StatusUnauthorized
	case errors.As(err, &resp) && resp.StatusCode == http.StatusNotFound, errors.Is(err, errdef.ErrNotFound):
		e.Kind = NotFound
	case errors.As(err, &certErr), errors.As(err, &unknown), errors.As(err, &hostname), errors.As(err, &record),
		strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"),
		strings.Contains(err.Error(), "tls: "):
		e.Kind = TLSFailure
	case errors.As(err, &op), errors.As(err, &dns):
		e.Kind = Unreachable
	default:
		// The registry's own words: printable and capped.
		return fmt.Errorf("registry %s: %w", ref.Registry, safetext.Error(err))
	}
	return e
}

// TagExistsError is a push over a tag that holds a different chart.
type TagExistsError struct {
	Ref string
	// Existing and New are the chart layer digests.
	Existing, New string
}

func (e *TagExistsError) Error() string {
	return fmt.Sprintf("%s already holds a different chart (%s, this one is %s)", e.Ref, e.Existing, e.New)
}

// PushResult is what Push did.
type PushResult struct {
	// Ref is the pushed reference, oci://HOST/REPO/NAME:VERSION.
	Ref string
	// Digest is the manifest digest.
	Digest string
	// ChartDigest is the digest of the chart layer, the package bytes.
	ChartDigest string
	// Unchanged is true when the tag already held these bytes: nothing was
	// pushed.
	Unchanged bool
}

// Push uploads a package to ref (which must carry the chart's name as its
// last segment and its version as the tag). A tag that already holds the
// same bytes is left alone; one that holds other bytes is replaced only
// with force. created is recorded in the manifest's annotations, so the
// same package pushed twice gives the same manifest.
func (c *Client) Push(ref Reference, data []byte, force bool, created time.Time) (*PushResult, error) {
	if ref.Tag == "" || ref.Digest != "" {
		return nil, fmt.Errorf("push needs a reference with a tag and no digest, not %s", ref)
	}
	sum := sha256.Sum256(data)
	chartDigest := "sha256:" + hex.EncodeToString(sum[:])
	res := &PushResult{Ref: ref.String(), ChartDigest: chartDigest}
	manifest, existing, err := c.chartLayer(ref)
	var regErr *Error
	switch {
	case errors.As(err, &regErr) && regErr.Kind == NotFound:
	case err != nil:
		return nil, err
	case existing == chartDigest:
		res.Digest, res.Unchanged = manifest, true
		return res, nil
	case !force:
		return nil, &TagExistsError{Ref: ref.String(), Existing: existing, New: chartDigest}
	}
	pushed, err := c.helm.Push(data, ref.Locator(), helmregistry.PushOptCreationTime(created.UTC().Format(time.RFC3339)))
	if err != nil {
		return nil, classify(err, ref)
	}
	res.Digest = pushed.Manifest.Digest
	return res, nil
}

// chartLayer reads the manifest of ref and returns its digest and that of
// its chart layer, without downloading the chart.
func (c *Client) chartLayer(ref Reference) (manifest, chart string, err error) {
	res, err := c.helm.Pull(ref.Locator(), helmregistry.PullOptWithChart(false),
		helmregistry.PullOptWithProv(true), helmregistry.PullOptIgnoreMissingProv(true))
	if err != nil {
		return "", "", classify(err, ref)
	}
	var m struct {
		Layers []struct {
			MediaType string `json:"mediaType"`
			Digest    string `json:"digest"`
		} `json:"layers"`
	}
	if err := json.Unmarshal(res.Manifest.Data, &m); err != nil {
		return "", "", fmt.Errorf("%s: reading the manifest: %w", ref, err)
	}
	for _, l := range m.Layers {
		if l.MediaType == helmregistry.ChartLayerMediaType || l.MediaType == helmregistry.LegacyChartLayerMediaType {
			return res.Manifest.Digest, l.Digest, nil
		}
	}
	return res.Manifest.Digest, "", nil
}

// PullResult is a downloaded chart.
type PullResult struct {
	// Ref is the reference pulled, with the tag that was chosen.
	Ref Reference
	// Data is the chart .tgz.
	Data []byte
	// Digest is the manifest digest.
	Digest string
}

// Pull downloads the chart at ref. Without a tag or digest it takes the
// highest semantic-version tag.
func (c *Client) Pull(ref Reference) (*PullResult, error) {
	if ref.Tag == "" && ref.Digest == "" {
		tag, err := c.LatestTag(ref)
		if err != nil {
			return nil, err
		}
		ref = ref.WithTag(tag)
	}
	res, err := c.helm.Pull(ref.Locator())
	if err != nil {
		return nil, classify(err, ref)
	}
	return &PullResult{Ref: ref, Data: res.Chart.Data, Digest: res.Manifest.Digest}, nil
}

// LatestTag returns the highest semantic-version tag of the repository.
func (c *Client) LatestTag(ref Reference) (string, error) {
	repo := ref.WithTag("")
	tags, err := c.helm.Tags(repo.Locator())
	if err != nil {
		return "", classify(err, repo)
	}
	if len(tags) == 0 {
		return "", &Error{Kind: NotFound, Host: ref.Registry, Ref: repo.String() + " (no semantic-version tag)", Err: errdef.ErrNotFound}
	}
	return tags[0], nil
}

// Tags returns the semantic-version tags of the repository, highest first
// (Helm's "_" read back as "+").
func (c *Client) Tags(ref Reference) ([]string, error) {
	repo := ref.WithTag("")
	tags, err := c.helm.Tags(repo.Locator())
	if err != nil {
		return nil, classify(err, repo)
	}
	return tags, nil
}

// Login checks the credentials against host and stores them in the
// credentials file.
func (c *Client) Login(host, username, password string) error {
	err := classify(c.helm.Login(host, helmregistry.LoginOptBasicAuth(username, password)), Reference{Registry: host})
	var regErr *Error
	if errors.As(err, &regErr) {
		regErr.Ref = host
	}
	return err
}

// NotLoggedInError is a logout of a host the credentials file holds no
// login for.
type NotLoggedInError struct {
	Host string
	// File is the credentials file.
	File string
	// Hosts are the hosts the file holds logins for, sorted.
	Hosts []string
}

func (e *NotLoggedInError) Error() string {
	return fmt.Sprintf("not logged in to %s: %s", e.Host, e.Holds())
}

// Holds says what the credentials file holds instead: "FILE holds no login
// for it, only for A, B".
func (e *NotLoggedInError) Holds() string {
	msg := e.File + " holds no login for it"
	if len(e.Hosts) > 0 {
		msg += ", only for " + strings.Join(e.Hosts, ", ")
	}
	return msg
}

// Logout removes the credentials of host from the credentials file; a
// host with none there is a *NotLoggedInError. Docker's logins, read as a
// fallback, are left alone, as Helm does.
func (c *Client) Logout(host string) error {
	store, err := credentials.NewStore(c.credentials, credentials.StoreOptions{DetectDefaultNativeStore: true})
	if err != nil {
		return fmt.Errorf("registry credentials %s: %w", c.credentials, err)
	}
	cred, err := store.Get(context.Background(), credentials.ServerAddressFromRegistry(host))
	if err != nil {
		return fmt.Errorf("registry credentials %s: %w", c.credentials, err)
	}
	if cred == auth.EmptyCredential {
		return &NotLoggedInError{Host: host, File: c.credentials, Hosts: loginHosts(c.credentials)}
	}
	if err := c.helm.Logout(host); err != nil {
		return fmt.Errorf("registry %s: %w", host, err)
	}
	return nil
}

// loginHosts lists the hosts a credentials file holds logins for; none
// when it cannot be read.
func loginHosts(file string) []string {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil
	}
	var cfg struct {
		Auths map[string]json.RawMessage `json:"auths"`
	}
	if json.Unmarshal(data, &cfg) != nil {
		return nil
	}
	hosts := make([]string, 0, len(cfg.Auths))
	for h := range cfg.Auths {
		hosts = append(hosts, h)
	}
	sort.Strings(hosts)
	return hosts
}
