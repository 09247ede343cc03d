// Package values merges Helm-style values flags (-f/--values, --set,
// --set-string, --set-file, --set-json, --set-literal) into one map, with
// Helm's own precedence and parsers.
package values

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"helm.sh/helm/v3/pkg/strvals"
	"sigs.k8s.io/yaml"
)

// Options are the values flags, each in the order given.
type Options struct {
	ValueFiles    []string // -f/--values: YAML files; "-" reads stdin
	Values        []string // --set a.b=c,x=y
	StringValues  []string // --set-string: values stay strings
	FileValues    []string // --set-file key=path: a file's content as the value
	JSONValues    []string // --set-json key=<json>
	LiteralValues []string // --set-literal key=value, taken verbatim
}

// Empty reports whether no values flag was given.
func (o Options) Empty() bool {
	return len(o.ValueFiles)+len(o.Values)+len(o.StringValues)+len(o.FileValues)+len(o.JSONValues)+len(o.LiteralValues) == 0
}

// Merge reads and merges the values as Helm does: the files in order (later
// files win, maps merge key by key), then --set-json, --set, --set-string,
// --set-file and --set-literal. stdin is read for the file "-".
func (o Options) Merge(stdin io.Reader) (map[string]any, error) {
	vals, _, err := o.MergeSources(stdin)
	return vals, err
}

// MergeSources is Merge that also says where each value came from:
// source(path) names the flag that gave the value at path of the merged
// values, such as "--set replicas=three" or "-f prod.yaml" (the last one
// when several did), or "" when none did. A path is map keys, with list
// indexes in decimal.
func (o Options) MergeSources(stdin io.Reader) (vals map[string]any, source func(path []string) string, err error) {
	read := func(path string) ([]byte, error) {
		if strings.TrimSpace(path) == "-" {
			return io.ReadAll(stdin)
		}
		if strings.Contains(path, "://") {
			return nil, fmt.Errorf("%s: only local files are supported", path)
		}
		return os.ReadFile(path)
	}
	// given holds what each flag gave on its own, in the order applied.
	var given []flagValues
	// apply parses one flag into vals, and into a map of its own.
	apply := func(flag, v string, parse func(into map[string]any, read bool) error) error {
		if err := parse(vals, true); err != nil {
			return fmt.Errorf("%s %s: %w", flag, v, err)
		}
		own := map[string]any{}
		if parse(own, false) == nil {
			given = append(given, flagValues{flag + " " + v, own})
		}
		return nil
	}
	vals = map[string]any{}
	for _, path := range o.ValueFiles {
		data, err := read(path)
		if err != nil {
			return nil, nil, fmt.Errorf("reading values: %w", err)
		}
		current := map[string]any{}
		if err := yaml.Unmarshal(data, &current); err != nil {
			return nil, nil, fmt.Errorf("%s is not a YAML map of values: %w", path, err)
		}
		given = append(given, flagValues{"-f " + path, current})
		vals = MergeMaps(vals, current)
	}
	for _, v := range o.JSONValues {
		if err := apply("--set-json", v, func(into map[string]any, _ bool) error { return strvals.ParseJSON(v, into) }); err != nil {
			return nil, nil, err
		}
	}
	for _, v := range o.Values {
		if err := apply("--set", v, func(into map[string]any, _ bool) error { return strvals.ParseInto(v, into) }); err != nil {
			return nil, nil, err
		}
	}
	for _, v := range o.StringValues {
		if err := apply("--set-string", v, func(into map[string]any, _ bool) error { return strvals.ParseIntoString(v, into) }); err != nil {
			return nil, nil, err
		}
	}
	for _, v := range o.FileValues {
		err := apply("--set-file", v, func(into map[string]any, readFile bool) error {
			return strvals.ParseIntoFile(v, into, func(rs []rune) (any, error) {
				if !readFile {
					return "", nil // only the keys matter, and stdin is read once
				}
				data, err := read(string(rs))
				return string(data), err
			})
		})
		if err != nil {
			return nil, nil, err
		}
	}
	for _, v := range o.LiteralValues {
		if err := apply("--set-literal", v, func(into map[string]any, _ bool) error { return strvals.ParseLiteralInto(v, into) }); err != nil {
			return nil, nil, err
		}
	}
	source = func(path []string) string {
		if len(path) == 0 {
			return "" // the whole values come from the chart too
		}
		for i := len(given) - 1; i >= 0; i-- {
			if has(given[i].vals, path) {
				return given[i].flag
			}
		}
		return ""
	}
	return vals, source, nil
}

// flagValues are the values one flag gave.
type flagValues struct {
	flag string
	vals map[string]any
}

// has reports whether v has a value at path (map keys, list indexes).
func has(v any, path []string) bool {
	for _, k := range path {
		switch t := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = t[k]; !ok {
				return false
			}
		case []any:
			i, err := strconv.Atoi(k)
			if err != nil || i < 0 || i >= len(t) || t[i] == nil {
				return false
			}
			v = t[i]
		default:
			return false
		}
	}
	return true
}

// MergeMaps returns a with b merged over it; nested maps merge key by key.
func MergeMaps(a, b map[string]any) map[string]any {
	out := make(map[string]any, len(a))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		if bm, ok := v.(map[string]any); ok {
			if am, ok := out[k].(map[string]any); ok {
				out[k] = MergeMaps(am, bm)
				continue
			}
		}
		out[k] = v
	}
	return out
}
