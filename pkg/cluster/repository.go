package cluster

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"sort"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/ksbuilder/ksbuilder/pkg/kubesphere"
)

// MinRepositoryInterval is the shortest poll interval KubeSphere honours;
// a shorter one is ignored by its repository controller.
const MinRepositoryInterval = 15 * time.Minute

// RepositoryOptions describe a KubeSphere Repository to add.
type RepositoryOptions struct {
	Name, URL, Description string
	// Username and Password are the basic auth credentials the
	// controller (and the installer's Helm job) use for the repository.
	Username, Password string
	// CABundle is a PEM bundle that verifies the repository's certificate.
	CABundle []byte
	// Insecure skips verifying the repository's certificate.
	Insecure bool
	// Depth is how many versions per extension are synced; nil leaves
	// KubeSphere's default (3), 0 means all.
	Depth *int
	// Interval is how often the repository is polled; Timeout how long a
	// sync may take. Zero leaves KubeSphere's defaults.
	Interval, Timeout time.Duration
	// Update replaces the spec of an existing Repository of the same name
	// (helm repo add --force-update); without it, a different one is an
	// error.
	Update bool
}

// RepositoryExistsError is a Repository of the name that differs from the
// one asked for.
type RepositoryExistsError struct {
	Name, URL string
}

func (e *RepositoryExistsError) Error() string {
	return fmt.Sprintf("Repository %s already exists with URL %s and other settings", e.Name, e.URL)
}

// RepositoryInUseError is a Repository whose extensions are installed.
type RepositoryInUseError struct {
	Name      string
	Installed []string
}

func (e *RepositoryInUseError) Error() string {
	return fmt.Sprintf("Repository %s provides installed extensions (%s): removing it deletes their Extension and ExtensionVersions, which KubeSphere owns through it", e.Name, strings.Join(e.Installed, ", "))
}

// RepositorySpec validates the options and builds the Repository's spec.
func (o RepositoryOptions) RepositorySpec() (kubesphere.RepositorySpec, error) {
	spec := kubesphere.RepositorySpec{URL: o.URL, Description: o.Description, Insecure: o.Insecure, Depth: o.Depth}
	if errs := validation.IsDNS1123Subdomain(o.Name); len(errs) > 0 {
		return spec, fmt.Errorf("repository name %q: %s", o.Name, errs[0])
	}
	u, err := url.Parse(o.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return spec, fmt.Errorf("repository URL %q: KubeSphere reads URL/index.yaml, so give an http(s) URL without credentials, e.g. https://charts.example.com", o.URL)
	}
	if o.Depth != nil && *o.Depth < 0 {
		return spec, fmt.Errorf("depth %d: give the number of versions per extension to sync, or 0 for all", *o.Depth)
	}
	if (o.Username == "") != (o.Password == "") {
		return spec, errors.New("a username needs a password and a password a username")
	}
	if o.Username != "" {
		spec.BasicAuth = &kubesphere.BasicAuth{Username: o.Username, Password: o.Password}
	}
	if len(o.CABundle) > 0 {
		if err := checkPEMCertificates(o.CABundle); err != nil {
			return spec, err
		}
		spec.CABundle = base64.StdEncoding.EncodeToString(o.CABundle)
	}
	if o.Interval < 0 || o.Timeout < 0 {
		return spec, errors.New("the interval and the timeout must be positive durations")
	}
	if o.Interval > 0 || o.Timeout > 0 {
		spec.UpdateStrategy = &kubesphere.UpdateStrategy{Timeout: metav1.Duration{Duration: o.Timeout}}
		if spec.UpdateStrategy.Timeout.Duration == 0 {
			spec.UpdateStrategy.Timeout.Duration = 2 * time.Minute
		}
		if o.Interval > 0 {
			spec.UpdateStrategy.RegistryPoll = &kubesphere.RegistryPoll{Interval: metav1.Duration{Duration: o.Interval}}
		}
	}
	return spec, nil
}

// checkPEMCertificates requires at least one PEM certificate, each of
// which parses.
func checkPEMCertificates(data []byte) error {
	found := false
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		if _, err := x509.ParseCertificate(block.Bytes); err != nil {
			return fmt.Errorf("CA bundle: %w", err)
		}
		found = true
	}
	if !found {
		return errors.New("CA bundle: no PEM certificate found")
	}
	return nil
}

