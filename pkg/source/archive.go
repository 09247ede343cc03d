package source

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"helm.sh/helm/v3/pkg/ignore"
)

// ErrUnsafeArchive is wrapped by every refusal of a hostile archive entry.
var ErrUnsafeArchive = errors.New("unsafe archive")

// LoadArchiveFile reads a packaged extension (.tgz) from disk.
func LoadArchiveFile(p string, lim Limits) (*Source, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadArchive(f, p, lim)
}

// ReadArchive reads a gzip-compressed tar archive into memory. Absolute
// paths, ".." components, links, device files and other non-regular entries
// are refused, as are names that could not be extracted everywhere (see
// CheckName), a name used as both a file and a directory, and archives over
// the limits, subchart archives (charts/*.tgz) counted expanded: sizes are
// checked from the headers before anything is read. The top-level directory
// (<name>/ in packages made by Helm or ksbuilder) is stripped; "./" prefixes
// are accepted. The extension's .helmignore applies, as for directories.
func ReadArchive(r io.Reader, name string, lim Limits) (*Source, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("%s: not a gzip-compressed tar archive: %w", name, err)
	}
	defer zr.Close()
	tr := tar.NewReader(zr)

	var (
		entries []entry
		names   = newNameSet()
		budget  = NewBudget(lim)
	)
	refuse := func(format string, args ...any) error {
		return fmt.Errorf("%s: %w: %s", name, ErrUnsafeArchive, fmt.Sprintf(format, args...))
	}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: reading archive: %w", name, err)
		}
		if err := budget.Entry(); err != nil {
			return nil, refuse("%v", err)
		}
		file, err := entryKind(h)
		if err != nil {
			return nil, refuse("%v", err)
		}
		clean, err := cleanEntryName(h.Name)
		if err == nil && clean != "" {
			err = CheckName(clean)
		}
		if err != nil {
			return nil, refuse("%v", err)
		}
		if !file {
			if clean != "" {
				if err := names.addDir(clean); err != nil {
					return nil, refuse("%v", err)
				}
			}
			continue
		}
		if clean == "" {
			return nil, refuse("entry %q is a file named like the archive's root", h.Name)
		}
		if err := names.addFile(clean); err != nil {
			return nil, refuse("%v", err)
		}
		// The declared size is checked before anything is read; the tar
		// reader then yields exactly that many bytes.
		if err := budget.File(fmt.Sprintf("entry %q", clean), h.Size); err != nil {
			return nil, refuse("%v", err)
		}
		data := make([]byte, h.Size)
		if _, err := io.ReadFull(tr, data); err != nil {
			return nil, fmt.Errorf("%s: reading %q: %w", name, clean, err)
		}
		entries = append(entries, entry{clean, data})
	}

	prefix, err := topDirectory(entries)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	files := map[string][]byte{}
	for _, e := range entries {
		files[strings.TrimPrefix(e.name, prefix)] = bytes.TrimPrefix(e.data, utf8BOM)
	}
	src := &Source{Path: name, Kind: Archive, files: files, helmignore: files[ignore.HelmIgnore]}
	rules, err := ParseIgnore(files[ignore.HelmIgnore])
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", name, ignore.HelmIgnore, err)
	}
	for n := range files {
		if ignoredInArchive(rules, n) {
			delete(files, n)
			src.Ignored++
		}
	}
	if err := budget.scanSubchartArchives(files, src.Names()); err != nil {
		return nil, refuse("%v", err)
	}
	return src, nil
}

// cleanEntryName validates a tar entry name and returns it cleaned, with
// any "./" prefix removed. "" means the archive root itself.
func cleanEntryName(n string) (string, error) {
	if strings.Contains(n, `\`) {
		return "", fmt.Errorf("entry %q contains a backslash", n)
	}
	if strings.HasPrefix(n, "/") || (len(n) > 1 && n[1] == ':') {
		return "", fmt.Errorf("entry %q has an absolute path", n)
	}
	for _, part := range strings.Split(n, "/") {
		if part == ".." {
			return "", fmt.Errorf("entry %q leaves the archive directory", n)
		}
	}
	c := path.Clean(n)
	if c == "." {
		return "", nil
	}
	return c, nil
}

// entry is a regular file read from an archive.
type entry struct {
	name string
	data []byte
}

// topDirectory returns the "<dir>/" prefix shared by all entries, or "" when
// extension.yaml sits at the root.
func topDirectory(entries []entry) (string, error) {
	if len(entries) == 0 {
		return "", errors.New("the archive holds no files")
	}
	top := ""
	for _, e := range entries {
		n := e.name
		if n == "extension.yaml" {
			return "", nil
		}
		dir, _, ok := strings.Cut(n, "/")
		if !ok {
			dir = ""
		}
		switch {
		case top == "":
			top = dir
		case dir != top:
			top = "\x00"
		}
	}
	if top == "" || top == "\x00" {
		return "", errors.New("the archive has no extension.yaml at its root or under one top-level directory")
	}
	return top + "/", nil
}

// ignoredInArchive applies ignore rules to a file and to each directory
// above it, as a directory walk would.
func ignoredInArchive(rules *IgnoreRules, name string) bool {
	parts := strings.Split(name, "/")
	for i := 1; i < len(parts); i++ {
		if rules.Ignore(strings.Join(parts[:i], "/"), true) {
			return true
		}
	}
	return rules.Ignore(name, false)
}
