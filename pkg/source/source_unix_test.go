//go:build unix

package source

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestLoadDirRefusesIrregularFiles(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{"extension.yaml": "x"})
	if err := syscall.Mkfifo(filepath.Join(root, "pipe"), 0o644); err != nil {
		t.Fatalf("mkfifo: %v", err)
	}
	_, err := LoadDir(root)
	if err == nil || !strings.Contains(err.Error(), "cannot package irregular file") {
		t.Fatalf("error = %v", err)
	}
	// Listed in .helmignore, it is never opened.
	writeTree(t, root, map[string]string{".helmignore": "pipe\n"})
	if _, err := LoadDir(root); err != nil {
		t.Fatal(err)
	}
}
