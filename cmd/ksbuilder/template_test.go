package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/urfave/cli/v2"

	"github.com/ksbuilder/ksbuilder/internal/testutil/golden"
	"github.com/ksbuilder/ksbuilder/pkg/iostreams"
	"github.com/ksbuilder/ksbuilder/pkg/manifest"
	"github.com/ksbuilder/ksbuilder/pkg/values"
)

func TestNewTemplateCmd(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    templateOptions
		wantErr string
	}{
		{name: "defaults", args: []string{"template"}, want: templateOptions{Path: ".", Side: manifest.Host}},
		{
			name: "agent",
			args: []string{"template", "ext.tgz", "--agent", "--include-crds", "--output-dir", "out", "--set", "a=1", "-f", "v.yaml"},
			want: templateOptions{Path: "ext.tgz", Side: manifest.Agent, IncludeCRDs: true, OutputDir: "out",
				Values: values.Options{Values: []string{"a=1"}, ValueFiles: []string{"v.yaml"}}},
		},
		{
			name: "cluster",
			args: []string{"template", "--agent", "--cluster", "member1", "--cluster-values", "member1=m.yaml", "--cluster-set", "member2:a=1"},
			want: templateOptions{Path: ".", Side: manifest.Agent, Cluster: "member1", ClusterValues: map[string]values.Options{
				"member1": {ValueFiles: []string{"m.yaml"}}, "member2": {Values: []string{"a=1"}}}},
		},
		{name: "cluster without agent", args: []string{"template", "--cluster", "member1"}, wantErr: "add --agent"},
		{name: "cluster values without cluster", args: []string{"template", "--agent", "--cluster-set", "member1:a=1"}, wantErr: "--agent --cluster CLUSTER"},
		{name: "two paths", args: []string{"template", "a", "b"}, wantErr: "too many arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, _, _ := iostreams.Test()
			f := newFactory(ios, "test")
			var got *templateOptions
			app := newApp(f)
			cmd := newTemplateCmd(f, func(o *templateOptions) error { got = o; return nil })
			prepareCommand(f, cmd)
			app.Commands = []*cli.Command{cmd}
			err := app.Run(reorderArgs(app, append([]string{"ksbuilder"}, tt.args...)))
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				assert.Equal(t, exitUsage, exitCode(err))
				return
			}
			require.NoError(t, err)
			got.f, got.ctx = nil, nil
			assert.Equal(t, tt.want, *got)
		})
	}
}

// TestTemplateRun renders the lint fixtures' base extension and keeps the
// output as a golden file.
func TestTemplateRun(t *testing.T) {
	want, err := filepath.Abs("testdata/template-base.txt")
	require.NoError(t, err)
	dir, _ := writeFixture(t, "crd-upgrade", "pass")
	t.Chdir(dir)

	ios, _, out, errOut := iostreams.Test()
	code := run(context.Background(), []string{"ksbuilder", "template", "--include-crds", "--set", "app.replicaCount=2"}, ios)
	require.Equal(t, exitOK, code, errOut.String())
	golden.AssertString(t, out.String(), want)

	ios, _, out, errOut = iostreams.Test()
	code = run(context.Background(), []string{"ksbuilder", "template", "--output-dir", "out"}, ios)
	require.Equal(t, exitOK, code, errOut.String())
	assert.Empty(t, out.String())
	data, err := os.ReadFile(filepath.Join("out", "demo", "charts", "app", "templates", "deployment.yaml"))
	require.NoError(t, err)
	assert.Contains(t, string(data), "# Source: demo/charts/app/templates/deployment.yaml\n")
	assert.NoFileExists(t, filepath.Join("out", "demo", "charts", "app", "crds", "widgets.yaml"), "CRDs only with --include-crds")
}
