package images

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/sync/errgroup"

	"github.com/ksbuilder/ksbuilder/pkg/registry"
)

// Annotations of each image of an archive's index.json.
const (
	// RefNameAnnotation holds the image's full original reference
	// ("docker.io/library/nginx:1.27"), which push maps to the new
	// registry.
	RefNameAnnotation = "org.opencontainers.image.ref.name"
	// containerdNameAnnotation is the same reference for "ctr images
	// import".
	containerdNameAnnotation = "io.containerd.image.name"
	// ViewAnnotation marks an extra entry of index.json: an OCI index
	// listing a Docker-format image (or the images of a Docker manifest
	// list), for readers that look up only OCI media types (skopeo's
	// oci-archive transport). Its value is the digest of the image's own
	// entry, which follows it; push skips the view.
	ViewAnnotation = "io.kubesphere.ksbuilder.oci-view-of"
)

// Progress hears how a transfer goes. Calls are serialised.
type Progress interface {
	// Start gives the number of bytes to transfer.
	Start(total int64)
	// Add reports n more bytes transferred.
	Add(n int64)
	// Done reports one image transferred.
	Done(ref, digest string)
}

// Options are the settings of Save, Push and Mirror.
type Options struct {
	// Registry holds the connection flags and the credentials file.
	Registry registry.Options
	// Platforms keeps only these platforms of multi-platform images; an
	// image with none of them is an error. Empty keeps every platform.
	// An image pinned by digest is kept whole.
	Platforms []v1.Platform
	// Jobs is how many transfers run at once; DefaultJobs when zero.
	Jobs int
	// Progress, when set, hears the progress.
	Progress Progress
	// WrapTransport, when set, wraps the HTTP transport (tests).
	WrapTransport func(http.RoundTripper) http.RoundTripper
}

// Saved is one image written to an archive or pushed.
type Saved struct {
	// Source is the image's reference; Target where it was pushed
	// (empty for Save).
	Source string `json:"source"`
	Target string `json:"target,omitempty"`
	// Digest is the manifest (or index) digest, unchanged.
	Digest string `json:"digest"`
}

// SaveResult is what Save wrote.
type SaveResult struct {
	Path   string  `json:"path"`
	Images []Saved `json:"images"`
	// Bytes is the size of the blobs written.
	Bytes int64 `json:"bytes"`
}

// syncProgress serialises the calls to a Progress.
type syncProgress struct {
	mu sync.Mutex
	p  Progress
}

func (s *syncProgress) Start(total int64) {
	if s.p != nil {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.p.Start(total)
	}
}

func (s *syncProgress) Add(n int64) {
	if s.p != nil && n > 0 {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.p.Add(n)
	}
}

func (s *syncProgress) Done(ref, digest string) {
	if s.p != nil {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.p.Done(ref, digest)
	}
}

// blob is one blob of the archive: inline bytes (manifests, configs) or
// a layer to download.
type blob struct {
	desc v1.Descriptor
	data []byte
	open func() (io.ReadCloser, error)
	// items are the indexes of the images holding the blob.
	items []int
}

