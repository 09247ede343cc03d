package source

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chart/loader"

	"github.com/ksbuilder/ksbuilder/internal/testutil/fixture"
	"github.com/ksbuilder/ksbuilder/pkg/units"
)

// rawEntry is an entry of a GNU-format test archive, whose names may be
// anything; zeros is a body of that many zero bytes, written as a stream.
type rawEntry struct {
	name     string
	typeflag byte
	body     []byte
	zeros    int64
}

// gnuTgz builds a gzip-compressed GNU tar archive.
func gnuTgz(t testing.TB, entries ...rawEntry) []byte {
	t.Helper()
	return gzipped(t, gnuTar(t, entries...))
}

func gzipped(t testing.TB, data []byte) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// renameEntry renames the entry called from to to (of the same length) in
// an uncompressed tar, for names archive/tar refuses to write.
func renameEntry(t testing.TB, data []byte, from, to string) []byte {
	t.Helper()
	for off := 0; off+512 <= len(data); off += 512 {
		h := data[off : off+512]
		if !bytes.HasPrefix(h, append([]byte(from), 0)) {
			continue
		}
		copy(h, to)
		copy(h[148:156], "        ")
		sum := 0
		for _, c := range h {
			sum += int(c)
		}
		copy(h[148:156], fmt.Sprintf("%06o\x00 ", sum))
		return data
	}
	t.Fatalf("no entry %q", from)
	return nil
}

// gnuTar builds a GNU tar archive.
func gnuTar(t testing.TB, entries ...rawEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		typ := e.typeflag
		if typ == 0 {
			typ = tar.TypeReg
		}
		size := int64(len(e.body)) + e.zeros
		if err := tw.WriteHeader(&tar.Header{Name: e.name, Typeflag: typ, Mode: 0o644, Size: size, Format: tar.FormatGNU}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(e.body); err != nil {
			t.Fatal(err)
		}
		zero := make([]byte, 64<<10)
		for left := e.zeros; left > 0; left -= int64(len(zero)) {
			if _, err := tw.Write(zero[:min(left, int64(len(zero)))]); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestReadArchiveRefusesBadNames checks entries that tar cannot extract, or
// that would be re-emitted into packages it cannot extract, are refused by
// name.
func TestReadArchiveRefusesBadNames(t *testing.T) {
	long := "h/" + strings.Repeat("x", 200_000)
	tests := []struct {
		name    string
		entries []rawEntry
		wantErr string
	}{
		{"file and directory of the same name", []rawEntry{{name: "h/extension.yaml"}, {name: "h/a"}, {name: "h/a/b"}}, `entry "h/a" is both a file and a directory`},
		{"directory then file", []rawEntry{{name: "h/extension.yaml"}, {name: "h/a/", typeflag: tar.TypeDir}, {name: "h/a"}}, `entry "h/a" is both a file and a directory`},
		{"file then directory entry", []rawEntry{{name: "h/extension.yaml"}, {name: "h/a"}, {name: "h/a/", typeflag: tar.TypeDir}}, `entry "h/a" is both a file and a directory`},
		{"non-UTF-8 name", []rawEntry{{name: "h/extension.yaml"}, {name: "h/\xff\xfe.yaml"}}, `name "h/\xff\xfe.yaml" is not valid UTF-8`},
		{"control character", []rawEntry{{name: "h/extension.yaml"}, {name: "h/a\nb"}}, `name "h/a\nb" contains a control character`},
		{"200 KB name", []rawEntry{{name: "h/extension.yaml"}, {name: long}}, fmt.Sprintf("is %d bytes long, over 1024", len(long))},
		{"long component", []rawEntry{{name: "h/extension.yaml"}, {name: "h/" + strings.Repeat("y", 256)}}, "has a component of 256 bytes, over 255"},
		{"regular file named like a directory", []rawEntry{{name: "h/extension.yaml"}, {name: "h/a_", body: []byte("x")}}, `entry "h/a/" is a file with a directory's name`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := gnuTar(t, tt.entries...)
			if strings.Contains(tt.wantErr, "h/a/") {
				data = renameEntry(t, data, "h/a_", "h/a/")
			}
			_, err := ReadArchive(bytes.NewReader(gzipped(t, data)), "test.tgz", DefaultLimits)
			if !errors.Is(err, ErrUnsafeArchive) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %.300v, want one containing %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans several lines: %q", err)
			}
		})
	}
}

// TestReadArchiveRootEntry checks that a regular entry named "./" (the
// archive's root) is refused before its content is read: here the archive
// ends after a few bytes of a declared 4 GiB, so reading it would fail
// differently.
func TestReadArchiveRootEntry(t *testing.T) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Name: "._", Typeflag: tar.TypeReg, Mode: 0o644, Size: 4 << 30}); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write(make([]byte, 4096)); err != nil {
		t.Fatal(err)
	}
	data := renameEntry(t, buf.Bytes(), "._", "./")
	_, err := ReadArchive(bytes.NewReader(gzipped(t, data)), "root.tgz", DefaultLimits)
	if !errors.Is(err, ErrUnsafeArchive) || !strings.Contains(err.Error(), `entry "./" is a file`) {
		t.Fatalf("error = %v", err)
	}
}

