package cluster

import (
	"fmt"
	"slices"
	"strings"

	yamlv3 "gopkg.in/yaml.v3"
	"helm.sh/helm/v3/pkg/chart"
	"sigs.k8s.io/yaml"

	"github.com/ksbuilder/ksbuilder/pkg/manifest"
	"github.com/ksbuilder/ksbuilder/pkg/values"
)

// Subchart tags that decide which release renders a subchart.
const (
	tagExtension = "extension"
	tagAgent     = "agent"
)

// Cluster roles KubeSphere passes to agent releases.
const (
	RoleHost   = manifest.RoleHost
	RoleMember = manifest.RoleMember
)

// HostValues returns the values KubeSphere's installer gives the host
// release "<extension>": the plan's config, then its overrides
// tags.extension=true, tags.agent=false and false for every condition of a
// subchart tagged agent (conditions beat tags in Helm).
func HostValues(c *chart.Chart, config string) (map[string]any, error) {
	vals, err := parseConfig(config)
	if err != nil {
		return nil, err
	}
	setPath(vals, "tags."+tagExtension, true)
	setPath(vals, "tags."+tagAgent, false)
	disableConditions(c, vals, tagAgent)
	return vals, nil
}

// AgentValues returns the values of the agent release "<extension>-agent" on
// a cluster: the merged config (see AgentConfig), then tags.agent=true,
// tags.extension=false, false for every condition of a subchart tagged
// extension, and global.clusterInfo.name and .role.
func AgentValues(c *chart.Chart, config, override, clusterName, role string) (map[string]any, error) {
	merged, err := AgentConfig(config, override)
	if err != nil {
		return nil, err
	}
	vals, err := parseConfig(merged)
	if err != nil {
		return nil, err
	}
	setPath(vals, "tags."+tagAgent, true)
	setPath(vals, "tags."+tagExtension, false)
	disableConditions(c, vals, tagExtension)
	setPath(vals, "global.clusterInfo.name", clusterName)
	setPath(vals, "global.clusterInfo.role", role)
	return vals, nil
}

// AgentConfig returns the values text of an agent release: the plan's config
// with the cluster's override merged over it key by key. When one side is
// empty the other is used as it is. Like KubeSphere, it reads and writes the
// YAML with yaml.v3.
func AgentConfig(config, override string) (string, error) {
	if strings.TrimSpace(override) == "" {
		return config, nil
	}
	if strings.TrimSpace(config) == "" {
		return override, nil
	}
	var base, over map[string]any
	if err := yamlv3.Unmarshal([]byte(config), &base); err != nil {
		return "", fmt.Errorf("the values are not a YAML map: %w", err)
	}
	if err := yamlv3.Unmarshal([]byte(override), &over); err != nil {
		return "", fmt.Errorf("the cluster override is not a YAML map: %w", err)
	}
	out, err := yamlv3.Marshal(values.MergeMaps(base, over))
	return string(out), err
}

// ClusterAgentValues returns the values a cluster's agent release gets
// from values (what an InstallPlan's spec.config holds) and override (that
// cluster's spec.clusterScheduling.overrides entry): both written as the
// YAML text ksbuilder writes in a plan, merged as KubeSphere merges them
// (AgentConfig), and read back. It is what "template --agent --cluster"
// renders with, without a cluster.
func ClusterAgentValues(values, override map[string]any) (map[string]any, error) {
	config, err := ConfigText(values)
	if err != nil {
		return nil, err
	}
	over, err := ConfigText(override)
	if err != nil {
		return nil, err
	}
	merged, err := AgentConfig(config, over)
	if err != nil {
		return nil, err
	}
	return parseConfig(merged)
}

// parseConfig reads values text; it must be one YAML map (or empty).
func parseConfig(config string) (map[string]any, error) {
	vals := map[string]any{}
	if err := yaml.Unmarshal([]byte(config), &vals); err != nil {
		return nil, fmt.Errorf("the values are not a YAML map: %w", err)
	}
	if vals == nil {
		vals = map[string]any{}
	}
	return vals, nil
}

// disableConditions sets to false every condition of the chart's
// dependencies that carry tag.
func disableConditions(c *chart.Chart, vals map[string]any, tag string) {
	if c == nil || c.Metadata == nil {
		return
	}
	for _, dep := range c.Metadata.Dependencies {
		if dep.Condition == "" || !slices.Contains(dep.Tags, tag) {
			continue
		}
		for _, cond := range strings.Split(dep.Condition, ",") {
			if cond = strings.TrimSpace(cond); cond != "" {
				setPath(vals, cond, false)
			}
		}
	}
}

// setPath sets a dotted path ("a.b.c") in nested maps, replacing any
// non-map value on the way, as "helm --set" does.
func setPath(vals map[string]any, path string, v any) {
	keys := strings.Split(path, ".")
	m := vals
	for _, k := range keys[:len(keys)-1] {
		next, ok := m[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[k] = next
		}
		m = next
	}
	m[keys[len(keys)-1]] = v
}
