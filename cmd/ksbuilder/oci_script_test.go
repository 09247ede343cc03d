package main

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/rogpeppe/go-internal/testscript"
	helmregistry "helm.sh/helm/v3/pkg/registry"

	"github.com/ksbuilder/ksbuilder/internal/testutil/chartmuseum"
	"github.com/ksbuilder/ksbuilder/internal/testutil/ociregistry"
)

// setupRegistries starts three in-process OCI registries for a script:
// $REGISTRY (plain HTTP, open), $AUTH_REGISTRY (plain HTTP, basic auth
// ksuser/kspass) and $TLS_REGISTRY (HTTPS, self-signed; its certificate
// is $WORK/registry-ca.pem), and a ChartMuseum, $MUSEUM (basic auth
// ksuser/kspass).
func setupRegistries(env *testscript.Env) error {
	plain := ociregistry.Start(ociregistry.Options{})
	env.Defer(plain.Close)
	env.Setenv("REGISTRY", plain.Host)
	auth := ociregistry.Start(ociregistry.Options{Username: "ksuser", Password: "kspass"})
	env.Defer(auth.Close)
	env.Setenv("AUTH_REGISTRY", auth.Host)
	tls := ociregistry.Start(ociregistry.Options{TLS: true})
	env.Defer(tls.Close)
	env.Setenv("TLS_REGISTRY", tls.Host)
	museum := chartmuseum.Start(chartmuseum.Options{Username: "ksuser", Password: "kspass"})
	env.Defer(museum.Close)
	env.Setenv("MUSEUM", museum.URL)
	return tls.WriteCA(filepath.Join(env.WorkDir, "registry-ca.pem"))
}

// cmdHelmPull pulls a chart from a plain-HTTP registry with Helm's own
// registry client and writes it to FILE: "helmpull HOST/REPO:TAG FILE".
func cmdHelmPull(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: helmpull HOST/REPO:TAG FILE")
	}
	client, err := helmregistry.NewClient(helmregistry.ClientOptPlainHTTP(),
		helmregistry.ClientOptCredentialsFile(ts.MkAbs("helmpull-credentials.json")))
	ts.Check(err)
	res, err := client.Pull(args[0])
	ts.Check(err)
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), res.Chart.Data, 0o644))
}

// cmdImgSeed pushes a random image to a plain-HTTP registry: "imgseed REF
// OS/ARCH..." (one platform: an image; more: an index of one image each).
func cmdImgSeed(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: imgseed REF OS/ARCH...")
	}
	ref, err := name.ParseReference(args[0], name.Insecure)
	ts.Check(err)
	var imgs []v1.Image
	var platforms []*v1.Platform
	for _, p := range args[1:] {
		plat, err := v1.ParsePlatform(p)
		ts.Check(err)
		img, err := random.Image(1024, 2)
		ts.Check(err)
		cf, err := img.ConfigFile()
		ts.Check(err)
		cf = cf.DeepCopy()
		cf.OS, cf.Architecture, cf.Variant = plat.OS, plat.Architecture, plat.Variant
		img, err = mutate.ConfigFile(img, cf)
		ts.Check(err)
		imgs = append(imgs, img)
		platforms = append(platforms, plat)
	}
	if len(imgs) == 1 {
		ts.Check(remote.Write(ref, imgs[0]))
		return
	}
	var idx v1.ImageIndex = empty.Index
	for i, img := range imgs {
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: platforms[i]}})
	}
	ts.Check(remote.WriteIndex(ref, idx))
}

// cmdImgSame checks that two references of plain-HTTP registries have the
// same digest (with !, different ones): "imgsame REF1 REF2".
func cmdImgSame(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: imgsame REF1 REF2")
	}
	var digests [2]v1.Hash
	for i, a := range args {
		ref, err := name.ParseReference(a, name.Insecure)
		ts.Check(err)
		d, err := remote.Head(ref)
		ts.Check(err)
		digests[i] = d.Digest
	}
	if (digests[0] == digests[1]) == neg {
		ts.Fatalf("%s is %s, %s is %s", args[0], digests[0], args[1], digests[1])
	}
}

// cmdReplace replaces every OLD with NEW in FILE: "replace FILE OLD NEW".
func cmdReplace(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: replace FILE OLD NEW")
	}
	path := ts.MkAbs(args[0])
	data, err := os.ReadFile(path)
	ts.Check(err)
	ts.Check(os.WriteFile(path, []byte(strings.ReplaceAll(string(data), args[1], args[2])), 0o644))
}
