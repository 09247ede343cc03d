package source

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"path"
	"strings"
	"unicode/utf8"

	"github.com/ksbuilder/ksbuilder/pkg/units"
)

// Limits bound what an extension may hold, counted over the files of a
// directory or the entries of an archive and over the content of every
// subchart archive (charts/*.tgz) inside it, at any depth.
type Limits struct {
	// MaxTotalSize is the largest total uncompressed size of all files.
	MaxTotalSize int64
	// MaxEntries is the largest number of files (and, in archives,
	// directory entries).
	MaxEntries int
	// MaxFileSize is the largest uncompressed size of one file; 0 means no
	// limit of its own.
	MaxFileSize int64
}

// DefaultLimits are Helm's: its loader (hence KubeSphere's installer) refuses
// a chart whose files reach 100 MiB uncompressed or any file over 5 MiB, so
// the largest total we take is one byte less. An extension within them is
// far above any real one (the marketplace takes 1 MiB compressed), and a
// hostile one cannot exhaust memory.
var DefaultLimits = Limits{MaxTotalSize: 100*units.MiB - 1, MaxEntries: 10000, MaxFileSize: 5 * units.MiB}

// Name limits: a path component over 255 bytes cannot be created on common
// file systems, and tools that extract a package join its paths to their own.
const (
	MaxNameComponentLength = 255
	MaxNameLength          = 1024
)

// maxArchiveNesting is how deep subchart archives may lie inside each other.
const maxArchiveNesting = 8

// Budget counts files against Limits as they are read. Every check happens
// before the content is read, from the size the file or entry declares.
type Budget struct {
	lim     Limits
	total   int64
	entries int
}

// NewBudget starts counting against lim.
func NewBudget(lim Limits) *Budget { return &Budget{lim: lim} }

// Entry counts one file or directory entry.
func (b *Budget) Entry() error {
	b.entries++
	if b.entries > b.lim.MaxEntries {
		return fmt.Errorf("more than %d entries (files and directories)", b.lim.MaxEntries)
	}
	return nil
}

// Remaining is how many bytes may still be read.
func (b *Budget) Remaining() int64 { return b.lim.MaxTotalSize - b.total }

// Check refuses a file of the given size without counting it.
func (b *Budget) Check(name string, size int64) error {
	if b.lim.MaxFileSize > 0 && size > b.lim.MaxFileSize {
		return &FileTooLargeError{Name: name, Size: size, Limit: b.lim.MaxFileSize}
	}
	if size > b.Remaining() {
		return fmt.Errorf("the files add up to more than %s uncompressed (subchart archives counted expanded)", units.FormatBytes(b.lim.MaxTotalSize))
	}
	return nil
}

// File counts a file of the given size.
func (b *Budget) File(name string, size int64) error {
	if err := b.Check(name, size); err != nil {
		return err
	}
	b.total += size
	return nil
}

// FileTooLargeError is a file over Limits.MaxFileSize.
type FileTooLargeError struct {
	Name        string
	Size, Limit int64
}

func (e *FileTooLargeError) Error() string {
	return fmt.Sprintf("%s is %s, over Helm's limit of %s per file", e.Name, units.FormatBytes(e.Size), units.FormatBytes(e.Limit))
}

// CheckName refuses a slash-separated file name that could not be extracted
// everywhere or would break a one-line message: invalid UTF-8, control
// characters, a component over MaxNameComponentLength bytes or a name over
// MaxNameLength bytes.
func CheckName(name string) error {
	if !utf8.ValidString(name) {
		return fmt.Errorf("name %q is not valid UTF-8", name)
	}
	if strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return fmt.Errorf("name %q contains a control character", name)
	}
	if len(name) > MaxNameLength {
		return fmt.Errorf("name %q... is %d bytes long, over %d", name[:64], len(name), MaxNameLength)
	}
	for _, part := range strings.Split(name, "/") {
		if len(part) > MaxNameComponentLength {
			return fmt.Errorf("name %q... has a component of %d bytes, over %d", name[:64], len(part), MaxNameComponentLength)
		}
	}
	return nil
}

// nameSet refuses a name used twice or both as a file and as a directory.
type nameSet struct {
	files, dirs map[string]bool
}

func newNameSet() *nameSet { return &nameSet{files: map[string]bool{}, dirs: map[string]bool{}} }

func (s *nameSet) addFile(name string) error {
	switch {
	case s.files[name]:
		return fmt.Errorf("entry %q appears more than once", name)
	case s.dirs[name]:
		return fmt.Errorf("entry %q is both a file and a directory", name)
	}
	s.files[name] = true
	return s.addParents(name)
}

func (s *nameSet) addDir(name string) error {
	if s.files[name] {
		return fmt.Errorf("entry %q is both a file and a directory", name)
	}
	s.dirs[name] = true
	return s.addParents(name)
}

