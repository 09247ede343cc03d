package manifest

import (
	"fmt"
	"io"
	"os"
	"strings"

	"helm.sh/helm/v3/pkg/strvals"
	"sigs.k8s.io/yaml"
)

// ValueOptions are the values flags of "helm install" and "helm template",
// applied in Helm's order: -f files (later files win), then --set-json,
// --set, --set-string and --set-file.
//
// Helm's own pkg/cli/values does the same but drags in its Kubernetes client
// and registry code through the URL getters, doubling the binary; these
// options read local files only (and "-" for stdin) and reuse Helm's strvals
// parser for the --set family.
type ValueOptions struct {
	ValueFiles   []string // -f/--values
	JSONValues   []string // --set-json
	Values       []string // --set
	StringValues []string // --set-string
	FileValues   []string // --set-file
}

// Merge reads the files and parses the expressions into one values map.
// stdin is read when a values file or --set-file path is "-".
func (o ValueOptions) Merge(stdin io.Reader) (map[string]any, error) {
	read := func(name string) ([]byte, error) {
		if strings.TrimSpace(name) == "-" {
			if stdin == nil {
				return nil, fmt.Errorf("cannot read values from stdin")
			}
			return io.ReadAll(stdin)
		}
		return os.ReadFile(name)
	}
	base := map[string]any{}
	for _, name := range o.ValueFiles {
		data, err := read(name)
		if err != nil {
			return nil, fmt.Errorf("--values %s: %w", name, err)
		}
		current := map[string]any{}
		if err := yaml.Unmarshal(data, &current); err != nil {
			return nil, fmt.Errorf("--values %s: not a YAML mapping: %w", name, err)
		}
		base = MergeValues(base, current)
	}
	for _, v := range o.JSONValues {
		if err := strvals.ParseJSON(v, base); err != nil {
			return nil, fmt.Errorf("--set-json %q: %w", v, err)
		}
	}
	for _, v := range o.Values {
		if err := strvals.ParseInto(v, base); err != nil {
			return nil, fmt.Errorf("--set %q: %w", v, err)
		}
	}
	for _, v := range o.StringValues {
		if err := strvals.ParseIntoString(v, base); err != nil {
			return nil, fmt.Errorf("--set-string %q: %w", v, err)
		}
	}
	for _, v := range o.FileValues {
		reader := func(rs []rune) (any, error) {
			data, err := read(string(rs))
			if err != nil {
				return nil, err
			}
			return string(data), nil
		}
		if err := strvals.ParseIntoFile(v, base, reader); err != nil {
			return nil, fmt.Errorf("--set-file %q: %w", v, err)
		}
	}
	return base, nil
}

// MergeValues returns a merged deeply with b: nested maps are merged, any
// other value of b replaces a's. Neither input is modified.
func MergeValues(a, b map[string]any) map[string]any {
	out := make(map[string]any, len(a)+len(b))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		if bm, ok := v.(map[string]any); ok {
			if am, ok := out[k].(map[string]any); ok {
				out[k] = MergeValues(am, bm)
				continue
			}
		}
		out[k] = v
	}
	return out
}
