package extension

import (
	"bytes"
	"reflect"

	"github.com/ksbuilder/ksbuilder/pkg/diag"
)

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// Parse decodes extension.yaml. It returns the extension (possibly partly
// filled) and every problem found while decoding: syntax errors, values of the
// wrong type, unknown and duplicate keys. It does not run the semantic checks
// of Validate.
func Parse(data []byte) (*Extension, diag.List) {
	ext := &Extension{}
	data = bytes.TrimPrefix(data, utf8BOM)
	docs, syntaxErr := parseDocuments(MetadataFile, data)
	if syntaxErr != nil {
		return ext, diag.List{*syntaxErr}
	}
	d := newDecoder(MetadataFile)
	ext.positions = d.positions
	if len(docs) == 0 || isNull(content(docs[0])) {
		d.diags.Add(diag.Diagnostic{Severity: diag.Error, Code: CodeYAMLSyntax, File: MetadataFile,
			Message: "the file is empty", Hint: "run ksbuilder create to start from a template"})
		return ext, d.diags
	}
	root := content(docs[0])
	d.positions[""] = root
	d.decode(root, reflect.ValueOf(ext).Elem(), "")
	for _, extra := range docs[1:] {
		if n := content(extra); !isNull(n) {
			d.report(diag.Warning, CodeYAMLSyntax, n, "", "extra YAML document is ignored; extension.yaml holds one document")
		}
	}
	return ext, d.diags
}

// Check parses extension.yaml and runs every check on it: decoding, Validate
// and, when files is not nil, ValidateFiles. Checks of a field that could not
// be decoded are left out, so one mistake gives one message.
func Check(data []byte, files FileSet) (*Extension, diag.List) {
	ext, diags := Parse(data)
	broken := map[string]bool{}
	for _, d := range diags {
		switch {
		case d.Code == CodeYAMLSyntax && d.Severity == diag.Error:
			return ext, diags
		case d.Code == CodeFieldType:
			if d.Field == "" {
				return ext, diags // the document itself is not a mapping
			}
			broken[d.Field] = true
		}
	}
	more := ext.Validate()
	if files != nil {
		more = append(more, ext.ValidateFiles(files)...)
	}
	for _, d := range more {
		if !underAny(d.Field, broken) {
			diags = append(diags, d)
		}
	}
	diags.Sort()
	return ext, diags
}

// underAny reports whether field is one of fields or lies below one.
func underAny(field string, fields map[string]bool) bool {
	for f := field; f != ""; f = parentPath(f) {
		if fields[f] {
			return true
		}
	}
	return false
}
