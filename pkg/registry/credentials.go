package registry

import (
	"context"
	"fmt"
	"strings"

	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/credentials"
)

// CredentialFunc returns the credential lookup Helm's client makes: the
// RegistryConfig file (DefaultConfigPath when empty), then Docker's
// configuration, so "ksbuilder registry login", "helm registry login" and
// "docker login" all count. The function takes a registry host
// ("registry.example.com:5000"; "index.docker.io" for Docker Hub) and
// returns an empty credential when none is stored.
func (o Options) CredentialFunc() (func(ctx context.Context, host string) (auth.Credential, error), error) {
	cfg := o.RegistryConfig
	if cfg == "" {
		cfg = DefaultConfigPath()
	}
	storeOpts := credentials.StoreOptions{AllowPlaintextPut: true, DetectDefaultNativeStore: true}
	store, err := credentials.NewStore(cfg, storeOpts)
	if err != nil {
		// An empty file is no credentials, as in Helm.
		if !strings.Contains(err.Error(), "invalid config format: EOF") {
			return nil, fmt.Errorf("registry credentials %s: %w", cfg, err)
		}
		if store, err = credentials.NewStore("", storeOpts); err != nil {
			return nil, fmt.Errorf("registry credentials: %w", err)
		}
	}
	var s credentials.Store = store
	if docker, err := credentials.NewStoreFromDocker(storeOpts); err == nil {
		s = credentials.NewStoreWithFallbacks(store, docker)
	}
	lookup := credentials.Credential(s)
	return func(ctx context.Context, host string) (auth.Credential, error) {
		if host == "index.docker.io" || host == "docker.io" {
			host = "registry-1.docker.io"
		}
		return lookup(ctx, host)
	}, nil
}
