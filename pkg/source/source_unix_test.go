//go:build unix

package source

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/ksbuilder/ksbuilder/internal/testutil/fixture"
)

func TestLoadDirRefusesIrregularFiles(t *testing.T) {
	root := t.TempDir()
	fixture.WriteStrings(t, root, map[string]string{"extension.yaml": "x"})
	if err := syscall.Mkfifo(filepath.Join(root, "pipe"), 0o644); err != nil {
		t.Fatalf("mkfifo: %v", err)
	}
	_, err := LoadDir(root)
	if err == nil || !strings.Contains(err.Error(), "cannot package irregular file") {
		t.Fatalf("error = %v", err)
	}
	// Listed in .helmignore, it is never opened.
	fixture.WriteStrings(t, root, map[string]string{".helmignore": "pipe\n"})
	if _, err := LoadDir(root); err != nil {
		t.Fatal(err)
	}
}
