package images

import (
	"archive/tar"
	"context"
	"encoding/json"
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
