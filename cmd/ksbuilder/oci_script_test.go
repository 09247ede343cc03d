package main

import (
	"os"
	"path/filepath"

	"github.com/rogpeppe/go-internal/testscript"
	helmregistry "helm.sh/helm/v3/pkg/registry"

	"github.com/ksbuilder/ksbuilder/internal/testutil/ociregistry"
)

// setupRegistries starts three in-process OCI registries for a script:
// $REGISTRY (plain HTTP, open), $AUTH_REGISTRY (plain HTTP, basic auth
// ksuser/kspass) and $TLS_REGISTRY (HTTPS, self-signed; its certificate
// is $WORK/registry-ca.pem).
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
