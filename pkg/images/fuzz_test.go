package images_test

import (
	"strings"
	"testing"

	"github.com/ksbuilder/ksbuilder/pkg/images"
)

// FuzzParseDestination: --registry parses or is refused, never panics; a
// parsed destination prints back to itself and maps images under it.
func FuzzParseDestination(f *testing.F) {
	for _, s := range []string{"registry.example.com/mirror", "localhost:5000", "127.0.0.1:5000/a/b", "mirror", "https://x.io", "x.io//a", "[::1]:5000/p", "x.io/A"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := images.ParseDestination(s)
		if err != nil {
			return
		}
		again, err := images.ParseDestination(d.String())
		if err != nil || again != d {
			t.Fatalf("%q parsed to %+v, printed as %q, which parses to %+v, %v", s, d, d.String(), again, err)
		}
		target, err := d.Target("docker.io/library/nginx:1.27")
		if err != nil || target != d.String()+"/library/nginx:1.27" {
			t.Fatalf("%+v: nginx goes to %q, %v", d, target, err)
		}
	})
}

// FuzzParsePlatforms: --platform parses or is refused, never panics;
// every parsed platform prints back to itself.
func FuzzParsePlatforms(f *testing.F) {
	for _, s := range []string{"linux/amd64", "linux/amd64,linux/arm64/v8", "linux", "", " , ", "linux/arm/v7/x", "windows/amd64:10.0.17763", "0/ /"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ps, err := images.ParsePlatforms(s)
		if err != nil {
			return
		}
		if strings.TrimSpace(s) != "" && len(ps) != strings.Count(s, ",")+1 {
			t.Fatalf("%q: %d platforms", s, len(ps))
		}
		for _, p := range ps {
			again, err := images.ParsePlatforms(p.String())
			if err != nil || len(again) != 1 || !again[0].Equals(p) {
				t.Fatalf("%q: %+v prints as %q, which parses to %+v, %v", s, p, p.String(), again, err)
			}
		}
	})
}
