package images_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/ksbuilder/ksbuilder/pkg/images"
)

// skopeo returns skopeo's path; without it the test is skipped, except
// under CI=true, where it fails.
func skopeo(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("skopeo")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("skopeo is not installed (.ci/run installs Debian's)")
		}
		t.Skip("skopeo is not installed")
	}
	return path
}

// skopeo reads every image of an archive by its reference
// (oci-archive:FILE:REF), Docker-format images included, and copies
// them with their digests.
func TestSkopeoReadsArchive(t *testing.T) {
	bin := skopeo(t)
	s := seed(t)
	archive := filepath.Join(t.TempDir(), "images.tar")
	if _, err := images.Save(context.Background(), s.list, archive, opts(t)); err != nil {
		t.Fatal(err)
	}
	for ref, want := range s.digest {
		dir := filepath.Join(t.TempDir(), "copy")
		cmd := exec.Command(bin, "--override-os", "linux", "--override-arch", "amd64", "copy", "oci-archive:"+archive+":"+ref, "dir:"+dir)
		cmd.Env = append(os.Environ(), "TMPDIR="+t.TempDir())
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("skopeo copy %s: %v\n%s", ref, err, out)
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
		if err != nil {
			t.Fatal(err)
		}
		got, _, _ := v1.SHA256(bytes.NewReader(data))
		// The index is read for this platform: its linux/amd64 image.
		if !strings.Contains(ref, "multi") && got != want {
			t.Errorf("%s: skopeo copied %s, want %s", ref, got, want)
		}
	}
}
