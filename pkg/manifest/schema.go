package manifest

import (
	"bytes"
	"cmp"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
)

// SchemaFile is the name of a chart's JSON schema for its values.
const SchemaFile = chartutil.SchemafileName

// schemaURL is the address Helm gives a chart's schema when it compiles it.
const schemaURL = "file:///values.schema.json"

// SchemaProblemKind says what is wrong: the schema or a value.
type SchemaProblemKind int

const (
	// SchemaSyntax is a values.schema.json that is not JSON.
	SchemaSyntax SchemaProblemKind = iota
	// SchemaInvalid is a schema that does not compile: its draft's
	// meta-schema refuses it, or a reference cannot be resolved.
	SchemaInvalid
	// ValueRefused is a value the schema refuses.
	ValueRefused
	// ValuesNotMap is a subchart's values that are not a map, which Helm
	// cannot validate against the subchart's schema.
	ValuesNotMap
)

// SchemaProblem is one problem Helm's validation of the values against a
// chart's values.schema.json runs into, found with the validator Helm uses
// (github.com/santhosh-tekuri/jsonschema).
type SchemaProblem struct {
	Kind SchemaProblemKind
	// Charts are the names of the subcharts, from the top chart down, of
	// the chart whose schema it is (nil for the top chart); their values
	// are at that path in the top chart's values.
	Charts []string
	// Pointer is a JSON pointer: into the values of the chart for
	// ValueRefused (the refused value; "" is the whole values), into the
	// schema for SchemaInvalid (the part its meta-schema refuses).
	Pointer string
	// Keyword is the JSON pointer of the schema keyword that refuses the
	// value (ValueRefused); "" when it is in another document.
	Keyword string
	// Line and Column are the position in values.schema.json of the
	// syntax error, the refused part of the schema or the keyword; 0 when
	// unknown.
	Line, Column int
	Message      string
	// Draft is the meta-schema that refuses the schema (SchemaInvalid).
	Draft string
	// Value is the refused value (ValueRefused).
	Value any
	// valuePath is Pointer split into keys.
	valuePath []string
	// extra are the properties an additionalProperties keyword refuses.
	extra []string
}

// chartPath returns the problem's chart as Helm names it under top
// ("ext/charts/backend").
func (p SchemaProblem) chartPath(top string) string {
	parts := []string{}
	if top != "" {
		parts = append(parts, top)
	}
	for _, c := range p.Charts {
		parts = append(parts, "charts", c)
	}
	return path.Join(parts...)
}

// ValuesPath is the path of the refused value in the top chart's values:
// the subcharts' names, then the keys of Pointer.
func (p SchemaProblem) ValuesPath() []string {
	return append(slices.Clone(p.Charts), p.valuePath...)
}

// text renders the problem on one line, its chart named by chart path.
func (p SchemaProblem) text(top string) string {
	file := path.Join(p.chartPath(top), SchemaFile)
	if p.Line > 0 {
		file += fmt.Sprintf(":%d:%d", p.Line, p.Column)
	}
	switch p.Kind {
	case ValuesNotMap:
		return fmt.Sprintf("%s: %s", jsonPointer(p.ValuesPath()), p.Message) // the subchart may have no schema
	case ValueRefused:
		return fmt.Sprintf("%s: %s: %s", file, jsonPointer(p.ValuesPath()), p.Message)
	case SchemaInvalid:
		if p.Pointer != "" {
			return fmt.Sprintf("%s: %s: %s", file, p.Pointer, p.Message)
		}
	}
	return file + ": " + p.Message
}

// SchemaError is a release whose values Helm refuses because of the
// values.schema.json of its chart or a subchart: each problem found, as
// Helm finds them (its error is wrapped).
type SchemaError struct {
	Problems []SchemaProblem
	helm     error
	// given says where the values came from (WithValueSource).
	given ValueSource
}

// WithValueSource returns a copy of e whose Error names where the first
// refused value came from ("--set replicas=three", "-f prod.yaml"), as
// SchemaDiagnostics does, when given knows it.
func (e *SchemaError) WithValueSource(given ValueSource) *SchemaError {
	c := *e
	c.given = given
	return &c
}