// TestReadArchiveFileSize checks Helm's per-file limit, from the header,
// before reading: exactly 5 MiB passes, one byte more is refused.
func TestReadArchiveFileSize(t *testing.T) {
	ok := gnuTgz(t, rawEntry{name: "h/extension.yaml"}, rawEntry{name: "h/values.yaml", zeros: 5 * units.MiB})
	if _, err := ReadArchive(bytes.NewReader(ok), "ok.tgz", DefaultLimits); err != nil {
		t.Fatal(err)
	}
	big := gnuTgz(t, rawEntry{name: "h/extension.yaml"}, rawEntry{name: "h/values.yaml", zeros: 5*units.MiB + 1})
	_, err := ReadArchive(bytes.NewReader(big), "big.tgz", DefaultLimits)
	want := `entry "h/values.yaml" is 5.0 MiB, over Helm's limit of 5.0 MiB per file`
	if !errors.Is(err, ErrUnsafeArchive) || !strings.Contains(err.Error(), want) {
		t.Fatalf("error = %v, want %q", err, want)
	}
}

// smallLimits keep the nested-archive tests cheap.
var smallLimits = Limits{MaxTotalSize: 4 * units.MiB, MaxEntries: 50, MaxFileSize: 2 * units.MiB}

// subchartTgz is a subchart archive holding a file of that many zeros.
func subchartTgz(t testing.TB, name string, zeros int64, more ...rawEntry) []byte {
	return gnuTgz(t, append([]rawEntry{{name: name + "/Chart.yaml", body: []byte("name: " + name)}, {name: name + "/values.yaml", zeros: zeros}}, more...)...)
}

