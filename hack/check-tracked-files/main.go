// Command check-tracked-files fails when git tracks a build output: an
// executable binary (ELF, Mach-O, PE) anywhere, or any file over 2 MB outside
// testdata/corpus, whose upstream packages are kept as they were published.
// Run from the repository root: go run ./hack/check-tracked-files
package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
)

const maxSize = 2 << 20

// executableMagic are the first bytes of the executable formats Go builds.
var executableMagic = [][]byte{
	{0x7f, 'E', 'L', 'F'},    // ELF
	{0xcf, 0xfa, 0xed, 0xfe}, // Mach-O 64-bit
	{0xce, 0xfa, 0xed, 0xfe}, // Mach-O 32-bit
	{0xca, 0xfe, 0xba, 0xbe}, // Mach-O universal
	{'M', 'Z'},               // PE (Windows)
}

func main() {
	out, err := exec.Command("git", "ls-files", "-z").Output()
	if err != nil {
		fmt.Fprintln(os.Stderr, "check-tracked-files: git ls-files:", err)
		os.Exit(2)
	}
	var problems []string
	for _, name := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		if p := check(name); p != "" {
			problems = append(problems, p)
		}
	}
	for _, p := range problems {
		fmt.Fprintln(os.Stderr, p)
	}
	if len(problems) > 0 {
		os.Exit(1)
	}
}

// check returns the problem with one tracked file, or "".
func check(name string) string {
	f, err := os.Open(name)
	if err != nil {
		return "" // deleted in the work tree, or a submodule
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil || !info.Mode().IsRegular() {
		return ""
	}
	head := make([]byte, 4)
	n, _ := io.ReadFull(f, head)
	for _, magic := range executableMagic {
		if bytes.HasPrefix(head[:n], magic) {
			return fmt.Sprintf("%s: executable binary tracked by git (a build output? git rm --cached it and list it in .gitignore)", name)
		}
	}
	if info.Size() > maxSize && !strings.HasPrefix(name, "testdata/corpus/") {
		return fmt.Sprintf("%s: %d bytes tracked by git; files over 2 MB belong outside the repository", name, info.Size())
	}
	return ""
}
