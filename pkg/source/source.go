// Package source reads an extension, from a directory or from a packaged
// .tgz, into an in-memory file set. Directories are walked with the
// extension's .helmignore applied as the walk goes, so ignored content is
// never read; archives are read with limits and refuse unsafe entries. Nothing
// is written to disk.
package source

import (
	"fmt"
	"os"
	"path"
	"sort"
	"strings"
)

// Kind says where a Source came from.
type Kind string

const (
	// Directory is an extension directory on disk.
	Directory Kind = "directory"
	// Archive is a gzip-compressed tar archive.
	Archive Kind = "archive"
)

// File is one file of an extension.
type File struct {
	// Name is the slash-separated path relative to the extension root.
	Name string
	Data []byte
}

// Source is the file set of one extension.
type Source struct {
	// Path is the directory or archive it was read from, as given.
	Path string
	Kind Kind
	// Ignored counts files and directories skipped by .helmignore and the
	// built-in ignore rules.
	Ignored int

	files map[string][]byte
	// helmignore is the .helmignore the rules came from (nil without one).
	helmignore []byte
}

// New builds a Source from files, for callers that assemble one in memory.
func New(p string, kind Kind, files []File) *Source {
	s := &Source{Path: p, Kind: kind, files: make(map[string][]byte, len(files))}
	for _, f := range files {
		s.files[f.Name] = f.Data
	}
	return s
}

// Load reads an extension from a directory or a .tgz archive.
func Load(p string) (*Source, error) {
	fi, err := os.Stat(p)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, fmt.Errorf("%s: no such file or directory", p)
		}
		return nil, err
	}
	if fi.IsDir() {
		return LoadDir(p)
	}
	return LoadArchiveFile(p, DefaultLimits)
}

// Names returns the file names in lexical order.
func (s *Source) Names() []string {
	names := make([]string, 0, len(s.files))
	for n := range s.files {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Files returns the files in lexical order of their names.
func (s *Source) Files() []File {
	names := s.Names()
	out := make([]File, len(names))
	for i, n := range names {
		out[i] = File{Name: n, Data: s.files[n]}
	}
	return out
}

// Len returns the number of files.
func (s *Source) Len() int { return len(s.files) }

// Read returns the content of a file.
func (s *Source) Read(name string) ([]byte, bool) {
	d, ok := s.files[name]
	return d, ok
}

// HasFile reports whether a file exists.
func (s *Source) HasFile(name string) bool {
	_, ok := s.files[name]
	return ok
}

// HasDir reports whether any file lies under the directory.
func (s *Source) HasDir(dir string) bool {
	dir = strings.TrimSuffix(path.Clean(dir), "/") + "/"
	for n := range s.files {
		if strings.HasPrefix(n, dir) {
			return true
		}
	}
	return false
}

// Write adds or replaces a file.
func (s *Source) Write(name string, data []byte) { s.files[name] = data }

// Remove deletes a file.
func (s *Source) Remove(name string) { delete(s.files, name) }

// RemoveDir deletes every file under a directory and returns how many.
func (s *Source) RemoveDir(dir string) int {
	dir = strings.TrimSuffix(path.Clean(dir), "/") + "/"
	n := 0
	for name := range s.files {
		if strings.HasPrefix(name, dir) {
			delete(s.files, name)
			n++
		}
	}
	return n
}

// Size returns the total size of all files in bytes.
func (s *Source) Size() int64 {
	var n int64
	for _, d := range s.files {
		n += int64(len(d))
	}
	return n
}
