// Package golden compares test output with files under testdata, and
// rewrites them when tests run with -update (or UPDATE_GOLDEN=1, which also
// works for "go test ./..." across packages that do not define the flag).
package golden

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files with the current output")

// Updating reports whether golden files are being rewritten.
func Updating() bool {
	return *update || os.Getenv("UPDATE_GOLDEN") == "1"
}

// Assert compares got with the golden file at path (relative to the test's
// package directory), after normalising line endings.
func Assert(t testing.TB, got []byte, path string) {
	t.Helper()
	got = normalize(got)
	if Updating() {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file (run with -update to create it): %v", err)
	}
	want = normalize(want)
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (run with -update to accept):\n--- want\n%s\n--- got\n%s", path, want, got)
	}
}

// AssertString is Assert for strings.
func AssertString(t testing.TB, got, path string) {
	t.Helper()
	Assert(t, []byte(got), path)
}

func normalize(b []byte) []byte {
	return bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
}
