package images

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"oras.land/oras-go/v2/registry/remote/auth"

	"github.com/ksbuilder/ksbuilder/pkg/registry"
	"github.com/ksbuilder/ksbuilder/pkg/safetext"
)

// DefaultJobs is how many images (and blobs) are transferred at once.
const DefaultJobs = 4

// keychain finds credentials with pkg/registry's lookup (Helm's
// credentials file, then Docker's).
type keychain struct {
	ctx    context.Context
	lookup func(ctx context.Context, host string) (auth.Credential, error)
}

func (k keychain) Resolve(r authn.Resource) (authn.Authenticator, error) {
	cred, err := k.lookup(k.ctx, r.RegistryStr())
	if err != nil {
		return nil, fmt.Errorf("credentials of %s: %w", r.RegistryStr(), err)
	}
	if cred == auth.EmptyCredential {
		return authn.Anonymous, nil
	}
	return authn.FromConfig(authn.AuthConfig{
		Username:      cred.Username,
		Password:      cred.Password,
		IdentityToken: cred.RefreshToken,
		RegistryToken: cred.AccessToken,
	}), nil
}

// client holds what every transfer needs.
type client struct {
	nameOpts []name.Option
	remote   []remote.Option
	jobs     int
}

// newClient builds the go-containerregistry options from the registry
// options: TLS settings, plain HTTP, stored credentials. wrap, when set,
// wraps the HTTP transport (tests count requests with it).
func newClient(ctx context.Context, opts registry.Options, jobs int, wrap func(http.RoundTripper) http.RoundTripper) (*client, error) {
	if jobs <= 0 {
		jobs = DefaultJobs
	}
	t, err := opts.Transport()
	if err != nil {
		return nil, err
	}
	var rt http.RoundTripper = t
	if wrap != nil {
		rt = wrap(rt)
	}
	lookup, err := opts.CredentialFunc()
	if err != nil {
		return nil, err
	}
	c := &client{jobs: jobs}
	if opts.PlainHTTP {
		c.nameOpts = append(c.nameOpts, name.Insecure)
	}
	c.remote = []remote.Option{
		remote.WithContext(ctx),
		remote.WithTransport(rt),
		remote.WithAuthFromKeychain(keychain{ctx: ctx, lookup: lookup}),
		remote.WithJobs(jobs),
		remote.WithUserAgent("ksbuilder"),
	}
	return c, nil
}

// classify turns a go-containerregistry error into a *registry.Error
// when it can; ref names what was asked for.
func classify(err error, host, ref string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var stall *registry.StallError
	if errors.As(err, &stall) {
		return stall
	}
	e := &registry.Error{Host: host, Ref: ref, Err: err}
	var (
		terr     *transport.Error
		certErr  *tls.CertificateVerificationError
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		record   tls.RecordHeaderError
		op       *net.OpError
		dns      *net.DNSError
	)
	switch {
	case errors.As(err, &terr) && (terr.StatusCode == http.StatusUnauthorized || terr.StatusCode == http.StatusForbidden):
		e.Kind, e.Status = registry.Unauthorized, terr.StatusCode
	case errors.As(err, &terr) && (terr.StatusCode == http.StatusNotFound || hasCode(terr, transport.ManifestUnknownErrorCode, transport.NameUnknownErrorCode, transport.BlobUnknownErrorCode)):
		e.Kind = registry.NotFound
	case errors.As(err, &unknown):
		// The ping tries HTTPS then HTTP: report the certificate problem
		// alone.
		e.Kind, e.Err = registry.TLSFailure, unknown
	case errors.As(err, &hostname):
		e.Kind, e.Err = registry.TLSFailure, hostname
	case errors.As(err, &certErr):
		e.Kind, e.Err = registry.TLSFailure, certErr
	case errors.As(err, &record),
		strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"),
		strings.Contains(err.Error(), "tls: "):
		e.Kind = registry.TLSFailure
	case errors.As(err, &op), errors.As(err, &dns):
		e.Kind = registry.Unreachable
	default:
		return fmt.Errorf("%s: %w", ref, safetext.Error(err)) // the registry's own words: printable, capped
	}
	return e
}

func hasCode(e *transport.Error, codes ...transport.ErrorCode) bool {
	for _, d := range e.Errors {
		for _, c := range codes {
			if d.Code == c {
				return true
			}
		}
	}
	return false
}

// ImageError is a failure to transfer one image; it names where the
// extension references the image.
type ImageError struct {
	// Image is the normalised reference.
	Image string
	// Sources are where the extension references it (none for an image
	// read from an archive).
	Sources []Source
	Err     error
}

func (e *ImageError) Error() string {
	var regErr *registry.Error
	if errors.As(e.Err, &regErr) && regErr.Kind == registry.NotFound {
		if len(e.Sources) == 0 {
			return fmt.Sprintf("image %s was not found in registry %s", e.Image, regErr.Host)
		}
		return fmt.Sprintf("image %s was not found in registry %s (%s)", e.Image, regErr.Host, where(e.Sources))
	}
	if len(e.Sources) == 0 {
		return fmt.Sprintf("image %s: %v", e.Image, e.Err)
	}
	return fmt.Sprintf("image %s (%s): %v", e.Image, where(e.Sources), e.Err)
}

func (e *ImageError) Unwrap() error { return e.Err }

// where words the first source of an image and how many more there are.
func where(sources []Source) string {
	s := sources[0]
	w := s.File
	switch {
	case s.Object != "" && s.Container != "":
		w += " " + s.Object + " container " + s.Container
	case s.Object != "":
		w += " " + s.Object
	case s.Field != "":
		w += " " + s.Field
	}
	if n := len(sources) - 1; n == 1 {
		w += ", and 1 more place"
	} else if n > 1 {
		w += fmt.Sprintf(", and %d more places", n)
	}
	return "referenced by " + w
}
