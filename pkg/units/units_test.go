package units

import (
	"math"
	"strings"
	"testing"
)

func TestParseBytes(t *testing.T) {
	for in, want := range map[string]int64{
		"1048576": 1048576, "900KiB": 900 * KiB, "1MiB": MiB, "1MB": 1000 * 1000, "512k": 512 * KiB, " 2 m ": 2 * MiB, "1.5KiB": 1536,
	} {
		if got, err := ParseBytes(in); err != nil || got != want {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	// Values that used to become a negative or zero limit (and then the
	// default) are refused.
	for _, in := range []string{"NaN", "nan", "inf", "+Inf", "-inf", "1e19", "9223372036854775808", "8388608TiB", "0", "-1", "0.5", "", "MiB", "1 GiB"} {
		if n, err := ParseBytes(in); err == nil {
			t.Errorf("ParseBytes(%q) = %d, want an error", in, n)
		}
	}
}

// FuzzParseBytes checks that every accepted size is positive and that the
// error names the input.
func FuzzParseBytes(f *testing.F) {
	for _, s := range []string{"1MiB", "NaN", "inf", "1e19", "0x10", "1_000", "900KiB"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseBytes(s)
		if err != nil {
			if !strings.Contains(err.Error(), "invalid size") {
				t.Fatalf("error %q", err)
			}
			return
		}
		if n < 1 || n == math.MaxInt64 {
			t.Fatalf("ParseBytes(%q) = %d", s, n)
		}
	})
}
