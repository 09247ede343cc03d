package lint

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/ksbuilder/ksbuilder/internal/testutil/golden"
)

const (
	rulesBegin = "<!-- rules:begin -->\n"
	rulesEnd   = "<!-- rules:end -->\n"
)

// rulesTable renders the registry as the Markdown table of docs/lint.md.
func rulesTable() string {
	var b strings.Builder
	b.WriteString("| rule | severity | group | checks | source | why this severity |\n|---|---|---|---|---|---|\n")
	esc := strings.NewReplacer("|", `\|`).Replace
	for _, r := range Rules() {
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s | %s |\n", r.ID, r.Severity, r.Group, esc(r.Description), r.Source, esc(r.Reason))
	}
	return b.String()
}

// TestRulesDoc keeps the rules table of docs/lint.md in step with the
// registry; -update rewrites it.
func TestRulesDoc(t *testing.T) {
	const path = "../../docs/lint.md"
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	begin, end := strings.Index(doc, rulesBegin), strings.Index(doc, rulesEnd)
	if begin < 0 || end < begin {
		t.Fatalf("%s has no %q ... %q section", path, rulesBegin, rulesEnd)
	}
	want := doc[:begin+len(rulesBegin)] + rulesTable() + doc[end:]
	golden.AssertString(t, want, path)
}
