package source

import (
	"bytes"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParseIgnore checks that any .helmignore parses or fails without a
// panic, that matching any path never panics, and that the line HiddenBy
// names exists.
func FuzzParseIgnore(f *testing.F) {
	f.Add([]byte("# comment\nnode_modules/\n*.log\n/secret.txt\n!templates/\n"), "extension.yaml")
	f.Add([]byte("\ufeff**/x\n[a-\n\\!x\n"), "a/b/x")
	f.Add([]byte("!\n/\n.\n"), "charts/a/templates/.x")
	f.Fuzz(func(t *testing.T, helmignore []byte, name string) {
		rules, err := ParseIgnore(helmignore)
		if err != nil {
			return
		}
		rules.Ignore(name, true)
		rules.Ignore(name, false)
		src := &Source{helmignore: helmignore}
		if line, rule, ok := src.HiddenBy(name); ok {
			lines := strings.Split(string(helmignore), "\n")
			if line < 1 || line > len(lines) || rule == "" {
				t.Fatalf("HiddenBy(%q) = line %d (%q) of %d", name, line, rule, len(lines))
			}
		}
	})
}

// FuzzLoadDir writes files named by the input into a directory and checks
// that the walker never panics and that what it takes is what was written,
// under clean names within the limits.
func FuzzLoadDir(f *testing.F) {
	f.Add([]byte("extension.yaml\x00name: x\x00.helmignore\x00*.log\n!static/\x00static/a.log\x00x\x00templates/.h\x00y"))
	f.Add([]byte("a/b/c\x00\xef\xbb\xbfz\x00a/.git/config\x00x\x00old-1.0.0.tgz\x00p"))
	f.Add([]byte("charts/s.tgz\x00\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff\x00.ksbuilder-tmp-1-2-x.tgz\x00t"))
	f.Fuzz(func(t *testing.T, spec []byte) {
		dir := t.TempDir()
		parts := bytes.Split(spec, []byte{0})
		written := map[string][]byte{}
		for i := 0; i+1 < len(parts) && i < 40; i += 2 {
			name := string(parts[i])
			clean := path.Clean(name)
			if name == "" || clean != name || strings.HasPrefix(clean, "../") || clean == ".." || clean == "." ||
				path.IsAbs(clean) || strings.ContainsAny(name, "\\:") {
				continue
			}
			p := filepath.Join(dir, filepath.FromSlash(clean))
			if os.MkdirAll(filepath.Dir(p), 0o755) != nil || os.WriteFile(p, parts[i+1], 0o644) != nil {
				continue
			}
			written[clean] = parts[i+1]
		}
		src, err := LoadDir(dir)
		if err != nil {
			return
		}
		if src.Size() > DefaultLimits.MaxTotalSize {
			t.Fatalf("%d bytes taken", src.Size())
		}
		for _, f := range src.Files() {
			if err := CheckName(f.Name); err != nil {
				t.Fatal(err)
			}
			want, ok := written[f.Name]
			if !ok {
				t.Fatalf("%q taken but not written (as a file)", f.Name)
			}
			if !bytes.Equal(f.Data, bytes.TrimPrefix(want, utf8BOM)) {
				t.Fatalf("%q: content differs", f.Name)
			}
			if IsTempFile(path.Base(f.Name)) {
				t.Fatalf("temporary file %q taken", f.Name)
			}
		}
	})
}