// AddRepository creates a Repository. An existing one of the same name is
// left alone when its spec is the one asked for (Unchanged), replaced
// with Update (Configured), and otherwise an error. Creating the object
// (or clearing its status on an update) makes KubeSphere sync it at once.
func (c *Client) AddRepository(ctx context.Context, opts RepositoryOptions) (ObjectResult, []string, error) {
	res := ObjectResult{Kind: "Repository", Name: opts.Name}
	spec, err := opts.RepositorySpec()
	if err != nil {
		return res, nil, err
	}
	var warnings []string
	if opts.Interval > 0 && opts.Interval < MinRepositoryInterval {
		warnings = append(warnings, fmt.Sprintf("KubeSphere polls a repository at most every %s; an interval of %s is ignored", MinRepositoryInterval, opts.Interval))
	}
	if spec.BasicAuth != nil {
		warnings = append(warnings, "KubeSphere keeps the credentials in the Repository's spec, readable by whoever may get repositories.kubesphere.io: use an account that can only read the repository")
	}
	if spec.Insecure {
		warnings = append(warnings, "the repository's certificate is not verified (--insecure-skip-tls-verify)")
	}
	if err := c.requireKubeSphere(ctx); err != nil {
		return res, nil, err
	}
	var existing kubesphere.Repository
	err = c.get(ctx, kubesphere.ResourceRepositories, opts.Name, &existing)
	switch {
	case apierrors.IsNotFound(err):
		repo := &kubesphere.Repository{
			TypeMeta:   metav1.TypeMeta{APIVersion: kubesphere.GroupVersion.String(), Kind: "Repository"},
			ObjectMeta: metav1.ObjectMeta{Name: opts.Name},
			Spec:       spec,
		}
		if err := c.create(ctx, kubesphere.ResourceRepositories, repo, &kubesphere.Repository{}); err != nil {
			return res, warnings, err
		}
		res.Action = Created
		return res, warnings, nil
	case err != nil:
		return res, warnings, err
	}
	if sameRepositorySpec(existing.Spec, spec) {
		res.Action = Unchanged
		return res, warnings, nil
	}
	if !opts.Update {
		return res, warnings, &RepositoryExistsError{Name: opts.Name, URL: existing.Spec.URL}
	}
	existing.Spec = spec
	existing.Status = kubesphere.RepositoryStatus{}
	// A whole-object update at the version read: a merge patch could not
	// drop fields (credentials, a CA) the new spec leaves out.
	err = c.explain(c.ks.Put().Resource(kubesphere.ResourceRepositories).Name(opts.Name).
		Param("fieldManager", FieldManager).Body(&existing).Do(ctx).Into(&kubesphere.Repository{}))
	if err != nil {
		return res, warnings, err
	}
	res.Action = Configured
	return res, warnings, nil
}

// sameRepositorySpec compares specs, a depth the server defaulted to 3
// equal to none asked for.
func sameRepositorySpec(have, want kubesphere.RepositorySpec) bool {
	if want.Depth == nil {
		have.Depth = nil
	}
	return reflect.DeepEqual(have, want)
}

// RepositorySummary is one Repository as "repo list" shows it.
type RepositorySummary struct {
	Name        string `json:"name"`
	URL         string `json:"url"`
	Description string `json:"description,omitempty"`
	// Depth is nil when KubeSphere's default applies.
	Depth    *int   `json:"depth,omitempty"`
	Interval string `json:"interval,omitempty"`
	// Credentials is true when the Repository has basic auth.
	Credentials bool `json:"credentials"`
	Insecure    bool `json:"insecure,omitempty"`
	// LastSync is when KubeSphere last synced it; nil before the first sync.
	LastSync *time.Time `json:"lastSync,omitempty"`
	// Extensions are the extensions synced from it.
	Extensions []string `json:"extensions"`
}

