package images_test

import (
	"archive/tar"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/ksbuilder/ksbuilder/internal/testutil/ociregistry"
	"github.com/ksbuilder/ksbuilder/pkg/images"
	"github.com/ksbuilder/ksbuilder/pkg/registry"
)

// seeded is a registry holding a single-platform image, a two-platform
// index and the same image referenced by digest.
type seeded struct {
	srv    *ociregistry.Server
	list   []images.Image
	digest map[string]v1.Hash // by normalised reference
}

func platformImage(t *testing.T, os, arch string) v1.Image {
	t.Helper()
	img, err := random.Image(2048, 2)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = os, arch
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func seed(t *testing.T) *seeded {
	t.Helper()
	srv := ociregistry.Start(ociregistry.Options{})
	t.Cleanup(srv.Close)
	s := &seeded{srv: srv, digest: map[string]v1.Hash{}}

	app := platformImage(t, "linux", "amd64")
	amd, arm := platformImage(t, "linux", "amd64"), platformImage(t, "linux", "arm64")
	idx := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: amd, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: arm, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}}},
	)
	appRef := srv.Host + "/kubesphere/app:1"
	write(t, appRef, app)
	write(t, srv.Host+"/library/multi:2", idx)
	appDigest, _ := app.Digest()
	idxDigest, _ := idx.Digest()
	s.digest[appRef] = appDigest
	s.digest[srv.Host+"/library/multi:2"] = idxDigest
	s.digest[srv.Host+"/kubesphere/app@"+appDigest.String()] = appDigest
	for ref := range s.digest {
		s.list = append(s.list, images.Image{Image: ref, Sources: []images.Source{{Origin: images.OriginList, File: "extension.yaml", Field: "images[0]", Written: ref}}})
	}
	return s
}

func write(t *testing.T, ref string, x remote.Taggable) {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	switch x := x.(type) {
	case v1.ImageIndex:
		err = remote.WriteIndex(r, x)
	case v1.Image:
		err = remote.Write(r, x)
	}
	if err != nil {
		t.Fatal(err)
	}
}

func remoteDigest(t *testing.T, ref string) v1.Hash {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	d, err := remote.Get(r)
	if err != nil {
		t.Fatalf("%s: %v", ref, err)
	}
	return d.Digest
}

// opts are plain-HTTP options with an empty credentials file and no
// Docker configuration.
func opts(t *testing.T) images.Options {
	t.Helper()
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	return images.Options{Registry: registry.Options{PlainHTTP: true, RegistryConfig: filepath.Join(t.TempDir(), "config.json")}}
}

