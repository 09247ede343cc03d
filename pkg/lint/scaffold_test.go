package lint

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"

	"github.com/ksbuilder/ksbuilder/create"
	"github.com/ksbuilder/ksbuilder/internal/testutil/fixture"
	"github.com/ksbuilder/ksbuilder/pkg/diag"
)

// wrappedChart is a small chart that honours KubeSphere's global values,
// for scaffolding with --from.
var wrappedChart = map[string]string{
	"Chart.yaml":  "apiVersion: v2\nname: webapp\nversion: 1.2.0\nappVersion: \"1.2.0\"\n",
	"values.yaml": "global:\n  imageRegistry: \"\"\n  nodeSelector: {}\nimage:\n  registry: docker.io\n  repository: example/webapp\n  tag: 1.2.0\n",
	"templates/deployment.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-webapp
spec:
  selector:
    matchLabels:
      app: webapp
  template:
    metadata:
      labels:
        app: webapp
    spec:
      containers:
        - name: webapp
          image: {{ .Values.global.imageRegistry | default .Values.image.registry }}/{{ .Values.image.repository }}:{{ .Values.image.tag }}
      nodeSelector:
        {{- toYaml .Values.global.nodeSelector | nindent 8 }}
`,
	"templates/service.yaml": `apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}-webapp
spec:
  selector:
    app: webapp
  ports:
    - port: 8080
