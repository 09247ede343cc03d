package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCompleteFlagValues(t *testing.T) {
	kubeconfig := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(kubeconfig, []byte(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: t}}]
contexts:
- {name: staging, context: {cluster: c, user: u}}
- {name: dev, context: {cluster: c, user: u}}
current-context: dev
`), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KUBECONFIG", filepath.Join(t.TempDir(), "none"))
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"create", "--type"}, "full\nfrontend\nbackend\n"},
		{[]string{"create", "hello", "--category"}, "ai-machine-learning\ndeepseek\ndatabase\nobservability\nintegration-delivery\nnetworking\nsecurity\nstorage\nstreaming-messaging\ncomputing\ndev-tools\n"},
		{[]string{"lint", "-o"}, "text\njson\nsarif\ngithub\n"},
		{[]string{"install", "./hello", "--output"}, "text\njson\nyaml\n"},
		{[]string{"extension", "list", "-o"}, "text\njson\nyaml\n"},
		{[]string{"install", "--kubeconfig", kubeconfig, "--context"}, "dev\nstaging\n"},
		{[]string{"status", "--kubeconfig=" + kubeconfig, "hello", "--context"}, "dev\nstaging\n"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := runCLI(t, false, nil, append(tt.args, completionFlag)...)
			if r.code != 0 || r.stdout != tt.want || r.stderr != "" {
				t.Fatalf("exit %d, stdout %q (want %q), stderr %q", r.code, r.stdout, tt.want, r.stderr)
			}
		})
	}
}
