package images_test

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/ksbuilder/ksbuilder/internal/testutil/ociregistry"
	"github.com/ksbuilder/ksbuilder/pkg/images"
)

// tarEntry is one file of an archive, in order.
type tarEntry struct {
	name string
	data []byte
}

func readEntries(t *testing.T, path string) []tarEntry {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []tarEntry
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, tarEntry{name: h.Name, data: data})
	}
}

func writeEntries(t *testing.T, path string, entries []tarEntry) {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		if err := tw.WriteHeader(&tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.data)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(e.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// savedArchive saves the seeded images and returns the archive's entries
// and the index.json manifests.
func savedArchive(t *testing.T, s *seeded) (string, []tarEntry, *v1.IndexManifest) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "images.tar")
	if _, err := images.Save(context.Background(), s.list, path, opts(t)); err != nil {
		t.Fatal(err)
	}
	entries := readEntries(t, path)
	for _, e := range entries {
		if e.name == "index.json" {
			m, err := v1.ParseIndexManifest(bytes.NewReader(e.data))
			if err != nil {
				t.Fatal(err)
			}
			return path, entries, m
		}
	}
	t.Fatal("no index.json")
	return "", nil, nil
}

func blobOf(h v1.Hash) string { return "blobs/" + h.Algorithm + "/" + h.Hex }

// entryData returns the data of the entry named name.
func entryData(t *testing.T, entries []tarEntry, name string) []byte {
	t.Helper()
	for _, e := range entries {
		if e.name == name {
			return e.data
		}
	}
	t.Fatalf("no entry %s", name)
	return nil
}

// replaced returns entries with the data of name changed by edit.
func replaced(entries []tarEntry, name string, edit func([]byte) []byte) []tarEntry {
	out := make([]tarEntry, len(entries))
	for i, e := range entries {
		if e.name == name {
			e.data = edit(bytes.Clone(e.data))
		}
		out[i] = e
	}
	return out
}

// byRef returns the index.json entry of the image whose reference ends
// with suffix (not its OCI view).
func byRef(t *testing.T, m *v1.IndexManifest, suffix string) v1.Descriptor {
	t.Helper()
	for _, d := range m.Manifests {
		if _, view := d.Annotations[images.ViewAnnotation]; !view && strings.HasSuffix(d.Annotations[images.RefNameAnnotation], suffix) {
			return d
		}
	}
	t.Fatalf("no image %s", suffix)
	return v1.Descriptor{}
}

