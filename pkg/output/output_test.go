package output

import (
	"strings"
	"testing"
)

// TestTableRowSanitized: a cell (often a server's text) prints on one line,
// without escape sequences, capped.
func TestTableRowSanitized(t *testing.T) {
	var b strings.Builder
	tbl := NewTable(&b, "name", "description")
	tbl.Row("\x1b[2Jdemo", "line one\nline two\t"+strings.Repeat("x", 10<<20))
	if err := tbl.Flush(); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if strings.Contains(out, "\x1b") || strings.Count(out, "\n") != 2 || len(out) > 2048 || !strings.Contains(out, "demo   line one line two xxx") {
		t.Errorf("table of %d bytes: %q", len(out), out[:min(len(out), 120)])
	}
}