func (s *nameSet) addParents(name string) error {
	for dir := path.Dir(name); dir != "."; dir = path.Dir(dir) {
		if s.files[dir] {
			return fmt.Errorf("entry %q is both a file and a directory", dir)
		}
		if s.dirs[dir] {
			break
		}
		s.dirs[dir] = true
	}
	return nil
}

// IsSubchartArchive reports whether Helm's loader expands the file at the
// slash-separated path of a chart as a subchart archive: charts/NAME.tgz,
// also under subchart directories (charts/a/charts/b.tgz), NAME not
// starting with "_" or ".".
func IsSubchartArchive(name string) bool {
	parts := strings.Split(name, "/")
	for i := 0; i+1 < len(parts); i += 2 {
		sub := parts[i+1]
		if parts[i] != "charts" || strings.IndexAny(sub, "_.") == 0 {
			return false
		}
		if i+2 == len(parts) {
			return path.Ext(sub) == ".tgz"
		}
	}
	return false
}

// entryKind classifies a tar entry: regular files are read, directories
// and global headers skipped, anything else refused.
func entryKind(h *tar.Header) (file bool, err error) {
	switch h.Typeflag {
	case tar.TypeXGlobalHeader, tar.TypeDir:
		return false, nil
	case tar.TypeReg:
		if strings.HasSuffix(h.Name, "/") {
			return false, fmt.Errorf("entry %q is a file with a directory's name", h.Name)
		}
		return true, nil
	case tar.TypeSymlink, tar.TypeLink:
		return false, fmt.Errorf("entry %q is a link (to %q); links are not allowed", h.Name, h.Linkname)
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		return false, fmt.Errorf("entry %q is a device or pipe; only regular files are allowed", h.Name)
	}
	return false, fmt.Errorf("entry %q has unsupported type %q; only regular files are allowed", h.Name, string(h.Typeflag))
}

// scanSubchartArchive counts a subchart archive's content against the
// budget and checks its entries as the outer archive's are, reading it as a
// stream: nothing is kept, nested subchart archives included. name is the
// archive's path, for messages. A file that is no valid archive ends the
// scan without an error: it holds nothing more to count, and loading the
// chart reports it.
func (b *Budget) scanSubchartArchive(r io.Reader, name string, depth int) error {
	if depth > maxArchiveNesting {
		return fmt.Errorf("%s: subchart archives nested more than %d deep", name, maxArchiveNesting)
	}
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil
	}
	defer zr.Close()
	tr := tar.NewReader(zr)
	names := newNameSet()
	for {
		h, err := tr.Next()
		if err != nil {
			return nil // io.EOF, or not an archive
		}
		if err := b.Entry(); err != nil {
			return err
		}
		file, err := entryKind(h)
		if err != nil {
			return fmt.Errorf("%s: %v", name, err)
		}
		clean, err := cleanEntryName(h.Name)
		if err == nil && clean != "" {
			err = CheckName(clean)
		}
		if err != nil {
			return fmt.Errorf("%s: %v", name, err)
		}
		if !file {
			if clean != "" {
				if err := names.addDir(clean); err != nil {
					return fmt.Errorf("%s: %v", name, err)
				}
			}
			continue
		}
		if clean == "" {
			return fmt.Errorf("%s: entry %q is a file named like the archive's root", name, h.Name)
		}
		if err := names.addFile(clean); err != nil {
			return fmt.Errorf("%s: %v", name, err)
		}
		if err := b.File(name+"/"+clean, h.Size); err != nil {
			return err
		}
		// Helm strips the chart's top directory before looking for subcharts.
		if _, rel, ok := strings.Cut(clean, "/"); ok && IsSubchartArchive(rel) {
			if err := b.scanSubchartArchive(io.LimitReader(tr, h.Size), name+"/"+clean, depth+1); err != nil {
				return err
			}
		}
	}
}

// scanSubchartArchives counts the content of every subchart archive of the
// file set against the budget.
func (b *Budget) scanSubchartArchives(files map[string][]byte, names []string) error {
	for _, n := range names {
		if IsSubchartArchive(n) {
			if err := b.scanSubchartArchive(bytes.NewReader(files[n]), n, 1); err != nil {
				return err
			}
		}
	}
	return nil
}

// FileInfo is a file of an archive about to be written.
type FileInfo struct {
	// Name is the slash-separated path inside the archive.
	Name string
	Size int64
}

// CheckFiles applies the archive reader's checks to the files of an archive
// about to be written, so that a writer never produces an archive that
// ReadArchive, or Helm's loader, refuses: the limits, the names, a name
// used twice or as both a file and a directory.
func CheckFiles(lim Limits, files []FileInfo) error {
	b := NewBudget(lim)
	names := newNameSet()
	for _, f := range files {
		if err := CheckName(f.Name); err != nil {
			return err
		}
		if err := names.addFile(f.Name); err != nil {
			return err
		}
		if err := b.Entry(); err != nil {
			return err
		}
		if err := b.File(f.Name, f.Size); err != nil {
			return err
		}
	}
	return nil
}
