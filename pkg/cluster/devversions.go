package cluster

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strconv"
)

// Development versions are what "ksbuilder dev" publishes: VERSION-dev.N,
// a new N for every change, so that KubeSphere sees a new version and
// really installs the chart again (it reinstalls only when the version or
// the config changes).

// devSuffix matches the "-dev.N" that DevVersion appends.
var devSuffix = regexp.MustCompile(`^(.+)-dev\.(\d+)$`)

// DevVersion is the development version N of base: "BASE-dev.N". It is a
// semantic version, a pre-release of base.
func DevVersion(base string, n int) string {
	return fmt.Sprintf("%s-dev.%d", base, n)
}

// ParseDevVersion splits a development version into its base and N; ok is
// false for any other version.
func ParseDevVersion(v string) (base string, n int, ok bool) {
	m := devSuffix.FindStringSubmatch(v)
	if m == nil {
		return "", 0, false
	}
	n, err := strconv.Atoi(m[2])
	if err != nil {
		return "", 0, false
	}
	return m[1], n, true
}

// DevVersionInfo is one published development version.
type DevVersionInfo struct {
	Version string
	N       int
}

// DevVersions lists the development versions of an extension published
// on the cluster, by N ascending. Versions synced from a Repository are
// left out.
func (c *Client) DevVersions(ctx context.Context, name string) ([]DevVersionInfo, error) {
	all, err := c.versions(ctx, name)
	if err != nil {
		return nil, err
	}
	var out []DevVersionInfo
	for _, ev := range all {
		if fromRepository(&ev) != "" {
			continue
		}
		if _, n, ok := ParseDevVersion(ev.Spec.Version); ok {
			out = append(out, DevVersionInfo{Version: ev.Spec.Version, N: n})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].N < out[j].N })
	return out, nil
}

// PruneDevVersions unpublishes an extension's development versions (their
// chart ConfigMap and ExtensionVersion) except the newest keep ones and
// the versions its InstallPlan uses (asked for in spec, or still
// installed per status). It returns what was deleted.
func (c *Client) PruneDevVersions(ctx context.Context, name string, keep int) ([]ObjectResult, error) {
	devs, err := c.DevVersions(ctx, name)
	if err != nil || len(devs) <= keep {
		return nil, err
	}
	inUse := map[string]bool{}
	if plan := c.planOrNil(ctx, name); plan != nil {
		inUse[plan.Spec.Extension.Version] = true
		inUse[plan.Status.Version] = true
		for _, st := range plan.Status.ClusterSchedulingStatuses {
			inUse[st.Version] = true
		}
	}
	var results []ObjectResult
	for _, d := range devs[:len(devs)-keep] {
		if inUse[d.Version] {
			continue
		}
		r, err := c.Unpublish(ctx, UnpublishOptions{Name: name, Version: d.Version})
		results = append(results, r...)
		if err != nil {
			return results, err
		}
	}
	return results, nil
}

// RemoveDevVersions unpublishes every development version of an extension
// (and the Extension when no other version is left). The InstallPlan must
// be gone, or use another version.
func (c *Client) RemoveDevVersions(ctx context.Context, name string) ([]ObjectResult, error) {
	devs, err := c.DevVersions(ctx, name)
	if err != nil {
		return nil, err
	}
	var results []ObjectResult
	for _, d := range devs {
		r, err := c.Unpublish(ctx, UnpublishOptions{Name: name, Version: d.Version})
		results = append(results, r...)
		if err != nil {
			return results, err
		}
	}
	return results, nil
}
