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
	return InstallerReleaseOn(ext, c, side, values, ClusterInfo{})
}

// InstallerReleaseOn is InstallerRelease for an agent release placed on
// cluster (global.clusterInfo); the host release ignores cluster.
func InstallerReleaseOn(ext *extension.Extension, c *chart.Chart, side Side, values map[string]any, cluster ClusterInfo) (RenderOptions, error) {
	name := ext.Name
	if side == Agent {
		name += "-agent"
	}
	vals := CopyValues(values)
	for _, set := range InstallerOverrides(c, side, cluster) {
		if err := strvals.ParseInto(set, vals); err != nil {
			return RenderOptions{}, fmt.Errorf("applying the installer's override %s: %w", set, err)
		}
	}
	return RenderOptions{ReleaseName: name, Namespace: ext.TargetNamespace(), Values: vals}, nil
}

// HostClusterName is the name KubeSphere gives its host cluster unless
// told otherwise.
const HostClusterName = "host"

// Cluster roles, as global.clusterInfo.role gives them to an agent.
const (
	RoleHost   = "host"
	RoleMember = "member"
)

// ClusterInfo is the cluster an agent release is installed on, which the
// installer passes as global.clusterInfo.name and .role. The zero value
// is the host cluster under its default name.
type ClusterInfo struct {
	Name, Role string
}

// ClusterInfoFor is the cluster info of the cluster named name, without
// asking a cluster: the role is host for KubeSphere's default host cluster
// name (HostClusterName), member for any other.
func ClusterInfoFor(name string) ClusterInfo {
	if name == HostClusterName {
		return ClusterInfo{Name: name, Role: RoleHost}
	}
	return ClusterInfo{Name: name, Role: RoleMember}
}

// orHost fills the zero value in: the host cluster.
func (ci ClusterInfo) orHost() ClusterInfo {
	if ci.Name == "" {
		ci.Name = HostClusterName
	}
	if ci.Role == "" {
		ci.Role = RoleHost
	}
	return ci
}

// InstallerOverrides returns the --set expressions the InstallPlan
// controller adds for one side: the tags, the condition of every dependency
// tagged for the other side forced to false (Helm lets conditions win over
// tags), and global.clusterInfo for agents, from cluster (the zero value:
// the host cluster), unescaped as KubeSphere writes them.
func InstallerOverrides(c *chart.Chart, side Side, cluster ClusterInfo) []string {
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
		cluster = cluster.orHost()
		sets = append(sets, "global.clusterInfo.name="+cluster.Name, "global.clusterInfo.role="+cluster.Role)
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
