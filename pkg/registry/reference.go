// Package registry pushes and pulls extension packages to and from OCI
// registries with Helm's registry client, so charts, logins and
// credentials are the ones Helm uses.
package registry

import (
	"fmt"
	"path"
	"strings"

	orasregistry "oras.land/oras-go/v2/registry"
)

// Scheme is the prefix of every OCI chart reference.
const Scheme = "oci://"

// Reference is a parsed oci:// reference to a chart repository, optionally
// with a tag or a digest.
type Reference struct {
	// Registry is the host, with a port when one was given.
	Registry string
	// Repository is the path inside the registry, e.g. "charts/hello".
	Repository string
	// Tag is the chart version, as written (a "+" is kept).
	Tag string
	// Digest is a manifest digest ("sha256:..."), when given.
	Digest string
}

// IsOCI reports whether s is meant as an oci:// reference.
func IsOCI(s string) bool { return strings.HasPrefix(s, Scheme) }

// ParseReference parses oci://HOST[:PORT]/REPO[:TAG][@DIGEST]. A port is
// never taken for a tag: only a ":" after the last "/" starts one.
func ParseReference(s string) (Reference, error) {
	if !IsOCI(s) {
		return Reference{}, fmt.Errorf("%q is not an OCI reference: it must start with %s (e.g. %sregistry.example.com/charts/hello)", s, Scheme, Scheme)
	}
	rest := strings.TrimPrefix(s, Scheme)
	var ref Reference
	if i := strings.LastIndex(rest, "@"); i >= 0 {
		ref.Digest = rest[i+1:]
		rest = rest[:i]
		if ref.Digest == "" {
			return Reference{}, fmt.Errorf("%q has an empty digest after %q: write @sha256:<64 hex digits>, or leave it out", s, "@")
		}
		if strings.Contains(rest, "@") {
			return Reference{}, fmt.Errorf("%q has more than one %q: a reference has at most one digest", s, "@")
		}
	}
	slash := strings.Index(rest, "/")
	if slash <= 0 || slash == len(rest)-1 {
		return Reference{}, fmt.Errorf("%q has no repository: write %sHOST[:PORT]/REPOSITORY", s, Scheme)
	}
	ref.Registry = rest[:slash]
	ref.Repository = rest[slash+1:]
	if i := strings.LastIndex(ref.Repository, ":"); i >= 0 {
		ref.Tag = ref.Repository[i+1:]
		ref.Repository = ref.Repository[:i]
		if ref.Tag == "" {
			return Reference{}, fmt.Errorf("%q has an empty tag after %q", s, ":")
		}
	}
	// Check the syntax with ORAS, which Helm uses; "+" in a tag stands for
	// the "_" Helm stores.
	check := ref.Registry + "/" + ref.Repository
	if ref.Tag != "" {
		check += ":" + strings.ReplaceAll(ref.Tag, "+", "_")
	}
	if ref.Digest != "" {
		check += "@" + ref.Digest
	}
	if _, err := orasregistry.ParseReference(check); err != nil {
		return Reference{}, fmt.Errorf("%q is not a valid OCI reference: %s", s, strings.TrimPrefix(err.Error(), "invalid reference: "))
	}
	return ref, nil
}

// Name is the last segment of the repository: the chart name.
func (r Reference) Name() string { return path.Base(r.Repository) }

// WithTag returns the reference with tag set and no digest.
func (r Reference) WithTag(tag string) Reference {
	r.Tag, r.Digest = tag, ""
	return r
}

// Child returns the reference of the repository name inside r, e.g.
// oci://host/charts + hello = oci://host/charts/hello.
func (r Reference) Child(name string) Reference {
	return Reference{Registry: r.Registry, Repository: r.Repository + "/" + name}
}

// Locator is the reference without the scheme, as Helm's client takes it.
func (r Reference) Locator() string {
	s := r.Registry + "/" + r.Repository
	if r.Tag != "" {
		s += ":" + r.Tag
	}
	if r.Digest != "" {
		s += "@" + r.Digest
	}
	return s
}

// String is the oci:// form of the reference.
func (r Reference) String() string { return Scheme + r.Locator() }
