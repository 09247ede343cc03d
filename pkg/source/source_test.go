package source

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ksbuilder/ksbuilder/internal/testutil/fixture"
)

// tarEntry describes one entry of a test archive.
type tarEntry struct {
	name     string
	body     string
	typeflag byte
	linkname string
}

func makeTgz(t testing.TB, entries []tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: 0o644, Typeflag: e.typeflag, Linkname: e.linkname, Size: int64(len(e.body))}
		if h.Typeflag == tar.TypeXGlobalHeader {
			h = &tar.Header{Typeflag: tar.TypeXGlobalHeader, PAXRecords: map[string]string{"comment": "git"}}
		}
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Typeflag != tar.TypeReg {
			h.Size = 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := tw.Write([]byte(e.body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestReadArchive(t *testing.T) {
	tests := []struct {
		name    string
		entries []tarEntry
		want    []string
	}{
		{"top directory stripped", []tarEntry{{name: "hello/", typeflag: tar.TypeDir}, {name: "hello/extension.yaml", body: "x"}, {name: "hello/charts/a/Chart.yaml", body: "y"}}, []string{"charts/a/Chart.yaml", "extension.yaml"}},
		{"root layout kept", []tarEntry{{name: "extension.yaml", body: "x"}, {name: "values.yaml", body: "y"}}, []string{"extension.yaml", "values.yaml"}},
		{"dot-slash prefix", []tarEntry{{name: "./", typeflag: tar.TypeDir}, {name: "./extension.yaml", body: "x"}, {name: "./static/icon.svg", body: "y"}}, []string{"extension.yaml", "static/icon.svg"}},
		{"dot-slash and top directory", []tarEntry{{name: "./hello/extension.yaml", body: "x"}, {name: "./hello/README.md", body: "y"}}, []string{"README.md", "extension.yaml"}},
		{"helmignore applied", []tarEntry{{name: "h/extension.yaml", body: "x"}, {name: "h/.helmignore", body: "docs/\n*.bak\n"}, {name: "h/docs/a.png", body: "big"}, {name: "h/x.bak", body: "old"}, {name: "h/old-0.1.0.tgz", body: "pkg"}, {name: "h/charts/dep-1.0.0.tgz", body: "dep"}}, []string{".helmignore", "charts/dep-1.0.0.tgz", "extension.yaml"}},
		{"pax global header skipped", []tarEntry{{name: "pax_global_header", typeflag: tar.TypeXGlobalHeader}, {name: "h/extension.yaml", body: "x"}}, []string{"extension.yaml"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, err := ReadArchive(bytes.NewReader(makeTgz(t, tt.entries)), "test.tgz", DefaultLimits)
			if err != nil {
				t.Fatal(err)
			}
			if got := src.Names(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("names = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestReadArchiveRefusesHostileInput builds every hostile archive in the test.
func TestReadArchiveRefusesHostileInput(t *testing.T) {
	many := make([]tarEntry, 0, 11)
	for i := 0; i < 11; i++ {
		many = append(many, tarEntry{name: "h/f" + strings.Repeat("x", i), body: "x"})
	}
	tests := []struct {
		name    string
		entries []tarEntry
		limits  Limits
		wantErr string
	}{
		{"absolute path", []tarEntry{{name: "/etc/passwd", body: "x"}}, DefaultLimits, `entry "/etc/passwd" has an absolute path`},
		{"dot-dot", []tarEntry{{name: "h/../../evil", body: "x"}}, DefaultLimits, `entry "h/../../evil" leaves the archive directory`},
		{"dot-dot directory", []tarEntry{{name: "../", typeflag: tar.TypeDir}}, DefaultLimits, `leaves the archive directory`},
		{"windows drive", []tarEntry{{name: "C:/evil", body: "x"}}, DefaultLimits, `has an absolute path`},
		{"backslash", []tarEntry{{name: `h\..\evil`, body: "x"}}, DefaultLimits, `contains a backslash`},
		{"symlink", []tarEntry{{name: "h/link", typeflag: tar.TypeSymlink, linkname: "/etc/passwd"}}, DefaultLimits, `entry "h/link" is a link (to "/etc/passwd")`},
		{"hard link", []tarEntry{{name: "h/a", body: "x"}, {name: "h/b", typeflag: tar.TypeLink, linkname: "h/a"}}, DefaultLimits, `entry "h/b" is a link`},
		{"device", []tarEntry{{name: "h/dev", typeflag: tar.TypeChar}}, DefaultLimits, `is a device or pipe`},
		{"fifo", []tarEntry{{name: "h/fifo", typeflag: tar.TypeFifo}}, DefaultLimits, `is a device or pipe`},
		{"duplicate", []tarEntry{{name: "h/a", body: "x"}, {name: "h/./a", body: "y"}}, DefaultLimits, `entry "h/a" appears more than once`},
		{"too many entries", many, Limits{MaxTotalSize: 1 << 20, MaxEntries: 10}, "more than 10 entries"},
		{"too large", []tarEntry{{name: "h/a", body: strings.Repeat("a", 600)}, {name: "h/b", body: strings.Repeat("b", 600)}}, Limits{MaxTotalSize: 1000, MaxEntries: 10}, "more than 1000 B uncompressed"},
		{"no common top directory", []tarEntry{{name: "a/x", body: "x"}, {name: "b/y", body: "y"}}, DefaultLimits, "no extension.yaml at its root or under one top-level directory"},
		{"empty", nil, DefaultLimits, "the archive holds no files"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadArchive(bytes.NewReader(makeTgz(t, tt.entries)), "test.tgz", tt.limits)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
			}
			if !strings.HasPrefix(err.Error(), "test.tgz: ") {
				t.Errorf("error %q does not name the archive", err)
			}
		})
	}
}

// TestReadArchiveBomb checks that a highly compressed archive is stopped at
// the limit without reading it all.
func TestReadArchiveBomb(t *testing.T) {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	tw := tar.NewWriter(zw)
	chunk := make([]byte, 5<<20)
	for i := 0; i < 25; i++ {
		if err := tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("h/zeros%d", i), Mode: 0o644, Size: int64(len(chunk)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(chunk); err != nil {
			t.Fatal(err)
		}
	}
	tw.Close()
	zw.Close()
	_, err := ReadArchive(&buf, "bomb.tgz", DefaultLimits)
	if !errors.Is(err, ErrUnsafeArchive) || !strings.Contains(err.Error(), "more than 100.0 MiB uncompressed") {
		t.Fatalf("error = %v", err)
	}
}

func TestReadArchiveNotGzip(t *testing.T) {
	_, err := ReadArchive(strings.NewReader("PK\x03\x04 zip"), "x.zip", DefaultLimits)
	if err == nil || !strings.Contains(err.Error(), "x.zip: not a gzip-compressed tar archive") {
		t.Fatalf("error = %v", err)
	}
}

func TestLoadDir(t *testing.T) {
	root := t.TempDir()
	fixture.WriteStrings(t, root, map[string]string{
		"extension.yaml":               "\xEF\xBB\xBFname: x",
		".helmignore":                  "# comment\nnode_modules/\n*.log\n/secret.txt\n",
		"values.yaml":                  "a: 1",
		"node_modules/big/index.js":    "ignored",
		"app.log":                      "ignored",
		"secret.txt":                   "ignored",
		"charts/sub/secret.txt":        "kept: the / rule anchors at the root",
		"charts/sub/templates/.hidden": "kept: only the top chart's templates/.* is ignored",
		"templates/.hidden":            "ignored by Helm's default rule",
		"hello-0.1.0.tgz":              "ignored: a previous package",
		"charts/dep-1.0.0.tgz":         "kept: a subchart",
		".git/config":                  "ignored",
		"charts/sub/.git/HEAD":         "ignored",
	})
	src, err := LoadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{".helmignore", "charts/dep-1.0.0.tgz", "charts/sub/secret.txt", "charts/sub/templates/.hidden", "extension.yaml", "values.yaml"}
	if got := src.Names(); !reflect.DeepEqual(got, want) {
		t.Errorf("names = %q\nwant %q", got, want)
	}
	if data, _ := src.Read("extension.yaml"); string(data) != "name: x" {
		t.Errorf("BOM not stripped: %q", data)
	}
	if src.Ignored != 7 {
		t.Errorf("Ignored = %d, want 7", src.Ignored)
	}
	if !src.HasDir("charts") || !src.HasDir("charts/sub/") || src.HasDir("chart") {
		t.Error("HasDir")
	}
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

func TestLoadDirSymlinks(t *testing.T) {
	root := t.TempDir()
	fixture.WriteStrings(t, root, map[string]string{"extension.yaml": "x", "real/a.txt": "a", "sub/b.txt": "b"})
	// Links that stay inside the extension, however they are written.
	symlink(t, filepath.Join(root, "real"), filepath.Join(root, "alias"))
	symlink(t, "../real/a.txt", filepath.Join(root, "sub", "up.txt"))
	symlink(t, filepath.Join("..", filepath.Base(root), "real", "a.txt"), filepath.Join(root, "round.txt"))
	symlink(t, "sub/up.txt", filepath.Join(root, "chain.txt"))
	src, err := LoadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"alias/a.txt", "chain.txt", "extension.yaml", "real/a.txt", "round.txt", "sub/b.txt", "sub/up.txt"}
	if got := src.Names(); !reflect.DeepEqual(got, want) {
		t.Errorf("names = %q, want %q", got, want)
	}
	if data, _ := src.Read("chain.txt"); string(data) != "a" {
		t.Errorf("chain.txt = %q", data)
	}

	symlink(t, root, filepath.Join(root, "real", "loop"))
	if _, err := LoadDir(root); err == nil || !strings.Contains(err.Error(), "symbolic link cycle") {
		t.Errorf("loop: error = %v", err)
	}
	os.Remove(filepath.Join(root, "real", "loop"))

	symlink(t, filepath.Join(root, "missing"), filepath.Join(root, "broken"))
	if _, err := LoadDir(root); err == nil || !strings.Contains(err.Error(), "broken symbolic link") {
		t.Errorf("broken link: error = %v", err)
	}
	fixture.WriteStrings(t, root, map[string]string{".helmignore": "broken\n"})
	if _, err := LoadDir(root); err != nil {
		t.Errorf("ignored broken link: %v", err)
	}
}

// TestLoadDirSymlinksOutside checks that no link can bring a file from
// outside the extension into it, while .helmignore'd links do not matter.
func TestLoadDirSymlinksOutside(t *testing.T) {
	outside := t.TempDir()
	fixture.WriteStrings(t, outside, map[string]string{"passwd": "root:x:0:0", "keys/id_rsa": "secret"})
	realOutside, err := filepath.EvalSymlinks(outside)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, link, target string
		want               string
	}{
		{"file", "static/passwd", filepath.Join(outside, "passwd"),
			"static/passwd: symbolic link to " + filepath.Join(outside, "passwd") + " leaves the extension directory (replace it with the file, or remove it)"},
		{"directory", "static/keys", filepath.Join(outside, "keys"), "static/keys: symbolic link to " + filepath.Join(outside, "keys") + " leaves"},
		{"relative", "static/up", "../../" + filepath.Base(outside) + "/passwd",
			"static/up: symbolic link to ../../" + filepath.Base(outside) + "/passwd (" + filepath.Join(realOutside, "passwd") + ") leaves"},
		{"through an inside link", "static/hop", "../out", "static/hop: symbolic link to ../out (" + filepath.Join(realOutside, "passwd") + ") leaves"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parent := filepath.Dir(outside)
			root, err := os.MkdirTemp(parent, "ext-")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.RemoveAll(root) })
			fixture.WriteStrings(t, root, map[string]string{"extension.yaml": "x", "static/icon.svg": "<svg/>"})
			symlink(t, tt.target, filepath.Join(root, filepath.FromSlash(tt.link)))
			if tt.name == "through an inside link" {
				// out is itself listed in .helmignore, but hop leads through it.
				symlink(t, filepath.Join(outside, "passwd"), filepath.Join(root, "out"))
				fixture.WriteStrings(t, root, map[string]string{".helmignore": "out\n"})
			}
			src, err := LoadDir(root)
			if err == nil {
				t.Fatalf("loaded %q", src.Names())
			}
			if want := root + string(filepath.Separator) + tt.want; !strings.HasPrefix(err.Error(), want) {
				t.Errorf("error = %v\nwant prefix %s", err, want)
			}

			// Listed in .helmignore, the link is never followed.
			fixture.WriteStrings(t, root, map[string]string{".helmignore": "out\n" + tt.link + "\n"})
			src, err = LoadDir(root)
			if err != nil {
				t.Fatalf("ignored link: %v", err)
			}
			if src.HasFile(tt.link) || src.HasDir(tt.link) {
				t.Errorf("ignored link read: %q", src.Names())
			}
		})
	}
}

// TestLoadDirThroughLinkedRoot checks that a root reached through a link
// (as /tmp is on macOS) still accepts links inside it, written either way.
func TestLoadDirThroughLinkedRoot(t *testing.T) {
	root := t.TempDir()
	fixture.WriteStrings(t, root, map[string]string{"extension.yaml": "x", "real/a.txt": "a"})
	linked := filepath.Join(t.TempDir(), "linked")
	symlink(t, root, linked)
	symlink(t, filepath.Join(linked, "real", "a.txt"), filepath.Join(root, "via-link.txt"))
	symlink(t, filepath.Join(root, "real", "a.txt"), filepath.Join(root, "direct.txt"))
	src, err := LoadDir(linked)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"direct.txt", "extension.yaml", "real/a.txt", "via-link.txt"}
	if got := src.Names(); !reflect.DeepEqual(got, want) {
		t.Errorf("names = %q, want %q", got, want)
	}
}

func TestLoadDirBadHelmignore(t *testing.T) {
	root := t.TempDir()
	fixture.WriteStrings(t, root, map[string]string{"extension.yaml": "x", ".helmignore": "docs/**/*.png\n"})
	_, err := LoadDir(root)
	if err == nil || !strings.Contains(err.Error(), ".helmignore: double-star (**) syntax is not supported") {
		t.Fatalf("error = %v", err)
	}
}

func TestLoad(t *testing.T) {
	if _, err := Load(filepath.Join(t.TempDir(), "nope")); err == nil || !strings.Contains(err.Error(), "no such file or directory") {
		t.Errorf("missing path: %v", err)
	}
	p := filepath.Join(t.TempDir(), "x.tgz")
	if err := os.WriteFile(p, makeTgz(t, []tarEntry{{name: "x/extension.yaml", body: "name: x"}}), 0o644); err != nil {
		t.Fatal(err)
	}
	src, err := Load(p)
	if err != nil || src.Kind != Archive || !src.HasFile("extension.yaml") {
		t.Fatalf("Load(tgz) = %+v, %v", src, err)
	}
}

// FuzzReadArchive checks that arbitrary archives never panic and that
// whatever is accepted stays inside the package.
func FuzzReadArchive(f *testing.F) {
	f.Add(makeTgz(f, []tarEntry{{name: "h/extension.yaml", body: "name: h"}, {name: "h/charts/a.tgz", body: "x"}}))
	f.Add(makeTgz(f, []tarEntry{{name: "../x", body: "x"}}))
	f.Add(makeTgz(f, []tarEntry{{name: "./a/b/../c", body: "x"}, {name: "./a/.helmignore", body: "c\n"}}))
	f.Add([]byte{0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		src, err := ReadArchive(bytes.NewReader(data), "fuzz.tgz", Limits{MaxTotalSize: 1 << 20, MaxEntries: 100})
		if err != nil {
			return
		}
		for _, n := range src.Names() {
			if n == "" || strings.HasPrefix(n, "/") || n == ".." || strings.HasPrefix(n, "../") || strings.Contains(n, "/../") || strings.Contains(n, `\`) {
				t.Fatalf("unsafe name accepted: %q", n)
			}
		}
	})
}