// Every blob push reads is checked against its digest: a modified
// manifest, config or layer (even one the registry already holds) fails,
// naming the image and the blob, and nothing is pushed under the tag.
func TestPushVerifiesBlobs(t *testing.T) {
	s := seed(t)
	_, entries, index := savedArchive(t, s)
	app := byRef(t, index, "/kubesphere/app:1")
	var m v1.Manifest
	if err := json.Unmarshal(entryData(t, entries, blobOf(app.Digest)), &m); err != nil {
		t.Fatal(err)
	}
	// A same-size change, so only the digest can tell.
	flip := func(b []byte) []byte { b[len(b)/2] ^= 1; return b }

	dst := ociregistry.Start(ociregistry.Options{})
	defer dst.Close()
	dest := images.Destination{Host: dst.Host, Prefix: "v"}
	o := opts(t)
	cnt := &counter{}
	o.WrapTransport = cnt.wrap
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		blob v1.Hash
		what string
	}{
		{name: "manifest", blob: app.Digest, what: "manifest"},
		{name: "config", blob: m.Config.Digest, what: "config of manifest " + app.Digest.String()},
		{name: "layer", blob: m.Layers[1].Digest, what: "layer 2 of manifest " + app.Digest.String()},
	} {
		path := filepath.Join(dir, tc.name+".tar")
		writeEntries(t, path, replaced(entries, blobOf(tc.blob), flip))
		_, err := images.Push(context.Background(), path, dest, o)
		var be *images.BlobError
		if !errors.As(err, &be) {
			t.Fatalf("%s: got %v, want a *BlobError", tc.name, err)
		}
		// The seeded list holds the image by tag and by digest, in no
		// fixed order: the first in index.json is named.
		byTag := fmt.Sprintf("%s: image %s: %s %s: ", path, s.srv.Host+"/kubesphere/app:1", tc.what, tc.blob)
		byDigest := fmt.Sprintf("%s: image %s: %s %s: ", path, s.srv.Host+"/kubesphere/app@"+app.Digest.String(), tc.what, tc.blob)
		if !strings.HasPrefix(err.Error(), byTag) && !strings.HasPrefix(err.Error(), byDigest) {
			t.Errorf("%s: got\n%v\nwant a message starting\n%s", tc.name, err, byTag)
		}
		if !strings.Contains(err.Error(), "the archive's bytes hash to sha256:") {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	if len(cnt.reqs) != 0 {
		t.Errorf("requests made for modified archives:\n%s", strings.Join(cnt.reqs, "\n"))
	}
	good := filepath.Join(dir, "good.tar")
	writeEntries(t, good, entries)
	if _, err := images.Push(context.Background(), good, dest, o); err != nil {
		t.Fatal(err)
	}

	// The registry now holds every layer: a changed layer is still
	// refused rather than skipped.
	bad := filepath.Join(dir, "layer-held.tar")
	writeEntries(t, bad, replaced(entries, blobOf(m.Layers[0].Digest), flip))
	if _, err := images.Push(context.Background(), bad, dest, o); err == nil || !strings.Contains(err.Error(), "layer 1 of manifest "+app.Digest.String()) {
		t.Errorf("a changed layer the registry holds: got %v", err)
	}
}

// An index that lists itself, which made the push hang, is refused
// before anything is pushed; so are indexes nested too deep.
func TestPushRefusesCyclesAndDepth(t *testing.T) {
	dir := t.TempDir()
	layoutFile := tarEntry{"oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`)}
	ref := map[string]string{images.RefNameAnnotation: "docker.io/library/x:1"}

	// Self-reference: the index names its own (claimed) digest.
	self := v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("ab", 32)}
	selfIndex, _ := json.Marshal(v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: []v1.Descriptor{{MediaType: types.OCIImageIndex, Digest: self, Size: 1}}})
	top, _ := json.Marshal(v1.IndexManifest{SchemaVersion: 2, Manifests: []v1.Descriptor{{MediaType: types.OCIImageIndex, Digest: self, Size: int64(len(selfIndex)), Annotations: ref}}})
	path := filepath.Join(dir, "self.tar")
	writeEntries(t, path, []tarEntry{layoutFile, {"index.json", top}, {blobOf(self), selfIndex}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err := images.Push(ctx, path, images.Destination{Host: "127.0.0.1:1"}, images.Options{})
	if err == nil || !strings.Contains(err.Error(), "index "+self.String()) {
		t.Errorf("self-referencing index: got %v", err)
	}

	// Nesting: real digests, 10 indexes deep.
	entries := []tarEntry{layoutFile}
	var child v1.Descriptor
	for i := range 10 {
		var ms []v1.Descriptor
		if i > 0 {
			ms = []v1.Descriptor{child}
		}
		data, _ := json.Marshal(v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: ms})
		h, n, _ := v1.SHA256(bytes.NewReader(data))
		child = v1.Descriptor{MediaType: types.OCIImageIndex, Digest: h, Size: n}
		entries = append(entries, tarEntry{blobOf(h), data})
	}
	child.Annotations = ref
	top, _ = json.Marshal(v1.IndexManifest{SchemaVersion: 2, Manifests: []v1.Descriptor{child}})
	entries = append(entries, tarEntry{"index.json", top})
	path = filepath.Join(dir, "deep.tar")
	writeEntries(t, path, entries)
	_, err = images.Push(ctx, path, images.Destination{Host: "127.0.0.1:1"}, images.Options{})
	if err == nil || !strings.Contains(err.Error(), "indexes nest more than 8 deep") {
		t.Errorf("deep indexes: got %v", err)
	}
}

// Duplicate entries and sizes that do not match the descriptors are
// refused up front, before any request.
func TestPushRefusesAmbiguousArchives(t *testing.T) {
	s := seed(t)
	_, entries, index := savedArchive(t, s)
	app := byRef(t, index, "/kubesphere/app:1")
	dir := t.TempDir()
	cnt := &counter{}
	o := opts(t)
	o.WrapTransport = cnt.wrap
	dest := images.Destination{Host: s.srv.Host, Prefix: "v"}

	dup := filepath.Join(dir, "dup.tar")
	writeEntries(t, dup, append(entries, tarEntry{blobOf(app.Digest), []byte("{}")}))
	if _, err := images.Push(context.Background(), dup, dest, o); err == nil || !strings.Contains(err.Error(), blobOf(app.Digest)+" appears twice") {
		t.Errorf("duplicate entry: got %v", err)
	}
	dupIndex := filepath.Join(dir, "dup-index.tar")
	writeEntries(t, dupIndex, append(entries, tarEntry{"index.json", []byte(`{"schemaVersion":2,"manifests":[]}`)}))
	if _, err := images.Push(context.Background(), dupIndex, dest, o); err == nil || !strings.Contains(err.Error(), "index.json appears twice") {
		t.Errorf("duplicate index.json: got %v", err)
	}

	size := filepath.Join(dir, "size.tar")
	writeEntries(t, size, replaced(entries, "index.json", func(b []byte) []byte {
		return bytes.Replace(b, fmt.Appendf(nil, `"size": %d`, app.Size), fmt.Appendf(nil, `"size": %d`, app.Size+1), 1)
	}))
	_, err := images.Push(context.Background(), size, dest, o)
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("manifest %s: the descriptor says %d bytes, the archive holds %d", app.Digest, app.Size+1, app.Size)) {
		t.Errorf("size: got %v", err)
	}
	if len(cnt.reqs) != 0 {
		t.Errorf("requests made for refused archives:\n%s", strings.Join(cnt.reqs, "\n"))
	}
}
