package manifest

import (
	"fmt"
	"slices"
	"strings"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/strvals"

	"github.com/ksbuilder/ksbuilder/pkg/extension"
)

// Side is one of the two releases KubeSphere installs from an extension.
type Side string

const (
	// Host is the release in the host cluster, named after the extension.
	// It renders the subcharts tagged "extension".
	Host Side = "host"
	// Agent is the release in each cluster the extension is placed on,
	// named "<extension>-agent". It renders the subcharts tagged "agent".
	Agent Side = "agent"
)

// Subchart tags the installer switches on and off.
const (
	TagExtension = "extension"
	TagAgent     = "agent"
)

// InstallerRelease returns the options KubeSphere's installer uses for one
// side of an extension: release "<name>" (host) or "<name>-agent" (agent),
// in spec.namespace or "extension-<name>", with the overrides of
// InstallerOverrides set over the user's values. values is not modified.
func InstallerRelease(ext *extension.Extension, c *chart.Chart, side Side, values map[string]any) (RenderOptions, error) {
	name := ext.Name
	if side == Agent {
		name += "-agent"
	}
	vals := CopyValues(values)
	for _, set := range InstallerOverrides(c, side) {
		if err := strvals.ParseInto(set, vals); err != nil {
			return RenderOptions{}, fmt.Errorf("applying the installer's override %s: %w", set, err)
		}
	}
	return RenderOptions{ReleaseName: name, Namespace: ext.TargetNamespace(), Values: vals}, nil
}

// InstallerOverrides returns the --set expressions the InstallPlan
// controller adds for one side: the tags, the condition of every dependency
// tagged for the other side forced to false (Helm lets conditions win over
// tags), and global.clusterInfo for agents. The agent side is rendered as if
// placed on the host cluster.
func InstallerOverrides(c *chart.Chart, side Side) []string {
	other := TagAgent
	sets := []string{"tags.extension=true", "tags.agent=false"}
	if side == Agent {
		other = TagExtension
		sets = []string{"tags.agent=true", "tags.extension=false"}
	}
	if c != nil && c.Metadata != nil {
		for _, d := range c.Metadata.Dependencies {
			if !slices.Contains(d.Tags, other) {
				continue
			}
			for _, cond := range strings.Split(d.Condition, ",") {
				if cond = strings.TrimSpace(cond); cond != "" {
					sets = append(sets, cond+"=false")
				}
			}
		}
	}
	if side == Agent {
		sets = append(sets, "global.clusterInfo.name=host", "global.clusterInfo.role=host")
	}
	return sets
}

// CopyValues returns a deep copy of a values map (nested maps and lists are
// copied; other values are shared, which is safe as they are immutable).
func CopyValues(v map[string]any) map[string]any {
	out := make(map[string]any, len(v))
	for k, x := range v {
		out[k] = copyValue(x)
	}
	return out
}

func copyValue(x any) any {
	switch t := x.(type) {
	case map[string]any:
		return CopyValues(t)
	case chartutil.Values:
		return chartutil.Values(CopyValues(t))
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = copyValue(e)
		}
		return out
	}
	return x
}

// TaggedFor lists the names of c's dependencies that the installer enables
// in one side's release (tagged "extension" for the host, "agent" for the
// agent), in declaration order.
func TaggedFor(c *chart.Chart, side Side) []string {
	tag := TagExtension
	if side == Agent {
		tag = TagAgent
	}
	var names []string
	if c == nil || c.Metadata == nil {
		return nil
	}
	for _, d := range c.Metadata.Dependencies {
		if slices.Contains(d.Tags, tag) {
			names = append(names, d.Name)
		}
	}
	return names
}
