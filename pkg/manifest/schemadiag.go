package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"slices"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/ksbuilder/ksbuilder/pkg/diag"
)

// CodeValuesSchema is the code of the findings about values.schema.json:
// a schema Helm cannot use, or values it refuses.
const CodeValuesSchema = "values-schema"

// ValueSource says how the user gave the value at a path of the top
// chart's values ("--set replicas=three", "-f prod.yaml"), or "" when the
// user did not give it.
type ValueSource func(path []string) string

// GivenIn is the ValueSource of values given as a whole: what, for every
// path vals has (the whole values are never given by one source).
func GivenIn(vals map[string]any, what string) ValueSource {
	return func(path []string) string {
		if _, ok := valueAt(vals, path); ok && len(path) > 0 {
			return what
		}
		return ""
	}
}

// SchemaDiagnostics turns the problems of a *SchemaError into findings at
// the extension's files, with code: a schema that is not JSON or does not
// compile at its values.schema.json (line and column when known); a
// refused value at the line of the values.yaml that sets it when it comes
// from one, else at the schema's keyword, saying where it came from (given
// says which values the user gave, may be nil).
func (l *Locator) SchemaDiagnostics(e *SchemaError, code string, given ValueSource) diag.List {
	top := l.chart.Name()
	var out diag.List
	for _, p := range e.Problems {
		chartPath := p.chartPath(top)
		schemaFile := l.Locate(path.Join(chartPath, SchemaFile))
		shownSchema := schemaFile.File
		if schemaFile.Inner != "" {
			shownSchema = schemaFile.File + ":" + schemaFile.Inner
		}
		at := func(loc Location, line, column int, field, msg, hint string) diag.Diagnostic {
			d := loc.Diagnostic(diag.Error, code, field, msg, hint)
			if loc.Inner == "" {
				d.Line, d.Column = line, column
			}
			return d
		}
		switch p.Kind {
		case SchemaSyntax:
			out.Add(at(schemaFile, p.Line, p.Column, "", p.Message,
				"Helm refuses to package or install the chart until its values.schema.json is valid JSON"))
		case SchemaInvalid:
			hint := "fix the schema: Helm cannot compile it, so it refuses every install of the chart"
			if p.Draft != "" {
				hint = fmt.Sprintf("fix the schema: Helm checks it against the meta-schema %s and refuses every install of the chart until it passes", p.Draft)
			}
			out.Add(at(schemaFile, p.Line, p.Column, p.Pointer, p.Message, hint))
		case ValueRefused, ValuesNotMap:
			valuesPath := p.ValuesPath()
			field := jsonPointer(valuesPath)
			keyword := ""
			if p.Keyword != "" {
				keyword = " at " + p.Keyword
			}
			source := refusedValueSource(given, p)
			if chartPath, line, column, ok := l.valueOrigin(valuesPath, p.Value); ok && source == "" {
				out.Add(at(l.Locate(path.Join(chartPath, chartutil.ValuesfileName)), line, column, field, p.Message,
					fmt.Sprintf("%s refuses it%s: fix the value or the schema", shownSchema, keyword)))
				continue
			}
			if p.Kind == ValuesNotMap {
				hint := "give a map of the subchart's values"
				if source != "" {
					hint = fmt.Sprintf("the value comes from %s; %s", source, hint)
				}
				out.Add(diag.Diagnostic{Severity: diag.Error, Code: code, Field: field, Message: p.Message, Hint: hint})
				continue
			}
			var hint string
			switch {
			case source != "":
				hint = valueComesFrom(source, keyword)
			case installerSets(valuesPath) || len(p.extra) > 0 && allInstallerSet(valuesPath, p.extra):
				hint = fmt.Sprintf("KubeSphere's installer sets it: the schema must allow it%s", keyword)
			default:
				hint = fmt.Sprintf("fix the values or the schema%s", keyword)
			}
			out.Add(at(schemaFile, p.Line, p.Column, field, p.Message, hint))
		}
	}
	return out
}

// SchemaSyntaxDiagnostics reports, with code CodeValuesSchema, each
// values.schema.json of the chart tree that is not JSON, at the line and
// column where it stops being JSON: Helm refuses to package such a chart,
// and to install it.
func (l *Locator) SchemaSyntaxDiagnostics() diag.List {
	var problems []SchemaProblem
	var walk func(c *chart.Chart, charts []string)
	walk = func(c *chart.Chart, charts []string) {
		if c.Schema != nil && !json.Valid(c.Schema) {
			_, err := jsonschema.UnmarshalJSON(bytes.NewReader(c.Schema))
			if err == nil {
				err = errors.New("invalid JSON")
			}
			problems = append(problems, syntaxProblem(charts, c.Schema, err))
		}
		for _, sub := range c.Dependencies() {
			walk(sub, append(slices.Clone(charts), sub.Name()))
		}
	}
	walk(l.chart, nil)
	if len(problems) == 0 {
		return nil
	}
	return l.SchemaDiagnostics(&SchemaError{Problems: problems}, CodeValuesSchema, nil)
}

// SchemaErrors returns the findings of the *SchemaError in err (see
// SchemaDiagnostics), as a *diag.Errors with code CodeValuesSchema, or nil
// when err holds none.
func (l *Locator) SchemaErrors(err error, given ValueSource) error {
	var schemaErr *SchemaError
	if !errors.As(err, &schemaErr) {
		return nil
	}
	return l.SchemaDiagnostics(schemaErr, CodeValuesSchema, given).Err()
}

