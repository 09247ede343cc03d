package extension

import "testing"

func TestParseImageRef(t *testing.T) {
	tests := []struct {
		in, canonical, familiar string
	}{
		{"nginx", "docker.io/library/nginx", "nginx"},
		{"nginx:1.27", "docker.io/library/nginx:1.27", "nginx:1.27"},
		{"docker.io/library/busybox:1.31.1", "docker.io/library/busybox:1.31.1", "busybox:1.31.1"},
		{"index.docker.io/ollama/ollama:0.5.7", "docker.io/ollama/ollama:0.5.7", "ollama/ollama:0.5.7"},
		{"kubesphere/metrics-server:v0.7.0", "docker.io/kubesphere/metrics-server:v0.7.0", "kubesphere/metrics-server:v0.7.0"},
		{"nvcr.io/nvidia/k8s/dcgm-exporter:3.3.0-3.2.0-ubuntu22.04", "nvcr.io/nvidia/k8s/dcgm-exporter:3.3.0-3.2.0-ubuntu22.04", "nvcr.io/nvidia/k8s/dcgm-exporter:3.3.0-3.2.0-ubuntu22.04"},
		{"localhost:5000/app", "localhost:5000/app", "localhost:5000/app"},
		{"localhost/app:1", "localhost/app:1", "localhost/app:1"},
		{"registry.example.com:8443/team/app__x:1_0", "registry.example.com:8443/team/app__x:1_0", "registry.example.com:8443/team/app__x:1_0"},
		{"[::1]:5000/app", "[::1]:5000/app", "[::1]:5000/app"},
		{"ghcr.io/org/app@sha256:" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "ghcr.io/org/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "ghcr.io/org/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
		{"Registry.Example.com/app:1", "Registry.Example.com/app:1", "Registry.Example.com/app:1"},
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
		"":                                 "empty image reference",
		"Nginx:1":                          "repository names must be lower case",
		"docker.io/Library/nginx":          "repository names must be lower case",
		"nginx:":                           "invalid reference format",
		"nginx:-1":                         "invalid reference format",
		"ghcr.io/org/app@sha256:ab":        "invalid reference format",
		"a//b":                             "invalid reference format",
		"http://nginx":                     "invalid reference format",
		"app:" + string(make([]byte, 129)): "invalid reference format",
	} {
		if _, err := ParseImageRef(in); err == nil || err.Error() != want {
			t.Errorf("ParseImageRef(%q) error = %v, want %q", in, err, want)
		}
	}
}
