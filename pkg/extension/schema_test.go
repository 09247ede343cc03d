package extension

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

// The editor schemas of docs/schema, referenced by the scaffold's
// yaml-language-server modelines.
const (
	extensionSchema   = "../../docs/schema/extension.schema.json"
	permissionsSchema = "../../docs/schema/permissions.schema.json"
)

func readSchema(t *testing.T, path string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var s map[string]any
	require.NoError(t, json.Unmarshal(data, &s))
	return s
}

// schemaChecker compares a schema with the Go type decoding the same file.
type schemaChecker struct {
	t    *testing.T
	root map[string]any
}

// resolve follows a local "$ref".
func (c schemaChecker) resolve(node map[string]any) map[string]any {
	ref, ok := node["$ref"].(string)
	if !ok {
		return node
	}
	name, ok := strings.CutPrefix(ref, "#/definitions/")
	require.True(c.t, ok, "only local definitions are supported: %s", ref)
	defs, _ := c.root["definitions"].(map[string]any)
	def, ok := defs[name].(map[string]any)
	require.True(c.t, ok, "no definition %s", name)
	return c.resolve(def)
}

// types returns the JSON types a schema allows: its "type", or the types
// of every branch of its anyOf, which must all agree.
func (c schemaChecker) types(path string, node map[string]any) []string {
	if t, ok := node["type"].(string); ok {
		return []string{t}
	}
	var out []string
	branches, _ := node["anyOf"].([]any)
	for _, b := range branches {
		out = append(out, c.types(path, c.resolve(b.(map[string]any)))...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// check asserts that node accepts exactly the shape the decoder of
// pkg/extension accepts for typ.
func (c schemaChecker) check(path string, typ reflect.Type, node map[string]any) {
	t := c.t
	node = c.resolve(node)
	if typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	want := map[reflect.Kind]string{
		reflect.String: "string", reflect.Bool: "boolean", reflect.Slice: "array",
		reflect.Map: "object", reflect.Struct: "object",
	}
	if typ.Kind() == reflect.Interface {
		assert.Empty(t, c.types(path, node), "%s takes any value, the schema must not restrict its type", path)
		return
	}
	jsonType, ok := want[typ.Kind()]
	require.True(t, ok, "%s: no JSON type for Go kind %s", path, typ.Kind())
	if !assert.Equal(t, []string{jsonType}, c.types(path, node), "%s is a Go %s", path, typ) {
		return
	}
	switch typ.Kind() {
	case reflect.Slice:
		items, ok := node["items"].(map[string]any)
		if typ.Elem().Kind() == reflect.Interface && !ok {
			return
		}
		require.True(t, ok, "%s: the schema gives no items", path)
		c.check(path+"[]", typ.Elem(), items)
	case reflect.Map:
		require.Equal(t, reflect.String, typ.Key().Kind(), path)
		values, ok := node["additionalProperties"].(map[string]any)
		require.True(t, ok, "%s: a map needs an additionalProperties schema", path)
		c.check(path+".*", typ.Elem(), values)
	case reflect.Struct:
		assert.Equal(t, false, node["additionalProperties"], "%s: the decoder reports unknown fields, the schema must too", path)
		props, _ := node["properties"].(map[string]any)
		fields := yamlFields(typ)
		for name, f := range fields {
			p, ok := props[name].(map[string]any)
			if !assert.True(t, ok, "%s.%s is a field of %s but not in the schema", path, name, typ) {
				continue
			}
			assert.NotEmpty(t, c.resolve(p)["description"], "%s.%s has no description", path, name)
			c.check(path+"."+name, f.Type, p)
		}
		for name := range props {
			_, ok := fields[name]
			assert.True(t, ok, "%s.%s is in the schema but not a field of %s", path, name, typ)
		}
		required, _ := node["required"].([]any)
		for _, r := range required {
			_, ok := fields[r.(string)]
			assert.True(t, ok, "%s: required %v is not a field", path, r)
		}
	}
}

// yamlFields maps the yaml names of a struct's exported fields to them.
func yamlFields(typ reflect.Type) map[string]reflect.StructField {
	out := map[string]reflect.StructField{}
	for i := 0; i < typ.NumField(); i++ {
		f := typ.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if f.IsExported() && name != "" && name != "-" {
			out[name] = f
		}
	}
	return out
}

// TestSchemasMatchTypes keeps docs/schema in agreement with the types that
// decode extension.yaml and each document of permissions.yaml: every field
// is in the schema with the same JSON type, and the schema has no property
// the types lack.
func TestSchemasMatchTypes(t *testing.T) {
	ext := readSchema(t, extensionSchema)
	schemaChecker{t, ext}.check("extension.yaml", reflect.TypeOf(Extension{}), ext)
	perm := readSchema(t, permissionsSchema)
	schemaChecker{t, perm}.check("permissions.yaml", reflect.TypeOf(PermissionDocument{}), perm)
}

// TestSchemaCategories keeps the schema's category suggestions in step
// with the built-in categories.
func TestSchemaCategories(t *testing.T) {
	ext := readSchema(t, extensionSchema)
	category := ext["properties"].(map[string]any)["category"].(map[string]any)
	var inSchema []string
	for _, v := range category["anyOf"].([]any)[0].(map[string]any)["enum"].([]any) {
		inSchema = append(inSchema, v.(string))
	}
	var builtIn []string
	for _, c := range Categories {
		builtIn = append(builtIn, c.Name)
	}
	assert.Equal(t, builtIn, inSchema)
}

// TestSchemaLanguageCodes keeps the schema's language codes in step with
// the ones the validator accepts.
func TestSchemaLanguageCodes(t *testing.T) {
	ext := readSchema(t, extensionSchema)
	code := ext["definitions"].(map[string]any)["languageCode"].(map[string]any)
	var inSchema []string
	for _, v := range code["enum"].([]any) {
		inSchema = append(inSchema, v.(string))
	}
	assert.Equal(t, strings.Fields(languageCodes), inSchema)
}

func compileSchema(t *testing.T, path string) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	require.NoError(t, err)
	id := doc.(map[string]any)["$id"].(string)
	c := jsonschema.NewCompiler()
	require.NoError(t, c.AddResource(id, doc))
	s, err := c.Compile(id)
	require.NoError(t, err)
	return s
}

// yamlDocuments reads every document of a YAML file as JSON values.
func yamlDocuments(t *testing.T, data []byte) []any {
	t.Helper()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var out []any
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return out
		}
		require.NoError(t, err)
		v := nodeValue(t, content(&n))
		if v == nil {
			continue
		}
		j, err := json.Marshal(v)
		require.NoError(t, err)
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(j))
		require.NoError(t, err)
		out = append(out, doc)
	}
}

