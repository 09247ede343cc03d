package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"unicode/utf8"
)

// jsonPosition returns the line and column (1-based, in characters) where
// the value at path starts in the JSON document data, or 0, 0 when data is
// not JSON or has no such value. Of repeated keys the first is taken.
func jsonPosition(data []byte, path []string) (line, column int) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	for _, key := range path {
		tok, err := dec.Token()
		if err != nil {
			return 0, 0
		}
		switch tok {
		case json.Delim('{'):
			if !findKey(dec, key) {
				return 0, 0
			}
		case json.Delim('['):
			i, err := parseIndex(key)
			if err != nil || !skipElements(dec, i) {
				return 0, 0
			}
		default:
			return 0, 0
		}
	}
	return lineColumn(data, valueStart(data, int(dec.InputOffset())))
}

// findKey reads the members of an object until key, leaving the decoder
// before its value.
func findKey(dec *json.Decoder, key string) bool {
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		if k, _ := tok.(string); k == key {
			return true
		}
		if !skipValue(dec) {
			return false
		}
	}
	return false
}

// skipElements reads n elements of an array, leaving the decoder before
// the next one; false when the array has no more.
func skipElements(dec *json.Decoder, n int) bool {
	for range n {
		if !dec.More() || !skipValue(dec) {
			return false
		}
	}
	return dec.More()
}

// skipValue reads one whole value.
func skipValue(dec *json.Decoder) bool {
	depth := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
		if depth == 0 {
			return true
		}
	}
}

// valueStart skips the white space and separators after off.
func valueStart(data []byte, off int) int {
	for off < len(data) {
		switch data[off] {
		case ' ', '\t', '\r', '\n', ':', ',':
			off++
		default:
			return off
		}
	}
	return off
}

// lineColumn converts a byte offset into a 1-based line and column.
func lineColumn(data []byte, off int) (line, column int) {
	off = min(max(off, 0), len(data))
	start := bytes.LastIndexByte(data[:off], '\n') + 1
	return bytes.Count(data[:off], []byte("\n")) + 1, utf8.RuneCount(data[start:off]) + 1
}

// jsonSyntaxPosition returns where the JSON document data stops being JSON
// (the character the parser refuses, or the end of a cut-off document), or
// 0, 0 when it is JSON.
func jsonSyntaxPosition(data []byte) (line, column int) {
	dec := json.NewDecoder(bytes.NewReader(data))
	var v any
	err := dec.Decode(&v)
	var syntax *json.SyntaxError
	switch {
	case errors.As(err, &syntax):
		return lineColumn(data, int(syntax.Offset)-1)
	case err != nil:
		return lineColumn(data, len(data)) // cut off, or empty
	}
	off := valueStart(data, int(dec.InputOffset()))
	if off >= len(data) {
		return 0, 0
	}
	return lineColumn(data, off) // something after the document
}
