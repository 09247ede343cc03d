package cluster

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/ksbuilder/ksbuilder/pkg/kubesphere"
)

// OverrideClusterError is an override for a cluster the agent is not
// placed on.
type OverrideClusterError struct {
	Cluster string
	Placed  []string
}

func (e *OverrideClusterError) Error() string {
	placed := strings.Join(e.Placed, ", ")
	if placed == "" {
		placed = "none"
	}
	return fmt.Sprintf("values for cluster %s, where the agent is not placed (placed on: %s): place it there with --cluster %s, or drop its values", e.Cluster, placed, e.Cluster)
}

// applyClusterValues writes each cluster's values as its override in
// spec.clusterScheduling.overrides (YAML text KubeSphere merges over
// spec.config for that cluster's agent). Overrides of other clusters are
// kept. Every cluster must be in placed.
func applyClusterValues(spec *kubesphere.InstallPlanSpec, placed []string, values map[string]map[string]any) error {
	if len(values) == 0 {
		return nil
	}
	clusters := slices.Sorted(maps.Keys(values))
	for _, cl := range clusters {
		if !slices.Contains(placed, cl) {
			return &OverrideClusterError{Cluster: cl, Placed: placed}
		}
	}
	if spec.ClusterScheduling == nil {
		spec.ClusterScheduling = &kubesphere.ClusterScheduling{}
	}
	overrides := maps.Clone(spec.ClusterScheduling.Overrides)
	if overrides == nil {
		overrides = map[string]string{}
	}
	for _, cl := range clusters {
		text, err := ConfigText(values[cl])
		if err != nil {
			return fmt.Errorf("the values of cluster %s: %w", cl, err)
		}
		overrides[cl] = text
	}
	spec.ClusterScheduling.Overrides = overrides
	return nil
}

// ApplyClusterValues writes each cluster's values as its override in
// spec, as Install does with InstallOptions.ClusterValues: every cluster
// must be in spec's placement (an *OverrideClusterError otherwise), and
// the overrides of other clusters are kept. It lets a caller check the
// render of the spec Install will write (CheckRender).
func ApplyClusterValues(spec *kubesphere.InstallPlanSpec, values map[string]map[string]any) error {
	return applyClusterValues(spec, placedClusters(spec), values)
}

// OverriddenClusters lists the clusters a plan has overrides for.
func OverriddenClusters(spec *kubesphere.InstallPlanSpec) []string {
	if spec.ClusterScheduling == nil {
		return nil
	}
	out := slices.Collect(maps.Keys(spec.ClusterScheduling.Overrides))
	sort.Strings(out)
	return out
}
