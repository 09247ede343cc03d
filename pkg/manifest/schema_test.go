package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"

	"github.com/ksbuilder/ksbuilder/pkg/diag"
	"github.com/ksbuilder/ksbuilder/pkg/source"
)

// schemaChart loads files (a chart "ext" whose Chart.yaml is added) with
// Helm's loader, and the source they would come from.
func schemaChart(t *testing.T, files map[string]string) (*chart.Chart, *source.Source) {
	t.Helper()
	if _, ok := files["Chart.yaml"]; !ok {
		files["Chart.yaml"] = "apiVersion: v2\nname: ext\nversion: 0.1.0\n"
	}
	var buffered []*loader.BufferedFile
	var srcFiles []source.File
	for name, data := range files {
		buffered = append(buffered, &loader.BufferedFile{Name: name, Data: []byte(data)})
		srcFiles = append(srcFiles, source.File{Name: name, Data: []byte(data)})
	}
	c, err := loader.LoadFiles(buffered)
	require.NoError(t, err)
	return c, source.New("ext", source.Directory, srcFiles)
}

const subChartYAML = "apiVersion: v2\nname: backend\nversion: 0.1.0\n"

const replicasSchema = `{
  "type": "object",
  "properties": {
    "replicas": {"type": "integer", "minimum": 1}
  }
}`