// Error renders the first problem on one line, with the fix and the
// number of other problems.
func (e *SchemaError) Error() string {
	first := e.Problems[0]
	fix := "fix the schema"
	switch first.Kind {
	case ValueRefused:
		fix = "fix the value or the schema"
		if source := refusedValueSource(e.given, first); source != "" {
			fix = valueComesFrom(source, "")
		}
	case ValuesNotMap:
		fix = "fix the value or the schema"
	}
	switch n := len(e.Problems) - 1; n {
	case 0:
	case 1:
		fix += "; 1 more problem"
	default:
		fix += fmt.Sprintf("; %d more problems", n)
	}
	return fmt.Sprintf("%s (%s)", first.text(""), fix)
}

// Unwrap returns Helm's own error.
func (e *SchemaError) Unwrap() error { return e.helm }

// validateRenderValues validates the values a release renders with (c
// processed for the release, vals coalesced) as Helm does before it
// renders: chartutil.ValidateAgainstSchema decides, and a refusal is
// explained by a *SchemaError. When ksbuilder finds no problem where Helm
// did (it does not happen: both use the same validator), Helm's error is
// returned as Helm words it.
func validateRenderValues(c *chart.Chart, vals map[string]any) error {
	err := chartutil.ValidateAgainstSchema(c, vals)
	if err == nil {
		return nil
	}
	helm := fmt.Errorf("values don't meet the specifications of the schema(s) in the following chart(s):\n%s", err)
	problems := schemaProblems(c, nil, vals)
	if len(problems) == 0 {
		return helm
	}
	return &SchemaError{Problems: problems, helm: helm}
}

// CheckValuesSchema validates vals against the schemas of c and its
// subcharts as Helm does for a release (tags, conditions and imports
// applied, then the chart's defaults coalesced), and returns the problems
// found, or nil. charts names c's place in the tree of the problems' chart
// paths (the subcharts above it; nil for the top chart). c and vals are not
// modified.
func CheckValuesSchema(c *chart.Chart, charts []string, vals map[string]any) *SchemaError {
	vals = CopyValues(vals)
	c = cloneChart(c)
	if chartutil.ProcessDependenciesWithMerge(c, vals) != nil {
		return nil
	}
	coalesced, err := chartutil.CoalesceValues(c, vals)
	if err != nil {
		return nil
	}
	return newSchemaError(schemaProblems(c, charts, coalesced))
}

// CheckChartSchema validates vals against c's own schema only, as Helm's
// linter checks values.yaml (vals given, values.yaml coalesced under them,
// subcharts' defaults left out), and returns the problems found, or nil.
func CheckChartSchema(c *chart.Chart, charts []string, vals map[string]any) *SchemaError {
	if c.Schema == nil {
		return nil
	}
	merged := chartutil.CoalesceTables(CopyValues(vals), CopyValues(c.Values))
	return newSchemaError(validateSchema(charts, c.Schema, merged))
}

func newSchemaError(problems []SchemaProblem) *SchemaError {
	if len(problems) == 0 {
		return nil
	}
	return &SchemaError{Problems: problems}
}

// schemaProblems walks the chart tree as chartutil.ValidateAgainstSchema
// does: each chart's values against its schema, then each subchart with
// values under its name.
func schemaProblems(c *chart.Chart, charts []string, vals map[string]any) []SchemaProblem {
	var out []SchemaProblem
	if c.Schema != nil {
		out = append(out, validateSchema(charts, c.Schema, vals)...)
	}
	for _, sub := range c.Dependencies() {
		raw, ok := vals[sub.Name()]
		if !ok || raw == nil {
			continue
		}
		subVals, ok := raw.(map[string]any)
		if !ok {
			out = append(out, SchemaProblem{Kind: ValuesNotMap, Charts: append(slices.Clone(charts), sub.Name()),
				Value: raw, Message: fmt.Sprintf("the values of subchart %s must be a map, got %s", sub.Name(), jsonType(raw))})
			continue
		}
		out = append(out, schemaProblems(sub, append(slices.Clone(charts), sub.Name()), subVals)...)
	}
	return out
}

