package lint

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ksbuilder/ksbuilder/internal/testutil/fixture"
	"github.com/ksbuilder/ksbuilder/pkg/diag"
)

// baseWith is the base fixture with files replaced or added.
func baseWith(t *testing.T, files map[string]string) map[string][]byte {
	t.Helper()
	base, _ := fixture.Load(t, filepath.Join(fixtures, "base"), filepath.Join(fixtures, "base"))
	for name, data := range files {
		base[name] = []byte(data)
	}
	return base
}

// multicluster turns the base's extension.yaml into a Multicluster one
// whose subchart app is installed with the agents.
func multicluster(t *testing.T, files map[string][]byte) {
	t.Helper()
	ext := string(files["extension.yaml"])
	ext = strings.Replace(ext, "installationMode: HostOnly", "installationMode: Multicluster", 1)
	ext = strings.Replace(ext, "    tags:\n      - extension\n", "    tags:\n      - agent\n", 1)
	require.Contains(t, ext, "Multicluster")
	require.Contains(t, ext, "- agent")
	files["extension.yaml"] = []byte(ext)
}

// TestValuesSchemaOnce: a refused value of values.yaml fails both
// releases of a Multicluster extension and Helm's linter twice (its values
// and templates rules); lint reports it once, and nothing of the renders
// or of Helm's linter repeats it.
func TestValuesSchemaOnce(t *testing.T) {
	files := baseWith(t, map[string]string{
		"values.schema.json": `{"properties": {"app": {"properties": {"replicaCount": {"maximum": 0}}}}}`,
	})
	multicluster(t, files)
	res, err := Lint(sourceOf("ext", files), Options{})
	require.NoError(t, err)
	assert.Equal(t, "error [values-schema] values.yaml:2:17 /app/replicaCount: maximum: got 1, want 0 (values.schema.json refuses it at /properties/app/properties/replicaCount/maximum: fix the value or the schema)\n",
		format(res.Findings))

	res, err = Lint(sourceOf("ext", files), Options{Skip: []string{RuleValuesSchema}})
	require.NoError(t, err)
	assert.Empty(t, format(res.Findings), "skipping the rule leaves nothing of it in the other rules")
	assert.Equal(t, 1, res.Skipped)
}

// TestValuesSchemaAgentOnly: a schema that refuses what the installer
// sets for agents fails the agent release only; the finding says who set
// the value.
func TestValuesSchemaAgentOnly(t *testing.T) {
	files := baseWith(t, map[string]string{
		"values.schema.json": `{"properties": {"global": {"properties": {"clusterInfo": {"required": ["id"]}}}}}`,
	})
	multicluster(t, files)
	res, err := Lint(sourceOf("ext", files), Options{})
	require.NoError(t, err)
	assert.Equal(t, "error [values-schema] values.schema.json:1:71 /global/clusterInfo: missing property 'id' (KubeSphere's installer sets it: the schema must allow it at /properties/global/properties/clusterInfo/required)\n",
		format(res.Findings))
}

// TestValuesSchemaOfHelmLint: a subchart the installer never renders
// (tagged agent in a HostOnly extension) is still checked by Helm's
// linter; its schema failures come out as values-schema findings too,
// at the subchart's file, and a value given to lint is named as such.
func TestValuesSchemaOfHelmLint(t *testing.T) {
	files := baseWith(t, map[string]string{
		"charts/app/values.schema.json": `{"properties": {"replicaCount": {"type": "integer"}}}`,
	})
	files["extension.yaml"] = []byte(strings.Replace(string(files["extension.yaml"]), "    tags:\n      - extension\n", "    tags:\n      - agent\n", 1))
	res, err := Lint(sourceOf("ext", files), Options{Values: map[string]any{"app": map[string]any{"replicaCount": "many"}}, Skip: []string{RuleSubchartTags}})
	require.NoError(t, err)
	assert.Equal(t, "error [values-schema] charts/app/values.schema.json:1:42 /app/replicaCount: got string, want integer (the value comes from the values given to lint; fix it or the schema at /properties/replicaCount/type)\n",
		format(res.Findings.Filter(diag.Error)), "the warnings are about the subchart never rendered")
}

// TestValuesSchemaInArchive: a subchart packed as a .tgz has its schema
// and values inside the archive; the finding names the archive and the
// file in it.
func TestValuesSchemaInArchive(t *testing.T) {
	dir := t.TempDir()
	archive := fixture.ChartArchive(t, dir, "app", "0.1.0", map[string]string{
		"Chart.yaml":         "apiVersion: v2\nname: app\nversion: 0.1.0\n",
		"values.yaml":        "replicaCount: lots\n",
		"values.schema.json": `{"properties": {"replicaCount": {"type": "integer"}}}`,
	})
	data, err := os.ReadFile(archive)
	require.NoError(t, err)
	files := baseWith(t, map[string]string{"values.yaml": "global:\n  imageRegistry: \"\"\n  nodeSelector: {}\n"})
	for name := range files {
		if strings.HasPrefix(name, "charts/app/") {
			delete(files, name)
		}
	}
	files["charts/app-0.1.0.tgz"] = data
	res, err := Lint(sourceOf("ext", files), Options{})
	require.NoError(t, err)
	var schema []string
	for _, d := range res.Findings {
		if d.Code == RuleValuesSchema {
			schema = append(schema, d.Error())
		}
		assert.NotContains(t, []string{RuleRender, RuleHelmLint}, d.Code, "%s", d.Error())
	}
	assert.Equal(t, []string{"charts/app-0.1.0.tgz: /app/replicaCount: app/values.yaml: got string, want integer (charts/app-0.1.0.tgz:app/values.schema.json refuses it at /properties/replicaCount/type: fix the value or the schema)"}, schema)
}
