package images

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/sync/errgroup"
)

// ParsePlatforms parses a comma-separated list of platforms
// ("linux/amd64,linux/arm64/v8"). An empty string is no filter.
func ParsePlatforms(s string) ([]v1.Platform, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []v1.Platform
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		p, err := v1.ParsePlatform(part)
		if err != nil || p.String() != part || !platformWord(p.OS) || !platformWord(p.Architecture) ||
			(p.Variant != "" && !platformWord(p.Variant)) || (p.OSVersion != "" && !platformWord(p.OSVersion)) {
			return nil, fmt.Errorf("%q is not a platform: write OS/ARCH[/VARIANT], e.g. linux/amd64 or linux/arm64/v8", part)
		}
		out = append(out, *p)
	}
	return out, nil
}

// platformWord reports whether s can be one part of a platform (an OS,
// architecture, variant or OS version): letters, digits, '.', '_' and
// '-', starting with a letter or digit, as in the OCI image spec's values.
func platformWord(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case i > 0 && (r == '.' || r == '_' || r == '-'):
		default:
			return false
		}
	}
	return true
}

// item is one image to transfer.
type item struct {
	// image is the normalised reference; sources where it comes from.
	image   string
	sources []Source
	ref     name.Reference
	// t is a v1.Image or v1.ImageIndex; desc its descriptor.
	t    remote.Taggable
	desc v1.Descriptor
	// view is the OCI index Save adds for an image in Docker's format
	// (addOCIViews), or nil.
	view *v1.Descriptor
}

// resolve fetches the manifests of every image (jobs at a time) and
// applies the platform filter. Every image is tried; the error is the
// first failure in the list's order, so it does not depend on timing.
func (c *client) resolve(ctx context.Context, imgs []Image, platforms []v1.Platform) ([]*item, error) {
	items := make([]*item, len(imgs))
	errs := make([]error, len(imgs))
	var g errgroup.Group
	g.SetLimit(c.jobs)
	for i, img := range imgs {
		g.Go(func() error {
			if err := ctx.Err(); err != nil {
				errs[i] = err
				return nil
			}
			it, err := c.resolveOne(img, platforms)
			if err != nil {
				errs[i] = &ImageError{Image: img.Image, Sources: img.Sources, Err: err}
			}
			items[i] = it
			return nil
		})
	}
	_ = g.Wait()
	if err := firstError(errs); err != nil {
		return nil, err
	}
	return items, nil
}

// firstError returns the first error of errs, noting how many more there
// are.
func firstError(errs []error) error {
	var first error
	more := 0
	for _, err := range errs {
		switch {
		case err == nil:
		case first == nil:
			first = err
		default:
			more++
		}
	}
	if first == nil || more == 0 {
		return first
	}
	return &moreErrors{err: first, more: more}
}

// moreErrors is the first of several failures.
type moreErrors struct {
	err  error
	more int
}

func (e *moreErrors) Error() string {
	if e.more == 1 {
		return e.err.Error() + "; and 1 more image failed"
	}
	return fmt.Sprintf("%v; and %d more images failed", e.err, e.more)
}

func (e *moreErrors) Unwrap() error { return e.err }

func (c *client) resolveOne(img Image, platforms []v1.Platform) (*item, error) {
	ref, err := name.ParseReference(img.Image, c.nameOpts...)
	if err != nil {
		return nil, fmt.Errorf("not a valid image reference: %w", err)
	}
	host := ref.Context().RegistryStr()
	// The descriptor keeps its options (and context) for the later reads:
	// the client's, not the errgroup's.
	desc, err := remote.Get(ref, c.remote...)
	if err != nil {
		return nil, classify(err, host, ref.String())
	}
	it := &item{image: img.Image, sources: img.Sources, ref: ref, desc: desc.Descriptor}
	_, pinned := ref.(name.Digest)
	switch {
	case desc.MediaType.IsIndex():
		ii, err := desc.ImageIndex()
		if err != nil {
			return nil, err
		}
		it.t = ii
		// A digest pins the whole index: filtering would change it.
		if len(platforms) > 0 && !pinned {
			f, err := filterIndex(ii, platforms)
			if err != nil {
				return nil, err
			}
			it.t = f
			if it.desc, err = f.descriptor(); err != nil {
				return nil, err
			}
		}
	case desc.MediaType.IsImage():
		im, err := desc.Image()
		if err != nil {
			return nil, err
		}
		it.t = im
		if len(platforms) > 0 {
			cf, err := im.ConfigFile()
			if err != nil {
				return nil, classify(err, host, ref.String())
			}
			p := cf.Platform()
			if p == nil || !matches(*p, platforms) {
				return nil, fmt.Errorf("the image is for %s only, not %s", platformString(p), platformList(platforms))
			}
		}
	default:
		return nil, fmt.Errorf("unsupported manifest media type %s", desc.MediaType)
	}
	return it, nil
}