// validateSchema validates vals against one schema as
// chartutil.ValidateAgainstSingleSchema does, and explains each problem.
func validateSchema(charts []string, schema []byte, vals map[string]any) (out []SchemaProblem) {
	defer func() {
		if r := recover(); r != nil {
			out = []SchemaProblem{{Kind: SchemaInvalid, Charts: charts, Message: fmt.Sprintf("the validator failed on it: %v", r)}}
		}
	}()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schema))
	if err != nil {
		return []SchemaProblem{syntaxProblem(charts, schema, err)}
	}
	compiler := jsonschema.NewCompiler()
	compiler.UseLoader(schemaLoader())
	if err := compiler.AddResource(schemaURL, doc); err != nil {
		return []SchemaProblem{{Kind: SchemaInvalid, Charts: charts, Message: oneLine(err.Error())}}
	}
	validator, err := compiler.Compile(schemaURL)
	if err != nil {
		var invalid *jsonschema.SchemaValidationError
		var verr *jsonschema.ValidationError
		if !errors.As(err, &invalid) || !errors.As(invalid.Err, &verr) || invalid.URL != schemaURL+"#" && invalid.URL != schemaURL {
			return []SchemaProblem{{Kind: SchemaInvalid, Charts: charts, Message: oneLine(err.Error())}}
		}
		draft := ""
		if s, ok := verr.ErrorKind.(*kind.Schema); ok {
			draft = s.Location
		}
		for _, leaf := range leafErrors(verr) {
			p := SchemaProblem{Kind: SchemaInvalid, Charts: charts, Pointer: jsonPointer(leaf.InstanceLocation), Draft: draft, Message: leafMessage(leaf)}
			p.Line, p.Column = jsonPosition(schema, leaf.InstanceLocation)
			out = append(out, p)
		}
		return sortProblems(out)
	}
	err = validator.Validate(chartutil.Values(vals).AsMap())
	var verr *jsonschema.ValidationError
	if err == nil {
		return nil
	}
	if !errors.As(err, &verr) {
		return []SchemaProblem{{Kind: ValueRefused, Charts: charts, Message: oneLine(err.Error())}}
	}
	for _, leaf := range leafErrors(verr) {
		p := SchemaProblem{Kind: ValueRefused, Charts: charts, Pointer: jsonPointer(leaf.InstanceLocation),
			valuePath: leaf.InstanceLocation, Message: leafMessage(leaf)}
		p.Value, _ = valueAt(vals, leaf.InstanceLocation)
		if extra, ok := leaf.ErrorKind.(*kind.AdditionalProperties); ok {
			p.extra = extra.Properties
		}
		if kw, ok := keywordPointer(leaf); ok {
			p.Keyword = jsonPointer(kw)
			p.Line, p.Column = jsonPosition(schema, kw)
		}
		out = append(out, p)
	}
	return sortProblems(out)
}

// syntaxProblem explains why a schema is not JSON.
func syntaxProblem(charts []string, schema []byte, err error) SchemaProblem {
	msg := err.Error()
	if errors.Is(err, io.ErrUnexpectedEOF) || len(bytes.TrimSpace(schema)) == 0 {
		msg = "the document ends before the JSON does"
	}
	p := SchemaProblem{Kind: SchemaSyntax, Charts: charts, Message: "not valid JSON: " + msg}
	p.Line, p.Column = jsonSyntaxPosition(schema)
	return p
}

// schemaLoader loads referenced schemas as Helm's validator does: files,
// http(s) with a 15 s timeout, and urn: through chartutil.URNResolver (a
// schema that allows everything when it resolves nothing).
func schemaLoader() jsonschema.URLLoader {
	web := (*chartutil.HTTPURLLoader)(&http.Client{
		Timeout:   15 * time.Second,
		Transport: &http.Transport{Proxy: http.ProxyFromEnvironment, TLSClientConfig: &tls.Config{}},
	})
	return jsonschema.SchemeURLLoader{
		"file":  jsonschema.FileLoader{},
		"http":  web,
		"https": web,
		"urn":   urnLoader{},
	}
}

// urnLoader resolves urn: references as Helm's does, without its log line
// (Helm's own validation, which runs first, has written it).
type urnLoader struct{}

func (urnLoader) Load(urn string) (any, error) {
	if doc, err := chartutil.URNResolver(urn); err == nil && doc != nil {
		return doc, nil
	}
	return true, nil
}

// sortProblems orders one schema's problems by where they are, then by
// message: the validator finds the problems of an object's properties in
// map order.
func sortProblems(problems []SchemaProblem) []SchemaProblem {
	slices.SortStableFunc(problems, func(a, b SchemaProblem) int {
		return cmp.Or(cmp.Compare(a.Pointer, b.Pointer), cmp.Compare(a.Keyword, b.Keyword), cmp.Compare(a.Message, b.Message))
	})
	return problems
}

