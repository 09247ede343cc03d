package values

import (
	"fmt"
	"io"
	"strings"
)

// ClusterOptions groups --cluster-values CLUSTER=FILE and --cluster-set
// CLUSTER:KEY=VALUE by cluster: the values options of each cluster's
// override. A flag without its cluster part is an error naming the form.
func ClusterOptions(files, sets []string) (map[string]Options, error) {
	out := map[string]Options{}
	for _, f := range files {
		cluster, file, ok := strings.Cut(f, "=")
		if !ok || strings.TrimSpace(cluster) == "" || strings.TrimSpace(file) == "" {
			return nil, fmt.Errorf("--cluster-values %q: write CLUSTER=FILE", f)
		}
		o := out[cluster]
		o.ValueFiles = append(o.ValueFiles, file)
		out[cluster] = o
	}
	for _, s := range sets {
		cluster, set, ok := strings.Cut(s, ":")
		if !ok || strings.TrimSpace(cluster) == "" || !strings.Contains(set, "=") {
			return nil, fmt.Errorf("--cluster-set %q: write CLUSTER:KEY=VALUE", s)
		}
		o := out[cluster]
		o.Values = append(o.Values, set)
		out[cluster] = o
	}
	return out, nil
}

// MergeClusters merges each cluster's options (see Options.Merge); nil
// when there are none.
func MergeClusters(opts map[string]Options, stdin io.Reader) (map[string]map[string]any, error) {
	if len(opts) == 0 {
		return nil, nil
	}
	out := make(map[string]map[string]any, len(opts))
	for cluster, o := range opts {
		v, err := o.Merge(stdin)
		if err != nil {
			return nil, fmt.Errorf("the values of cluster %s: %w", cluster, err)
		}
		out[cluster] = v
	}
	return out, nil
}
