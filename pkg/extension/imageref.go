package extension

import (
	"errors"
	"strings"

	"github.com/distribution/reference"
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

// String returns the canonical reference: domain/path[:tag][@digest]. The
// domain is empty, as in distribution/reference, when the first component
// has a dot but is no valid host name ("0_x.o/app"): then path alone.
func (r ImageRef) String() string {
	s := r.Path
	if r.Domain != "" {
		s = r.Domain + "/" + s
	}
	if r.Tag != "" {
		s += ":" + r.Tag
	}
	if r.Digest != "" {
		s += "@" + r.Digest
	}
	return s
}

// Familiar returns the short form Docker shows: without docker.io/, and
// without library/ for official images ("nginx:1.27").
func (r ImageRef) Familiar() string {
	s := r.String()
	if r.Domain != dockerHub {
		return s
	}
	s = strings.TrimPrefix(s, dockerHub+"/")
	if rest, ok := strings.CutPrefix(r.Path, "library/"); ok && !strings.Contains(rest, "/") {
		s = strings.TrimPrefix(s, "library/")
	}
	return s
}

const dockerHub = "docker.io"

// ParseImageRef parses and normalises an image reference such as
// "nginx:1.27", "docker.io/library/nginx:1.27" or "ghcr.io/org/app@sha256:...",
// exactly as container runtimes do (distribution/reference's
// ParseNormalizedNamed): the string is taken as is, so surrounding spaces
// are an error, and a digest must be valid for its algorithm.
func ParseImageRef(s string) (ImageRef, error) {
	if s == "" {
		return ImageRef{}, errors.New("empty image reference")
	}
	named, err := reference.ParseNormalizedNamed(s)
	if err != nil {
		return ImageRef{}, err
	}
	r := ImageRef{Domain: reference.Domain(named), Path: reference.Path(named)}
	if t, ok := named.(reference.Tagged); ok {
		r.Tag = t.Tag()
	}
	if d, ok := named.(reference.Digested); ok {
		r.Digest = d.Digest().String()
	}
	return r, nil
}
