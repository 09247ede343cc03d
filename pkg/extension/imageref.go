package extension

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
)

// ImageRef is a parsed container image reference, normalised the way
// container runtimes read it: an implicit registry is docker.io, and a
// one-component Docker Hub repository lives under library/.
type ImageRef struct {
	// Domain is the registry host, with its port if any ("docker.io").
	Domain string
	// Path is the repository path ("library/nginx").
	Path string
	// Tag is the tag ("1.27"); empty when absent.
	Tag string
	// Digest is "algorithm:hex"; empty when absent.
	Digest string
}

// String returns the canonical reference: domain/path[:tag][@digest].
func (r ImageRef) String() string {
	s := r.Domain + "/" + r.Path
	if r.Tag != "" {
		s += ":" + r.Tag
	}
	if r.Digest != "" {
		s += "@" + r.Digest
	}
	return s
}

// Familiar returns the short form Docker shows: without docker.io/ and
// library/ ("nginx:1.27").
func (r ImageRef) Familiar() string {
	s := r.String()
	if r.Domain == dockerHub {
		s = strings.TrimPrefix(strings.TrimPrefix(s, dockerHub+"/"), "library/")
	}
	return s
}

const dockerHub = "docker.io"

// The grammar of image references (Docker's distribution/reference):
//
//	reference := name [ ":" tag ] [ "@" digest ]
//	name      := [domain "/"] path
//	domain    := host [":" port]      host: DNS name, IPv4 or [IPv6]
//	path      := component ("/" component)*, component: [a-z0-9]+ separated by "." "_" "__" or "-"+
//	tag       := [\w][\w.-]{0,127}
//	digest    := algorithm ":" hex{32,}
//
// The patterns are compiled on first use, not at start-up.
var imagePatterns = sync.OnceValue(func() *regexp.Regexp {
	const (
		component = `[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*`
		label     = `(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])`
		host      = `(?:` + label + `(?:\.` + label + `)*|\[[a-fA-F0-9:]+\])`
		domain    = host + `(?::[0-9]+)?`
		path      = component + `(?:/` + component + `)*`
		tag       = `[\w][\w.-]{0,127}`
		digest    = `[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}`
	)
	return regexp.MustCompile(`^(?:(` + domain + `)/)?(` + path + `)(?::(` + tag + `))?(?:@(` + digest + `))?$`)
})

// maxImageNameLength is the longest repository name (domain/path) allowed.
const maxImageNameLength = 255

// ParseImageRef parses and normalises an image reference such as
// "nginx:1.27", "docker.io/library/nginx:1.27" or "ghcr.io/org/app@sha256:...".
func ParseImageRef(s string) (ImageRef, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return ImageRef{}, fmt.Errorf("empty image reference")
	}
	m := imagePatterns().FindStringSubmatch(s)
	if m == nil {
		if strings.ToLower(s) != s && imagePatterns().MatchString(strings.ToLower(s)) {
			return ImageRef{}, fmt.Errorf("repository names must be lower case")
		}
		return ImageRef{}, fmt.Errorf("invalid reference format")
	}
	r := ImageRef{Domain: m[1], Path: m[2], Tag: m[3], Digest: m[4]}
	// The first component is a registry only if it looks like a host:
	// it has a dot or a port, or is localhost; otherwise it is a Docker
	// Hub organisation.
	if r.Domain != "" && !strings.ContainsAny(r.Domain, ".:[") && r.Domain != "localhost" {
		if strings.ToLower(r.Domain) != r.Domain {
			return ImageRef{}, fmt.Errorf("repository names must be lower case")
		}
		r.Path = r.Domain + "/" + r.Path
		r.Domain = ""
	}
	switch r.Domain {
	case "", "index.docker.io":
		r.Domain = dockerHub
	}
	if r.Domain == dockerHub && !strings.Contains(r.Path, "/") {
		r.Path = "library/" + r.Path
	}
	if len(r.Domain)+1+len(r.Path) > maxImageNameLength {
		return ImageRef{}, fmt.Errorf("repository name is longer than %d characters", maxImageNameLength)
	}
	return r, nil
}