// untar unpacks an archive and opens it as an OCI layout.
func untar(t *testing.T, archive string) layout.Path {
	t.Helper()
	dir := t.TempDir()
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeDir {
			continue
		}
		p := filepath.Join(dir, h.Name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p, err := layout.FromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// counter counts the requests of the client under test.
type counter struct {
	mu   sync.Mutex
	reqs []string
}

func (c *counter) wrap(next http.RoundTripper) http.RoundTripper {
	return roundTripper(func(r *http.Request) (*http.Response, error) {
		c.mu.Lock()
		c.reqs = append(c.reqs, r.Method+" "+r.URL.Path+"?"+r.URL.RawQuery)
		c.mu.Unlock()
		return next.RoundTrip(r)
	})
}

func (c *counter) count(method, pathPart string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, r := range c.reqs {
		if strings.HasPrefix(r, method+" ") && strings.Contains(r, pathPart) {
			n++
		}
	}
	return n
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// recorder is a Progress that records what it hears.
type recorder struct {
	total, added int64
	done         []string
}

func (r *recorder) Start(total int64)       { r.total = total }
func (r *recorder) Add(n int64)             { r.added += n }
func (r *recorder) Done(ref, digest string) { r.done = append(r.done, ref+" "+digest) }

func TestSavePush(t *testing.T) {
	s := seed(t)
	o := opts(t)
	rec := &recorder{}
	o.Progress = rec
	archive := filepath.Join(t.TempDir(), "images.tar")
	res, err := images.Save(context.Background(), s.list, archive, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Images) != len(s.list) || len(rec.done) != len(s.list) || rec.total != res.Bytes || rec.added != res.Bytes {
		t.Errorf("result %+v, progress %+v", res, rec)
	}
	if st, err := os.Stat(archive); err != nil || st.Mode().Perm() != 0o644 {
		t.Errorf("archive: %v, %v", st, err)
	}

	// The archive is an OCI layout: one entry per image with its
	// reference, the registry's digests, every blob present.
	p := untar(t, archive)
	ii, err := p.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	m, err := ii.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	var views int
	for i, d := range m.Manifests {
		ref := d.Annotations[images.RefNameAnnotation]
		if of, ok := d.Annotations[images.ViewAnnotation]; ok {
			// An OCI index listing a Docker-format image, right before
			// the image's own entry.
			views++
			next := m.Manifests[min(i+1, len(m.Manifests)-1)]
			if d.MediaType != types.OCIImageIndex || i+1 == len(m.Manifests) || next.Digest.String() != of || next.Annotations[images.RefNameAnnotation] != ref {
				t.Errorf("view %d of %s: %+v", i, ref, d)
			}
			continue
		}
		want, ok := s.digest[ref]
		if !ok || d.Digest != want {
			t.Errorf("%s: %s, want %s", ref, d.Digest, want)
		}
		if d.MediaType.IsIndex() {
			child, err := ii.ImageIndex(d.Digest)
			if err != nil {
				t.Fatal(err)
			}
			cm, _ := child.IndexManifest()
			if len(cm.Manifests) != 2 {
				t.Errorf("%s: %d platforms, want both", ref, len(cm.Manifests))
			}
		}
	}
	if len(m.Manifests)-views != len(s.list) || views != 2 {
		t.Fatalf("%d manifests and %d views, want %d images, 2 of them Docker's", len(m.Manifests)-views, views, len(s.list))
	}
	if err := complete(ii); err != nil {
		t.Error(err)
	}

	// Push to a second registry under a prefix: digests unchanged.
	dst := ociregistry.Start(ociregistry.Options{})
	defer dst.Close()
	dest, err := images.ParseDestination(dst.Host + "/mirror")
	if err != nil {
		t.Fatal(err)
	}
	cnt := &counter{}
	o.WrapTransport = cnt.wrap
	o.Progress = nil
	pushed, err := images.Push(context.Background(), archive, dest, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(pushed) != len(s.list) {
		t.Fatalf("pushed %+v", pushed)
	}
	for _, p := range pushed {
		if !strings.HasPrefix(p.Target, dst.Host+"/mirror/") || strings.Contains(p.Target, s.srv.Host) {
			t.Errorf("target %s of %s", p.Target, p.Source)
		}
		if got := remoteDigest(t, p.Target); got != s.digest[p.Source] || p.Digest != got.String() {
			t.Errorf("%s: %s in the registry, %s reported, want %s", p.Target, got, p.Digest, s.digest[p.Source])
		}
	}
	if cnt.count("POST", "/blobs/uploads/") == 0 {
		t.Fatal("the first push uploaded no blob")
	}

	// Again: every blob is there, none is uploaded.
	cnt2 := &counter{}
	o.WrapTransport = cnt2.wrap
	if _, err := images.Push(context.Background(), archive, dest, o); err != nil {
		t.Fatal(err)
	}
	if n := cnt2.count("POST", "/blobs/uploads/") + cnt2.count("PATCH", "/blobs/uploads/"); n != 0 {
		t.Errorf("second push: %d upload requests, want 0:\n%s", n, strings.Join(cnt2.reqs, "\n"))
	}
}

// complete checks that every layer of every image of ii can be read and
// has its digest.
func complete(ii v1.ImageIndex) error {
	m, err := ii.IndexManifest()
	if err != nil {
		return err
	}
	for _, d := range m.Manifests {
		if d.MediaType.IsIndex() {
			child, err := ii.ImageIndex(d.Digest)
			if err != nil {
				return err
			}
			if err := complete(child); err != nil {
				return err
			}
			continue
		}
		img, err := ii.Image(d.Digest)
		if err != nil {
			return err
		}
		layers, err := img.Layers()
		if err != nil {
			return err
		}
		for _, l := range layers {
			rc, err := l.Compressed()
			if err != nil {
				return err
			}
			got, _, err := v1.SHA256(rc)
			if err != nil {
				return err
			}
			if err := rc.Close(); err != nil {
				return err
			}
			if want, _ := l.Digest(); got != want {
				return fmt.Errorf("layer %s holds %s", want, got)
			}
		}
	}
	return nil
}

func TestSavePlatforms(t *testing.T) {
	s := seed(t)
	o := opts(t)
	var err error
	if o.Platforms, err = images.ParsePlatforms("linux/arm64"); err != nil {
		t.Fatal(err)
	}
	multi := images.Image{Image: s.srv.Host + "/library/multi:2"}
	archive := filepath.Join(t.TempDir(), "arm.tar")
	if _, err := images.Save(context.Background(), []images.Image{multi}, archive, o); err != nil {
		t.Fatal(err)
	}
	ii, err := untar(t, archive).ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	m, _ := ii.IndexManifest()
	child, err := ii.ImageIndex(m.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	cm, _ := child.IndexManifest()
	if len(cm.Manifests) != 1 || cm.Manifests[0].Platform.Architecture != "arm64" {
		t.Errorf("filtered index: %+v", cm.Manifests)
	}

	// The amd64-only image has no arm64 variant: an error naming it.
	app := s.list[0]
	for _, img := range s.list {
		if strings.HasSuffix(img.Image, "/kubesphere/app:1") {
			app = img
		}
	}
	_, err = images.Save(context.Background(), []images.Image{app}, filepath.Join(t.TempDir(), "x.tar"), o)
	if err == nil || !strings.Contains(err.Error(), app.Image) || !strings.Contains(err.Error(), "is for linux/amd64 only, not linux/arm64") {
		t.Errorf("got %v", err)
	}
}

func TestMirror(t *testing.T) {
	s := seed(t)
	dst := ociregistry.Start(ociregistry.Options{})
	defer dst.Close()
	dest, err := images.ParseDestination(dst.Host)
	if err != nil {
		t.Fatal(err)
	}
	pushed, err := images.Mirror(context.Background(), s.list, dest, opts(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(pushed) != len(s.list) {
		t.Fatalf("pushed %+v", pushed)
	}
	for _, p := range pushed {
		if got := remoteDigest(t, p.Target); got != s.digest[p.Source] {
			t.Errorf("%s: %s, want %s", p.Target, got, s.digest[p.Source])
		}
	}
}

func TestAuth(t *testing.T) {
	srv := ociregistry.Start(ociregistry.Options{Username: "u", Password: "p"})
	defer srv.Close()
	o := opts(t)
	dest, err := images.ParseDestination(srv.Host)
	if err != nil {
		t.Fatal(err)
	}
	src := seed(t)
	_, err = images.Mirror(context.Background(), src.list[:1], dest, o)
	var regErr *registry.Error
	if !errors.As(err, &regErr) || regErr.Kind != registry.Unauthorized || regErr.Host != srv.Host {
		t.Fatalf("got %#v", err)
	}

	// With the login in the credentials file it works.
	cfg := `{"auths":{"` + srv.Host + `":{"auth":"` + base64.StdEncoding.EncodeToString([]byte("u:p")) + `"}}}`
	if err := os.WriteFile(o.Registry.RegistryConfig, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := images.Mirror(context.Background(), src.list[:1], dest, o); err != nil {
		t.Fatal(err)
	}

	// A "docker login" counts too: Docker's configuration is the fallback.
	if err := os.Remove(o.Registry.RegistryConfig); err != nil {
		t.Fatal(err)
	}
	docker := t.TempDir()
	t.Setenv("DOCKER_CONFIG", docker)
	if err := os.WriteFile(filepath.Join(docker, "config.json"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := images.Mirror(context.Background(), src.list[:1], dest, o); err != nil {
		t.Fatalf("with docker's login: %v", err)
	}
}

func TestMissingImage(t *testing.T) {
	s := seed(t)
	missing := images.Image{Image: s.srv.Host + "/kubesphere/missing:1", Sources: []images.Source{
		{Origin: images.OriginHost, File: "hello/templates/deployment.yaml", Object: "Deployment/web", Container: "web"},
	}}
	dir := t.TempDir()
	_, err := images.Save(context.Background(), append(s.list, missing), filepath.Join(dir, "x.tar"), opts(t))
	want := "image " + missing.Image + " was not found in registry " + s.srv.Host + " (referenced by hello/templates/deployment.yaml Deployment/web container web)"
	if err == nil || err.Error() != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}
	var regErr *registry.Error
	if !errors.As(err, &regErr) || regErr.Kind != registry.NotFound {
		t.Errorf("not a NotFound registry error: %#v", err)
	}
	assertEmpty(t, dir)

	// Several missing: the first of the list is named, whatever finishes
	// first.
	other := images.Image{Image: s.srv.Host + "/kubesphere/missing:2"}
	for range 5 {
		_, err = images.Save(context.Background(), []images.Image{missing, other}, filepath.Join(dir, "x.tar"), opts(t))
		if err == nil || err.Error() != want+"; and 1 more image failed" {
			t.Fatalf("got %v", err)
		}
	}
}

// A save cancelled while it writes the archive leaves nothing behind.
func TestSaveCancelled(t *testing.T) {
	s := seed(t)
	o := opts(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	o.Progress = &cancelOnWrite{cancel: cancel, t: t, dir: dir}
	_, err := images.Save(ctx, s.list, filepath.Join(dir, "images.tar"), o)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	assertEmpty(t, dir)
}

// cancelOnWrite cancels at the first bytes written, after checking that
// the temporary archive exists.
type cancelOnWrite struct {
	recorder
	cancel context.CancelFunc
	t      *testing.T
	dir    string
	once   sync.Once
}

func (c *cancelOnWrite) Add(int64) {
	c.once.Do(func() {
		if entries, _ := os.ReadDir(c.dir); len(entries) == 0 {
			c.t.Error("no temporary file while writing")
		}
		c.cancel()
	})
}

func assertEmpty(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("left behind: %s", e.Name())
	}
}

func TestSaveMissingDirectory(t *testing.T) {
	_, err := images.Save(context.Background(), nil, filepath.Join(t.TempDir(), "nope", "x.tar"), images.Options{})
	if err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("got %v", err)
	}
}

func TestParseDestination(t *testing.T) {
	for _, tc := range []struct{ in, image, want, err string }{
		{in: "registry.example.com", image: "docker.io/kubesphere/x:1", want: "registry.example.com/kubesphere/x:1"},
		{in: "localhost:5000/mirror/ks", image: "nginx:1", want: "localhost:5000/mirror/ks/library/nginx:1"},
		{in: "reg.example.com/m/", image: "nginx", want: "reg.example.com/m/library/nginx:latest"},
		{in: "r.example.com", image: "ghcr.io/o/a@sha256:" + strings.Repeat("a", 64), want: "r.example.com/o/a@sha256:" + strings.Repeat("a", 64)},
		{in: "r.example.com", image: "ghcr.io/o/a:2@sha256:" + strings.Repeat("a", 64), want: "r.example.com/o/a:2"},
		{in: "https://r.example.com", err: "no scheme"},
		{in: "mirror", err: "does not start with a registry host"},
		{in: "r.example.com/Bad", err: `"Bad" is not a valid repository path component`},
		{in: "", err: "has no registry host"},
	} {
		d, err := images.ParseDestination(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: got %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		got, err := d.Target(tc.image)
		if err != nil || got != tc.want {
			t.Errorf("%q %q: %q, %v, want %q", tc.in, tc.image, got, err, tc.want)
		}
	}
}

func TestParsePlatforms(t *testing.T) {
	p, err := images.ParsePlatforms("linux/amd64, linux/arm64/v8")
	if err != nil || len(p) != 2 || p[1].Variant != "v8" {
		t.Errorf("got %+v, %v", p, err)
	}
	for _, bad := range []string{"linux", "linux/", "/amd64", "linux/arm64/v8/x", "0/ /", "linux/ amd64", "linux/amd64/ ", "linux/amd64:", "li nux/amd64", "linux/-x"} {
		if _, err := images.ParsePlatforms(bad); err == nil || !strings.Contains(err.Error(), "is not a platform") {
			t.Errorf("%q: got %v", bad, err)
		}
	}
}

// Mirroring within one registry with a platform filter: the filtered
// index is pushed with its one child, and no blob is uploaded.
func TestMirrorPlatformSameRegistry(t *testing.T) {
	s := seed(t)
	o := opts(t)
	var err error
	if o.Platforms, err = images.ParsePlatforms("linux/arm64"); err != nil {
		t.Fatal(err)
	}
	dest, err := images.ParseDestination(s.srv.Host + "/m")
	if err != nil {
		t.Fatal(err)
	}
	cnt := &counter{}
	o.WrapTransport = cnt.wrap
	src := s.srv.Host + "/library/multi:2"
	pushed, err := images.Mirror(context.Background(), []images.Image{{Image: src}}, dest, o)
	if err != nil {
		t.Fatal(err)
	}
	r, err := name.ParseReference(pushed[0].Target)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := remote.Index(r)
	if err != nil {
		t.Fatal(err)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := idx.Digest(); len(m.Manifests) != 1 || m.Manifests[0].Platform.Architecture != "arm64" || d.String() != pushed[0].Digest {
		t.Fatalf("pushed index %s: %+v (reported %s)", d, m.Manifests, pushed[0].Digest)
	}
	if err := complete(idx); err != nil {
		t.Errorf("the arm64 image is incomplete: %v", err)
	}
	// Within one registry no layer is uploaded again (go-containerregistry's
	// test registry keeps blobs across repositories, so it answers the
	// HEAD before any mount is tried).
	if n := cnt.count("POST", "/blobs/uploads/") + cnt.count("PATCH", "/blobs/uploads/"); n != 0 {
		t.Errorf("%d uploads within one registry:\n%s", n, strings.Join(cnt.reqs, "\n"))
	}
}

// writeTar writes a tar of name → content.
func writeTar(t *testing.T, path string, entries ...[2]string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	tw := tar.NewWriter(f)
	for _, e := range entries {
		if err := tw.WriteHeader(&tar.Header{Name: e[0], Mode: 0o644, Size: int64(len(e[1])), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(e[1])); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestPushBadArchive(t *testing.T) {
	dir := t.TempDir()
	layoutFile := [2]string{"oci-layout", `{"imageLayoutVersion":"1.0.0"}`}
	for _, tc := range []struct {
		name    string
		entries [][2]string
		raw     string
		want    string
	}{
		{name: "text", raw: "not a tar at all, but long enough to be read as a header block", want: "not an image archive (a tar of an OCI image layout)"},
		{name: "noindex", entries: [][2]string{layoutFile}, want: "index.json is missing"},
		{name: "evil", entries: [][2]string{layoutFile, {"../evil", "x"}}, want: "unexpected entry ../evil"},
		{name: "noref", entries: [][2]string{layoutFile, {"index.json", `{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:` + strings.Repeat("a", 64) + `","size":2}]}`}},
			want: "index.json manifests[0] has no org.opencontainers.image.ref.name annotation"},
		{name: "noblob", entries: [][2]string{layoutFile, {"index.json", `{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:` + strings.Repeat("a", 64) + `","size":2,"annotations":{"org.opencontainers.image.ref.name":"docker.io/library/x:1"}}]}`}},
			want: "blobs/sha256/" + strings.Repeat("a", 64) + " is missing"},
	} {
		path := filepath.Join(dir, tc.name+".tar")
		if tc.raw != "" {
			if err := os.WriteFile(path, []byte(strings.Repeat(tc.raw, 20)), 0o644); err != nil {
				t.Fatal(err)
			}
		} else {
			writeTar(t, path, tc.entries...)
		}
		_, err := images.Push(context.Background(), path, images.Destination{Host: "127.0.0.1:1"}, images.Options{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %q", tc.name, err, tc.want)
		}
	}
}

// The archive replaces only a regular file: a symbolic link (or a
// device) is refused before anything is pulled, and left as it was.
func TestSaveRefusesNonRegularTarget(t *testing.T) {
	s := seed(t)
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	if err := os.WriteFile(target, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.tar")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(dir, "sub.tar")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	cnt := &counter{}
	o := opts(t)
	o.WrapTransport = cnt.wrap
	for path, kind := range map[string]string{link: "a symbolic link", sub: "a directory"} {
		_, err := images.Save(context.Background(), s.list, path, o)
		if want := path + " is " + kind + ": "; err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("got %v, want %q...", err, want)
		}
	}
	if st, err := os.Lstat(link); err != nil || st.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link was replaced: %v %v", st, err)
	}
	if data, _ := os.ReadFile(target); string(data) != "keep" {
		t.Errorf("the link's target changed: %q", data)
	}
	if len(cnt.reqs) != 0 {
		t.Errorf("pulled before refusing: %v", cnt.reqs)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 3 {
		t.Errorf("left behind: %v", entries)
	}
}

// A registry that stalls ends save and push with an error naming it and
// what stalled, after the timeout of no progress.
func TestRegistryStall(t *testing.T) {
	s := seed(t)
	// A proxy to the seeded registry whose blob downloads stop after
	// the headers and a few bytes.
	upstream, err := url.Parse("http://" + s.srv.Host)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(upstream)
	stalling := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/blobs/sha256:") {
			_, _ = w.Write([]byte("partial"))
			w.(http.Flusher).Flush()
			<-r.Context().Done()
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	defer stalling.Close()
	host := strings.TrimPrefix(stalling.URL, "http://")
	o := opts(t)
	o.Registry.Timeout = 300 * time.Millisecond
	img := images.Image{Image: host + "/kubesphere/app:1", Sources: s.list[0].Sources}
	dir := t.TempDir()
	_, err = images.Save(context.Background(), []images.Image{img}, filepath.Join(dir, "x.tar"), o)
	var stall *registry.StallError
	if !errors.As(err, &stall) || stall.Host != host || !strings.HasPrefix(stall.Doing, "reading the response to GET /v2/kubesphere/app/blobs/sha256:") {
		t.Errorf("save: got %v", err)
	}
	assertEmpty(t, dir)

	// A registry that accepts connections and never answers.
	silent := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer silent.Close()
	archive := filepath.Join(t.TempDir(), "images.tar")
	if _, err := images.Save(context.Background(), s.list, archive, opts(t)); err != nil {
		t.Fatal(err)
	}
	_, err = images.Push(context.Background(), archive, images.Destination{Host: strings.TrimPrefix(silent.URL, "http://")}, o)
	if !errors.As(err, &stall) || stall.Doing != "waiting for the response to GET /v2/" {
		t.Errorf("push: got %v", err)
	}
}
