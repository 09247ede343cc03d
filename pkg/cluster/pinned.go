package cluster

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
	"sigs.k8s.io/yaml"

	"github.com/ksbuilder/ksbuilder/pkg/kubesphere"
)

// pinnedImageWarnings warns, for an upgrade from oldVersion, about each
// image value of spec.config (a key named like "tag", "image", "digest"
// or "version" under an image setting) that equals the old chart's default
// at the same path while the new chart's default differs: that pin keeps
// the old image after the upgrade. Charts it cannot read give no warning.
func (c *Client) pinnedImageWarnings(ctx context.Context, name, oldVersion, newVersion, config string, newChart *chart.Chart) []string {
	if strings.TrimSpace(config) == "" || oldVersion == "" || oldVersion == newVersion {
		return nil
	}
	var oldEV kubesphere.ExtensionVersion
	if err := c.get(ctx, kubesphere.ResourceExtensionVersions, kubesphere.ExtensionVersionName(name, oldVersion), &oldEV); err != nil {
		return nil
	}
	oldChart, err := c.publishedChart(ctx, &oldEV)
	if err != nil || oldChart == nil {
		return nil
	}
	if newChart == nil {
		var newEV kubesphere.ExtensionVersion
		if err := c.get(ctx, kubesphere.ResourceExtensionVersions, kubesphere.ExtensionVersionName(name, newVersion), &newEV); err != nil {
			return nil
		}
		if newChart, err = c.publishedChart(ctx, &newEV); err != nil || newChart == nil {
			return nil
		}
	}
	var values map[string]any
	if err := yaml.Unmarshal([]byte(config), &values); err != nil {
		return nil
	}
	return PinnedImages(values, oldChart, newChart, oldVersion, newVersion)
}

// PinnedImages lists, as warnings, the image values of values that pin the
// default of oldChart where newChart's default differs.
func PinnedImages(values map[string]any, oldChart, newChart *chart.Chart, oldVersion, newVersion string) []string {
	oldDefaults, err := chartutil.CoalesceValues(oldChart, nil)
	if err != nil {
		return nil
	}
	newDefaults, err := chartutil.CoalesceValues(newChart, nil)
	if err != nil {
		return nil
	}
	var out []string
	walkLeaves(values, nil, func(path []string, v any) {
		if !imageSetting(path) {
			return
		}
		was, ok := lookupPath(oldDefaults, path)
		if !ok || !reflect.DeepEqual(was, v) {
			return
		}
		now, ok := lookupPath(newDefaults, path)
		if !ok || reflect.DeepEqual(now, v) {
			return
		}
		key := strings.Join(path, ".")
		out = append(out, fmt.Sprintf("spec.config sets %s: %v, the default of %s; %s's default is %v, so the upgrade keeps the old image: remove %s from the values (or set the new one)",
			key, v, oldVersion, newVersion, now, key))
	})
	sort.Strings(out)
	return out
}

// imageSetting reports whether a values path names part of an image: its
// last key is tag, digest, image or version, and for the last two, the
// path mentions an image.
func imageSetting(path []string) bool {
	last := strings.ToLower(path[len(path)-1])
	switch last {
	case "tag", "digest", "image":
		return true
	case "version":
		for _, p := range path[:len(path)-1] {
			if strings.Contains(strings.ToLower(p), "image") {
				return true
			}
		}
	}
	return false
}

// walkLeaves calls fn for every scalar of a values tree with its path.
func walkLeaves(v map[string]any, prefix []string, fn func([]string, any)) {
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		path := append(append([]string(nil), prefix...), k)
		if m, ok := v[k].(map[string]any); ok {
			walkLeaves(m, path, fn)
			continue
		}
		fn(path, v[k])
	}
}

// lookupPath returns the value at a path of a values tree.
func lookupPath(v map[string]any, path []string) (any, bool) {
	var cur any = v
	for _, k := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[k]; !ok {
			return nil, false
		}
	}
	return cur, true
}