// leafErrors returns the errors that say what is wrong, without the
// wrappers ("allOf failed", "$ref", the schema's root). Of the branches of
// an anyOf or a oneOf that all fail, those that fail only for the type of
// the value are left out when another branch says more; when all do, they
// are one type error naming every type.
func leafErrors(e *jsonschema.ValidationError) []*jsonschema.ValidationError {
	var out []*jsonschema.ValidationError
	seen := map[string]bool{}
	var walk func(e *jsonschema.ValidationError)
	add := func(e *jsonschema.ValidationError) {
		key := jsonPointer(e.InstanceLocation) + "\x00" + leafMessage(e)
		if !seen[key] {
			seen[key] = true
			out = append(out, e)
		}
	}
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			add(e)
			return
		}
		switch e.ErrorKind.(type) {
		case *kind.Schema, *kind.Group, *kind.AllOf, *kind.Reference:
			for _, c := range e.Causes {
				walk(c)
			}
		case *kind.AnyOf, *kind.OneOf:
			var typeOnly []*jsonschema.ValidationError
			var rest []*jsonschema.ValidationError
			for _, c := range e.Causes {
				if _, ok := c.ErrorKind.(*kind.Type); ok && len(c.Causes) == 0 && slices.Equal(c.InstanceLocation, e.InstanceLocation) {
					typeOnly = append(typeOnly, c)
				} else {
					rest = append(rest, c)
				}
			}
			if len(rest) > 0 {
				for _, c := range rest {
					walk(c)
				}
				return
			}
			merged := &kind.Type{}
			for _, c := range typeOnly {
				t := c.ErrorKind.(*kind.Type)
				merged.Got = t.Got
				for _, w := range t.Want {
					if !slices.Contains(merged.Want, w) {
						merged.Want = append(merged.Want, w)
					}
				}
			}
			first := *typeOnly[0]
			first.ErrorKind = merged
			add(&first)
		default:
			add(e) // contains and the like: its own message says it
		}
	}
	walk(e)
	return out
}

// leafMessage is the validator's English message for one error.
func leafMessage(e *jsonschema.ValidationError) string {
	return oneLine(e.ErrorKind.LocalizedString(message.NewPrinter(language.English)))
}

// keywordPointer returns the path in values.schema.json of the keyword
// that raised e; ok is false when it is in another document.
func keywordPointer(e *jsonschema.ValidationError) ([]string, bool) {
	base, fragment, _ := strings.Cut(e.SchemaURL, "#")
	if base != schemaURL {
		return nil, false
	}
	var out []string
	if fragment != "" {
		for _, tok := range strings.Split(strings.TrimPrefix(fragment, "/"), "/") {
			if unescaped, err := url.PathUnescape(tok); err == nil {
				tok = unescaped
			}
			tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
			out = append(out, tok)
		}
	}
	return append(out, e.ErrorKind.KeywordPath()...), true
}

// jsonPointer renders a path as a JSON pointer ("/a/b"; "" for the root).
func jsonPointer(path []string) string {
	var b strings.Builder
	for _, p := range path {
		b.WriteByte('/')
		b.WriteString(strings.ReplaceAll(strings.ReplaceAll(p, "~", "~0"), "/", "~1"))
	}
	return b.String()
}

// valueAt returns the value at path in vals.
func valueAt(v any, path []string) (any, bool) {
	for _, k := range path {
		switch t := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = t[k]; !ok {
				return nil, false
			}
		case chartutil.Values:
			var ok bool
			if v, ok = t[k]; !ok {
				return nil, false
			}
		case []any:
			i, err := parseIndex(k)
			if err != nil || i >= len(t) {
				return nil, false
			}
			v = t[i]
		default:
			return nil, false
		}
	}
	return v, true
}

// parseIndex parses an array index of a JSON pointer.
func parseIndex(s string) (int, error) {
	if s == "" || len(s) > 1 && s[0] == '0' || len(s) > 9 {
		return 0, fmt.Errorf("bad index %q", s)
	}
	n := 0
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0, fmt.Errorf("bad index %q", s)
		}
		n = n*10 + int(r-'0')
	}
	return n, nil
}

// jsonType names the JSON type of a value, as the validator does.
func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case map[string]any, chartutil.Values:
		return "object"
	case []any:
		return "array"
	case json.Number, float32, float64, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return "number"
	}
	return fmt.Sprintf("%T", v)
}

// oneLine joins the lines of a message.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