// ListRepositories lists the cluster's Repositories by name, each with the
// extensions synced from it.
func (c *Client) ListRepositories(ctx context.Context) ([]RepositorySummary, error) {
	if err := c.requireKubeSphere(ctx); err != nil {
		return nil, err
	}
	var repos kubesphere.RepositoryList
	if err := c.list(ctx, kubesphere.ResourceRepositories, metav1.ListOptions{}, &repos); err != nil {
		return nil, err
	}
	var exts kubesphere.ExtensionList
	if err := c.list(ctx, kubesphere.ResourceExtensions, metav1.ListOptions{LabelSelector: kubesphere.LabelRepositoryRef}, &exts); err != nil {
		return nil, err
	}
	byRepo := map[string][]string{}
	for _, e := range exts.Items {
		r := e.Labels[kubesphere.LabelRepositoryRef]
		byRepo[r] = append(byRepo[r], e.Name)
	}
	out := make([]RepositorySummary, 0, len(repos.Items))
	for _, r := range repos.Items {
		s := RepositorySummary{Name: r.Name, URL: r.Spec.URL, Description: r.Spec.Description, Depth: r.Spec.Depth,
			Credentials: r.Spec.BasicAuth != nil && r.Spec.BasicAuth.Username != "", Insecure: r.Spec.Insecure,
			Extensions: byRepo[r.Name]}
		if s.Extensions == nil {
			s.Extensions = []string{}
		}
		sort.Strings(s.Extensions)
		if u := r.Spec.UpdateStrategy; u != nil && u.RegistryPoll != nil {
			s.Interval = u.RegistryPoll.Interval.Duration.String()
		}
		if r.Status.LastSyncTime != nil {
			t := r.Status.LastSyncTime.UTC()
			s.LastSync = &t
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// RemoveRepository deletes a Repository; KubeSphere then deletes the
// Extensions and ExtensionVersions synced from it (they are owned by it).
// It refuses while one of those extensions is installed (has an
// InstallPlan), unless force is set. A missing Repository is an error.
func (c *Client) RemoveRepository(ctx context.Context, name string, force bool) (ObjectResult, error) {
	res := ObjectResult{Kind: "Repository", Name: name}
	if err := c.requireKubeSphere(ctx); err != nil {
		return res, err
	}
	if err := c.get(ctx, kubesphere.ResourceRepositories, name, &kubesphere.Repository{}); err != nil {
		if apierrors.IsNotFound(err) {
			return res, fmt.Errorf("no Repository %s on %s: see \"ksbuilder repo list\"", name, c.describe())
		}
		return res, err
	}
	if !force {
		var exts kubesphere.ExtensionList
		if err := c.list(ctx, kubesphere.ResourceExtensions, metav1.ListOptions{LabelSelector: kubesphere.LabelRepositoryRef + "=" + name}, &exts); err != nil {
			return res, err
		}
		var installed []string
		for _, e := range exts.Items {
			if c.planOrNil(ctx, e.Name) != nil {
				installed = append(installed, e.Name)
			}
		}
		if len(installed) > 0 {
			sort.Strings(installed)
			return res, &RepositoryInUseError{Name: name, Installed: installed}
		}
	}
	if err := c.delete(ctx, kubesphere.ResourceRepositories, name); err != nil {
		return res, err
	}
	res.Action = Deleted
	return res, nil
}

// ServedBy is the Repository an ExtensionVersion was synced from
// (spec.repository, else its kubesphere.io/repository-ref label).
type ServedBy struct {
	Repository string `json:"repository"`
	// URL is the Repository's spec.url; "" when it could not be read.
	URL string `json:"url,omitempty"`
	// Gone is true when the Repository no longer exists.
	Gone bool `json:"gone,omitempty"`
}

// String is "Repository NAME (URL)".
func (s *ServedBy) String() string {
	switch {
	case s.Gone:
		return fmt.Sprintf("Repository %s (no longer on the cluster)", s.Repository)
	case s.URL == "":
		return "Repository " + s.Repository
	}
	return fmt.Sprintf("Repository %s (%s)", s.Repository, s.URL)
}

// servedBy names the Repository a version was synced from, with its URL
// when it can be read; nil for a version published otherwise.
func (c *Client) servedBy(ctx context.Context, ev *kubesphere.ExtensionVersion) *ServedBy {
	name := fromRepository(ev)
	if name == "" {
		return nil
	}
	out := &ServedBy{Repository: name}
	var repo kubesphere.Repository
	switch err := c.get(ctx, kubesphere.ResourceRepositories, name, &repo); {
	case err == nil:
		out.URL = repo.Spec.URL
	case apierrors.IsNotFound(err):
		out.Gone = true
	}
	return out
}

// repositoryVersionWarning says what publishing over a version a
// Repository serves leads to. KubeSphere's repository controller writes
// the versions in its index again on every sync (chartURL, digest) and
// deletes those that left it, and the fields publish does not write stay
// the Repository's: spec.repository, the repository-ref label and, for a
// publication into a ConfigMap, the chartURL, which KubeSphere's installer
// prefers to the ConfigMap.
func repositoryVersionWarning(p *Publication, existing *kubesphere.ExtensionVersion, by *ServedBy) string {
	name, version := p.Extension.Name, p.Version.Spec.Version
	msg := fmt.Sprintf("%s %s is served by %s: the Repository's next sync (every poll interval, and whenever the Repository changes) writes ExtensionVersion %s again from its index, replacing this publication, or deletes it once the version leaves the index",
		name, version, by, existing.Name)
	if p.ConfigMap != nil && existing.Spec.ChartURL != "" {
		msg += fmt.Sprintf("; until then KubeSphere still installs the Repository's chart %s, which it prefers to the chart ConfigMap", existing.Spec.ChartURL)
	}
	return msg + "; publish another version, or remove this one from the repository"
}