`,
}

func writeWrappedChart(t *testing.T) string {
	t.Helper()
	var files []*loader.BufferedFile
	for name, data := range wrappedChart {
		files = append(files, &loader.BufferedFile{Name: name, Data: []byte(data)})
	}
	c, err := loader.LoadFiles(files)
	require.NoError(t, err)
	p, err := chartutil.Save(c, t.TempDir())
	require.NoError(t, err)
	return p
}

// TestScaffoldsLintClean lints the project of every create type, and of a
// wrapped chart in both entry modes: each must have no finding at all.
func TestScaffoldsLintClean(t *testing.T) {
	archive := writeWrappedChart(t)
	tests := []struct {
		name string
		opts create.Options
	}{
		{"full", create.Options{Type: create.Full}},
		{"frontend", create.Options{Type: create.Frontend}},
		{"backend", create.Options{Type: create.Backend}},
		{"from-iframe", create.Options{From: archive, Entry: create.EntryIframe}},
		{"from-link", create.Options{From: archive, Entry: create.EntryLink}},
		{"app", create.Options{Type: create.App, From: fixture.StoreChart(t, t.TempDir())}},
	}
	require.Len(t, create.Types, 4, "a new create type needs a case here")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := tt.opts
			o.Name, o.Category, o.Author, o.Email = "hello-world", "dev-tools", "Jane Doe", "jane@example.com"
			files, _, err := create.Render(o)
			require.NoError(t, err)
			assert.Empty(t, format(lintScaffold(t, tt.name, files)))
		})
	}
}

// TestWrappedCorpusChartsPass wraps the real charts of the corpus with
// create --from: each project must pass its own lint (no error; warnings
// such as role bindings that want a reason are the chart's own).
func TestWrappedCorpusChartsPass(t *testing.T) {
	corpus := filepath.Join("..", "..", "testdata", "corpus", "ks-extensions")
	charts := map[string]string{
		"grafana":             filepath.Join(corpus, "grafana", "charts", "grafana"),
		"metrics-server":      filepath.Join(corpus, "metrics-server", "charts", "metrics-server"),
		"higress":             filepath.Join(corpus, "higress", "charts", "higress"),
		"oceanbase-dashboard": filepath.Join(corpus, "oceanbase-dashboard", "charts", "oceanbase-dashboard-0.4.0.tgz"),
		"gpu-operator":        filepath.Join(corpus, "nvidia-gpu-operator", "charts", "gpu-operator-v23.9.2.tgz"),
	}
	for name, p := range charts {
		t.Run(name, func(t *testing.T) {
			archive := p
			if filepath.Ext(p) != ".tgz" {
				c, err := loader.LoadDir(p)
				require.NoError(t, err)
				archive, err = chartutil.Save(c, t.TempDir())
				require.NoError(t, err)
			}
			files, _, err := create.Render(create.Options{Name: "wrapped-" + name, Category: "dev-tools", Author: "Jane Doe",
				From: archive, Entry: create.EntryIframe})
			require.NoError(t, err)
			src := make(map[string][]byte, len(files))
			for f, data := range files {
				src[filepath.ToSlash(f)] = data
			}
			res, err := Lint(sourceOf(name, src), Options{})
			require.NoError(t, err)
			assert.Empty(t, format(res.Findings.Filter(diag.Error)))
		})
	}
}

// TestScaffoldsLintCleanWithNonStringNames scaffolds every type under names
// that YAML reads as numbers, booleans or null when unquoted: the project
// must still lint clean.
func TestScaffoldsLintCleanWithNonStringNames(t *testing.T) {
	archive := writeWrappedChart(t)
	types := map[string]create.Options{
		"full":        {Type: create.Full},
		"frontend":    {Type: create.Frontend},
		"backend":     {Type: create.Backend},
		"from-iframe": {From: archive, Entry: create.EntryIframe},
		"from-link":   {From: archive, Entry: create.EntryLink},
		"app":         {Type: create.App, From: fixture.StoreChart(t, t.TempDir())},
	}
	for _, name := range []string{"123", "no", "on", "off", "y", "n", "yes", "1e3", "true", "null", "0x1f", "0o17", "012", "1-0"} {
		require.NoError(t, create.ValidateName(name))
		for typ, opts := range types {
			t.Run(name+"/"+typ, func(t *testing.T) {
				o := opts
				o.Name, o.Category, o.Author = name, "dev-tools", "Jane Doe"
				files, _, err := create.Render(o)
				require.NoError(t, err)
				assert.Empty(t, format(lintScaffold(t, name, files)))
			})
		}
	}
}

// lintScaffold lints a rendered scaffold as "ksbuilder lint DIR" does: with
// the .ksbuilder-lint.yaml the scaffold ships (type app), if any.
func lintScaffold(t *testing.T, name string, files map[string][]byte) diag.List {
	t.Helper()
	opts := Options{}
	if _, ok := files[ConfigFileName]; ok {
		dir := t.TempDir()
		fixture.Write(t, dir, files)
		cfg, err := LoadConfig(filepath.Join(dir, ConfigFileName))
		require.NoError(t, err)
		opts.Adjust = cfg.Adjuster(dir)
	}
	src := make(map[string][]byte, len(files))
	for f, data := range files {
		src[filepath.ToSlash(f)] = data
	}
	res, err := Lint(sourceOf(name, src), opts)
	require.NoError(t, err)
	return res.Findings
}

// TestAppScaffoldSkipsOnlyItsBinding checks what the App Store scaffold's
// .ksbuilder-lint.yaml hides: without it, the only finding is the
// ClusterRoleBinding grant the post-install Job needs.
func TestAppScaffoldSkipsOnlyItsBinding(t *testing.T) {
	files, _, err := create.Render(create.Options{Name: "hello-world", Category: "dev-tools", Author: "Jane Doe",
		Type: create.App, From: fixture.StoreChart(t, t.TempDir())})
	require.NoError(t, err)
	src := make(map[string][]byte, len(files))
	for f, data := range files {
		src[filepath.ToSlash(f)] = data
	}
	res, err := Lint(sourceOf("app", src), Options{})
	require.NoError(t, err)
	require.Len(t, res.Findings, 1, format(res.Findings))
	assert.Equal(t, RulePermissionsSensitive, res.Findings[0].Code)
	assert.Contains(t, res.Findings[0].Message, "clusterrolebindings")
	assert.Empty(t, format(lintScaffold(t, "app", files)))
}
