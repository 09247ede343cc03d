package cloud

import (
	"strings"
	"testing"
	"unicode"
)

// FuzzDecode feeds random bodies to the error and answer decoding: an
// error's message is printable and bounded, and nothing panics.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"message":"permission denied"}`,
		`{"message":"\u001b[2Jx"}`,
		"<html><head><style>x</style></head><body><h1>502 Bad Gateway</h1></body></html>",
		`{"user_id": 12, "username": "a"}`,
		`{"items":[{"extension_id":"1","name":"x","snapshots":[{"snapshot_id":"s"}]}]}`,
		`{"message":`,
		"\x1b]0;t\x07",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		e := newAPIError(500, body)
		if len(e.Message) > maxLenWithNote(1024) {
			t.Fatalf("message of %d bytes", len(e.Message))
		}
		for _, r := range e.Message {
			if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) {
				t.Fatalf("control character %U in %q", r, e.Message)
			}
		}
		if strings.Contains(e.Error(), "\n") {
			t.Fatalf("multi-line error %q", e.Error())
		}
		var (
			user User
			exts struct {
				Items []Extension `json:"items"`
			}
			snap Snapshot
		)
		_ = decodeJSON(body, &user)
		_ = decodeJSON(body, &exts)
		_ = decodeJSON(body, &snap)
		for _, x := range exts.Items {
			_ = x.Latest()
		}
	})
}

// maxLenWithNote bounds a capped message: max bytes, then the note of the
// bytes left out.
func maxLenWithNote(max int) int { return max + len("… 18446744073709551615 more bytes") }