// Save pulls every image into one OCI image-layout archive (a tar of
// oci-layout, index.json and blobs/sha256/...) at path. Each image is one
// entry of index.json annotated with its full reference; blobs shared by
// images are written once; digests are the registry's. The archive is
// written to a temporary file next to path and renamed at the end: on
// failure or cancellation nothing is left.
func Save(ctx context.Context, imgs []Image, path string, opts Options) (*SaveResult, error) {
	dir := filepath.Dir(path)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("%s: the directory %s does not exist", path, dir)
	}
	if err := checkTarget(path); err != nil {
		return nil, err
	}
	c, err := newClient(ctx, opts.Registry, opts.Jobs, opts.WrapTransport)
	if err != nil {
		return nil, err
	}
	items, err := c.resolve(ctx, imgs, opts.Platforms)
	if err != nil {
		return nil, err
	}
	blobs, order, err := c.collect(ctx, items)
	if err != nil {
		return nil, err
	}
	if order, err = addOCIViews(items, blobs, order); err != nil {
		return nil, err
	}
	progress := &syncProgress{p: opts.Progress}
	res := &SaveResult{Path: path}
	for _, h := range order {
		res.Bytes += blobs[h].desc.Size
	}
	progress.Start(res.Bytes)

	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, err
	}
	done := false
	defer func() {
		if !done {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()

	if err := writeArchive(ctx, tmp, items, blobs, order, c.jobs, progress); err != nil {
		return nil, err
	}
	if err := tmp.Chmod(0o644); err != nil {
		return nil, err
	}
	if err := tmp.Sync(); err != nil {
		return nil, err
	}
	if err := tmp.Close(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := checkTarget(path); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return nil, err
	}
	done = true
	for _, it := range items {
		res.Images = append(res.Images, Saved{Source: it.image, Digest: it.desc.Digest.String()})
	}
	return res, nil
}

// checkTarget refuses a path that exists and is not a regular file: the
// archive is renamed into place, which would replace a symbolic link, a
// device or a pipe rather than write through it.
func checkTarget(path string) error {
	st, err := os.Lstat(path)
	if err != nil || st.Mode().IsRegular() {
		return nil
	}
	kind := "not a regular file"
	switch m := st.Mode(); {
	case m&os.ModeSymlink != 0:
		kind = "a symbolic link"
	case m.IsDir():
		kind = "a directory"
	case m&os.ModeDevice != 0:
		kind = "a device"
	case m&os.ModeNamedPipe != 0:
		kind = "a named pipe"
	case m&os.ModeSocket != 0:
		kind = "a socket"
	}
	return fmt.Errorf("%s is %s: the archive is written to a temporary file and renamed over the target, so it must be a regular file or not exist; choose another path", path, kind)
}

// collect walks every image and returns its blobs, each once, in the
// order they are first met.
func (c *client) collect(ctx context.Context, items []*item) (map[v1.Hash]*blob, []v1.Hash, error) {
	var mu sync.Mutex
	blobs := map[v1.Hash]*blob{}
	perItem := make([][]v1.Hash, len(items))
	errs := make([]error, len(items))
	var g errgroup.Group
	g.SetLimit(c.jobs)
	for i, it := range items {
		g.Go(func() error {
			var found []*blob
			add := func(b *blob) { found = append(found, b) }
			raw, err := it.t.RawManifest()
			if err == nil {
				add(&blob{desc: it.desc, data: raw})
				err = walk(ctx, it.t, add)
			}
			if err != nil {
				errs[i] = &ImageError{Image: it.image, Sources: it.sources, Err: classify(err, it.ref.Context().RegistryStr(), it.ref.String())}
				return nil
			}
			mu.Lock()
			defer mu.Unlock()
			for _, b := range found {
				perItem[i] = append(perItem[i], b.desc.Digest)
				if _, ok := blobs[b.desc.Digest]; !ok {
					blobs[b.desc.Digest] = b
				}
			}
			return nil
		})
	}
	_ = g.Wait()
	if err := firstError(errs); err != nil {
		return nil, nil, err
	}
	var order []v1.Hash
	seen := map[v1.Hash]bool{}
	for i, hs := range perItem {
		for _, h := range hs {
			b := blobs[h]
			if !seen[h] {
				seen[h] = true
				order = append(order, h)
			}
			if len(b.items) == 0 || b.items[len(b.items)-1] != i {
				b.items = append(b.items, i)
			}
		}
	}
	return blobs, order, nil
}

// addOCIViews gives every image whose manifest is Docker's an OCI index
// listing it (with its platform) or, for a Docker manifest list, listing
// its images: skopeo finds an image of an OCI layout only through an
// entry of OCI media type. The image's own entry is kept, so its digest
// is unchanged for push and containerd.
func addOCIViews(items []*item, blobs map[v1.Hash]*blob, order []v1.Hash) ([]v1.Hash, error) {
	for i, it := range items {
		var children []v1.Descriptor
		switch it.desc.MediaType {
		case types.DockerManifestSchema2:
			m, err := v1.ParseManifest(bytes.NewReader(blobs[it.desc.Digest].data))
			if err != nil {
				return nil, fmt.Errorf("image %s: manifest: %w", it.image, err)
			}
			d := v1.Descriptor{MediaType: it.desc.MediaType, Digest: it.desc.Digest, Size: it.desc.Size}
			if cfg, ok := blobs[m.Config.Digest]; ok {
				if cf, err := v1.ParseConfigFile(bytes.NewReader(cfg.data)); err == nil {
					d.Platform = cf.Platform()
				}
			}
			children = []v1.Descriptor{d}
		case types.DockerManifestList:
			m, err := v1.ParseIndexManifest(bytes.NewReader(blobs[it.desc.Digest].data))
			if err != nil {
				return nil, fmt.Errorf("image %s: manifest list: %w", it.image, err)
			}
			children = m.Manifests
		default:
			continue
		}
		raw, err := json.Marshal(v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: children})
		if err != nil {
			return nil, err
		}
		h, size, err := v1.SHA256(bytes.NewReader(raw))
		if err != nil {
			return nil, err
		}
		it.view = &v1.Descriptor{MediaType: types.OCIImageIndex, Digest: h, Size: size}
		if b, ok := blobs[h]; ok {
			b.items = append(b.items, i)
			continue
		}
		blobs[h] = &blob{desc: *it.view, data: raw, items: []int{i}}
		order = append(order, h)
	}
	return order, nil
}