// TestSchemaDiagnostics renders charts whose values Helm refuses, or not,
// and checks that ksbuilder refuses exactly those Helm refuses (Helm's own
// validation, chartutil.ToRenderValues, beside it), each problem once, at
// the file that has it.
func TestSchemaDiagnostics(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		user  map[string]any
		// installer are values set over user's, as the installer's overrides.
		installer map[string]any
		// want are the findings, "file:line:col field: message (hint)";
		// none when Helm accepts the values.
		want []string
	}{
		{
			name:  "accepted",
			files: map[string]string{"values.yaml": "replicas: 2\n", "values.schema.json": replicasSchema},
		},
		{
			name:  "a value of values.yaml",
			files: map[string]string{"values.yaml": "# the replicas\nreplicas: two\n", "values.schema.json": replicasSchema},
			want:  []string{"values.yaml:2:11 /replicas: got string, want integer (values.schema.json refuses it at /properties/replicas/type: fix the value or the schema)"},
		},
		{
			name:  "a value the user gave",
			files: map[string]string{"values.yaml": "replicas: 2\n", "values.schema.json": replicasSchema},
			user:  map[string]any{"replicas": 0},
			want:  []string{"values.schema.json:4:48 /replicas: minimum: got 0, want 1 (the value comes from the values flags; fix it or the schema at /properties/replicas/minimum)"},
		},
		{
			name:  "required",
			files: map[string]string{"values.schema.json": `{"type": "object", "required": ["name"]}`},
			want:  []string{"values.schema.json:1:32 missing property 'name' (fix the values or the schema at /required)"},
		},
		{
			name: "anyOf: the branch that says more",
			files: map[string]string{"values.yaml": "x:\n  a: one\n", "values.schema.json": `{"properties": {"x": {"anyOf": [
				{"type": "string"},
				{"type": "object", "properties": {"a": {"type": "integer"}}}]}}}`},
			want: []string{"values.yaml:2:6 /x/a: got string, want integer (values.schema.json refuses it at /properties/x/anyOf/1/properties/a/type: fix the value or the schema)"},
		},
		{
			name:  "anyOf: only types",
			files: map[string]string{"values.yaml": "x: true\n", "values.schema.json": `{"properties": {"x": {"anyOf": [{"type": "string"}, {"type": "integer"}]}}}`},
			want:  []string{"values.yaml:1:4 /x: got boolean, want string or integer (values.schema.json refuses it at /properties/x/anyOf/0/type: fix the value or the schema)"},
		},
		{
			name:  "a schema its meta-schema refuses",
			files: map[string]string{"values.schema.json": "{\n  \"$schema\": \"http://json-schema.org/draft-07/schema#\",\n  \"type\": 5\n}"},
			want: []string{"values.schema.json:3:11 /type: value must be one of 'array', 'boolean', 'integer', 'null', 'number', 'object', 'string' " +
				"(fix the schema: Helm checks it against the meta-schema http://json-schema.org/draft-07/schema# and refuses every install of the chart until it passes)"},
		},
		{
			name:  "not JSON",
			files: map[string]string{"values.schema.json": "{\n  \"type\": \"object\",\n}"},
			want:  []string{"values.schema.json:3:1 not valid JSON: invalid character '}' looking for beginning of object key string (Helm refuses to package or install the chart until its values.schema.json is valid JSON)"},
		},
		{
			name:  "a reference to nothing",
			files: map[string]string{"values.schema.json": `{"properties": {"a": {"$ref": "#/definitions/missing"}}}`},
			want:  []string{`values.schema.json: json-pointer in "file:///values.schema.json#/definitions/missing" not found (fix the schema: Helm cannot compile it, so it refuses every install of the chart)`},
		},
		{
			name:      "no room for the installer's tags",
			files:     map[string]string{"values.yaml": "a: 1\n", "values.schema.json": `{"additionalProperties": false, "properties": {"a": {}, "global": {}}}`},
			installer: map[string]any{"tags": map[string]any{"extension": true}},
			want:      []string{"values.schema.json:1:26 additional properties 'tags' not allowed (KubeSphere's installer sets it: the schema must allow it at /additionalProperties)"},
		},
		{
			name:  "an extra property given",
			files: map[string]string{"values.schema.json": `{"additionalProperties": false, "properties": {"global": {}}}`},
			user:  map[string]any{"typo": 1},
			want:  []string{"values.schema.json:1:26 additional properties 'typo' not allowed (the value comes from the values flags; fix it or the schema at /additionalProperties)"},
		},
		{
			name:  "a key that URLs escape",
			files: map[string]string{"values.yaml": "a b: x\n", "values.schema.json": `{"properties": {"a b": {"type": "integer"}}}`},
			want:  []string{"values.yaml:1:6 /a b: got string, want integer (values.schema.json refuses it at /properties/a b/type: fix the value or the schema)"},
		},
		{
			name:  "formats are not asserted",
			files: map[string]string{"values.yaml": "mail: nobody\n", "values.schema.json": `{"properties": {"mail": {"type": "string", "format": "email"}}}`},
		},
		{
			name:  "urn references allow everything",
			files: map[string]string{"values.yaml": "a: 1\n", "values.schema.json": `{"properties": {"a": {"$ref": "urn:example:unknown"}}}`},
		},
		{
			name: "a subchart's schema, the value in the parent's values.yaml",
			files: map[string]string{
				"values.yaml":                         "backend:\n  replicas: 0\n",
				"charts/backend/Chart.yaml":           subChartYAML,
				"charts/backend/values.yaml":          "replicas: 1\n",
				"charts/backend/values.schema.json":   replicasSchema,
				"charts/backend/templates/empty.yaml": "",
			},
			want: []string{"values.yaml:2:13 /backend/replicas: minimum: got 0, want 1 (charts/backend/values.schema.json refuses it at /properties/replicas/minimum: fix the value or the schema)"},
		},
		{
			name: "a subchart's schema, the value in its own values.yaml",
			files: map[string]string{
				"charts/backend/Chart.yaml":         subChartYAML,
				"charts/backend/values.yaml":        "replicas: []\n",
				"charts/backend/values.schema.json": replicasSchema,
			},
			want: []string{"charts/backend/values.yaml:1:11 /backend/replicas: got array, want integer (charts/backend/values.schema.json refuses it at /properties/replicas/type: fix the value or the schema)"},
		},
		{
			name: "a global of the parent",
			files: map[string]string{
				"values.yaml":                       "global:\n  zone: 3\n",
				"charts/backend/Chart.yaml":         subChartYAML,
				"charts/backend/values.schema.json": `{"properties": {"global": {"properties": {"zone": {"type": "string"}}}}}`,
			},
			want: []string{"values.yaml:2:9 /backend/global/zone: got number, want string (charts/backend/values.schema.json refuses it at /properties/global/properties/zone/type: fix the value or the schema)"},
		},
		{
			name: "an aliased subchart",
			files: map[string]string{
				"Chart.yaml":                        "apiVersion: v2\nname: ext\nversion: 0.1.0\ndependencies:\n  - name: backend\n    version: 0.1.0\n    alias: api\n",
				"values.yaml":                       "api:\n  replicas: no\n",
				"charts/backend/Chart.yaml":         subChartYAML,
				"charts/backend/values.schema.json": replicasSchema,
			},
			want: []string{"values.yaml:2:13 /api/replicas: got boolean, want integer (charts/backend/values.schema.json refuses it at /properties/replicas/type: fix the value or the schema)"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, src := schemaChart(t, tt.files)
			user := tt.user
			if user == nil {
				user = map[string]any{}
			}
			vals := CopyValues(user)
			for k, v := range tt.installer {
				vals[k] = v
			}
			opts := RenderOptions{ReleaseName: "ext", Namespace: "ns", Values: vals}
			_, err := Prepare(c, opts)

			// Helm's own validation of the same release.
			processed := cloneChart(c)
			require.NoError(t, chartutil.ProcessDependenciesWithMerge(processed, CopyValues(vals)))
			_, helmErr := chartutil.ToRenderValues(processed, CopyValues(vals), chartutil.ReleaseOptions{Name: "ext", Namespace: "ns"}, nil)
			assert.Equal(t, helmErr != nil, err != nil, "ksbuilder refuses what Helm refuses (Helm: %v)", helmErr)

			var got []string
			var schemaErr *SchemaError
			if errors.As(err, &schemaErr) {
				for _, d := range NewLocator(src, c).SchemaDiagnostics(schemaErr, CodeValuesSchema, GivenIn(user, "the values flags")) {
					assert.Equal(t, CodeValuesSchema, d.Code)
					got = append(got, d.Error())
				}
				assert.NotContains(t, schemaErr.Error(), "\n", "the error is one line")
			} else if err != nil {
				t.Fatalf("not a *SchemaError: %v", err)
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

// TestSchemaErrorLine: the error of commands that print one sentence
// names the first problem (in the order of the values, whatever order the
// validator finds them in), its fix and how many more there are.
func TestSchemaErrorLine(t *testing.T) {
	c, _ := schemaChart(t, map[string]string{
		"values.yaml":        "b: y\na: x\n",
		"values.schema.json": `{"properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}}`,
	})
	_, err := Prepare(c, RenderOptions{ReleaseName: "ext", Namespace: "ns"})
	var schemaErr *SchemaError
	require.ErrorAs(t, err, &schemaErr)
	assert.Equal(t, "values.schema.json:1:31: /a: got string, want integer (fix the value or the schema; 1 more problem)", err.Error())
	assert.Contains(t, errors.Unwrap(err).Error(), "values don't meet the specifications of the schema(s)", "Helm's error is kept")
}

// TestCheckChartSchema: Helm's linter checks values.yaml against the
// chart's own schema only, with the values given over it.
func TestCheckChartSchema(t *testing.T) {
	c, _ := schemaChart(t, map[string]string{
		"values.yaml":                       "replicas: 1\n",
		"values.schema.json":                replicasSchema,
		"charts/backend/Chart.yaml":         subChartYAML,
		"charts/backend/values.yaml":        "replicas: bad\n",
		"charts/backend/values.schema.json": replicasSchema,
	})
	assert.Nil(t, CheckChartSchema(c, nil, nil), "the subchart's schema is not the chart's")
	e := CheckChartSchema(c, nil, map[string]any{"replicas": "x"})
	require.NotNil(t, e)
	require.Len(t, e.Problems, 1)
	assert.Equal(t, "/replicas", e.Problems[0].Pointer)
	e = CheckValuesSchema(c, nil, nil)
	require.NotNil(t, e)
	assert.Equal(t, []string{"backend", "replicas"}, e.Problems[0].ValuesPath())
}

// TestSubchartValuesNotMap: Helm's validation refuses a subchart's values
// that are not a map, schema or not (its coalescing refuses most of them
// before).
func TestSubchartValuesNotMap(t *testing.T) {
	c, src := schemaChart(t, map[string]string{"charts/backend/Chart.yaml": subChartYAML})
	vals := map[string]any{"backend": "x"}
	require.Error(t, chartutil.ValidateAgainstSchema(c, vals))
	e := &SchemaError{Problems: schemaProblems(c, nil, vals)}
	assert.Equal(t, []string{"/backend: the values of subchart backend must be a map, got string (the value comes from --set backend=x; give a map of the subchart's values)"},
		diagStrings(NewLocator(src, c).SchemaDiagnostics(e, CodeValuesSchema, GivenIn(vals, "--set backend=x"))))
}

func diagStrings(list diag.List) []string {
	var out []string
	for _, d := range list {
		out = append(out, d.Error())
	}
	return out
}

func TestJSONPosition(t *testing.T) {
	doc := []byte("{\n  \"a\": [1, {\"b~/c\": \"x\"}],\n  \"é\": {\"k\": true}\n}")
	for _, tt := range []struct {
		path         []string
		line, column int
	}{
		{nil, 1, 1},
		{[]string{"a"}, 2, 8},
		{[]string{"a", "1", "b~/c"}, 2, 21},
		{[]string{"é", "k"}, 3, 14},
		{[]string{"a", "2"}, 0, 0},
		{[]string{"missing"}, 0, 0},
		{[]string{"a", "0", "deeper"}, 0, 0},
	} {
		line, column := jsonPosition(doc, tt.path)
		assert.Equal(t, []int{tt.line, tt.column}, []int{line, column}, "%q", tt.path)
	}
	for doc, want := range map[string][2]int{
		`{"a": 1}`:         {0, 0},
		"{\n  \"a\": x}":   {2, 8},
		"{\"a\": 1} \n  ]": {2, 3},
		`{"a": `:           {1, 7},
		``:                 {1, 1},
	} {
		line, column := jsonSyntaxPosition([]byte(doc))
		assert.Equal(t, want, [2]int{line, column}, "%q", doc)
	}
}

// FuzzJSONPosition: any document and path give a position inside the
// document or none, and a document is JSON exactly when no syntax
// position is found.
func FuzzJSONPosition(f *testing.F) {
	f.Add([]byte(`{"a": [1, {"b": "x"}]}`), "a/1/b")
	f.Add([]byte(`{"a": `), "a")
	f.Add([]byte("[[[\n]]]"), "0/0")
	f.Add([]byte(`{"a":1} {"b":2}`), "b")
	f.Fuzz(func(t *testing.T, doc []byte, pointer string) {
		var path []string
		if pointer != "" {
			path = strings.Split(pointer, "/")
		}
		lines := strings.Count(string(doc), "\n") + 1
		if line, column := jsonPosition(doc, path); line != 0 && (line > lines || column < 1) {
			t.Fatalf("jsonPosition(%q, %q) = %d:%d, outside the document", doc, path, line, column)
		}
		line, column := jsonSyntaxPosition(doc)
		if valid := line == 0; valid != json.Valid(doc) {
			t.Fatalf("jsonSyntaxPosition(%q) = %d:%d, but json.Valid says %v", doc, line, column, json.Valid(doc))
		}
		if line > lines || line != 0 && column < 1 {
			t.Fatalf("jsonSyntaxPosition(%q) = %d:%d, outside the document", doc, line, column)
		}
	})
}

// FuzzSchemaExplained: whenever Helm's validation refuses values against a
// schema, ksbuilder finds at least one problem to show, and none when Helm
// accepts them. Schemas that reference other documents are left out: the
// loaders read files and the network.
func FuzzSchemaExplained(f *testing.F) {
	f.Add([]byte(replicasSchema), []byte(`{"replicas": 0}`))
	f.Add([]byte(`{"$schema": "http://json-schema.org/draft-07/schema#", "type": 5}`), []byte(`{}`))
	f.Add([]byte(`{"properties": {"x": {"anyOf": [{"type": "string"}, {"type": "object", "properties": {"a": {"type": "integer"}}}]}}}`), []byte(`{"x": {"a": "b"}}`))
	f.Add([]byte(`{"required": ["a"], "additionalProperties": false}`), []byte(`{"b": [1, 2]}`))
	f.Add([]byte(`{"properties": {"x": {"oneOf": [{"type": "string"}, {"minLength": 1}]}}}`), []byte(`{"x": "abc"}`))
	f.Add([]byte(`{"type": "object",}`), []byte(`{}`))
	f.Fuzz(func(t *testing.T, schema, values []byte) {
		if bytes.Contains(schema, []byte("$ref")) || bytes.Contains(schema, []byte("Ref")) || bytes.Contains(schema, []byte("$id")) || bytes.Contains(schema, []byte("$schema\": \"f")) {
			t.Skip("references load other documents")
		}
		var vals map[string]any
		if json.Unmarshal(values, &vals) != nil || vals == nil {
			t.Skip("values are a map")
		}
		helmErr := chartutil.ValidateAgainstSingleSchema(vals, schema)
		problems := validateSchema(nil, schema, vals)
		if (helmErr != nil) != (len(problems) > 0) {
			t.Fatalf("Helm: %v; ksbuilder: %+v", helmErr, problems)
		}
		for _, p := range problems {
			if p.Message == "" || strings.Contains(p.Message, "\n") {
				t.Fatalf("problem without a one-line message: %+v", p)
			}
		}
	})
}