func matches(p v1.Platform, platforms []v1.Platform) bool {
	for _, want := range platforms {
		if p.Satisfies(want) {
			return true
		}
	}
	return false
}

func platformString(p *v1.Platform) string {
	if p == nil || p.OS == "" {
		return "an unknown platform"
	}
	return p.String()
}

func platformList(platforms []v1.Platform) string {
	s := make([]string, len(platforms))
	for i, p := range platforms {
		s[i] = p.String()
	}
	return strings.Join(s, ", ")
}

// filteredIndex is an index with only the manifests of some platforms;
// its children are read from the original. It does not embed the
// original: go-containerregistry would find the original's methods (its
// list of children) on it.
type filteredIndex struct {
	orig     v1.ImageIndex
	raw      []byte
	manifest *v1.IndexManifest
}

// filterIndex keeps the manifests of ii for platforms; none is an error.
func filterIndex(ii v1.ImageIndex, platforms []v1.Platform) (*filteredIndex, error) {
	m, err := ii.IndexManifest()
	if err != nil {
		return nil, err
	}
	kept := *m
	kept.Manifests = nil
	var have []string
	for _, d := range m.Manifests {
		if d.Platform == nil {
			continue
		}
		if matches(*d.Platform, platforms) {
			kept.Manifests = append(kept.Manifests, d)
		}
		if d.Platform.OS != "unknown" {
			have = append(have, d.Platform.String())
		}
	}
	if len(kept.Manifests) == 0 {
		return nil, fmt.Errorf("the image has no %s variant (it has %s)", platformList(platforms), strings.Join(have, ", "))
	}
	if len(kept.Manifests) == len(m.Manifests) {
		raw, err := ii.RawManifest()
		if err != nil {
			return nil, err
		}
		return &filteredIndex{orig: ii, raw: raw, manifest: m}, nil
	}
	raw, err := json.Marshal(&kept)
	if err != nil {
		return nil, err
	}
	return &filteredIndex{orig: ii, raw: raw, manifest: &kept}, nil
}

func (f *filteredIndex) RawManifest() ([]byte, error) { return f.raw, nil }

func (f *filteredIndex) MediaType() (types.MediaType, error) { return f.orig.MediaType() }

func (f *filteredIndex) Image(h v1.Hash) (v1.Image, error) { return f.orig.Image(h) }

func (f *filteredIndex) ImageIndex(h v1.Hash) (v1.ImageIndex, error) { return f.orig.ImageIndex(h) }

func (f *filteredIndex) IndexManifest() (*v1.IndexManifest, error) { return f.manifest.DeepCopy(), nil }

func (f *filteredIndex) Digest() (v1.Hash, error) {
	h, _, err := v1.SHA256(bytes.NewReader(f.raw))
	return h, err
}

func (f *filteredIndex) Size() (int64, error) { return int64(len(f.raw)), nil }

func (f *filteredIndex) descriptor() (v1.Descriptor, error) {
	h, err := f.Digest()
	if err != nil {
		return v1.Descriptor{}, err
	}
	mt, err := f.MediaType()
	return v1.Descriptor{MediaType: mt, Digest: h, Size: int64(len(f.raw))}, err
}