// installerSets reports whether KubeSphere's installer sets the value at
// path of the top chart's values: the tags, and global.clusterInfo,
// global.imageRegistry and global.nodeSelector (from its configuration;
// lint sets the last two to a marker of its own).
func installerSets(path []string) bool {
	if len(path) > 0 && path[0] == "tags" {
		return true
	}
	if len(path) < 2 || path[0] != "global" {
		return false
	}
	switch path[1] {
	case "clusterInfo", "imageRegistry", "nodeSelector":
		return true
	}
	return false
}

// allInstallerSet reports whether the installer sets every property of
// the map at path.
func allInstallerSet(path, properties []string) bool {
	for _, prop := range properties {
		if !installerSets(append(slices.Clone(path), prop)) {
			return false
		}
	}
	return true
}

// refusedValueSource is where the user gave the value a problem refuses,
// or one of the properties it refuses: "" when given does not know.
func refusedValueSource(given ValueSource, p SchemaProblem) string {
	valuesPath := p.ValuesPath()
	source := sourceOf(given, valuesPath)
	for _, prop := range p.extra {
		if source == "" {
			source = sourceOf(given, append(slices.Clone(valuesPath), prop))
		}
	}
	return source
}

// valueComesFrom is the hint of a refused value the user gave with source,
// refused at the schema's keyword (" at /properties/...", or "").
func valueComesFrom(source, keyword string) string {
	return fmt.Sprintf("the value comes from %s; fix it or the schema%s", source, keyword)
}

// sourceOf asks given, when set, where the value at path came from.
func sourceOf(given ValueSource, path []string) string {
	if given == nil {
		return ""
	}
	return given(path)
}

// valueOrigin finds the values.yaml that sets value at path of the top
// chart's values, as Helm coalesces them: a parent's values.yaml over its
// subchart's, and for globals the highest chart's. It returns the chart's
// path and the position of the value; ok is false when no values.yaml of
// the tree sets this value there (the user's values or the installer's
// overrides did, or the value is a map made of several files).
func (l *Locator) valueOrigin(valuesPath []string, value any) (chartPath string, line, column int, ok bool) {
	want, err := json.Marshal(value)
	if err != nil || len(valuesPath) == 0 {
		return "", 0, 0, false
	}
	if _, isMap := value.(map[string]any); isMap {
		return "", 0, 0, false
	}
	c, chartPath, rest := l.chart, l.chart.Name(), valuesPath
	var globals [][]string // the global paths seen from each chart down
	for c != nil {
		candidates := [][]string{rest}
		if i := slices.Index(rest, "global"); i >= 0 {
			globals = append(globals, rest[i:])
		}
		candidates = append(candidates, globals...)
		for _, p := range candidates {
			if line, column, ok := valuesFilePosition(c, p, want); ok {
				return chartPath, line, column, true
			}
		}
		if len(rest) < 2 {
			break
		}
		next := subchartNamed(c, rest[0])
		if next == nil {
			break
		}
		c, chartPath, rest = next, chartPath+"/charts/"+rest[0], rest[1:]
	}
	return "", 0, 0, false
}

// subchartNamed returns the dependency of c called name, by its name or
// by an alias it is declared with.
func subchartNamed(c *chart.Chart, name string) *chart.Chart {
	for _, sub := range c.Dependencies() {
		if sub.Name() == name {
			return sub
		}
		if c.Metadata == nil {
			continue
		}
		for _, d := range c.Metadata.Dependencies {
			if d.Name == sub.Name() && d.Alias == name {
				return sub
			}
		}
	}
	return nil
}

// valuesFilePosition returns the position of the value at path in c's
// values.yaml when it is there and marshals to want.
func valuesFilePosition(c *chart.Chart, path []string, want []byte) (line, column int, ok bool) {
	var data []byte
	for _, f := range c.Raw {
		if f.Name == chartutil.ValuesfileName {
			data = f.Data
		}
	}
	if data == nil {
		return 0, 0, false
	}
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) != nil || len(doc.Content) == 0 {
		return 0, 0, false
	}
	n := yamlNodeAt(doc.Content[0], path)
	if n == nil {
		return 0, 0, false
	}
	// Read as Helm reads values.yaml (YAML 1.1: "no" is false).
	text, err := yaml.Marshal(n)
	if err != nil {
		return 0, 0, false
	}
	var v any
	if sigsyaml.Unmarshal(text, &v) != nil {
		return 0, 0, false
	}
	got, err := json.Marshal(v)
	if err != nil || !bytes.Equal(got, want) {
		return 0, 0, false
	}
	return n.Line, n.Column, true
}

// yamlNodeAt returns the node at path under n (the last of repeated keys,
// as Helm reads them), following aliases; nil when there is none.
func yamlNodeAt(n *yaml.Node, path []string) *yaml.Node {
	for _, key := range path {
		for n.Kind == yaml.AliasNode && n.Alias != nil {
			n = n.Alias
		}
		var next *yaml.Node
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == key {
					next = n.Content[i+1]
				}
			}
		case yaml.SequenceNode:
			if i, err := parseIndex(key); err == nil && i < len(n.Content) {
				next = n.Content[i]
			}
		}
		if next == nil {
			return nil
		}
		n = next
	}
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}
