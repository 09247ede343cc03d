// Command patchdeps writes patched copies of the dependencies listed in
// patches.go, and a go.mod that builds with them:
//
//	go run ./hack/patchdeps                  # writes .build/
//	go build -modfile=.build/go.mod ./cmd/ksbuilder
//
// "make build", "make test" and the release builds use it; "go install" and a
// plain "go build" link the modules as published, which behave the same and
// start more slowly (docs/performance.md). Each patch is an exact edit of one
// version of a module: when go.mod moves to another version, or an edit no
// longer matches, patchdeps fails and names the patch to check.
//
// Run it from the repository root.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"go/format"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// A modulePatch is the set of edits made to one version of one module.
type modulePatch struct {
	Module  string
	Version string
	Why     string
	Files   []filePatch
	// NetworkTests is a go test -skip pattern: the module's tests that need
	// the network, which the checks of the patch leave out.
	NetworkTests string
}

// A filePatch is the edits made to one Go file of a module, or a file the
// patch adds.
type filePatch struct {
	Name  string // slash-separated, relative to the module root
	Edits []edit
	Add   string // the content of a new file (no Edits); the module must not have it
}

// An edit replaces text that must occur exactly Count times in the file (once
// when Count is 0).
type edit struct {
	Old, New string
	Count    int
}

func main() {
	dir := flag.String("dir", ".build", "directory to write go.mod, go.sum and patched/ into")
	flag.Parse()
	if err := run(*dir, patches, downloadModule); err != nil {
		fmt.Fprintln(os.Stderr, "patchdeps:", err)
		os.Exit(1)
	}
}

// downloader returns the version of module in go.mod's build list and the
// directory of its source in the module cache.
type downloader func(module string) (version, dir string, err error)

// run writes dir/patched/MODULE@VERSION for each patch, then dir/go.mod (the
// module's go.mod plus a replace directive for each) and dir/go.sum.
func run(dir string, patches []modulePatch, download downloader) error {
	goMod, err := os.ReadFile("go.mod")
	if err != nil {
		return fmt.Errorf("%w (run patchdeps from the repository root)", err)
	}
	goSum, err := os.ReadFile("go.sum")
	if err != nil {
		return err
	}
	var replaces strings.Builder
	for _, p := range patches {
		if replaced(goMod, p.Module) {
			return fmt.Errorf("go.mod already replaces %s: remove its patch from hack/patchdeps/patches.go or the replace directive", p.Module)
		}
		version, src, err := download(p.Module)
		if err != nil {
			return err
		}
		if version != p.Version {
			return fmt.Errorf("go.mod requires %s %s but its patch is for %s: check that the patch is still needed and still right, then update its version in hack/patchdeps/patches.go", p.Module, version, p.Version)
		}
		target := filepath.Join(dir, "patched", p.Module+"@"+p.Version)
		if err := writePatched(src, target, p); err != nil {
			return err
		}
		fmt.Fprintf(&replaces, "replace %s %s => %s\n", p.Module, p.Version, localPath(target))
	}
	modFile := append(bytes.TrimRight(goMod, "\n"), "\n\n// Written by hack/patchdeps: dependencies patched for release builds (hack/patchdeps/patches.go).\n"...)
	modFile = append(modFile, replaces.String()...)
	if err := writeFileAtomic(filepath.Join(dir, "go.mod"), modFile); err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(dir, "go.sum"), goSum)
}

// replaced reports whether goMod has a replace directive for module.
func replaced(goMod []byte, module string) bool {
	for line := range strings.Lines(string(goMod)) {
		fields := strings.Fields(line)
		if len(fields) > 0 && fields[0] == "replace" {
			fields = fields[1:]
		}
		if len(fields) >= 2 && fields[0] == module && strings.Contains(line, "=>") {
			return true
		}
	}
	return false
}

// localPath spells dir as go.mod's replace directive needs a directory:
// relative paths start with ./ and are relative to the module root.
func localPath(dir string) string {
	if filepath.IsAbs(dir) {
		return filepath.ToSlash(dir)
	}
	return "./" + filepath.ToSlash(filepath.Clean(dir))
}

