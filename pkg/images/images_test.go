package images_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ksbuilder/ksbuilder/create"
	"github.com/ksbuilder/ksbuilder/pkg/images"
	"github.com/ksbuilder/ksbuilder/pkg/packager"
	"github.com/ksbuilder/ksbuilder/pkg/source"
)

func list(t *testing.T, dir string, values map[string]any) []images.Image {
	t.Helper()
	src, err := source.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	ext, diags := packager.Validate(src)
	if err := diags.Err(); err != nil {
		t.Fatal(err)
	}
	c, err := packager.LoadChart(src, ext)
	if err != nil {
		t.Fatal(err)
	}
	out, err := images.List(ext, c, values)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func names(imgs []images.Image) string {
	var out []string
	for _, i := range imgs {
		out = append(out, i.Image)
	}
	return strings.Join(out, "\n")
}

func TestList(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "hello")
	if _, err := create.Create(context.Background(), create.Options{Name: "hello", Category: "dev-tools", Author: "Test", Type: create.Full, Dir: dir}); err != nil {
		t.Fatal(err)
	}
	// A hook image and an image only listed in extension.yaml.
	path := filepath.Join(dir, "extension.yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ext := string(data) + "annotations:\n  executor-hook-image.kubesphere.io/install: kubesphere/ks-extension-upgrade:v0.3.2\n"
	ext = strings.Replace(ext, "images:\n", "images:\n  - docker.io/library/busybox:1.36\n", 1)
	if err := os.WriteFile(path, []byte(ext), 0o644); err != nil {
		t.Fatal(err)
	}

	got := list(t, dir, nil)
	want := "docker.io/kubesphere/ks-extension-upgrade:v0.3.2\ndocker.io/kubespheredev/hello-backend:0.1.0\ndocker.io/library/busybox:1.36"
	if names(got) != want {
		t.Fatalf("images:\n%s\nwant:\n%s", names(got), want)
	}
	var origins []string
	for _, s := range got[1].Sources {
		origins = append(origins, s.Origin+" "+s.File+" "+s.Object+" "+s.Field)
	}
	if !strings.Contains(strings.Join(origins, "\n"), "agent hello/charts/backend/templates/deployment.yaml Deployment/hello-agent-backend spec.template.spec.containers[0]") ||
		!strings.Contains(strings.Join(origins, "\n"), "extension.yaml extension.yaml  images[") {
		t.Errorf("sources of %s:\n%s", got[1].Image, strings.Join(origins, "\n"))
	}
	if s := got[0].Sources; len(s) != 1 || s[0].Field != "annotations.executor-hook-image.kubesphere.io/install" || s[0].Written != "kubesphere/ks-extension-upgrade:v0.3.2" {
		t.Errorf("hook image sources: %+v", s)
	}

	// Values change what is rendered.
	got = list(t, dir, map[string]any{"backend": map[string]any{"image": map[string]any{"tag": "9.9.9"}}})
	if !strings.Contains(names(got), "docker.io/kubespheredev/hello-backend:9.9.9") {
		t.Errorf("with a backend tag:\n%s", names(got))
	}
}

// The forms of one image are one entry, with each written form kept in
// its source.
func TestListDeduplicatesNormalisedReferences(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "hello")
	if _, err := create.Create(context.Background(), create.Options{Name: "hello", Category: "dev-tools", Author: "Test", Type: create.Full, Dir: dir}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "extension.yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ext := strings.Replace(string(data), "images:\n", "images:\n  - nginx\n  - docker.io/library/nginx:latest\n  - nginx:latest\n", 1)
	if err := os.WriteFile(path, []byte(ext), 0o644); err != nil {
		t.Fatal(err)
	}
	got := list(t, dir, nil)
	var nginx *images.Image
	for i := range got {
		if strings.Contains(got[i].Image, "nginx") {
			if nginx != nil {
				t.Fatalf("nginx listed twice:\n%s", names(got))
			}
			nginx = &got[i]
		}
	}
	if nginx == nil || nginx.Image != "docker.io/library/nginx:latest" {
		t.Fatalf("images:\n%s", names(got))
	}
	var written []string
	for _, s := range nginx.Sources {
		written = append(written, s.Field+"="+s.Written)
	}
	if w := "images[0]=nginx images[1]=docker.io/library/nginx:latest images[2]=nginx:latest"; strings.Join(written, " ") != w {
		t.Errorf("sources: %s, want %s", strings.Join(written, " "), w)
	}
}