// nodeValue converts a YAML node to plain values; of a key set twice the
// last value wins, as in KubeSphere (the linter warns about it).
func nodeValue(t *testing.T, n *yaml.Node) any {
	t.Helper()
	switch n.Kind {
	case yaml.AliasNode:
		return nodeValue(t, n.Alias)
	case yaml.MappingNode:
		m := map[string]any{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			m[n.Content[i].Value] = nodeValue(t, n.Content[i+1])
		}
		return m
	case yaml.SequenceNode:
		l := []any{}
		for _, item := range n.Content {
			l = append(l, nodeValue(t, item))
		}
		return l
	}
	var v any
	require.NoError(t, n.Decode(&v))
	return v
}

// metadataFiles lists the extension.yaml or permissions.yaml files of the
// real extensions of the corpus, the scaffold's golden output and the
// linter's base fixture.
func metadataFiles(t *testing.T, name string) []string {
	t.Helper()
	var files []string
	for _, pattern := range []string{"../../testdata/corpus/*/*/", "../../create/testdata/*/", "../../testdata/lint/base/"} {
		m, err := filepath.Glob(pattern + name)
		require.NoError(t, err)
		files = append(files, m...)
	}
	sort.Strings(files)
	require.NotEmpty(t, files)
	return files
}

// TestSchemasAcceptRealFiles validates the corpus, the scaffold and the
// lint fixture against the schemas.
func TestSchemasAcceptRealFiles(t *testing.T) {
	for name, schemaPath := range map[string]string{MetadataFile: extensionSchema, PermissionsFile: permissionsSchema} {
		s := compileSchema(t, schemaPath)
		for _, f := range metadataFiles(t, name) {
			data, err := os.ReadFile(f)
			require.NoError(t, err)
			for i, doc := range yamlDocuments(t, data) {
				assert.NoError(t, s.Validate(doc), "%s document %d", f, i+1)
			}
		}
	}
}

// TestSchemasReject checks that the schemas catch what the decoder and
// validator report.
func TestSchemasReject(t *testing.T) {
	ext := compileSchema(t, extensionSchema)
	base, err := os.ReadFile("../../testdata/lint/base/extension.yaml")
	require.NoError(t, err)
	for _, tt := range []struct{ name, from, to string }{
		{"unknown field", "\nicon:", "\nicno:"},
		{"unknown field of a maintainer", "    email: demo@", "    mail: demo@"},
		{"installation mode", "installationMode: HostOnly", "installationMode: Hostonly"},
		{"name format", "name: demo", "name: Demo"},
		{"language code", "  zh: 演示", "  cn: 演示"},
		{"list as a string", "keywords:\n  - demo", "keywords: demo"},
		{"missing required", "category: dev-tools\n", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			bad := strings.Replace(string(base), tt.from, tt.to, 1)
			require.NotEqual(t, string(base), bad, "the replacement must apply")
			docs := yamlDocuments(t, []byte(bad))
			require.Len(t, docs, 1)
			assert.Error(t, ext.Validate(docs[0]))
		})
	}

	perm := compileSchema(t, permissionsSchema)
	for _, bad := range []string{
		"kind: ClusterRoleBinding\nrules:\n  - verbs: [get]\n",
		"kind: Role\nrules:\n  - verbs: [get]\n    resource: [pods]\n",
		"kind: Role\nrules: []\n",
	} {
		docs := yamlDocuments(t, []byte(bad))
		assert.Error(t, perm.Validate(docs[0]), bad)
	}
}