// walk reports the blobs below an image or index (not its own manifest).
func walk(ctx context.Context, t any, add func(*blob)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	switch t := t.(type) {
	case v1.ImageIndex:
		m, err := t.IndexManifest()
		if err != nil {
			return err
		}
		for _, d := range m.Manifests {
			var child interface{ RawManifest() ([]byte, error) }
			if d.MediaType.IsIndex() {
				child, err = t.ImageIndex(d.Digest)
			} else {
				child, err = t.Image(d.Digest)
			}
			if err != nil {
				return err
			}
			raw, err := child.RawManifest()
			if err != nil {
				return err
			}
			add(&blob{desc: v1.Descriptor{MediaType: d.MediaType, Digest: d.Digest, Size: int64(len(raw))}, data: raw})
			if err := walk(ctx, child, add); err != nil {
				return err
			}
		}
	case v1.Image:
		m, err := t.Manifest()
		if err != nil {
			return err
		}
		cfg, err := t.RawConfigFile()
		if err != nil {
			return err
		}
		add(&blob{desc: m.Config, data: cfg})
		for _, l := range m.Layers {
			if !l.MediaType.IsDistributable() {
				continue
			}
			layer, err := t.LayerByDigest(l.Digest)
			if err != nil {
				return err
			}
			add(&blob{desc: l, open: layer.Compressed})
		}
	}
	return nil
}

