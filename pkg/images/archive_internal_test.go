package images

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Verified digests make a cycle of indexes impossible; the walk refuses
// one anyway. The test pretends the blobs hashed to their names.
func TestLoadRefusesCycle(t *testing.T) {
	a1 := v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("a1", 32)}
	b2 := v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("b2", 32)}
	index := func(child v1.Hash) []byte {
		data, _ := json.Marshal(v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: []v1.Descriptor{{MediaType: types.OCIImageIndex, Digest: child, Size: 237}}})
		return data
	}
	path := filepath.Join(t.TempDir(), "cycle.tar")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	tw := tar.NewWriter(f)
	for name, data := range map[string][]byte{"oci-layout": []byte(`{}`), "index.json": []byte(`{}`), blobName(a1): index(b2), blobName(b2): index(a1)} {
		if len(data) != 237 && strings.HasPrefix(name, "blobs/") {
			t.Fatalf("%s is %d bytes", name, len(data))
		}
		_ = tw.WriteHeader(&tar.Header{Name: name, Size: int64(len(data)), Mode: 0o644, Typeflag: tar.TypeReg})
		_, _ = tw.Write(data)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	_ = f.Close()
	a, err := openArchive(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	for _, h := range []v1.Hash{a1, b2} {
		s := a.entries[blobName(h)]
		s.actual = h
		a.entries[blobName(h)] = s
	}
	_, err = a.taggable("docker.io/library/x:1", v1.Descriptor{MediaType: types.OCIImageIndex, Digest: a1, Size: 237})
	want := "image docker.io/library/x:1: index " + a1.String() + ": it contains itself (a cycle of indexes)"
	if err == nil || !strings.HasSuffix(err.Error(), want) {
		t.Errorf("got %v, want ...%s", err, want)
	}
}

// FuzzReadArchive feeds the archive reader and index walker hostile
// archives: raw bytes as the whole file, or a layout whose index.json,
// manifest and config are the fuzzer's (stored under their real
// digests). Reading must end, without panic, in an error or in images
// whose every manifest hashes to its descriptor's digest.
func FuzzReadArchive(f *testing.F) {
	config := []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}`)
	cfgHash, _, _ := v1.SHA256(bytes.NewReader(config))
	manifest := fmt.Appendf(nil, `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":%q,"size":%d},"layers":[]}`, cfgHash, len(config))
	mHash, _, _ := v1.SHA256(bytes.NewReader(manifest))
	index := fmt.Appendf(nil, `{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":%q,"size":%d,"annotations":{"org.opencontainers.image.ref.name":"docker.io/library/x:1"}}]}`, mHash, len(manifest))
	f.Add([]byte{}, index, manifest, config)
	selfIndex := fmt.Appendf(nil, `{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.index.v1+json","digest":%q,"size":%d}]}`, mHash, len(manifest))
	f.Add([]byte{}, index, selfIndex, config)
	f.Add([]byte("not a tar"), []byte{}, []byte{}, []byte{})
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, raw, indexJSON, manifest, config []byte) {
		path := filepath.Join(dir, "a.tar")
		if len(raw) > 0 {
			if err := os.WriteFile(path, raw, 0o644); err != nil {
				t.Fatal(err)
			}
		} else {
			var buf bytes.Buffer
			tw := tar.NewWriter(&buf)
			entries := [][2][]byte{{[]byte("oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`)}, {[]byte("index.json"), indexJSON}}
			for _, b := range [][]byte{manifest, config} {
				h, _, _ := v1.SHA256(bytes.NewReader(b))
				entries = append(entries, [2][]byte{[]byte(blobName(h)), b})
			}
			for _, e := range entries {
				_ = tw.WriteHeader(&tar.Header{Name: string(e[0]), Size: int64(len(e[1])), Mode: 0o644, Typeflag: tar.TypeReg})
				_, _ = tw.Write(e[1])
			}
			_ = tw.Close()
			if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		a, items, err := readArchive(context.Background(), path)
		if err != nil {
			return
		}
		defer a.Close()
		for _, it := range items {
			raw, err := it.t.RawManifest()
			if err != nil {
				t.Fatal(err)
			}
			if h, _, _ := v1.SHA256(bytes.NewReader(raw)); h != it.desc.Digest {
				t.Fatalf("%s: manifest hashes to %s, the descriptor says %s", it.image, h, it.desc.Digest)
			}
		}
	})
}
