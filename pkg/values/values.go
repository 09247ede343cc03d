// Package values merges Helm-style values flags (-f/--values, --set,
// --set-string, --set-file, --set-json, --set-literal) into one map, with
// Helm's own precedence and parsers.
package values

import (
	"fmt"
	"io"
	"os"
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
	read := func(path string) ([]byte, error) {
		if strings.TrimSpace(path) == "-" {
			return io.ReadAll(stdin)
		}
		if strings.Contains(path, "://") {
			return nil, fmt.Errorf("%s: only local files are supported", path)
		}
		return os.ReadFile(path)
	}
	base := map[string]any{}
	for _, path := range o.ValueFiles {
		data, err := read(path)
		if err != nil {
			return nil, fmt.Errorf("reading values: %w", err)
		}
		current := map[string]any{}
		if err := yaml.Unmarshal(data, &current); err != nil {
			return nil, fmt.Errorf("%s is not a YAML map of values: %w", path, err)
		}
		base = MergeMaps(base, current)
	}
	for _, v := range o.JSONValues {
		if err := strvals.ParseJSON(v, base); err != nil {
			return nil, fmt.Errorf("--set-json %s: %w", v, err)
		}
	}
	for _, v := range o.Values {
		if err := strvals.ParseInto(v, base); err != nil {
			return nil, fmt.Errorf("--set %s: %w", v, err)
		}
	}
	for _, v := range o.StringValues {
		if err := strvals.ParseIntoString(v, base); err != nil {
			return nil, fmt.Errorf("--set-string %s: %w", v, err)
		}
	}
	for _, v := range o.FileValues {
		reader := func(rs []rune) (any, error) {
			data, err := read(string(rs))
			return string(data), err
		}
		if err := strvals.ParseIntoFile(v, base, reader); err != nil {
			return nil, fmt.Errorf("--set-file %s: %w", v, err)
		}
	}
	for _, v := range o.LiteralValues {
		if err := strvals.ParseLiteralInto(v, base); err != nil {
			return nil, fmt.Errorf("--set-literal %s: %w", v, err)
		}
	}
	return base, nil
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
