package extension

import (
	"strings"
	"testing"

	"github.com/distribution/reference"
)

func TestParseImageRef(t *testing.T) {
	tests := []struct {
		in, canonical, familiar string
	}{
		{"nginx", "docker.io/library/nginx", "nginx"},
		{"nginx:1.27", "docker.io/library/nginx:1.27", "nginx:1.27"},
		{"docker.io/library/busybox:1.31.1", "docker.io/library/busybox:1.31.1", "busybox:1.31.1"},
		{"index.docker.io/ollama/ollama:0.5.7", "docker.io/ollama/ollama:0.5.7", "ollama/ollama:0.5.7"},
		{"docker.io/library/team/app", "docker.io/library/team/app", "library/team/app"},
		{"kubesphere/metrics-server:v0.7.0", "docker.io/kubesphere/metrics-server:v0.7.0", "kubesphere/metrics-server:v0.7.0"},
		{"nvcr.io/nvidia/k8s/dcgm-exporter:3.3.0-3.2.0-ubuntu22.04", "nvcr.io/nvidia/k8s/dcgm-exporter:3.3.0-3.2.0-ubuntu22.04", "nvcr.io/nvidia/k8s/dcgm-exporter:3.3.0-3.2.0-ubuntu22.04"},
		{"localhost:5000/app", "localhost:5000/app", "localhost:5000/app"},
		{"localhost/app:1", "localhost/app:1", "localhost/app:1"},
		{"registry.example.com:8443/team/app__x:1_0", "registry.example.com:8443/team/app__x:1_0", "registry.example.com:8443/team/app__x:1_0"},
		{"[::1]:5000/app", "[::1]:5000/app", "[::1]:5000/app"},
		{"ghcr.io/org/app@sha256:" + sha, "ghcr.io/org/app@sha256:" + sha, "ghcr.io/org/app@sha256:" + sha},
		{"nginx:1.27@sha256:" + sha, "docker.io/library/nginx:1.27@sha256:" + sha, "nginx:1.27@sha256:" + sha},
		{"Registry.Example.com/app:1", "Registry.Example.com/app:1", "Registry.Example.com/app:1"},
		// An upper-case first component can only be a registry.
		{"Example/app", "Example/app", "Example/app"},
	}
	for _, tt := range tests {
		r, err := ParseImageRef(tt.in)
		if err != nil {
			t.Errorf("ParseImageRef(%q): %v", tt.in, err)
			continue
		}
		if r.String() != tt.canonical || r.Familiar() != tt.familiar {
			t.Errorf("ParseImageRef(%q) = %q / %q, want %q / %q", tt.in, r.String(), r.Familiar(), tt.canonical, tt.familiar)
		}
	}
	for in, want := range map[string]string{
		"":                                     "empty image reference",
		"nginx ":                               "invalid reference format",
		" nginx":                               "invalid reference format",
		"nginx:1.27\n":                         "invalid reference format",
		"nginx@sha256:" + sha[:32]:             "invalid checksum digest length",
		"nginx@sha256:" + sha + "00":           "invalid checksum digest length",
		"nginx@sha256:" + strings.ToUpper(sha): "invalid checksum digest format",
		"nginx@md5:" + sha[:32]:                "unsupported digest algorithm",
		sha:                                    "cannot specify 64-byte hexadecimal strings",
		"Nginx:1":                              "must be lowercase",
		"docker.io/Library/nginx":              "must be lowercase",
		"nginx:":                               "invalid reference format",
		"nginx:-1":                             "invalid reference format",
		"ghcr.io/org/app@sha256:ab":            "invalid reference format",
		"a//b":                                 "invalid reference format",
		"http://nginx":                         "invalid reference format",
		"app:" + strings.Repeat("1", 129):      "invalid reference format",
		"app/" + strings.Repeat("a", 255):      "repository name must not be more than 255 characters",
	} {
		if _, err := ParseImageRef(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseImageRef(%q) error = %v, want %q", in, err, want)
		}
	}
}

// FuzzParseImageRef checks ParseImageRef against the reference
// implementation container runtimes use: the same strings are accepted,
// with the same canonical and familiar forms, and refused with the same
// error.
func FuzzParseImageRef(f *testing.F) {
	for _, s := range []string{
		"nginx", "nginx ", " nginx", "nginx:1.27", "nginx@sha256:" + sha, "nginx@sha256:" + sha[:32],
		"nginx:1.27@sha256:" + sha, "docker.io/library/nginx", "index.docker.io/library/nginx:1",
		"docker.io/library/a/b", "localhost/app", "localhost:5000/app:v1", "[::1]:5000/app", "[fe80::1%eth0]/app",
		"Example/app", "example/App", "ghcr.io/org/team/app:v1.2.3-rc.1", "a__b/c-d.e:f", "a///b", "a:b:c",
		"registry.example.com:8443/app@sha512:" + sha + sha, "app@foo+bar:" + sha, sha, "",
		"a.b/c", "0_x.o/app", "a_/b", "a__b", "a___b", "a--b", "a-_b", "a.-b", "A.B/c", "Ex_ample/app",
		"a:b/c", "localhost:5000", "localhost:/app", "[::1]/app", "[]/app", "[::1]x/app", "[::1]:/app",
		"host-/app", "-host.io/app", "host..io/app", "app:_tag", "app:.tag", "app:t@g", "app@sha256:" + sha + "@x",
		"app@" + sha, "app@a..b:" + sha, "app@1a:" + sha, "app@a+:" + sha, "app@:" + sha, "APP:1", "a/B",
		"docker.io/nginx", "index.docker.io/nginx", "localhost/a:1@sha256:" + sha, "xn--bcher-kva.example/app",
		"\u212Aube/app", "example.com/\u212Aube", "ex\u212A.com/app:1", "ngİnx", "a/ß", "\u212A:1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseImageRef(s)
		want, wantErr := reference.ParseNormalizedNamed(s)
		if s == "" {
			if err == nil {
				t.Fatal("empty reference accepted")
			}
			return
		}
		if (err == nil) != (wantErr == nil) {
			t.Fatalf("ParseImageRef(%q) error = %v, reference says %v", s, err, wantErr)
		}
		if err != nil {
			if err.Error() != wantErr.Error() {
				t.Fatalf("ParseImageRef(%q) error = %q, reference says %q", s, err, wantErr)
			}
			return
		}
		if got.String() != want.String() {
			t.Errorf("ParseImageRef(%q) = %q, reference says %q", s, got.String(), want.String())
		}
		if got.Familiar() != reference.FamiliarString(want) {
			t.Errorf("ParseImageRef(%q).Familiar() = %q, reference says %q", s, got.Familiar(), reference.FamiliarString(want))
		}
	})
}
