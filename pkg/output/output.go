// Package output renders command results as text tables, JSON or YAML.
package output

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"sigs.k8s.io/yaml"

	"github.com/ksbuilder/ksbuilder/pkg/safetext"
)

// Format is a machine-readable or human output format selected with -o.
type Format string

const (
	// Text is the default human-readable output.
	Text Format = "text"
	// JSON is indented JSON followed by a newline.
	JSON Format = "json"
	// YAML is YAML produced from the JSON form, so field names match.
	YAML Format = "yaml"
)

// ParseFormat validates a -o value against the formats a command allows.
// An empty value selects Text.
func ParseFormat(s string, allowed ...Format) (Format, error) {
	if s == "" || s == "table" {
		s = string(Text)
	}
	names := make([]string, len(allowed))
	for i, f := range allowed {
		names[i] = string(f)
		if string(f) == s {
			return f, nil
		}
	}
	return "", fmt.Errorf("unsupported output format %q (want one of: %s)", s, strings.Join(names, ", "))
}

// WriteJSON writes v as indented JSON with a trailing newline.
func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// WriteYAML writes v as YAML, using its JSON field names.
func WriteYAML(w io.Writer, v any) error {
	b, err := yaml.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// Write renders v as JSON or YAML. For Text it calls text, which writes the
// human form.
func Write(w io.Writer, f Format, v any, text func(io.Writer) error) error {
	switch f {
	case JSON:
		return WriteJSON(w, v)
	case YAML:
		return WriteYAML(w, v)
	default:
		return text(w)
	}
}

// Table writes aligned columns with upper-case headers.
type Table struct {
	tw *tabwriter.Writer
}

// NewTable starts a table with the given column headers.
func NewTable(w io.Writer, headers ...string) *Table {
	t := &Table{tw: tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)}
	if len(headers) > 0 {
		up := make([]string, len(headers))
		for i, h := range headers {
			up[i] = strings.ToUpper(h)
		}
		t.Row(up...)
	}
	return t
}

// Row adds one row. Each cell is printed as one line, without control
// characters and capped (cells often hold a server's text).
func (t *Table) Row(cells ...string) {
	safe := make([]string, len(cells))
	for i, c := range cells {
		safe[i] = safetext.Line(c, safetext.MaxLen)
	}
	fmt.Fprintln(t.tw, strings.Join(safe, "\t"))
}

// Flush writes the table out.
func (t *Table) Flush() error { return t.tw.Flush() }