// TestSubchartArchivesCountExpanded checks that charts/*.tgz count
// against the budget with their expanded size, at any depth, for archives
// and directories alike; each subchart alone is within every limit.
func TestSubchartArchivesCountExpanded(t *testing.T) {
	const each = 1500 * units.KiB
	flat := []rawEntry{{name: "h/extension.yaml", body: []byte("name: h")}}
	for i := 0; i < 3; i++ {
		flat = append(flat, rawEntry{name: fmt.Sprintf("h/charts/sub%d.tgz", i), body: subchartTgz(t, fmt.Sprintf("sub%d", i), each)})
	}
	inner := subchartTgz(t, "inner", each)
	middle := subchartTgz(t, "middle", each, rawEntry{name: "middle/charts/inner.tgz", body: inner},
		rawEntry{name: "middle/charts/inner2.tgz", body: subchartTgz(t, "inner2", each)})
	nested := []rawEntry{{name: "h/extension.yaml", body: []byte("name: h")}, {name: "h/charts/a/Chart.yaml", body: []byte("name: a")},
		{name: "h/charts/a/charts/middle.tgz", body: middle}}
	manyEntries := []rawEntry{{name: "h/extension.yaml", body: []byte("name: h")}}
	var sub []rawEntry
	for i := 0; i < 60; i++ {
		sub = append(sub, rawEntry{name: fmt.Sprintf("s/f%d", i)})
	}
	manyEntries = append(manyEntries, rawEntry{name: "h/charts/s.tgz", body: gnuTgz(t, sub...)})
	hostileEntry := []rawEntry{{name: "h/extension.yaml"}, {name: "h/charts/s.tgz", body: gnuTgz(t, rawEntry{name: "s/../../x"})}}

	tests := []struct {
		name    string
		entries []rawEntry
		wantErr string
	}{
		{"three subchart archives", flat, "the files add up to more than 4.0 MiB uncompressed"},
		{"archives inside a subchart directory and a subchart archive", nested, "the files add up to more than 4.0 MiB uncompressed"},
		{"entries of a subchart archive", manyEntries, "more than 50 entries"},
		{"hostile entry in a subchart archive", hostileEntry, `charts/s.tgz: entry "s/../../x" leaves the archive directory`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadArchive(bytes.NewReader(gnuTgz(t, tt.entries...)), "test.tgz", smallLimits)
			if !errors.Is(err, ErrUnsafeArchive) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("archive: error = %v, want one containing %q", err, tt.wantErr)
			}
			dir := t.TempDir()
			for _, e := range tt.entries {
				if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(e.name)), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, e.name), e.body, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			_, err = loadDir(filepath.Join(dir, "h"), smallLimits)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("directory: error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}

	// Within the budget, the same layout loads.
	ok := []rawEntry{{name: "h/extension.yaml", body: []byte("name: h")}, {name: "h/charts/sub.tgz", body: subchartTgz(t, "sub", each)}}
	if _, err := ReadArchive(bytes.NewReader(gnuTgz(t, ok...)), "ok.tgz", smallLimits); err != nil {
		t.Fatal(err)
	}
}

// TestLoadDirChecksSizeBeforeReading checks that a huge (sparse) file is
// refused from its directory entry, naming it and Helm's per-file limit.
func TestLoadDirChecksSizeBeforeReading(t *testing.T) {
	root := t.TempDir()
	fixture.WriteStrings(t, root, map[string]string{"extension.yaml": "name: x"})
	if err := os.Mkdir(filepath.Join(root, "static"), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(root, "static", "big.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(3 << 30); err != nil {
		t.Fatal(err)
	}
	f.Close()
	_, err = LoadDir(root)
	want := "static/big.bin is 3072.0 MiB, over Helm's limit of 5.0 MiB per file (list it in .helmignore"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error = %v, want one containing %q", err, want)
	}
}

// TestLoadDirTotalSize checks the total budget of a directory, each file
// within the per-file limit.
func TestLoadDirTotalSize(t *testing.T) {
	root := t.TempDir()
	files := map[string]string{"extension.yaml": "name: x"}
	for i := 0; i < 3; i++ {
		files[fmt.Sprintf("static/f%d", i)] = strings.Repeat("x", 1500<<10)
	}
	fixture.WriteStrings(t, root, files)
	_, err := loadDir(root, smallLimits)
	if err == nil || !strings.Contains(err.Error(), "the files add up to more than 4.0 MiB uncompressed") {
		t.Fatalf("error = %v", err)
	}
}

// TestLoadDirRefusesBadNames checks that names tar could not extract are
// refused by the directory reader too.
func TestLoadDirRefusesBadNames(t *testing.T) {
	root := t.TempDir()
	fixture.WriteStrings(t, root, map[string]string{"extension.yaml": "name: x"})
	if err := os.WriteFile(filepath.Join(root, "a\x01b"), nil, 0o644); err != nil {
		t.Skip("the file system takes no control characters:", err)
	}
	_, err := LoadDir(root)
	if err == nil || !strings.Contains(err.Error(), `name "a\x01b" contains a control character (rename it, or list it in .helmignore)`) {
		t.Fatalf("error = %v", err)
	}
}

// TestDefaultLimitsWithinHelm checks that we refuse at least what Helm's
// loader refuses.
func TestDefaultLimitsWithinHelm(t *testing.T) {
	if DefaultLimits.MaxTotalSize >= loader.MaxDecompressedChartSize || DefaultLimits.MaxFileSize > loader.MaxDecompressedFileSize {
		t.Fatalf("DefaultLimits %+v exceed Helm's (%d total, %d per file)", DefaultLimits, loader.MaxDecompressedChartSize, loader.MaxDecompressedFileSize)
	}
}

func TestIsSubchartArchive(t *testing.T) {
	for name, want := range map[string]bool{
		"charts/a.tgz":                   true,
		"charts/a/charts/b.tgz":          true,
		"charts/a/charts/b/charts/c.tgz": true,
		"charts/_a.tgz":                  false,
		"charts/.a.tgz":                  false,
		"charts/a.TGZ":                   false,
		"charts/a.tgz/x":                 false,
		"charts/a/b.tgz":                 false,
		"static/charts/a.tgz":            false,
		"a.tgz":                          false,
		"charts/_a/charts/b.tgz":         false,
	} {
		if got := IsSubchartArchive(name); got != want {
			t.Errorf("IsSubchartArchive(%q) = %v, want %v", name, got, want)
		}
	}
}
