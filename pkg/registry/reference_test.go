package registry_test

import (
	"strings"
	"testing"

	"github.com/ksbuilder/ksbuilder/pkg/registry"
)

func TestParseReference(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want registry.Reference
		err  string
	}{
		{in: "oci://localhost:5000/charts/hello", want: registry.Reference{Registry: "localhost:5000", Repository: "charts/hello"}},
		{in: "oci://localhost:5000/hello:0.1.0", want: registry.Reference{Registry: "localhost:5000", Repository: "hello", Tag: "0.1.0"}},
		{in: "oci://ghcr.io/org/charts/hello:1.0.0+build.1", want: registry.Reference{Registry: "ghcr.io", Repository: "org/charts/hello", Tag: "1.0.0+build.1"}},
		{in: "oci://r.example.com/hello@sha256:" + strings.Repeat("a", 64), want: registry.Reference{Registry: "r.example.com", Repository: "hello", Digest: "sha256:" + strings.Repeat("a", 64)}},
		{in: "oci://r.example.com:443/hello:0.1.0@sha256:" + strings.Repeat("b", 64), want: registry.Reference{Registry: "r.example.com:443", Repository: "hello", Tag: "0.1.0", Digest: "sha256:" + strings.Repeat("b", 64)}},
		{in: "localhost:5000/hello:0.1.0", err: "must start with oci://"},
		{in: "https://r.example.com/hello", err: "must start with oci://"},
		{in: "oci://localhost:5000", err: "has no repository"},
		{in: "oci://localhost:5000/", err: "has no repository"},
		{in: "oci://localhost:5000/hello:", err: "empty tag"},
		{in: "oci://localhost:5000/Hello", err: "not a valid OCI reference"},
		{in: "oci://r.example.com/hello@sha256:xyz", err: "not a valid OCI reference"},
		{in: "oci://0/0@@", err: "empty digest"},
		{in: "oci://r.example.com/hello@", err: "empty digest"},
		{in: "oci://r.example.com/he@llo@sha256:" + strings.Repeat("a", 64), err: "more than one"},
	}
	for _, tt := range tests {
		got, err := registry.ParseReference(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: error %v, want one containing %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("%s: got %+v, want %+v", tt.in, got, tt.want)
		}
		if got.String() != tt.in {
			t.Errorf("%s: String() = %s", tt.in, got.String())
		}
	}
}

func TestReferenceHelpers(t *testing.T) {
	t.Parallel()
	repo, err := registry.ParseReference("oci://localhost:5000/charts")
	if err != nil {
		t.Fatal(err)
	}
	ref := repo.Child("hello").WithTag("0.1.0")
	if got := ref.String(); got != "oci://localhost:5000/charts/hello:0.1.0" {
		t.Errorf("Child+WithTag: %s", got)
	}
	if ref.Name() != "hello" {
		t.Errorf("Name: %s", ref.Name())
	}
	if got := ref.Locator(); got != "localhost:5000/charts/hello:0.1.0" {
		t.Errorf("Locator: %s", got)
	}
}
