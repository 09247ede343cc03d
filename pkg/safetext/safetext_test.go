package safetext

import (
	"errors"
	"io/fs"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestLine(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "permission denied", "permission denied"},
		{"colour", "\x1b[31mred\x1b[0m alert", "red alert"},
		{"title", "a\x1b]0;pwned\x07b", "ab"},
		{"title with ST", "a\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\b", "alinkb"},
		{"8-bit CSI", "a\u009b2Jb", "ab"},
		{"clear screen and cursor moves", "\x1b[2J\x1b[H\x1b[10;20Hx", "x"},
		{"lone escape", "a\x1b", "a"},
		{"controls", "a\x00b\x07c\x7fd\u0085e", "abcd e"},
		{"newlines", "line one\r\nline two\n\n", "line one line two"},
		{"bidi override", "abc\u202edef", "abcdef"},
		{"invalid UTF-8", "a\xffb", "a\ufffdb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Line(tt.in, 0); got != tt.want {
				t.Errorf("Line(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestText(t *testing.T) {
	if got, want := Text("one\n\x1b[1mtwo\x1b[0m\tthree\r\n", 0), "one\ntwo\tthree\n"; got != want {
		t.Errorf("Text = %q, want %q", got, want)
	}
}

func TestStrip(t *testing.T) {
	long := strings.Repeat("x", 3*MaxLen)
	if got, want := Strip("\x1b[31mred\x1b[0m\n"+long), "red\n"+long; got != want {
		t.Errorf("Strip = %q…, want %q…", got[:10], want[:10])
	}
}

// TestLineCaps: a 10 MB message prints MaxLen bytes and says how much is
// left out.
func TestLineCaps(t *testing.T) {
	msg := strings.Repeat("x", 10<<20)
	got := Line(msg, 0)
	want := strings.Repeat("x", MaxLen-1) + "… 10484737 more bytes"
	if got != want {
		t.Fatalf("Line(10 MB) = %d bytes %q…, want %q", len(got), got[:40], want[MaxLen-10:])
	}
	// A multi-byte character is never cut.
	got = Line(strings.Repeat("é", 100), 11)
	if !utf8.ValidString(got) || !strings.HasPrefix(got, "ééééé…") {
		t.Errorf("Line(é×100, 11) = %q", got)
	}
}

func TestError(t *testing.T) {
	err := Error(&fs.PathError{Op: "open", Path: "\x1b[2Jx", Err: fs.ErrNotExist})
	if got, want := err.Error(), "open x: file does not exist"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Error("the wrapped error is not found by errors.Is")
	}
	if Error(nil) != nil {
		t.Error("Error(nil) is not nil")
	}
}

// FuzzLine: whatever the input, the output has no control character, no
// escape, is valid UTF-8 and is bounded.
func FuzzLine(f *testing.F) {
	for _, s := range []string{"\x1b[31mred", "\x1b]0;t\x07", "a\u009b2Jb", "\x1b", "\x1bP", "é\xff", "a\nb\tc"} {
		f.Add(s, 16)
	}
	f.Fuzz(func(t *testing.T, s string, max int) {
		if max > 1<<16 {
			max = 1 << 16
		}
		for _, out := range []string{Line(s, max), Text(s, max)} {
			if !utf8.ValidString(out) {
				t.Fatalf("invalid UTF-8: %q", out)
			}
			body, _, _ := strings.Cut(out, "… ")
			limit := max
			if limit <= 0 {
				limit = MaxLen
			}
			if len(body) > limit {
				t.Fatalf("%d bytes, cap %d: %q", len(body), limit, out)
			}
			for _, r := range body {
				if r != '\n' && r != '\t' && (unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r)) {
					t.Fatalf("control character %U in %q", r, out)
				}
			}
		}
	})
}

func TestPrintable(t *testing.T) {
	for in, want := range map[string]string{
		"+    greeting: hi":      "+    greeting: hi",
		"a\x1b[31mred\x1b[0m\tb": "ared\tb",
		"x\u202ey\r\n":           "xy",
	} {
		if got := Printable(in); got != want {
			t.Errorf("Printable(%q) = %q, want %q", in, got, want)
		}
	}
}
