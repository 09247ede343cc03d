package extension

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"

	"github.com/ksbuilder/ksbuilder/pkg/diag"
	"github.com/ksbuilder/ksbuilder/pkg/suggest"
	"github.com/ksbuilder/ksbuilder/pkg/units"
)

// Diagnostic codes produced while decoding YAML.
const (
	CodeYAMLSyntax   = "yaml-syntax"
	CodeFieldType    = "field-type"
	CodeUnknownField = "unknown-field"
	CodeDuplicateKey = "duplicate-key"
)

// decoder fills Go values from yaml.v3 nodes field by field. Unlike
// yaml.Node.Decode it never stops at the first problem: a wrong type, an
// unknown key or a duplicate key each become a diagnostic with the file, line,
// column and field path, and decoding goes on with the rest.
type decoder struct {
	file      string
	diags     diag.List
	positions map[string]*yaml.Node
}

func newDecoder(file string) *decoder {
	return &decoder{file: file, positions: map[string]*yaml.Node{}}
}

func (d *decoder) report(sev diag.Severity, code string, n *yaml.Node, path, format string, args ...any) {
	dg := diag.Diagnostic{Severity: sev, Code: code, File: d.file, Field: path, Message: fmt.Sprintf(format, args...)}
	if n != nil {
		dg.Line, dg.Column = n.Line, n.Column
	}
	d.diags.Add(dg)
}

var yamlLineRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^yaml: line (\d+): (.*)$`) })

// parserErrors are the yaml.v3 parser (not scanner) messages. yaml.v3 reports
// their line 0-based, one less than the real line; scanner errors are right.
var parserErrors = []string{
	"did not find expected key", "did not find expected node content",
	"did not find expected ',' or ']'", "did not find expected ',' or '}'",
	"did not find expected '-' indicator", "did not find expected <document start>",
}

// syntaxDiagnostic turns a yaml.v3 parse error into a diagnostic.
func syntaxDiagnostic(file string, err error) diag.Diagnostic {
	msg := err.Error()
	dg := diag.Diagnostic{Severity: diag.Error, Code: CodeYAMLSyntax, File: file, Message: "invalid YAML: " + strings.TrimPrefix(msg, "yaml: ")}
	if m := yamlLineRe().FindStringSubmatch(msg); m != nil {
		dg.Line, _ = strconv.Atoi(m[1])
		dg.Message = "invalid YAML: " + m[2]
		for _, p := range parserErrors {
			if strings.HasPrefix(m[2], p) {
				dg.Line++
				break
			}
		}
	}
	return dg
}

// MaxMetadataFileSize is the largest extension.yaml or permissions.yaml
// decoded: KubeSphere turns them into objects that must fit etcd's request
// limit of 1.5 MiB, and decoding a larger file only costs time and memory.
const MaxMetadataFileSize = 1536 << 10

// parseDocuments splits data into YAML documents. It returns a syntax
// diagnostic on the first parse error.
func parseDocuments(file string, data []byte) ([]*yaml.Node, *diag.Diagnostic) {
	if len(data) > MaxMetadataFileSize {
		return nil, &diag.Diagnostic{Severity: diag.Error, Code: CodeYAMLSyntax, File: file,
			Message: fmt.Sprintf("the file is %s, over the limit of %s", units.FormatBytes(int64(len(data))), units.FormatBytes(MaxMetadataFileSize)),
			Hint:    "KubeSphere stores it in objects that etcd limits to 1.5 MiB; move large content (long descriptions, images) into files the console loads"}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []*yaml.Node
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			dg := syntaxDiagnostic(file, err)
			return docs, &dg
		}
		if big := largeMapping(&n); big != nil {
			return docs, &diag.Diagnostic{Severity: diag.Error, Code: CodeYAMLSyntax, File: file, Line: big.Line, Column: big.Column,
				Message: fmt.Sprintf("a mapping of %d keys, over the limit of %d", len(big.Content)/2, MaxMappingKeys),
				Hint:    "no KubeSphere field takes that many; remove the generated keys"}
		}
		docs = append(docs, &n)
	}
}

// MaxMappingKeys is the most keys a mapping of extension.yaml or
// permissions.yaml may have: decoding free-form fields checks keys for
// duplicates in quadratic time, and no real field comes close.
const MaxMappingKeys = 1000

// largeMapping returns the first mapping under n with more than
// MaxMappingKeys keys. Aliases are not followed.
func largeMapping(n *yaml.Node) *yaml.Node {
	if n.Kind == yaml.MappingNode && len(n.Content)/2 > MaxMappingKeys {
		return n
	}
	for _, c := range n.Content {
		if big := largeMapping(c); big != nil {
			return big
		}
	}
	return nil
}

// content returns the top-level node of a document node.
func content(doc *yaml.Node) *yaml.Node {
	if doc != nil && doc.Kind == yaml.DocumentNode && len(doc.Content) > 0 {
		return doc.Content[0]
	}
	return doc
}

func isNull(n *yaml.Node) bool {
	return n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!bool":
			return "a boolean"
		case "!!int", "!!float":
			return "a number"
		}
		return "a string"
	}
	return "an unsupported node"
}

var anyType = reflect.TypeOf((*any)(nil)).Elem()

// decode fills v from n. path is the field path used in messages.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if path != "" {
		d.positions[path] = n
	}
	if isNull(n) {
		return
	}
	if v.Type() == anyType || v.Kind() == reflect.Interface {
		var x any
		if err := n.Decode(&x); err != nil {
			d.report(diag.Error, CodeFieldType, n, path, "%v", err)
			return
		}
		if x != nil {
			v.Set(reflect.ValueOf(x))
		}
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		elem := reflect.New(v.Type().Elem())
		d.decode(n, elem.Elem(), path)
		v.Set(elem)
	case reflect.Struct:
		d.decodeStruct(n, v, path)
	case reflect.Map:
		d.decodeMap(n, v, path)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.report(diag.Error, CodeFieldType, n, path, "must be a list, got %s", kindName(n))
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, item := range n.Content {
			d.decode(item, s.Index(i), fmt.Sprintf("%s[%d]", path, i))
		}
		v.Set(s)
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			d.report(diag.Error, CodeFieldType, n, path, "must be a string, got %s", kindName(n))
			return
		}
		v.SetString(n.Value)
	case reflect.Bool:
		var b bool
		if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" || n.Decode(&b) != nil {
			d.report(diag.Error, CodeFieldType, n, path, "must be true or false, got %q", n.Value)
			return
		}
		v.SetBool(b)
	default:
		if err := n.Decode(v.Addr().Interface()); err != nil {
			d.report(diag.Error, CodeFieldType, n, path, "%v", err)
		}
	}
}

// pairs walks the key/value pairs of a mapping, reporting non-string keys and
// duplicate keys (the last value wins, as in most YAML loaders).
func (d *decoder) pairs(n *yaml.Node, path string, fn func(key string, keyNode, value *yaml.Node)) {
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.AliasNode && k.Alias != nil {
			k = k.Alias
		}
		if k.Kind != yaml.ScalarNode {
			d.report(diag.Error, CodeFieldType, k, path, "keys must be strings, got %s", kindName(k))
			continue
		}
		if prev, ok := seen[k.Value]; ok {
			d.report(diag.Warning, CodeDuplicateKey, k, joinPath(path, k.Value),
				"duplicate key (first defined at line %d); the last value is used", prev.Line)
		}
		seen[k.Value] = k
		fn(k.Value, k, val)
	}
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.report(diag.Error, CodeFieldType, n, path, "must be a mapping, got %s", kindName(n))
		return
	}
	fields := structFields(v.Type())
	d.pairs(n, path, func(key string, keyNode, value *yaml.Node) {
		idx, ok := fields[key]
		if !ok {
			dg := diag.Diagnostic{
				Severity: diag.Warning, Code: CodeUnknownField, File: d.file,
				Line: keyNode.Line, Column: keyNode.Column, Field: joinPath(path, key),
				Message: "unknown field; it is ignored",
			}
			if s := suggestKey(key, fields); s != "" {
				dg.Hint = fmt.Sprintf("did you mean %q?", s)
			}
			d.diags.Add(dg)
			return
		}
		field := v.Field(idx)
		field.Set(reflect.Zero(field.Type())) // a duplicate key replaces, never merges
		d.decode(value, field, joinPath(path, key))
	})
}

func (d *decoder) decodeMap(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.report(diag.Error, CodeFieldType, n, path, "must be a mapping, got %s", kindName(n))
		return
	}
	m := reflect.MakeMap(v.Type())
	d.pairs(n, path, func(key string, _ *yaml.Node, value *yaml.Node) {
		elem := reflect.New(v.Type().Elem()).Elem()
		d.decode(value, elem, joinPath(path, key))
		m.SetMapIndex(reflect.ValueOf(key).Convert(v.Type().Key()), elem)
	})
	v.Set(m)
}

// structFields maps yaml tag names to field indexes.
func structFields(t reflect.Type) map[string]int {
	out := map[string]int{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		out[name] = i
	}
	return out
}

// suggestKey returns the known key closest to an unknown one.
func suggestKey(key string, fields map[string]int) string {
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	return suggest.Closest(key, names, 2)
}

func joinPath(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

// lookupPosition finds the node of path, or of its closest recorded parent.
func lookupPosition(positions map[string]*yaml.Node, path string) (int, int) {
	for p := path; ; {
		if n, ok := positions[p]; ok && n != nil {
			return n.Line, n.Column
		}
		if p == "" {
			return 0, 0
		}
		p = parentPath(p)
	}
}

// parentPath strips the last ".key" or "[i]" from a field path.
func parentPath(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i < 0 {
		return ""
	}
	return p[:i]
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
