package images

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// maxManifestSize bounds what is read into memory from an archive:
// manifests, indexes, configs and index.json.
const maxManifestSize = 32 << 20

// archive reads an image archive in place: one pass finds where each
// entry's bytes are, and blobs are then read straight from the file, so
// pushing needs no space for an unpacked copy.
type archive struct {
	path    string
	f       *os.File
	entries map[string]span
}

type span struct{ off, size int64 }

var blobPath = regexp.MustCompile(`^blobs/[a-z0-9]+/[a-f0-9]{32,128}$`)

// openArchive indexes the tar at path. Entries other than oci-layout,
// index.json and blobs/ALG/HEX are refused.
func openArchive(ctx context.Context, path string) (*archive, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	a := &archive{path: path, f: f, entries: map[string]span{}}
	tr := tar.NewReader(f)
	for {
		if err := ctx.Err(); err != nil {
			_ = f.Close()
			return nil, err
		}
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			_ = f.Close()
			return nil, fmt.Errorf("%s: not an image archive (a tar of an OCI image layout): %w", path, err)
		}
		name := strings.TrimPrefix(h.Name, "./")
		switch {
		case h.Typeflag == tar.TypeDir:
			continue
		case h.Typeflag != tar.TypeReg:
			_ = f.Close()
			return nil, fmt.Errorf("%s: %s is not a regular file", path, h.Name)
		case name == "oci-layout", name == "index.json", blobPath.MatchString(name):
		default:
			_ = f.Close()
			return nil, fmt.Errorf("%s: unexpected entry %s (an image archive holds oci-layout, index.json and blobs/ALG/HEX)", path, h.Name)
		}
		// After Next the file is at the entry's first byte.
		off, err := f.Seek(0, io.SeekCurrent)
		if err != nil {
			_ = f.Close()
			return nil, err
		}
		a.entries[name] = span{off: off, size: h.Size}
	}
	if _, ok := a.entries["index.json"]; !ok {
		_ = f.Close()
		return nil, fmt.Errorf("%s: not an image archive: index.json is missing (write one with \"ksbuilder images save\")", path)
	}
	if _, ok := a.entries["oci-layout"]; !ok {
		_ = f.Close()
		return nil, fmt.Errorf("%s: not an image archive: oci-layout is missing (write one with \"ksbuilder images save\")", path)
	}
	return a, nil
}

func (a *archive) Close() error { return a.f.Close() }

func (a *archive) section(name string) (*io.SectionReader, error) {
	s, ok := a.entries[name]
	if !ok {
		return nil, fmt.Errorf("%s: %s is missing", a.path, name)
	}
	return io.NewSectionReader(a.f, s.off, s.size), nil
}

// read returns a small entry's bytes.
func (a *archive) read(name string) ([]byte, error) {
	r, err := a.section(name)
	if err != nil {
		return nil, err
	}
	if r.Size() > maxManifestSize {
		return nil, fmt.Errorf("%s: %s is %d bytes, too large for a manifest", a.path, name, r.Size())
	}
	return io.ReadAll(r)
}

func (a *archive) blob(h v1.Hash) ([]byte, error) { return a.read(blobName(h)) }

// index returns index.json.
func (a *archive) index() (*v1.IndexManifest, error) {
	data, err := a.read("index.json")
	if err != nil {
		return nil, err
	}
	m, err := v1.ParseIndexManifest(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s: index.json: %w", a.path, err)
	}
	return m, nil
}

// taggable returns the image or index of desc.
func (a *archive) taggable(desc v1.Descriptor) (interface{ RawManifest() ([]byte, error) }, error) {
	raw, err := a.blob(desc.Digest)
	if err != nil {
		return nil, err
	}
	if desc.MediaType.IsIndex() {
		var m v1.IndexManifest
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, fmt.Errorf("%s: index %s: %w", a.path, desc.Digest, err)
		}
		return &archiveIndex{a: a, desc: desc, raw: raw, m: &m}, nil
	}
	var m v1.Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("%s: manifest %s: %w", a.path, desc.Digest, err)
	}
	return partial.CompressedToImage(&archiveImage{a: a, desc: desc, raw: raw, m: &m})
}

// archiveIndex is an index read from an archive.
type archiveIndex struct {
	a    *archive
	desc v1.Descriptor
	raw  []byte
	m    *v1.IndexManifest
}

func (i *archiveIndex) MediaType() (types.MediaType, error)       { return i.desc.MediaType, nil }
func (i *archiveIndex) Digest() (v1.Hash, error)                  { return i.desc.Digest, nil }
func (i *archiveIndex) Size() (int64, error)                      { return int64(len(i.raw)), nil }
func (i *archiveIndex) IndexManifest() (*v1.IndexManifest, error) { return i.m.DeepCopy(), nil }
func (i *archiveIndex) RawManifest() ([]byte, error)              { return i.raw, nil }

func (i *archiveIndex) child(h v1.Hash) (any, error) {
	for _, d := range i.m.Manifests {
		if d.Digest == h {
			return i.a.taggable(d)
		}
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
	a    *archive
	desc v1.Descriptor
	raw  []byte
	m    *v1.Manifest
}

func (i *archiveImage) RawManifest() ([]byte, error)        { return i.raw, nil }
func (i *archiveImage) MediaType() (types.MediaType, error) { return i.desc.MediaType, nil }
func (i *archiveImage) RawConfigFile() ([]byte, error)      { return i.a.blob(i.m.Config.Digest) }

func (i *archiveImage) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	if h == i.m.Config.Digest {
		return &archiveLayer{a: i.a, desc: i.m.Config}, nil
	}
	for _, l := range i.m.Layers {
		if l.Digest == h {
			return &archiveLayer{a: i.a, desc: l}, nil
		}
	}
	return nil, fmt.Errorf("%s: manifest %s has no layer %s", i.a.path, i.desc.Digest, h)
}

// archiveLayer is a blob read from an archive.
type archiveLayer struct {
	a    *archive
	desc v1.Descriptor
}

func (l *archiveLayer) Digest() (v1.Hash, error)            { return l.desc.Digest, nil }
func (l *archiveLayer) Size() (int64, error)                { return l.desc.Size, nil }
func (l *archiveLayer) MediaType() (types.MediaType, error) { return l.desc.MediaType, nil }

func (l *archiveLayer) Compressed() (io.ReadCloser, error) {
	r, err := l.a.section(blobName(l.desc.Digest))
	if err != nil {
		return nil, err
	}
	return io.NopCloser(r), nil
}
