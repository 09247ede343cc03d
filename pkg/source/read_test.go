package source

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestLoadDirReadsEachFileOnce: a file is read into a buffer of its size,
// not grown to it (io.ReadAll copied and cleared about twice its size
// on the way).
func TestLoadDirReadsEachFileOnce(t *testing.T) {
	dir := t.TempDir()
	const size = 1 << 20
	if err := os.WriteFile(filepath.Join(dir, "big.json"), bytes.Repeat([]byte("x"), size), 0o644); err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	src, err := LoadDir(dir)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if data, _ := src.Read("big.json"); len(data) != size {
		t.Fatalf("read %d bytes, want %d", len(data), size)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > size+size/4 {
		t.Errorf("loading a 1 MiB file allocated %d bytes", got)
	}
}

// TestReadAtMostFileGrew: a file larger than its directory entry said is
// read to its end, and never more than one byte past the limit.
func TestReadAtMostFileGrew(t *testing.T) {
	for _, tt := range []struct {
		content     string
		size, limit int64
		want        string
	}{
		{"hello, world", 5, 100, "hello, world"},
		{"hello, world", 0, 100, "hello, world"},
		{"hello, world", 5, 7, "hello, w"},
		{"", 5, 7, ""},
	} {
		got, err := readAtMost(strings.NewReader(tt.content), tt.size, tt.limit)
		if err != nil || string(got) != tt.want {
			t.Errorf("readAtMost(%q, %d, %d) = %q, %v; want %q", tt.content, tt.size, tt.limit, got, err, tt.want)
		}
	}
}
