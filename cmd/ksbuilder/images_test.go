package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ksbuilder/ksbuilder/create"
	"github.com/ksbuilder/ksbuilder/internal/testutil/ociregistry"
	"github.com/ksbuilder/ksbuilder/pkg/iostreams"
)

// The exit codes of images save/push: 4 for a refused login, 2 for a bad
// flag, 130 when interrupted (and then no file is left).
func TestImagesExitCodes(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	dir := t.TempDir()
	ext := filepath.Join(dir, "hello")
	if _, err := create.Create(context.Background(), create.Options{Name: "hello", Category: "dev-tools", Author: "Test", Type: create.Full, Dir: ext}); err != nil {
		t.Fatal(err)
	}
	reg := ociregistry.Start(ociregistry.Options{})
	defer reg.Close()
	auth := ociregistry.Start(ociregistry.Options{Username: "u", Password: "p"})
	defer auth.Close()
	cfg := []string{"--registry-config", filepath.Join(dir, "config.json")}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	out := filepath.Join(dir, "out")
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLIContext(ctx, append([]string{"images", "save", ext, "--archive", filepath.Join(out, "images.tar"), "--set", "global.imageRegistry=" + reg.Host}, cfg...)...)
	if code != exitInterrupted || stderr != "Interrupted.\n" {
		t.Errorf("interrupted save: exit %d, %q", code, stderr)
	}
	if entries, _ := os.ReadDir(out); len(entries) != 0 {
		t.Errorf("interrupted save left %v", entries)
	}

	// Every image in the registry that wants a login.
	yaml := filepath.Join(ext, "extension.yaml")
	data, err := os.ReadFile(yaml)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(yaml, []byte(strings.ReplaceAll(string(data), "docker.io/", auth.Host+"/")), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = runCLIContext(context.Background(), append([]string{"images", "mirror", ext, "--registry", auth.Host, "--set", "global.imageRegistry=" + auth.Host}, cfg...)...)
	if code != exitAuth || !strings.Contains(stderr, `log in with "ksbuilder registry login `+auth.Host+`"`) {
		t.Errorf("refused login: exit %d, %q", code, stderr)
	}
	code, _, stderr = runCLIContext(context.Background(), "images", "push", "x.tar", "--registry", "http://"+reg.Host)
	if code != exitUsage {
		t.Errorf("bad --registry: exit %d, %q", code, stderr)
	}
}

// Progress of save: a byte bar when stderr is a terminal, else one line
// per image.
func TestImagesProgress(t *testing.T) {
	for _, tty := range []bool{false, true} {
		ios, _, _, errOut := iostreams.Test()
		ios.SetStderrTTY(tty)
		f := newFactory(ios, "1")
		p := newImagesProgress(f, true)
		p.Start(2048)
		p.Add(1024)
		p.Done("docker.io/library/nginx:1", "sha256:abc")
		p.Add(1024)
		p.finish()
		line := strings.Contains(errOut.String(), "docker.io/library/nginx:1 sha256:abc\n")
		bar := strings.Contains(errOut.String(), "images")
		if line == tty || bar != tty {
			t.Errorf("tty %v: stderr %q", tty, errOut.String())
		}
	}
}
