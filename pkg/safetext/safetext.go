// Package safetext makes text that ksbuilder does not control (a server's
// error message, a registry's answer, a field of a downloaded index) safe
// to print on a terminal: control characters and escape sequences are
// removed, and the text is capped, saying how much was left out.
package safetext

import (
	"fmt"
	"math"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxLen is the default cap, in bytes, of a printed server string.
const MaxLen = 1024

// Line returns s as one printable line of at most max bytes (MaxLen when
// max <= 0) plus a "… N more bytes" note when it was longer: escape
// sequences and control characters are removed, runs of white space
// (newlines included) become one space, and invalid UTF-8 becomes U+FFFD.
func Line(s string, max int) string {
	return clean(s, max, false)
}

// Text is Line keeping newlines and tabs, for a multi-line message.
func Text(s string, max int) string {
	return clean(s, max, true)
}

// Strip removes escape sequences and control characters but newlines and
// tabs, without a cap: the last defence of a message that may hold server
// text somewhere inside.
func Strip(s string) string {
	return clean(s, math.MaxInt-utf8.UTFMax-1, true)
}

// Error wraps err so that its message prints as Line(err.Error(), MaxLen);
// errors.Is and errors.As still see err.
func Error(err error) error {
	if err == nil {
		return nil
	}
	return &sanitized{err: err}
}

type sanitized struct{ err error }

func (e *sanitized) Error() string { return Line(e.err.Error(), MaxLen) }
func (e *sanitized) Unwrap() error { return e.err }

func clean(s string, max int, multiline bool) string {
	if max <= 0 {
		max = MaxLen
	}
	var b strings.Builder
	space := false // a space is pending
	i := 0
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == 0x1b || r == 0x9b || r == 0x9d {
			i += escapeLen(s[i:])
			continue
		}
		if b.Len()+utf8.RuneLen(r)+1 > max {
			break
		}
		i += size
		switch {
		case multiline && (r == '\n' || r == '\t'):
			space = false
			b.WriteRune(r)
			continue
		case r == '\r' && multiline:
			continue
		case unicode.IsSpace(r):
			space = b.Len() > 0 && !endsWithNewline(&b)
			continue
		case unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r):
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		if r == utf8.RuneError && size == 1 {
			r = unicode.ReplacementChar
		}
		b.WriteRune(r)
	}
	if rest := len(s) - i; rest > 0 {
		fmt.Fprintf(&b, "… %d more bytes", rest)
	}
	return b.String()
}

func endsWithNewline(b *strings.Builder) bool {
	s := b.String()
	return strings.HasSuffix(s, "\n") || strings.HasSuffix(s, "\t")
}

// escapeLen returns the length of the escape sequence at the start of s
// (ESC, or the 8-bit CSI and OSC): a CSI runs to its final byte, an OSC or
// string to BEL or ST; any other escape takes the next character along.
func escapeLen(s string) int {
	r, n := utf8.DecodeRuneInString(s)
	kind := r
	if r == 0x1b {
		if len(s) < 2 {
			return n
		}
		switch s[1] {
		case '[':
			kind, n = 0x9b, 2
		case ']', 'P', 'X', '^', '_':
			kind, n = 0x9d, 2
		default:
			_, m := utf8.DecodeRuneInString(s[1:])
			return 1 + m
		}
	}
	switch kind {
	case 0x9b: // CSI: parameter and intermediate bytes, then a final byte
		for n < len(s) {
			c := s[n]
			n++
			if c >= 0x40 && c <= 0x7e {
				return n
			}
			if c < 0x20 || c >= 0x7f {
				return n - 1
			}
		}
		return n
	default: // OSC and other strings end with BEL or ST (ESC \)
		for n < len(s) {
			switch {
			case s[n] == 0x07:
				return n + 1
			case s[n] == 0x1b && n+1 < len(s) && s[n+1] == '\\':
				return n + 2
			case s[n] == 0x1b, s[n] == '\n':
				return n
			}
			n++
		}
		return n
	}
}

// Printable removes escape sequences, control characters (but tabs) and
// bidirectional controls from one line, keeping its spaces as they are:
// for text whose layout matters, such as a diff or YAML.
func Printable(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == 0x1b || r == 0x9b || r == 0x9d {
			i += escapeLen(s[i:])
			continue
		}
		i += size
		if (unicode.IsControl(r) && r != '\t') || unicode.Is(unicode.Bidi_Control, r) {
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
