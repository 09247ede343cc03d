package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestApplyEdits(t *testing.T) {
	tests := []struct {
		name, text string
		edits      []edit
		want       string
		wantErr    string
	}{
		{name: "in order", text: "a b c", edits: []edit{{Old: "b", New: "x"}, {Old: "x c", New: "y"}}, want: "a y"},
		{name: "missing", text: "a b c", edits: []edit{{Old: "b", New: "x"}, {Old: "b", New: "z"}}, wantErr: "edit 2: the text to replace is not in the file"},
		{name: "twice", text: "a b b", edits: []edit{{Old: "b", New: "x"}}, wantErr: "edit 1: the text to replace occurs 2 times, not 1"},
		{name: "counted", text: "a b b", edits: []edit{{Old: "b", New: "x", Count: 2}}, want: "a x x"},
		{name: "miscounted", text: "a b b b", edits: []edit{{Old: "b", New: "x", Count: 2}}, wantErr: "edit 1: the text to replace occurs 3 times, not 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := applyEdits(tt.text, tt.edits)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("applyEdits() error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("applyEdits() = %q, %v, want %q", got, err, tt.want)
			}
		})
	}
}

func TestReplaced(t *testing.T) {
	goMod := []byte("module m\n\nreplace example.com/a => ../a\n\nreplace (\n\texample.com/b v1.0.0 => ../b\n)\n\nrequire example.com/c v1.0.0\n")
	for module, want := range map[string]bool{"example.com/a": true, "example.com/b": true, "example.com/c": false} {
		if got := replaced(goMod, module); got != want {
			t.Errorf("replaced(%s) = %v, want %v", module, got, want)
		}
	}
}

// TestPatchesApply writes the patched modules of patches.go from the module
// cache, as make build does, and checks that the go command resolves them.
func TestPatchesApply(t *testing.T) {
	t.Chdir("../..")
	dir := t.TempDir()
	if err := run(dir, patches, downloadModule); err != nil {
		t.Fatal(err)
	}
	goSum, _ := os.ReadFile("go.sum")
	if got, _ := os.ReadFile(filepath.Join(dir, "go.sum")); !bytes.Equal(got, goSum) {
		t.Error("go.sum was not copied as it is")
	}
	for _, p := range patches {
		target := filepath.Join(dir, "patched", p.Module+"@"+p.Version)
		for _, f := range p.Files {
			data, err := os.ReadFile(filepath.Join(target, f.Name))
			if err != nil {
				t.Fatal(err)
			}
			if f.Add != "" && string(data) != f.Add {
				t.Errorf("%s %s: written as\n%s\nwant\n%s", p.Module, f.Name, data, f.Add)
			}
			for _, e := range f.Edits {
				if !strings.Contains(string(data), strings.TrimSpace(e.New)) {
					t.Errorf("%s %s: edit not applied:\n%s", p.Module, f.Name, e.New)
				}
			}
		}
		out, err := exec.Command("go", "list", "-modfile="+filepath.Join(dir, "go.mod"), "-m", "-f", "{{.Replace.Dir}}", p.Module).Output()
		if err != nil {
			t.Fatalf("go list -m %s: %v", p.Module, err)
		}
		if got := strings.TrimSpace(string(out)); got != target {
			t.Errorf("go list resolves %s to %q, want %q", p.Module, got, target)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "patched", patches[0].Module+"@"+patches[0].Version+".tmp")); !os.IsNotExist(err) {
		t.Errorf("the temporary copy was left behind: %v", err)
	}
}

// TestPatchedModulesPassTheirTests runs each patched module's own tests
// under the race detector, against the patched copy: not its examples (some
// fetch from the internet) nor the tests that need the network.
func TestPatchedModulesPassTheirTests(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the patched modules' tests")
	}
	t.Chdir("../..")
	dir := t.TempDir()
	if err := run(dir, patches, downloadModule); err != nil {
		t.Fatal(err)
	}
	for _, p := range patches {
		args := []string{"test", "-modfile=" + filepath.Join(dir, "go.mod"), "-race", "-count=1", "-run", "^Test"}
		if p.NetworkTests != "" {
			args = append(args, "-skip", p.NetworkTests)
		}
		cmd := exec.Command("go", append(args, p.Module+"/...")...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("go test %s (patched): %v\n%s", p.Module, err, out)
		}
	}
}

func TestRunRefusesAnotherVersion(t *testing.T) {
	t.Chdir("../..")
	dir := filepath.Join(t.TempDir(), "build")
	other := func(string) (string, string, error) { return "v6.0.4", t.TempDir(), nil }
	err := run(dir, patches, other)
	if err == nil || !strings.Contains(err.Error(), "go.mod requires github.com/santhosh-tekuri/jsonschema/v6 v6.0.4 but its patch is for v6.0.3") {
		t.Fatalf("run() error = %v", err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("run wrote %s after refusing: %v", dir, err)
	}
}

func TestStaleEditLeavesNothing(t *testing.T) {
	t.Chdir("../..")
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "a.go"), []byte("package a\n\nfunc init() {}\n"), 0o444); err != nil {
		t.Fatal(err)
	}
	stale := []modulePatch{{
		Module: "example.com/a", Version: "v1.0.0",
		Files: []filePatch{{Name: "a.go", Edits: []edit{{Old: "func init() {\n\tx()\n", New: ""}}}},
	}}
	dir := filepath.Join(t.TempDir(), "build")
	err := run(dir, stale, func(string) (string, string, error) { return "v1.0.0", src, nil })
	if err == nil || err.Error() != "example.com/a v1.0.0: a.go: edit 1: the text to replace is not in the file: update the patch in hack/patchdeps/patches.go" {
		t.Fatalf("run() error = %v", err)
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "patched", "example.com"))
	if len(entries) != 0 {
		t.Errorf("run left %v behind", entries)
	}
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); !os.IsNotExist(err) {
		t.Errorf("run wrote go.mod after failing: %v", err)
	}
}
