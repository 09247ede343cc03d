package extension

import (
	"errors"
	"fmt"
	"strings"

	"github.com/opencontainers/go-digest"
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
// ParseNormalizedNamed, with the same errors): the string is taken as is, so
// surrounding spaces are an error, and a digest must be valid for its
// algorithm. The grammar is matched by hand: the reference package compiles
// its patterns when the program starts, which every command would pay.
func ParseImageRef(s string) (ImageRef, error) {
	if s == "" {
		return ImageRef{}, errors.New("empty image reference")
	}
	if len(s) == 64 && strings.Trim(s, "0123456789abcdef") == "" {
		return ImageRef{}, fmt.Errorf("invalid repository name (%s), cannot specify 64-byte hexadecimal strings", s)
	}
	domain, remainder := splitDockerDomain(s)
	remote, _, _ := strings.Cut(remainder, ":")
	if strings.ToLower(remote) != remote {
		return ImageRef{}, fmt.Errorf("invalid reference format: repository name (%s) must be lowercase", remote)
	}
	full := domain + "/" + remainder
	r, ok := matchReference(full)
	switch {
	case !ok:
		if _, ok := matchReference(strings.ToLower(full)); ok {
			return ImageRef{}, errors.New("repository name must be lowercase")
		}
		return ImageRef{}, errors.New("invalid reference format")
	case len(r.Path) > maxRepositoryName:
		return ImageRef{}, fmt.Errorf("repository name must not be more than %d characters", maxRepositoryName)
	}
	if r.Digest != "" {
		if _, err := digest.Parse(r.Digest); err != nil {
			return ImageRef{}, err
		}
	}
	return r, nil
}

// maxRepositoryName is the longest repository path a reference may have.
const maxRepositoryName = 255

// splitDockerDomain splits a reference into its registry and the rest,
// Docker Hub's way: the first component is the registry when it is
// localhost, has a dot or a colon, or has an upper-case letter; otherwise
// the registry is docker.io, where a one-component name is under library/.
func splitDockerDomain(s string) (domain, rest string) {
	first, after, ok := strings.Cut(s, "/")
	switch {
	case !ok:
		return dockerHub, "library/" + s
	case first == "index.docker.io":
		domain, rest = dockerHub, after
	case first == "localhost" || strings.ContainsAny(first, ".:") || strings.ToLower(first) != first:
		domain, rest = first, after
	default:
		domain, rest = dockerHub, s
	}
	if domain == dockerHub && !strings.Contains(rest, "/") {
		rest = "library/" + rest
	}
	return domain, rest
}

// matchReference matches the reference grammar
//
//	reference := name [":" tag] ["@" digest]
//	name      := [domain "/"] path
//
// (the digest only by its form) and splits s into its parts.
func matchReference(s string) (ImageRef, bool) {
	var r ImageRef
	s, dgst, hasDigest := strings.Cut(s, "@")
	if hasDigest {
		if !isDigestForm(dgst) {
			return r, false
		}
		r.Digest = dgst
	}
	// A colon after the last slash starts the tag; one before it ends a
	// registry host before its port.
	name := s
	last := strings.LastIndexByte(s, '/') + 1
	if i := strings.IndexByte(s[last:], ':'); i >= 0 {
		name, r.Tag = s[:last+i], s[last+i+1:]
		if !isTag(r.Tag) {
			return r, false
		}
	}
	if first, rest, ok := strings.Cut(name, "/"); ok && isDomain(first) && isPath(rest) {
		r.Domain, r.Path = first, rest
	} else if isPath(name) {
		r.Path = name
	} else {
		return r, false
	}
	return r, true
}

// isPath reports whether s is a repository path: components of lower-case
// letters and digits, joined by single separators (".", "_", "__" or
// dashes), separated by slashes.
func isPath(s string) bool {
	for _, c := range strings.Split(s, "/") {
		if !isPathComponent(c) {
			return false
		}
	}
	return true
}

func isPathComponent(s string) bool {
	i := 0
	for {
		start := i
		for i < len(s) && (isDigit(s[i]) || s[i] >= 'a' && s[i] <= 'z') {
			i++
		}
		if i == start {
			return false // a component, and every separator, is followed by letters or digits
		}
		if i == len(s) {
			return true
		}
		switch {
		case s[i] == '.':
			i++
		case strings.HasPrefix(s[i:], "__"):
			i += 2
		case s[i] == '_':
			i++
		case s[i] == '-':
			for i < len(s) && s[i] == '-' {
				i++
			}
		default:
			return false
		}
	}
}

// isDomain reports whether s is a registry: a host name, or an IPv6
// address in brackets, with an optional port.
func isDomain(s string) bool {
	host, port := s, ""
	if rest, ok := strings.CutPrefix(s, "["); ok {
		addr, after, ok := strings.Cut(rest, "]")
		if !ok || addr == "" || strings.Trim(addr, "0123456789abcdefABCDEF:") != "" {
			return false
		}
		if after != "" {
			p, ok := strings.CutPrefix(after, ":")
			if !ok {
				return false
			}
			return isNumber(p)
		}
		return true
	}
	if h, p, ok := strings.Cut(s, ":"); ok {
		host, port = h, p
		if !isNumber(port) {
			return false
		}
	}
	for _, label := range strings.Split(host, ".") {
		if label == "" || !isAlnum(rune(label[0])) || !isAlnum(rune(label[len(label)-1])) {
			return false
		}
		for i := 0; i < len(label); i++ {
			if !isAlnum(rune(label[i])) && label[i] != '-' {
				return false
			}
		}
	}
	return true
}

// isTag reports whether s is a tag: a word character, then up to 127 word
// characters, dots and dashes.
func isTag(s string) bool {
	if s == "" || len(s) > 128 || s[0] == '.' || s[0] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isAlnum(rune(s[i])) && s[i] != '_' && s[i] != '.' && s[i] != '-' {
			return false
		}
	}
	return true
}

// isDigestForm reports whether s has a digest's form: an algorithm
// (letters and digits, each part starting with a letter, joined by "-",
// "_", "+" or "."), a colon and at least 32 hexadecimal digits. Whether
// the algorithm is known and the length right is go-digest's to say.
func isDigestForm(s string) bool {
	alg, hex, ok := strings.Cut(s, ":")
	if !ok || len(hex) < 32 || strings.Trim(hex, "0123456789abcdefABCDEF") != "" {
		return false
	}
	for i := 0; ; i++ { // each part of the algorithm
		if i == len(alg) || !isLetter(alg[i]) {
			return false
		}
		for i++; i < len(alg) && isAlnum(rune(alg[i])); i++ {
		}
		if i == len(alg) {
			return true
		}
		if !strings.ContainsRune("-_+.", rune(alg[i])) {
			return false
		}
	}
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }

// isNumber reports whether s is one or more decimal digits.
func isNumber(s string) bool { return s != "" && strings.Trim(s, "0123456789") == "" }
