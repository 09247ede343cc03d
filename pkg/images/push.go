package images

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/ksbuilder/ksbuilder/pkg/extension"
)

// Destination is where push and mirror put images: a registry host and an
// optional path prefix.
type Destination struct {
	// Host is "registry.example.com" or "HOST:PORT".
	Host string
	// Prefix is a repository path prefix ("mirror/ks"), or empty.
	Prefix string
}

// String returns HOST[/PREFIX].
func (d Destination) String() string {
	if d.Prefix == "" {
		return d.Host
	}
	return d.Host + "/" + d.Prefix
}

var pathComponent = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$`) })

// ParseDestination parses HOST[:PORT][/PREFIX].
func ParseDestination(s string) (Destination, error) {
	fix := "write HOST[:PORT][/PREFIX], e.g. registry.example.com/mirror"
	if strings.Contains(s, "://") {
		return Destination{}, fmt.Errorf("%q: no scheme; %s (--plain-http for an HTTP registry)", s, fix)
	}
	host, prefix, _ := strings.Cut(strings.TrimSuffix(s, "/"), "/")
	if host == "" {
		return Destination{}, fmt.Errorf("%q has no registry host; %s", s, fix)
	}
	if !strings.ContainsAny(host, ".:") && host != "localhost" {
		return Destination{}, fmt.Errorf("%q does not start with a registry host (a name with a dot or a port, or localhost); %s", s, fix)
	}
	if _, err := name.NewRegistry(host, name.StrictValidation); err != nil {
		return Destination{}, fmt.Errorf("%q: %q is not a registry host; %s", s, host, fix)
	}
	if prefix != "" {
		for c := range strings.SplitSeq(prefix, "/") {
			if !pathComponent().MatchString(c) {
				return Destination{}, fmt.Errorf("%q: %q is not a valid repository path component (lower-case letters, digits, separators . _ -); %s", s, c, fix)
			}
		}
	}
	return Destination{Host: host, Prefix: prefix}, nil
}

// Target returns where image goes under d: the registry is replaced and
// the repository path kept under the prefix
// ("docker.io/kubesphere/x:1" → "HOST/PREFIX/kubesphere/x:1",
// "nginx:1" → "HOST/PREFIX/library/nginx:1"). An image with a tag keeps
// it; one with only a digest is pushed by digest.
func (d Destination) Target(image string) (string, error) {
	r, err := extension.ParseImageRef(image)
	if err != nil {
		return "", err
	}
	t := d.String() + "/" + r.Path
	switch {
	case r.Tag != "":
		t += ":" + r.Tag
	case r.Digest != "":
		t += "@" + r.Digest
	default:
		t += ":latest"
	}
	return t, nil
}

// Push pushes every image of an archive written by Save to dest, keeping
// repository paths (see Destination.Target) and digests. Blobs the
// registry already has are not uploaded again. The archive is read in
// place, not unpacked, and checked whole before the first request: a
// blob that is missing, of another size or does not hash to its digest
// is a *BlobError.
func Push(ctx context.Context, archivePath string, dest Destination, opts Options) ([]Saved, error) {
	a, items, err := readArchive(ctx, archivePath)
	if err != nil {
		return nil, err
	}
	defer a.Close()
	c, err := newClient(ctx, opts.Registry, opts.Jobs, opts.WrapTransport)
	if err != nil {
		return nil, err
	}
	return c.push(items, dest, opts.Progress)
}

// readArchive opens an archive and reads every image of its index.json,
// checking every blob (see archive.taggable). The caller closes the
// archive.
func readArchive(ctx context.Context, archivePath string) (*archive, []*item, error) {
	a, err := openArchive(ctx, archivePath)
	if err != nil {
		return nil, nil, err
	}
	m, err := a.index()
	if err != nil {
		_ = a.Close()
		return nil, nil, err
	}
	var items []*item
	for i, d := range m.Manifests {
		if _, ok := d.Annotations[ViewAnnotation]; ok {
			continue
		}
		ref := d.Annotations[RefNameAnnotation]
		if ref == "" {
			_ = a.Close()
			return nil, nil, fmt.Errorf("%s: index.json manifests[%d] has no %s annotation: push needs the image's reference", archivePath, i, RefNameAnnotation)
		}
		t, err := a.taggable(ref, d)
		if err != nil {
			_ = a.Close()
			return nil, nil, err
		}
		items = append(items, &item{image: ref, t: t, desc: d})
	}
	return a, items, nil
}

// push writes items to their targets under dest.
func (c *client) push(items []*item, dest Destination, p Progress) ([]Saved, error) {
	todo := map[name.Reference]remote.Taggable{}
	var out []Saved
	byTarget := map[string]*item{}
	for _, it := range items {
		target, err := dest.Target(it.image)
		if err != nil {
			return nil, &ImageError{Image: it.image, Sources: it.sources, Err: err}
		}
		if other, ok := byTarget[target]; ok {
			if other.desc.Digest == it.desc.Digest {
				continue
			}
			return nil, fmt.Errorf("%s and %s would both be pushed to %s", other.image, it.image, target)
		}
		byTarget[target] = it
		ref, err := name.ParseReference(target, c.nameOpts...)
		if err != nil {
			return nil, &ImageError{Image: it.image, Sources: it.sources, Err: fmt.Errorf("target %s: %w", target, err)}
		}
		todo[ref] = it.t
		out = append(out, Saved{Source: it.image, Target: target, Digest: it.desc.Digest.String()})
	}
	slices.SortFunc(out, func(a, b Saved) int { return strings.Compare(a.Target, b.Target) })

	progress := &syncProgress{p: p}
	updates := make(chan v1.Update, 16)
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		var started bool
		var last int64
		for u := range updates {
			if !started && u.Total > 0 {
				progress.Start(u.Total)
				started = true
			}
			progress.Add(u.Complete - last)
			last = u.Complete
		}
	}()
	err := remote.MultiWrite(todo, append(slices.Clone(c.remote), remote.WithProgress(updates))...)
	<-drained
	if err != nil {
		return nil, classify(err, dest.Host, dest.String())
	}
	for _, s := range out {
		progress.Done(s.Target, s.Digest)
	}
	return out, nil
}
