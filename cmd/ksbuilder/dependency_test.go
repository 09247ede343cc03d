package main

import (
	"fmt"
	"testing"

	"github.com/ksbuilder/ksbuilder/pkg/dependency"
)

// TestDependencyErrorExitCodes: a repository refusing the credentials exits
// 4, as a registry does; other failures exit 1.
func TestDependencyErrorExitCodes(t *testing.T) {
	for _, tc := range []struct {
		kind dependency.ErrorKind
		want int
	}{
		{dependency.Unauthorized, exitAuth},
		{dependency.NotFound, exitFailure},
		{dependency.NoCache, exitFailure},
	} {
		err := dependencyError(&dependency.Error{Kind: tc.kind, Repository: "stable", URL: "https://charts.example.com/index.yaml", Status: 401})
		if got := exitCode(fmt.Errorf("hello: %w", err)); got != tc.want {
			t.Errorf("kind %d: exit code %d, want %d", tc.kind, got, tc.want)
		}
	}
}
