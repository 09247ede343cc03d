package prompt

import (
	"errors"
	"io"
	"os"
	"strings"
	"testing"
)

// pipe returns the read end of a pipe holding data, then closed.
func pipe(t *testing.T, data string) *os.File {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	go func() {
		w.WriteString(data)
		w.Close()
	}()
	return r
}

func TestCtrlDEndsTheInput(t *testing.T) {
	r := ctrlDReader{pipe(t, "ab\x04cd\n")}
	got, err := io.ReadAll(r)
	if string(got) != "ab" || err != nil {
		t.Fatalf("ReadAll = %q, %v; want %q and the input ended at Ctrl-D", got, err, "ab")
	}
	buf := make([]byte, 8)
	if n, err := (ctrlDReader{pipe(t, "\x04")}).Read(buf); n != 0 || err != io.EOF {
		t.Fatalf("Read = %d, %v; want 0, io.EOF", n, err)
	}
}

// TestSurveyCancelsAtEOF runs a real survey prompt on input that ends
// (Ctrl-D, or stdin closed): the answer is ErrCancelled, which the CLI
// turns into exit code 130, never the default answer.
func TestSurveyCancelsAtEOF(t *testing.T) {
	for name, input := range map[string]string{"ctrl-d": "abc\x04", "closed": ""} {
		t.Run(name, func(t *testing.T) {
			out, err := os.Create(t.TempDir() + "/terminal")
			if err != nil {
				t.Fatal(err)
			}
			defer out.Close()
			s := NewSurvey(pipe(t, input), out, io.Discard)
			if _, ok := s.in.(ctrlDReader); !ok {
				t.Fatalf("the terminal input is not wrapped: %T", s.in)
			}
			got, err := s.Input("Name:", "default", nil)
			if !errors.Is(err, ErrCancelled) {
				t.Fatalf("Input = %q, %v; want ErrCancelled", got, err)
			}
			// The cursor does not stay on the question's line.
			if shown, _ := os.ReadFile(out.Name()); !strings.HasSuffix(string(shown), "\n") {
				t.Fatalf("the terminal shows %q: the line of the question is not ended", shown)
			}
			if _, err := s.Select("Pick:", []string{"a", "b"}, 0); !errors.Is(err, ErrCancelled) {
				t.Fatalf("Select: %v; want ErrCancelled", err)
			}
			if _, err := s.Confirm("Sure?", true); !errors.Is(err, ErrCancelled) {
				t.Fatalf("Confirm: %v; want ErrCancelled", err)
			}
		})
	}
}