// writePatched copies the module at src to target with p's edits applied.
// It builds the copy next to target and renames it into place, so target is
// either the old copy or the whole new one.
func writePatched(src, target string, p modulePatch) error {
	tmp := target + ".tmp"
	if err := os.RemoveAll(tmp); err != nil {
		return err
	}
	err := copyTree(src, tmp)
	for _, f := range p.Files {
		if err != nil {
			break
		}
		err = patchFile(filepath.Join(tmp, filepath.FromSlash(f.Name)), p, f)
	}
	if err == nil {
		err = os.RemoveAll(target)
	}
	if err == nil {
		err = os.Rename(tmp, target)
	}
	if err != nil {
		os.RemoveAll(tmp)
	}
	return err
}

// patchFile applies f's edits to the file at path, or writes the file f
// adds, and checks that the result is formatted Go.
func patchFile(path string, p modulePatch, f filePatch) error {
	var text string
	if f.Edits == nil {
		if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%s %s: %s: the patch adds this file, but the module has one (or it cannot be checked: %v): update the patch in hack/patchdeps/patches.go", p.Module, p.Version, f.Name, err)
		}
		text = f.Add
	} else {
		data, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("%s %s: %w (hack/patchdeps/patches.go names a file the module does not have)", p.Module, p.Version, err)
		}
		if text, err = applyEdits(string(data), f.Edits); err != nil {
			return fmt.Errorf("%s %s: %s: %w: update the patch in hack/patchdeps/patches.go", p.Module, p.Version, f.Name, err)
		}
	}
	formatted, err := format.Source([]byte(text))
	if err != nil {
		return fmt.Errorf("%s %s: %s: the patched file is not valid Go: %w", p.Module, p.Version, f.Name, err)
	}
	return os.WriteFile(path, formatted, 0o644)
}

// applyEdits applies edits in order; each Old must occur exactly as many
// times as the edit says in the text as the earlier edits left it.
func applyEdits(text string, edits []edit) (string, error) {
	for i, e := range edits {
		want := max(e.Count, 1)
		switch n := strings.Count(text, e.Old); {
		case n == want:
			text = strings.ReplaceAll(text, e.Old, e.New)
		case n == 0:
			return "", fmt.Errorf("edit %d: the text to replace is not in the file", i+1)
		default:
			return "", fmt.Errorf("edit %d: the text to replace occurs %d times, not %d", i+1, n, want)
		}
	}
	return text, nil
}

// copyTree copies the regular files under src to dst, writable (the module
// cache's are read-only).
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		out := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(out, 0o755)
		case d.Type().IsRegular():
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			return os.WriteFile(out, data, 0o644)
		default:
			return nil // the module cache holds no links; skip anything else
		}
	})
}

// writeFileAtomic writes data to a temporary file next to path, then renames
// it over path.
func writeFileAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if closeErr := f.Close(); err == nil {
		err = closeErr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

// downloadModule asks the go command for the version of module that go.mod
// selects, downloading it when the module cache lacks it.
func downloadModule(module string) (version, dir string, err error) {
	cmd := exec.Command("go", "mod", "download", "-json", module)
	// Read go.mod itself, whatever -modfile GOFLAGS may carry.
	cmd.Env = append(os.Environ(), "GOFLAGS=", "GOWORK=off")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var info struct {
		Version string
		Dir     string
		Error   string
	}
	if jsonErr := json.Unmarshal(out, &info); jsonErr != nil && err == nil {
		err = jsonErr
	}
	switch {
	case info.Error != "":
		return "", "", fmt.Errorf("go mod download %s: %s", module, info.Error)
	case err != nil:
		return "", "", fmt.Errorf("go mod download %s: %w: %s", module, err, strings.TrimSpace(stderr.String()))
	case info.Dir == "":
		return "", "", errors.New("go mod download " + module + ": no directory in its answer")
	}
	return info.Version, info.Dir, nil
}
