package source

import (
	"bytes"
	"errors"
	"fmt"
	"io"
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
// directory, .tgz files at the root (earlier packages of the extension) and
// ksbuilder's own temporary files (see TempFilePattern), wherever they are.
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
	if !isDir && IsTempFile(base) {
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
// it; other irregular files are refused. The files, and the content of
// subchart archives, are held to DefaultLimits, each file's size checked
// from its directory entry before it is read.
func LoadDir(dir string) (*Source, error) { return loadDir(dir, DefaultLimits) }

func loadDir(dir string, lim Limits) (*Source, error) {
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
	helmignorePath := filepath.Join(dir, ignore.HelmIgnore)
	helmignore, err := readLimited(filepath.Join(root, ignore.HelmIgnore), DefaultLimits.MaxFileSize)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("%s: %w", helmignorePath, err)
	}
	rules, err := ParseIgnore(helmignore)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", helmignorePath, err)
	}
	w := &dirWalker{
		src:   &Source{Path: dir, Kind: Directory, files: map[string][]byte{}, helmignore: helmignore},
		rules: rules, realRoot: realRoot, budget: NewBudget(lim),
	}
	if err := w.walk(root, realRoot, "", map[string]bool{}); err != nil {
		return nil, err
	}
	if err := w.budget.scanSubchartArchives(w.src.files, w.src.Names()); err != nil {
		return nil, limitError(dir, err)
	}
	return w.src, nil
}

// readLimited reads a file of at most limit bytes, and no more than one
// byte past it.
func readLimited(name string, limit int64) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("larger than %s", units.FormatBytes(limit))
	}
	return data, nil
}

type dirWalker struct {
	src   *Source
	rules *IgnoreRules
	// realRoot is the extension directory with every link resolved.
	realRoot string
	budget   *Budget
}

// walk reads the directory osDir, whose package path is prefix and real
// path (every link resolved) real. visited holds the real paths of the
// directories on the current path, to stop link cycles.
func (w *dirWalker) walk(osDir, real, prefix string, visited map[string]bool) error {
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
		var info fs.FileInfo
		if mode&fs.ModeSymlink != 0 {
			fi, err := os.Stat(full)
			if err != nil {
				if w.rules.Ignore(rel, false) {
					w.src.Ignored++
					continue
				}
				return fmt.Errorf("%s: broken symbolic link: %w", full, err)
			}
			mode, info = fi.Mode().Type(), fi
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
			realDir := filepath.Join(real, name)
			if info != nil { // reached through a link
				if realDir, err = filepath.EvalSymlinks(full); err != nil {
					return err
				}
			}
			if err := w.walk(full, realDir, rel, visited); err != nil {
				return err
			}
		case w.rules.Ignore(rel, false):
			w.src.Ignored++
		case !mode.IsRegular():
			return fmt.Errorf("%s: cannot package irregular file (mode %s); remove it or list it in .helmignore", full, mode)
		default:
			if info == nil {
				if info, err = e.Info(); err != nil {
					return err
				}
			}
			data, err := w.read(full, rel, info.Size())
			if err != nil {
				return err
			}
			w.src.files[rel] = bytes.TrimPrefix(data, utf8BOM)
		}
	}
	return nil
}

// read reads a file of the extension whose directory entry gives size,
// checking the limits before reading and never reading more than the
// remaining budget plus one byte, should the file grow meanwhile.
func (w *dirWalker) read(full, rel string, size int64) ([]byte, error) {
	if err := CheckName(rel); err != nil {
		return nil, fmt.Errorf("%s: %v (rename it, or list it in .helmignore)", filepath.Join(w.src.Path, filepath.FromSlash(rel)), err)
	}
	if err := w.budget.Entry(); err != nil {
		return nil, limitError(w.src.Path, err)
	}
	if err := w.budget.Check(rel, size); err != nil {
		return nil, limitError(w.src.Path, err)
	}
	f, err := os.Open(full)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	limit := w.budget.Remaining()
	if max := w.budget.lim.MaxFileSize; max > 0 && limit > max {
		limit = max
	}
	data, err := readAtMost(f, size, limit)
	if err != nil {
		return nil, err
	}
	if err := w.budget.File(rel, int64(len(data))); err != nil {
		return nil, limitError(w.src.Path, err)
	}
	return data, nil
}

// readAtMost reads r to its end, or to limit+1 bytes, into a buffer sized
// for the size the file's directory entry gave (io.ReadAll would grow its
// buffer from 512 bytes, copying and clearing it on every step).
func readAtMost(r io.Reader, size, limit int64) ([]byte, error) {
	size = max(0, min(size, limit))
	data := make([]byte, 0, size+1) // one more byte: the end needs no growth
	r = io.LimitReader(r, limit+1)
	for {
		if len(data) == cap(data) {
			data = append(data, 0)[:len(data)] // the file grew
		}
		n, err := r.Read(data[len(data):cap(data)])
		data = data[:len(data)+n]
		if err == io.EOF {
			return data, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// limitError words a limit the extension directory dir exceeds, with the fix.
func limitError(dir string, err error) error {
	var large *FileTooLargeError
	if errors.As(err, &large) {
		return fmt.Errorf("%s: %v (list it in .helmignore, make it smaller or serve it from a URL)", dir, err)
	}
	return fmt.Errorf("%s: %v (list files the chart does not need in .helmignore)", dir, err)
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

// HiddenBy returns the line of the extension's .helmignore (1-based, and its
// text) that leaves the file out, if one does. A "!" line, which Helm takes
// as "ignore everything this does not match", counts.
func (s *Source) HiddenBy(name string) (line int, rule string, ok bool) {
	if s.helmignore == nil {
		return 0, "", false
	}
	for i, text := range strings.Split(string(bytes.TrimPrefix(s.helmignore, utf8BOM)), "\n") {
		r, err := ignore.Parse(strings.NewReader(text))
		if err != nil || strings.TrimSpace(text) == "" {
			continue
		}
		if ignoredInArchive(&IgnoreRules{helm: r}, name) {
			return i + 1, strings.TrimSpace(text), true
		}
	}
	return 0, "", false
}
