package cluster

import (
	"strings"
	"testing"
)

func TestDevVersion(t *testing.T) {
	tests := []struct {
		version string
		base    string
		n       int
		ok      bool
	}{
		{DevVersion("0.1.0", 7), "0.1.0", 7, true},
		{DevVersion("1.0.0-rc.1", 12), "1.0.0-rc.1", 12, true},
		{"0.1.0", "", 0, false},
		{"0.1.0-dev", "", 0, false},
		{"0.1.0-dev.x", "", 0, false},
		{"0.1.0-devel.3", "", 0, false},
	}
	for _, tt := range tests {
		base, n, ok := ParseDevVersion(tt.version)
		if base != tt.base || n != tt.n || ok != tt.ok {
			t.Errorf("ParseDevVersion(%q) = %q, %d, %v; want %q, %d, %v", tt.version, base, n, ok, tt.base, tt.n, tt.ok)
		}
		if ok && !strings.Contains(tt.base, "-") && !semverLess(tt.version, tt.base) {
			t.Errorf("%s does not sort before %s", tt.version, tt.base)
		}
	}
	if !semverLess(DevVersion("0.1.0", 9), DevVersion("0.1.0", 10)) {
		t.Error("dev.9 does not sort before dev.10")
	}
}
