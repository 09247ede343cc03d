package source

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"helm.sh/helm/v3/pkg/ignore"

	"github.com/ksbuilder/ksbuilder/pkg/units"
)

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// IgnoreRules decides which paths of an extension are left out: the rules of
// its .helmignore, Helm's defaults (dot-files under templates/), every .git
// directory, and .tgz files at the root (earlier packages of the extension).
type IgnoreRules struct {
	helm *ignore.Rules
}

// ParseIgnore builds the rules from the content of .helmignore (nil when the
// file is absent).
func ParseIgnore(helmignore []byte) (*IgnoreRules, error) {
	rules := ignore.Empty()
	if helmignore != nil {
		r, err := ignore.Parse(bytes.NewReader(helmignore))
		if err != nil {
			return nil, err
		}
		rules = r
	}
	rules.AddDefaults()
	return &IgnoreRules{helm: rules}, nil
}

// Ignore reports whether the slash-separated path is left out.
func (r *IgnoreRules) Ignore(name string, isDir bool) bool {
	base := path.Base(name)
	if isDir && base == ".git" {
		return true
	}
	if !isDir && !strings.Contains(name, "/") && strings.EqualFold(path.Ext(name), ".tgz") {
		return true
	}
	return r.helm.Ignore(name, entryInfo{name: base, dir: isDir})
}

// entryInfo is the minimal fs.FileInfo that Helm's ignore rules consult.
type entryInfo struct {
	name string
	dir  bool
}

func (e entryInfo) Name() string { return e.name }
func (e entryInfo) Size() int64  { return 0 }
func (e entryInfo) Mode() fs.FileMode {
	if e.dir {
		return fs.ModeDir
	}
	return 0
}
func (e entryInfo) ModTime() time.Time { return time.Time{} }
func (e entryInfo) IsDir() bool        { return e.dir }
func (e entryInfo) Sys() any           { return nil }

// LoadDir reads an extension directory. Ignored directories are skipped
// without being read; symbolic links are followed, as Helm does, when they
// resolve inside the extension directory, and refused when they lead out of
// it; other irregular files are refused.
func LoadDir(dir string) (*Source, error) {
	root, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	// The root itself may be reached through links (/tmp on macOS): links
	// are judged against where it really is.
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return nil, err
	}
	var helmignore []byte
	if data, err := os.ReadFile(filepath.Join(root, ignore.HelmIgnore)); err == nil {
		helmignore = data
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	rules, err := ParseIgnore(helmignore)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, ignore.HelmIgnore), err)
	}
	w := &dirWalker{
		src:   &Source{Path: dir, Kind: Directory, files: map[string][]byte{}},
		rules: rules, realRoot: realRoot, limit: DefaultLimits.MaxTotalSize,
	}
	if err := w.walk(root, "", map[string]bool{}); err != nil {
		return nil, err
	}
	return w.src, nil
}

type dirWalker struct {
	src   *Source
	rules *IgnoreRules
	// realRoot is the extension directory with every link resolved.
	realRoot string
	total    int64
	limit    int64
}

// walk reads the directory osDir, whose package path is prefix. visited holds
// the real paths of the directories on the current path, to stop link cycles.
func (w *dirWalker) walk(osDir, prefix string, visited map[string]bool) error {
	real, err := filepath.EvalSymlinks(osDir)
	if err != nil {
		return err
	}
	if visited[real] {
		return fmt.Errorf("%s: symbolic link cycle", osDir)
	}
	visited[real] = true
	defer delete(visited, real)

	entries, err := os.ReadDir(osDir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		name := e.Name()
		rel := name
		if prefix != "" {
			rel = prefix + "/" + name
		}
		full := filepath.Join(osDir, name)
		mode := e.Type()
		if mode&fs.ModeSymlink != 0 {
			fi, err := os.Stat(full)
			if err != nil {
				if w.rules.Ignore(rel, false) {
					w.src.Ignored++
					continue
				}
				return fmt.Errorf("%s: broken symbolic link: %w", full, err)
			}
			mode = fi.Mode().Type()
			if !w.rules.Ignore(rel, mode.IsDir()) {
				if err := w.checkLink(full, rel); err != nil {
					return err
				}
			}
		}
		switch {
		case mode.IsDir():
			if w.rules.Ignore(rel, true) {
				w.src.Ignored++
				continue
			}
			if err := w.walk(full, rel, visited); err != nil {
				return err
			}
		case w.rules.Ignore(rel, false):
			w.src.Ignored++
		case !mode.IsRegular():
			return fmt.Errorf("%s: cannot package irregular file (mode %s); remove it or list it in .helmignore", full, mode)
		default:
			data, err := os.ReadFile(full)
			if err != nil {
				return err
			}
			w.total += int64(len(data))
			if w.total > w.limit {
				return fmt.Errorf("%s: the extension's files add up to more than %s; list large files in .helmignore", w.src.Path, units.FormatBytes(w.limit))
			}
			w.src.files[rel] = bytes.TrimPrefix(data, utf8BOM)
		}
	}
	return nil
}

// checkLink refuses a symbolic link that resolves outside the extension
// directory: packaging it would copy a file of the machine (/etc/passwd,
// a key) into the package.
func (w *dirWalker) checkLink(full, rel string) error {
	real, err := filepath.EvalSymlinks(full)
	if err != nil {
		return fmt.Errorf("%s: broken symbolic link: %w", full, err)
	}
	if within(w.realRoot, real) {
		return nil
	}
	target, err := os.Readlink(full)
	if err != nil {
		return err
	}
	if target != real {
		target = fmt.Sprintf("%s (%s)", target, real)
	}
	return fmt.Errorf("%s: symbolic link to %s leaves the extension directory (replace it with the file, or remove it)",
		filepath.Join(w.src.Path, filepath.FromSlash(rel)), target)
}

// within reports whether the resolved path p is root or lies under it.
func within(root, p string) bool {
	r, err := filepath.Rel(root, p)
	return err == nil && r != ".." && !strings.HasPrefix(r, ".."+string(filepath.Separator)) && !filepath.IsAbs(r)
}