// writeArchive writes the layout to f as a tar: oci-layout and
// index.json first, then every blob. Every size is known from the
// manifests, so each entry's place in the file is computed first; the
// small entries are written at once and the layers are downloaded jobs at
// a time straight to their places, each byte written once.
func writeArchive(ctx context.Context, f *os.File, items []*item, blobs map[v1.Hash]*blob, order []v1.Hash, jobs int, progress *syncProgress) error {
	index := v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex}
	for _, it := range items {
		// The view first: "ctr images import" names both entries alike
		// and keeps the last.
		if it.view != nil {
			v := *it.view
			v.Annotations = map[string]string{RefNameAnnotation: it.image, ViewAnnotation: it.desc.Digest.String()}
			index.Manifests = append(index.Manifests, v)
		}
		d := it.desc
		d.Platform = nil
		d.Annotations = map[string]string{RefNameAnnotation: it.image, containerdNameAnnotation: it.image}
		index.Manifests = append(index.Manifests, d)
	}
	indexJSON, err := json.MarshalIndent(&index, "", "  ")
	if err != nil {
		return err
	}

	// The headers and small entries, in order, with the offset of each
	// layer's data.
	var head bytes.Buffer
	tw := tar.NewWriter(&head)
	for _, dirName := range []string{"blobs/", "blobs/sha256/"} {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: dirName, Mode: 0o755, ModTime: epoch}); err != nil {
			return err
		}
	}
	if err := writeEntry(tw, "oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`)); err != nil {
		return err
	}
	if err := writeEntry(tw, "index.json", indexJSON); err != nil {
		return err
	}
	var layers []v1.Hash
	offsets := map[v1.Hash]int64{}
	var pos int64 // bytes of the archive before head's
	type chunk struct {
		off  int64
		data []byte
	}
	var chunks []chunk
	flush := func() {
		if head.Len() > 0 {
			chunks = append(chunks, chunk{off: pos, data: bytes.Clone(head.Bytes())})
			pos += int64(head.Len())
			head.Reset()
		}
	}
	for _, h := range order {
		b := blobs[h]
		if b.open == nil {
			if err := writeEntry(tw, blobName(h), b.data); err != nil {
				return err
			}
			continue
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: blobName(h), Size: b.desc.Size, Mode: 0o644, ModTime: epoch}); err != nil {
			return err
		}
		flush()
		layers = append(layers, h)
		offsets[h] = pos
		pos += padded(b.desc.Size)
		// The data is written later: tell the tar writer it is there.
		tw = tar.NewWriter(&head)
	}
	if err := tw.Close(); err != nil { // the two zero blocks that end a tar
		return err
	}
	flush()
	// Unwritten ranges (padding) read as zeros.
	if err := f.Truncate(pos); err != nil {
		return err
	}
	for _, c := range chunks {
		if _, err := f.WriteAt(c.data, c.off); err != nil {
			return err
		}
	}

	var mu sync.Mutex
	pending := make([]int, len(items))
	for _, h := range order {
		for _, i := range blobs[h].items {
			pending[i]++
		}
	}
	written := func(h v1.Hash) {
		mu.Lock()
		defer mu.Unlock()
		for _, i := range blobs[h].items {
			if pending[i]--; pending[i] == 0 {
				progress.Done(items[i].image, items[i].desc.Digest.String())
			}
		}
	}
	for _, h := range order {
		if b := blobs[h]; b.open == nil {
			progress.Add(int64(len(b.data)))
			written(h)
		}
	}

	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(jobs)
	for _, h := range layers {
		if gctx.Err() != nil {
			break
		}
		g.Go(func() error {
			b := blobs[h]
			if err := download(gctx, b, io.NewOffsetWriter(f, offsets[h]), progress); err != nil {
				it := items[b.items[0]]
				return &ImageError{Image: it.image, Sources: it.sources, Err: classify(err, it.ref.Context().RegistryStr(), it.ref.String())}
			}
			written(h)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return ctx.Err()
}

// padded is the space of n bytes of data in a tar: whole 512-byte blocks.
func padded(n int64) int64 { return (n + 511) / 512 * 512 }

// epoch is the time of every archive entry.
var epoch = time.Unix(0, 0).UTC()

func blobName(h v1.Hash) string { return "blobs/" + h.Algorithm + "/" + h.Hex }

func writeEntry(tw *tar.Writer, name string, data []byte) error {
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Size: int64(len(data)), Mode: 0o644, ModTime: epoch}); err != nil {
		return err
	}
	_, err := tw.Write(data)
	return err
}

// download writes one layer to w; go-containerregistry checks its digest
// and size as it reads.
func download(ctx context.Context, b *blob, w io.Writer, progress *syncProgress) error {
	rc, err := b.open()
	if err != nil {
		return err
	}
	defer rc.Close()
	n, err := io.Copy(w, &countingReader{ctx: ctx, r: io.LimitReader(rc, b.desc.Size+1), progress: progress})
	if err != nil {
		return fmt.Errorf("layer %s: %w", b.desc.Digest, err)
	}
	if n != b.desc.Size {
		return fmt.Errorf("layer %s: got %d bytes, the manifest says %d", b.desc.Digest, n, b.desc.Size)
	}
	return nil
}

// countingReader reports what it reads and stops when ctx is done.
type countingReader struct {
	ctx      context.Context
	r        io.Reader
	progress *syncProgress
}

func (c *countingReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := c.r.Read(p)
	c.progress.Add(int64(n))
	return n, err
}
