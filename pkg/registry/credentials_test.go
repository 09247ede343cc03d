package registry

import (
	"context"
	"encoding/base64"
	"net/http"
	"os"
	"path/filepath"
	"testing"
)

func TestCredentialFunc(t *testing.T) {
	dir := t.TempDir()
	docker := t.TempDir()
	t.Setenv("DOCKER_CONFIG", docker)
	auth := func(u, p string) string { return base64.StdEncoding.EncodeToString([]byte(u + ":" + p)) }
	helmFile := filepath.Join(dir, "config.json")
	if err := os.WriteFile(helmFile, []byte(`{"auths":{"reg.example.com":{"auth":"`+auth("helm", "h")+`"}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(docker, "config.json"), []byte(`{"auths":{"reg.example.com":{"auth":"`+auth("docker", "d")+`"},"other.example.com":{"auth":"`+auth("docker", "o")+`"},"https://index.docker.io/v1/":{"auth":"`+auth("hub", "x")+`"}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	lookup, err := Options{RegistryConfig: helmFile}.CredentialFunc()
	if err != nil {
		t.Fatal(err)
	}
	for host, want := range map[string]string{
		"reg.example.com":   "helm",   // Helm's file first
		"other.example.com": "docker", // then Docker's
		"index.docker.io":   "hub",    // go-containerregistry's name for Docker Hub
		"none.example.com":  "",
	} {
		cred, err := lookup(context.Background(), host)
		if err != nil || cred.Username != want {
			t.Errorf("%s: %+v, %v; want user %q", host, cred, err, want)
		}
	}

	// An empty credentials file is no credentials, as in Helm.
	if err := os.WriteFile(helmFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := (Options{RegistryConfig: helmFile}).CredentialFunc(); err != nil {
		t.Errorf("empty file: %v", err)
	}
}

func TestTransport(t *testing.T) {
	if _, err := (Options{CAFile: filepath.Join(t.TempDir(), "missing.pem")}).Transport(); err == nil {
		t.Error("a missing CA file is an error")
	}
	tr, err := Options{InsecureSkipTLSVerify: true}.Transport()
	if err != nil || !tr.(*stallTransport).next.(*http.Transport).TLSClientConfig.InsecureSkipVerify {
		t.Errorf("got %v, %v", tr, err)
	}
}
