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

	"github.com/ksbuilder/ksbuilder/pkg/units"
)

// Limits bound what an archive may hold.
type Limits struct {
	// MaxTotalSize is the largest total uncompressed size of all files.
	MaxTotalSize int64
	// MaxEntries is the largest number of tar entries, directories included.
	MaxEntries int
}

// DefaultLimits are far above any real extension (the marketplace takes
// 1 MiB compressed) and keep a hostile archive from exhausting memory.
var DefaultLimits = Limits{MaxTotalSize: 100 * units.MiB, MaxEntries: 10000}

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
// are refused, as are archives over the limits. The top-level directory
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
		seen    = map[string]bool{}
		total   int64
		count   int
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
		count++
		if count > lim.MaxEntries {
			return nil, refuse("more than %d entries", lim.MaxEntries)
		}
		switch h.Typeflag {
		case tar.TypeXGlobalHeader:
			continue
		case tar.TypeDir:
			if _, err := cleanEntryName(h.Name); err != nil {
				return nil, refuse("%v", err)
			}
			continue
		case tar.TypeReg:
		case tar.TypeSymlink, tar.TypeLink:
			return nil, refuse("entry %q is a link (to %q); links are not allowed", h.Name, h.Linkname)
		case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
			return nil, refuse("entry %q is a device or pipe; only regular files are allowed", h.Name)
		default:
			return nil, refuse("entry %q has unsupported type %q; only regular files are allowed", h.Name, string(h.Typeflag))
		}
		clean, err := cleanEntryName(h.Name)
		if err != nil {
			return nil, refuse("%v", err)
		}
		if clean == "" {
			continue
		}
		if seen[clean] {
			return nil, refuse("entry %q appears more than once", clean)
		}
		seen[clean] = true
		var buf bytes.Buffer
		n, err := io.CopyN(&buf, tr, lim.MaxTotalSize-total+1)
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: reading %q: %w", name, clean, err)
		}
		total += n
		if total > lim.MaxTotalSize {
			return nil, refuse("more than %s uncompressed", units.FormatBytes(lim.MaxTotalSize))
		}
		entries = append(entries, entry{clean, buf.Bytes()})
	}

	prefix, err := topDirectory(entries)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	files := map[string][]byte{}
	for _, e := range entries {
		files[strings.TrimPrefix(e.name, prefix)] = bytes.TrimPrefix(e.data, utf8BOM)
	}
	src := &Source{Path: name, Kind: Archive, files: files}
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
