// Package units formats and parses byte sizes.
package units

import (
	"fmt"
	"strconv"
	"strings"
)

// Byte sizes.
const (
	KiB int64 = 1 << 10
	MiB int64 = 1 << 20
)

// FormatBytes renders a size with binary units: "512 B", "900.0 KiB", "1.2 MiB".
func FormatBytes(n int64) string {
	switch {
	case n >= MiB:
		return fmt.Sprintf("%.1f MiB", float64(n)/float64(MiB))
	case n >= KiB:
		return fmt.Sprintf("%.1f KiB", float64(n)/float64(KiB))
	}
	return fmt.Sprintf("%d B", n)
}

var suffixes = []struct {
	suffix string
	factor int64
}{
	{"kib", KiB}, {"mib", MiB}, {"kb", 1000}, {"mb", 1000 * 1000}, {"k", KiB}, {"m", MiB}, {"b", 1},
}

// maxBytes is 2^63, the first size an int64 cannot hold.
const maxBytes = float64(1 << 63)

// ParseBytes parses a size such as "1048576", "900KiB", "1MiB", "1MB" or
// "512k". KiB/MiB (and k/m) are powers of 1024; kB/MB are powers of 1000.
func ParseBytes(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	factor := int64(1)
	for _, u := range suffixes {
		if strings.HasSuffix(t, u.suffix) {
			t, factor = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.factor
			break
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	// NaN fails every comparison; ±Inf and huge values do not fit an int64.
	n := v * float64(factor)
	if err != nil || !(n >= 1 && n < maxBytes) {
		return 0, fmt.Errorf("invalid size %q: give a positive size below 8 EiB, such as 1MiB, 900KiB or 1048576", s)
	}
	return int64(n), nil
}
