package config_test

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/ksbuilder/ksbuilder/pkg/config"
)

func TestDir(t *testing.T) {
	env := map[string]string{config.DirEnv: "rel/dir"}
	got, err := config.Dir(func(k string) string { return env[k] })
	if err != nil || !filepath.IsAbs(got) || !strings.HasSuffix(got, filepath.Join("rel", "dir")) {
		t.Fatalf("Dir = %q, %v", got, err)
	}
	t.Setenv("XDG_CONFIG_HOME", "/xdg")
	t.Setenv("HOME", "/home/u")
	got, err = config.Dir(func(string) string { return "" })
	if err != nil || filepath.Base(got) != "ksbuilder" {
		t.Fatalf("Dir = %q, %v", got, err)
	}
}

func TestLoadSave(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cfg")
	c, err := config.Load(dir)
	if err != nil || c.Server != "" {
		t.Fatalf("Load of a missing file = %+v, %v", c, err)
	}
	c.Server = "https://cloud.example.com"
	if err := c.Save(dir); err != nil {
		t.Fatal(err)
	}
	got, err := config.Load(dir)
	if err != nil || got.Server != c.Server {
		t.Fatalf("Load = %+v, %v", got, err)
	}
	if runtime.GOOS != "windows" {
		fi, _ := os.Stat(filepath.Join(dir, config.FileName))
		di, _ := os.Stat(dir)
		if fi.Mode().Perm() != 0o600 || di.Mode().Perm() != 0o700 {
			t.Fatalf("modes %v %v", fi.Mode().Perm(), di.Mode().Perm())
		}
	}
	if err := os.WriteFile(filepath.Join(dir, config.FileName), []byte("not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := config.Load(dir); err == nil || !strings.Contains(err.Error(), "config.json: invalid JSON") {
		t.Fatalf("err = %v", err)
	}
}
