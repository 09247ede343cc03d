package registry_test

import (
	"testing"

	"github.com/ksbuilder/ksbuilder/pkg/registry"
)

// FuzzParseReference: an oci:// argument parses or is refused, never
// panics; a parsed one prints back to a string that parses to the same
// reference.
func FuzzParseReference(f *testing.F) {
	for _, s := range []string{"oci://localhost:5000/charts/hello", "oci://r.example.com:443/hello:0.1.0@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		"oci://ghcr.io/org/charts/hello:1.0.0+build.1", "oci://localhost:5000/", "oci://a/b:", "oci://@/x", "oci:///x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ref, err := registry.ParseReference(s)
		if err != nil {
			return
		}
		if ref.Registry == "" || ref.Repository == "" || ref.Name() == "" {
			t.Fatalf("%q parsed to %+v", s, ref)
		}
		again, err := registry.ParseReference(ref.String())
		if err != nil || again != ref {
			t.Fatalf("%q parsed to %+v, printed as %q, which parses to %+v, %v", s, ref, ref.String(), again, err)
		}
	})
}
