package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ksbuilder/ksbuilder/internal/testutil/fixture"
	"github.com/ksbuilder/ksbuilder/internal/testutil/golden"
	"github.com/ksbuilder/ksbuilder/pkg/iostreams"
)

// lintCIFixtures writes two failing fixtures under a temporary directory,
// as a/ (findings with lines and columns) and b c/ (findings on templates,
// without lines; a space in the path), and returns it.
func lintCIFixtures(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for sub, rule := range map[string]string{"a": "version-format", "b c": "image-registry"} {
		files, _ := fixture.Load(t, filepath.Join(lintFixtures, "base"), filepath.Join(lintFixtures, rule, "fail"))
		fixture.Write(t, filepath.Join(dir, sub), files)
	}
	return dir
}

// runLintVersion runs "ksbuilder lint" in dir as version 1.2.3.
func runLintVersion(t *testing.T, dir string, args ...string) (int, string) {
	t.Helper()
	t.Chdir(dir)
	ios, _, out, _ := iostreams.Test()
	code := runWith(context.Background(), newFactory(ios, "1.2.3"), append([]string{"ksbuilder", "lint"}, args...))
	return code, out.String()
}

func TestLintSARIF(t *testing.T) {
	dir := lintCIFixtures(t)
	want, err := filepath.Abs("testdata/lint-sarif.json")
	require.NoError(t, err)
	code, out := runLintVersion(t, dir, "a", "b c", "-o", "sarif")
	assert.Equal(t, exitFailure, code)
	golden.AssertString(t, out, want)
	checkSARIF(t, []byte(out))

	// An absolute PATH is given relative to the current directory.
	_, abs := runLintVersion(t, dir, filepath.Join(dir, "a"), "-o", "sarif")
	assert.Contains(t, abs, `"uri": "a/extension.yaml"`)
	checkSARIF(t, []byte(abs))
}

// sarifLog holds the fields SARIF 2.1.0 and GitHub code scanning require.
type sarifLog struct {
	Version *string `json:"version"`
	Runs    []struct {
		Tool *struct {
			Driver *struct {
				Name           string `json:"name"`
				Version        string `json:"version"`
				InformationURI string `json:"informationUri"`
				Rules          []struct {
					ID                   string                  `json:"id"`
					ShortDescription     *struct{ Text string }  `json:"shortDescription"`
					FullDescription      *struct{ Text string }  `json:"fullDescription"`
					Help                 *struct{ Text string }  `json:"help"`
					DefaultConfiguration *struct{ Level string } `json:"defaultConfiguration"`
				} `json:"rules"`
			} `json:"driver"`
		} `json:"tool"`
		Results *[]struct {
			RuleID    string                  `json:"ruleId"`
			RuleIndex *int                    `json:"ruleIndex"`
			Level     string                  `json:"level"`
			Message   *struct{ Text *string } `json:"message"`
			Locations []struct {
				PhysicalLocation *struct {
					ArtifactLocation *struct{ URI *string } `json:"artifactLocation"`
					Region           *struct {
						StartLine   *int `json:"startLine"`
						StartColumn *int `json:"startColumn"`
					} `json:"region"`
				} `json:"physicalLocation"`
			} `json:"locations"`
		} `json:"results"`
	} `json:"runs"`
}

// checkSARIF checks the structure SARIF 2.1.0's schema requires and what
// GitHub code scanning reads.
func checkSARIF(t *testing.T, data []byte) {
	t.Helper()
	var log sarifLog
	require.NoError(t, json.Unmarshal(data, &log))
	require.NotNil(t, log.Version)
	assert.Equal(t, "2.1.0", *log.Version)
	require.Len(t, log.Runs, 1)
	run := log.Runs[0]
	require.NotNil(t, run.Tool)
	require.NotNil(t, run.Tool.Driver)
	d := run.Tool.Driver
	assert.Equal(t, "ksbuilder", d.Name)
	assert.NotEmpty(t, d.Version)
	assert.True(t, strings.HasPrefix(d.InformationURI, "https://"), d.InformationURI)
	levels := []string{"error", "warning", "note", "none"}
	require.NotEmpty(t, d.Rules)
	for _, r := range d.Rules {
		assert.NotEmpty(t, r.ID)
		require.NotNil(t, r.ShortDescription, r.ID)
		assert.NotEmpty(t, r.ShortDescription.Text, r.ID)
		require.NotNil(t, r.FullDescription, r.ID)
		require.NotNil(t, r.Help, r.ID)
		assert.NotEmpty(t, r.Help.Text, r.ID)
		require.NotNil(t, r.DefaultConfiguration, r.ID)
		assert.Contains(t, levels, r.DefaultConfiguration.Level, r.ID)
	}
	require.NotNil(t, run.Results, "results is required (may be empty)")
	require.NotEmpty(t, *run.Results)
	for _, res := range *run.Results {
		require.NotNil(t, res.Message)
		require.NotNil(t, res.Message.Text)
		assert.NotEmpty(t, *res.Message.Text)
		assert.Contains(t, levels, res.Level)
		require.NotNil(t, res.RuleIndex)
		require.Less(t, *res.RuleIndex, len(d.Rules))
		require.GreaterOrEqual(t, *res.RuleIndex, 0)
		assert.Equal(t, res.RuleID, d.Rules[*res.RuleIndex].ID)
		require.Len(t, res.Locations, 1)
		pl := res.Locations[0].PhysicalLocation
		require.NotNil(t, pl)
		require.NotNil(t, pl.ArtifactLocation)
		require.NotNil(t, pl.ArtifactLocation.URI)
		uri := *pl.ArtifactLocation.URI
		assert.NotEmpty(t, uri)
		assert.False(t, strings.HasPrefix(uri, "/") || strings.Contains(uri, `\`) || strings.HasPrefix(uri, ".."), "uri %q is not relative and slash-separated", uri)
		if r := pl.Region; r != nil {
			require.NotNil(t, r.StartLine, "a region needs startLine")
			assert.GreaterOrEqual(t, *r.StartLine, 1)
			if r.StartColumn != nil {
				assert.GreaterOrEqual(t, *r.StartColumn, 1)
			}
		}
	}
}

func TestLintGitHub(t *testing.T) {
	dir := lintCIFixtures(t)
	want, err := filepath.Abs("testdata/lint-github.txt")
	require.NoError(t, err)
	code, out := runLintVersion(t, dir, "a", "b c", "-o", "github")
	assert.Equal(t, exitFailure, code)
	golden.AssertString(t, out, want)
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if strings.HasPrefix(line, "::") {
			assert.Regexp(t, `^::(error|warning|notice) file=[^,:]+(,line=[1-9]\d*(,col=[1-9]\d*)?)?,title=[a-z-]+::[^\r\n]+$`, line)
		}
	}
}

func TestGitHubEscaping(t *testing.T) {
	assert.Equal(t, "100%25 a%0D%0Ab: c, d", ghData("100% a\r\nb: c, d"))
	assert.Equal(t, "a%3Ab%2Cc%25%0A", ghProperty("a:b,c%\n"))
}
