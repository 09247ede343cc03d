package images

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// maxManifestSize bounds what is read into memory from an archive:
// manifests, indexes, configs and index.json.
const maxManifestSize = 32 << 20

// maxIndexDepth bounds how deeply indexes of an archive may nest (an
// index of indexes of images is 2).
const maxIndexDepth = 8

// archive reads an image archive in place: one pass finds where each
// entry's bytes are and hashes every blob, and blobs are then read
// straight from the file (and hashed again as they stream), so pushing
// needs no space for an unpacked copy and pushes no byte that does not
// match its digest.
type archive struct {
	path    string
	f       *os.File
	entries map[string]span
	// loaded are the images and indexes read so far, by digest.
	loaded map[v1.Hash]any
}

// span is where an entry's bytes are; actual is a blob's digest as
// hashed when the archive was opened.
type span struct {
	off, size int64
	actual    v1.Hash
}

var blobPath = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^blobs/([a-z0-9]+)/([a-f0-9]+)$`) })

// digestAlgorithms are the digest algorithms of blobs an archive may
// hold, with their hex lengths.
var digestAlgorithms = map[string]func() hash.Hash{"sha256": sha256.New, "sha512": sha512.New}

// openArchive indexes the tar at path and hashes every blob. Entries
// other than oci-layout, index.json and blobs/ALG/HEX, and an entry that
// appears twice, are refused.
func openArchive(ctx context.Context, path string) (*archive, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	a := &archive{path: path, f: f, entries: map[string]span{}}
	if err := a.scan(ctx); err != nil {
		_ = f.Close()
		return nil, err
	}
	return a, nil
}

func (a *archive) scan(ctx context.Context) error {
	tr := tar.NewReader(a.f)
	buf := make([]byte, 256<<10)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("%s: not an image archive (a tar of an OCI image layout): %w", a.path, err)
		}
		name := strings.TrimPrefix(h.Name, "./")
		var (
			alg     string
			newHash func() hash.Hash
		)
		switch {
		case h.Typeflag == tar.TypeDir:
			continue
		case h.Typeflag != tar.TypeReg:
			return fmt.Errorf("%s: %s is not a regular file", a.path, h.Name)
		case name == "oci-layout", name == "index.json":
		case blobPath().MatchString(name):
			m := blobPath().FindStringSubmatch(name)
			alg, newHash = m[1], digestAlgorithms[m[1]]
			if newHash == nil || len(m[2]) != 2*newHash().Size() {
				return fmt.Errorf("%s: %s: not a sha256 or sha512 digest", a.path, h.Name)
			}
		default:
			return fmt.Errorf("%s: unexpected entry %s (an image archive holds oci-layout, index.json and blobs/ALG/HEX)", a.path, h.Name)
		}
		if _, dup := a.entries[name]; dup {
			return fmt.Errorf("%s: %s appears twice in the archive: refusing an archive whose entries are ambiguous", a.path, h.Name)
		}
		// After Next the file is at the entry's first byte.
		off, err := a.f.Seek(0, io.SeekCurrent)
		if err != nil {
			return err
		}
		s := span{off: off, size: h.Size}
		if newHash != nil {
			hh := newHash()
			if _, err := copyContext(ctx, hh, tr, buf); err != nil {
				return fmt.Errorf("%s: reading %s: %w", a.path, h.Name, err)
			}
			s.actual = v1.Hash{Algorithm: alg, Hex: hex.EncodeToString(hh.Sum(nil))}
		}
		a.entries[name] = s
	}
	if _, ok := a.entries["index.json"]; !ok {
		return fmt.Errorf("%s: not an image archive: index.json is missing (write one with \"ksbuilder images save\")", a.path)
	}
	if _, ok := a.entries["oci-layout"]; !ok {
		return fmt.Errorf("%s: not an image archive: oci-layout is missing (write one with \"ksbuilder images save\")", a.path)
	}
	return nil
}

// copyContext copies src to dst through buf, stopping when ctx is done.
func copyContext(ctx context.Context, dst io.Writer, src io.Reader, buf []byte) (int64, error) {
	var n int64
	for {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		m, err := src.Read(buf)
		if m > 0 {
			if _, werr := dst.Write(buf[:m]); werr != nil {
				return n, werr
			}
			n += int64(m)
		}
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

func (a *archive) Close() error { return a.f.Close() }

// BlobError is a blob of an archive that is missing or does not match
// its descriptor.
type BlobError struct {
	// Archive is the archive's path; Image the reference of the image
	// holding the blob.
	Archive, Image string
	// Blob is the digest the descriptor gives; What what it is ("config
	// of manifest sha256:...").
	Blob v1.Hash
	What string
	// Problem says what is wrong.
	Problem string
}

func (e *BlobError) Error() string {
	return fmt.Sprintf("%s: image %s: %s %s: %s", e.Archive, e.Image, e.What, e.Blob, e.Problem)
}

// check returns the verified span of the blob desc names: present, of
// desc's size and hashing to its digest.
func (a *archive) check(image, what string, desc v1.Descriptor) (span, error) {
	fail := func(problem string) (span, error) {
		return span{}, &BlobError{Archive: a.path, Image: image, Blob: desc.Digest, What: what, Problem: problem}
	}
	if _, ok := digestAlgorithms[desc.Digest.Algorithm]; !ok || len(desc.Digest.Hex) == 0 {
		return fail("not a sha256 or sha512 digest")
	}
	s, ok := a.entries[blobName(desc.Digest)]
	switch {
	case !ok:
		return fail(blobName(desc.Digest) + " is missing from the archive")
	case s.size != desc.Size:
		return fail(fmt.Sprintf("the descriptor says %d bytes, the archive holds %d", desc.Size, s.size))
	case s.actual != desc.Digest:
		return fail(fmt.Sprintf("the archive's bytes hash to %s: the archive was modified or damaged", s.actual))
	}
	return s, nil
}

// read returns a small blob's bytes, checked by check.
func (a *archive) read(image, what string, desc v1.Descriptor) ([]byte, error) {
	s, err := a.check(image, what, desc)
	if err != nil {
		return nil, err
	}
	if s.size > maxManifestSize {
		return nil, &BlobError{Archive: a.path, Image: image, Blob: desc.Digest, What: what, Problem: fmt.Sprintf("%d bytes, too large for a manifest or config", s.size)}
	}
	data := make([]byte, s.size)
	if _, err := a.f.ReadAt(data, s.off); err != nil {
		return nil, err
	}
	return data, nil
}

// index returns index.json.
func (a *archive) index() (*v1.IndexManifest, error) {
	s := a.entries["index.json"]
	if s.size > maxManifestSize {
		return nil, fmt.Errorf("%s: index.json is %d bytes, too large", a.path, s.size)
	}
	data := make([]byte, s.size)
	if _, err := a.f.ReadAt(data, s.off); err != nil {
		return nil, err
	}
	m, err := v1.ParseIndexManifest(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s: index.json: %w", a.path, err)
	}
	return m, nil
}

// taggable returns the image or index that desc, an entry of
// index.json for image, names, after checking every blob below it: each
// is present, of the size its descriptor gives and hashes to its digest.
// An index that contains itself, or indexes nested more than
// maxIndexDepth deep, are refused.
func (a *archive) taggable(image string, desc v1.Descriptor) (remote.Taggable, error) {
	t, err := a.load(image, desc, nil)
	if err != nil {
		return nil, err
	}
	return t.(remote.Taggable), nil
}

// load reads desc and what is below it; parents are the digests of the
// indexes above it.
func (a *archive) load(image string, desc v1.Descriptor, parents []v1.Hash) (any, error) {
	fail := func(what, problem string) error {
		return &BlobError{Archive: a.path, Image: image, Blob: desc.Digest, What: what, Problem: problem}
	}
	if slices.Contains(parents, desc.Digest) {
		return nil, fail("index", "it contains itself (a cycle of indexes)")
	}
	if len(parents) > maxIndexDepth {
		return nil, fail("manifest", fmt.Sprintf("indexes nest more than %d deep", maxIndexDepth))
	}
	if t, ok := a.loaded[desc.Digest]; ok {
		return t, nil
	}
	var t any
	var err error
	switch {
	case desc.MediaType.IsIndex():
		t, err = a.loadIndex(image, desc, parents)
	case desc.MediaType.IsImage():
		t, err = a.loadImage(image, desc)
	default:
		return nil, fail("manifest", fmt.Sprintf("unsupported media type %q (an image manifest or index)", desc.MediaType))
	}
	if err != nil {
		return nil, err
	}
	if a.loaded == nil {
		a.loaded = map[v1.Hash]any{}
	}
	a.loaded[desc.Digest] = t
	return t, nil
}

func (a *archive) loadIndex(image string, desc v1.Descriptor, parents []v1.Hash) (*archiveIndex, error) {
	raw, err := a.read(image, "index", desc)
	if err != nil {
		return nil, err
	}
	var m v1.IndexManifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, &BlobError{Archive: a.path, Image: image, Blob: desc.Digest, What: "index", Problem: err.Error()}
	}
	idx := &archiveIndex{a: a, desc: desc, raw: raw, m: &m, children: map[v1.Hash]any{}}
	parents = append(slices.Clip(parents), desc.Digest)
	for _, d := range m.Manifests {
		child, err := a.load(image, d, parents)
		if err != nil {
			return nil, err
		}
		idx.children[d.Digest] = child
	}
	return idx, nil
}

func (a *archive) loadImage(image string, desc v1.Descriptor) (v1.Image, error) {
	raw, err := a.read(image, "manifest", desc)
	if err != nil {
		return nil, err
	}
	var m v1.Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, &BlobError{Archive: a.path, Image: image, Blob: desc.Digest, What: "manifest", Problem: err.Error()}
	}
	cfg, err := a.read(image, "config of manifest "+desc.Digest.String(), m.Config)
	if err != nil {
		return nil, err
	}
	for i, l := range m.Layers {
		if !l.MediaType.IsDistributable() {
			continue
		}
		if _, err := a.check(image, fmt.Sprintf("layer %d of manifest %s", i+1, desc.Digest), l); err != nil {
			return nil, err
		}
	}
	return partial.CompressedToImage(&archiveImage{a: a, image: image, desc: desc, raw: raw, m: &m, config: cfg})
}

// archiveIndex is an index read from an archive, its children loaded.
type archiveIndex struct {
	a        *archive
	desc     v1.Descriptor
	raw      []byte
	m        *v1.IndexManifest
	children map[v1.Hash]any
}

func (i *archiveIndex) MediaType() (types.MediaType, error)       { return i.desc.MediaType, nil }
func (i *archiveIndex) Digest() (v1.Hash, error)                  { return i.desc.Digest, nil }
func (i *archiveIndex) Size() (int64, error)                      { return int64(len(i.raw)), nil }
func (i *archiveIndex) IndexManifest() (*v1.IndexManifest, error) { return i.m.DeepCopy(), nil }
func (i *archiveIndex) RawManifest() ([]byte, error)              { return i.raw, nil }

func (i *archiveIndex) child(h v1.Hash) (any, error) {
	if c, ok := i.children[h]; ok {
		return c, nil
	}
	return nil, fmt.Errorf("%s: index %s has no manifest %s", i.a.path, i.desc.Digest, h)
}

func (i *archiveIndex) Image(h v1.Hash) (v1.Image, error) {
	c, err := i.child(h)
	if err != nil {
		return nil, err
	}
	img, ok := c.(v1.Image)
	if !ok {
		return nil, fmt.Errorf("%s: %s is an index, not an image", i.a.path, h)
	}
	return img, nil
}

func (i *archiveIndex) ImageIndex(h v1.Hash) (v1.ImageIndex, error) {
	c, err := i.child(h)
	if err != nil {
		return nil, err
	}
	idx, ok := c.(v1.ImageIndex)
	if !ok {
		return nil, fmt.Errorf("%s: %s is an image, not an index", i.a.path, h)
	}
	return idx, nil
}

// archiveImage is the core of an image read from an archive.
type archiveImage struct {
	a      *archive
	image  string
	desc   v1.Descriptor
	raw    []byte
	m      *v1.Manifest
	config []byte
}

func (i *archiveImage) RawManifest() ([]byte, error)        { return i.raw, nil }
func (i *archiveImage) MediaType() (types.MediaType, error) { return i.desc.MediaType, nil }
func (i *archiveImage) RawConfigFile() ([]byte, error)      { return i.config, nil }

func (i *archiveImage) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	if h == i.m.Config.Digest {
		return &archiveLayer{a: i.a, image: i.image, what: "config of manifest " + i.desc.Digest.String(), desc: i.m.Config}, nil
	}
	for n, l := range i.m.Layers {
		if l.Digest == h {
			return &archiveLayer{a: i.a, image: i.image, what: fmt.Sprintf("layer %d of manifest %s", n+1, i.desc.Digest), desc: l}, nil
		}
	}
	return nil, fmt.Errorf("%s: manifest %s has no layer %s", i.a.path, i.desc.Digest, h)
}

// archiveLayer is a blob read from an archive.
type archiveLayer struct {
	a     *archive
	image string
	what  string
	desc  v1.Descriptor
}

func (l *archiveLayer) Digest() (v1.Hash, error)            { return l.desc.Digest, nil }
func (l *archiveLayer) Size() (int64, error)                { return l.desc.Size, nil }
func (l *archiveLayer) MediaType() (types.MediaType, error) { return l.desc.MediaType, nil }

// Compressed streams the blob, hashing it again: bytes that no longer
// match the digest end the stream with a *BlobError.
func (l *archiveLayer) Compressed() (io.ReadCloser, error) {
	s, err := l.a.check(l.image, l.what, l.desc)
	if err != nil {
		return nil, err
	}
	return io.NopCloser(&verifyingReader{r: io.NewSectionReader(l.a.f, s.off, s.size), h: digestAlgorithms[l.desc.Digest.Algorithm](), l: l}), nil
}

// verifyingReader checks at the end of a blob that it hashes to its
// digest.
type verifyingReader struct {
	r io.Reader
	h hash.Hash
	l *archiveLayer
}

func (v *verifyingReader) Read(p []byte) (int, error) {
	n, err := v.r.Read(p)
	v.h.Write(p[:n])
	if errors.Is(err, io.EOF) {
		if got := (v1.Hash{Algorithm: v.l.desc.Digest.Algorithm, Hex: hex.EncodeToString(v.h.Sum(nil))}); got != v.l.desc.Digest {
			return n, &BlobError{Archive: v.l.a.path, Image: v.l.image, Blob: v.l.desc.Digest, What: v.l.what,
				Problem: fmt.Sprintf("the archive's bytes hash to %s: the archive changed while it was pushed", got)}
		}
	}
	return n, err
}
