// Package diag holds the diagnostic type shared by the extension model, the
// packager and the linter: a problem with a severity, a stable code and a
// position (file, line, column, field) in the user's files.
package diag

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Severity ranks a diagnostic. The zero value is Error, so a diagnostic built
// without an explicit severity fails the run rather than passing silently.
type Severity int

const (
	// Error makes the input unusable: packaging, validation and lint fail.
	Error Severity = iota
	// Warning is a likely mistake that does not stop packaging.
	Warning
	// Info is advice.
	Info
)

// String returns the lower-case name used in text and JSON output.
func (s Severity) String() string {
	switch s {
	case Error:
		return "error"
	case Warning:
		return "warning"
	case Info:
		return "info"
	}
	return fmt.Sprintf("severity(%d)", int(s))
}

// MarshalText encodes the severity as its name, for JSON output.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText parses a severity name.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// ParseSeverity parses "error", "warning" or "info".
func ParseSeverity(s string) (Severity, error) {
	switch strings.ToLower(s) {
	case "error":
		return Error, nil
	case "warning":
		return Warning, nil
	case "info":
		return Info, nil
	}
	return Error, fmt.Errorf("unknown severity %q (want error, warning or info)", s)
}

// Diagnostic is one problem found in an extension.
type Diagnostic struct {
	Severity Severity `json:"severity"`
	// Code is a stable identifier of the check, e.g. "name-format".
	Code string `json:"rule"`
	// File is the path of the file relative to the extension root, with
	// forward slashes; empty when the problem concerns the whole package.
	File   string `json:"file,omitempty"`
	Line   int    `json:"line,omitempty"`
	Column int    `json:"column,omitempty"`
	// Field is the dotted path of the offending field, e.g. "provider.en.url".
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
	// Hint tells the user how to fix the problem.
	Hint string `json:"hint,omitempty"`
}

// Position renders "file:line:col", leaving out the parts that are unknown.
func (d Diagnostic) Position() string {
	var b strings.Builder
	b.WriteString(d.File)
	if d.Line > 0 {
		fmt.Fprintf(&b, ":%d", d.Line)
		if d.Column > 0 {
			fmt.Fprintf(&b, ":%d", d.Column)
		}
	}
	return b.String()
}

// Error renders the diagnostic as one line:
// "extension.yaml:3:10 version: ... (hint)".
func (d Diagnostic) Error() string {
	var b strings.Builder
	if pos := d.Position(); pos != "" {
		b.WriteString(pos)
		if d.Line == 0 {
			b.WriteString(":")
		}
		b.WriteString(" ")
	}
	if d.Field != "" {
		b.WriteString(d.Field)
		b.WriteString(": ")
	}
	b.WriteString(d.Message)
	if d.Hint != "" {
		b.WriteString(" (")
		b.WriteString(d.Hint)
		b.WriteString(")")
	}
	return b.String()
}

// List is a set of diagnostics.
type List []Diagnostic

// Add appends a diagnostic.
func (l *List) Add(d Diagnostic) { *l = append(*l, d) }

// HasErrors reports whether any diagnostic has severity Error.
func (l List) HasErrors() bool {
	for _, d := range l {
		if d.Severity == Error {
			return true
		}
	}
	return false
}

// Filter returns the diagnostics with the given severity.
func (l List) Filter(s Severity) List {
	var out List
	for _, d := range l {
		if d.Severity == s {
			out = append(out, d)
		}
	}
	return out
}

// Sort orders diagnostics by file, line, column, severity, code and message,
// so output is stable from run to run.
func (l List) Sort() {
	sort.SliceStable(l, func(i, j int) bool {
		a, b := l[i], l[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Column != b.Column {
			return a.Column < b.Column
		}
		if a.Severity != b.Severity {
			return a.Severity < b.Severity
		}
		if a.Code != b.Code {
			return a.Code < b.Code
		}
		return a.Message < b.Message
	})
}

// Err returns nil when the list holds no errors, and otherwise an *Errors
// holding only the errors (warnings are left to the caller to print).
func (l List) Err() error {
	errs := l.Filter(Error)
	if len(errs) == 0 {
		return nil
	}
	errs.Sort()
	return &Errors{List: errs}
}

// Errors is the error returned when diagnostics of severity Error were found.
type Errors struct {
	List List
}

// Error renders one diagnostic per line.
func (e *Errors) Error() string {
	lines := make([]string, len(e.List))
	for i, d := range e.List {
		lines[i] = d.Error()
	}
	return strings.Join(lines, "\n")
}

// AsErrors extracts the diagnostics from an error chain, if it holds any.
func AsErrors(err error) (List, bool) {
	var e *Errors
	if errors.As(err, &e) {
		return e.List, true
	}
	return nil, false
}
