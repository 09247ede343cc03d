package cluster

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"

	"github.com/ksbuilder/ksbuilder/pkg/kubesphere"
)

// This file holds KubeSphere's own rule for when its controller acts on a
// release (seen on v4.1.3): it starts an install or upgrade job when the
// release has no state, or when it is Installed, InstallFailed or
// UpgradeFailed and either spec.extension.version differs from the
// release's status.version or the hash of its values text differs from
// status.configHash. The old spec does not matter.

// ConfigHash is KubeSphere's hash of a release's values text: FNV-1a 64 of
// the text with the trailing white space of each line removed (its
// admission webhook stores it so), in hex.
func ConfigHash(config string) string {
	lines := strings.Split(config, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \t\r")
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte(strings.Join(lines, "\n")))
	return strconv.FormatUint(h.Sum64(), 16)
}

// sameHash compares two hashes as numbers: KubeSphere's hex may or may not
// carry leading zeros.
func sameHash(a, b string) bool {
	x, errA := strconv.ParseUint(a, 16, 64)
	y, errB := strconv.ParseUint(b, 16, 64)
	if errA != nil || errB != nil {
		return a == b
	}
	return x == y
}

// releaseConfig is the values text KubeSphere hashes for a release: the
// plan's config for the host, merged with the cluster's override for an
// agent.
func releaseConfig(spec *kubesphere.InstallPlanSpec, cluster string) (string, error) {
	if cluster == "" {
		return spec.Config, nil
	}
	return AgentConfig(spec.Config, overrideOf(spec, cluster))
}

// willAct applies KubeSphere's rule to one release: whether its controller
// starts a job for it under spec. A busy release (Preparing, Installing,
// Upgrading) is judged against the action under way, which KubeSphere
// compares with the spec once it ends; an uninstalling one never acts.
func willAct(spec *kubesphere.InstallPlanSpec, cluster string, st kubesphere.InstallationStatus) bool {
	switch st.State {
	case "":
		return true
	case kubesphere.StateUninstalling, kubesphere.StateUninstallFailed, kubesphere.StateUninstalled:
		return false
	}
	if st.Version != "" && st.Version != spec.Extension.Version {
		return true
	}
	config, err := releaseConfig(spec, cluster)
	if err != nil {
		return true // KubeSphere fails on it and says so in the status
	}
	return st.ConfigHash == "" || !sameHash(st.ConfigHash, ConfigHash(config))
}

// UpgradeLoop says, when KubeSphere is upgrading a release over and over,
// why: Helm failed before recording a revision of the new version (an
// object of the new version exists outside the release, a pre-flight read
// was forbidden), so the old version stays deployed, KubeSphere copies its
// version into status.version, and since that differs from the spec it
// starts another upgrade job at once, until the version or the config
// changes. Empty when the release does not loop.
func UpgradeLoop(spec *kubesphere.InstallPlanSpec, st kubesphere.InstallationStatus) string {
	deployed := ""
	switch st.State {
	case kubesphere.StateUpgradeFailed:
		if st.ConfigHash == "" || st.Version == "" || st.Version == spec.Extension.Version {
			return ""
		}
		deployed = st.Version
	case kubesphere.StatePreparing, kubesphere.StateUpgrading:
		if failuresSinceInstalled(st) < 2 {
			return ""
		}
	default:
		return ""
	}
	msg := fmt.Sprintf("KubeSphere retries this upgrade until the version or config changes: Helm failed before recording a revision of %s", spec.Extension.Version)
	if deployed != "" {
		msg += fmt.Sprintf(", so %s stays deployed", deployed)
	}
	return msg + ", and KubeSphere starts another upgrade job at once"
}

// failuresSinceInstalled counts the UpgradeFailed entries of a release's
// state history after its last Installed.
func failuresSinceInstalled(st kubesphere.InstallationStatus) int {
	n := 0
	for _, h := range st.StateHistory {
		switch h.State {
		case kubesphere.StateInstalled:
			n = 0
		case kubesphere.StateUpgradeFailed:
			n++
		}
	}
	return n
}

// failing reports whether a release ended in a failure KubeSphere does not
// retry by itself (after a job ran), or is running again after failing
// (a loop, or a re-run) with an outcome nobody can tell yet.
func failing(st kubesphere.InstallationStatus) bool {
	switch st.State {
	case kubesphere.StateInstallFailed, kubesphere.StateUpgradeFailed:
		return st.ConfigHash != ""
	case kubesphere.StatePreparing, kubesphere.StateUpgrading:
		return failuresSinceInstalled(st) > 0
	}
	return false
}

// releases returns the host release's status (cluster "") and each agent
// release's, with the clusters in order.
func releasesOf(plan *kubesphere.InstallPlan) ([]string, map[string]kubesphere.InstallationStatus) {
	statuses := map[string]kubesphere.InstallationStatus{"": plan.Status.InstallationStatus}
	for cl, st := range plan.Status.ClusterSchedulingStatuses {
		statuses[cl] = st
	}
	return sortedKeys(statuses), statuses
}

// stalledReleases lists the releases of a plan that failed and that
// KubeSphere will not run again under spec by its own rule, or might not:
// a release running again after a failure (a loop on failing upgrades, or
// a re-run) may fail again, and status.version is then the deployed
// version, whatever the spec says.
func stalledReleases(plan *kubesphere.InstallPlan, spec *kubesphere.InstallPlanSpec) []string {
	var out []string
	clusters, statuses := releasesOf(plan)
	for _, cl := range clusters {
		st := statuses[cl]
		if !failing(st) {
			continue
		}
		if busy(st.State) || st.State == kubesphere.StatePreparing || UpgradeLoop(&plan.Spec, st) != "" || !willAct(spec, cl, st) {
			out = append(out, releaseLabel(plan.Name, cl)+" "+st.State)
		}
	}
	return out
}

// expectedActions lists the releases KubeSphere will act on once spec is
// written, by its own rule: the host release, and the agents on the
// placed clusters (a cluster without an agent yet gets one).
func expectedActions(plan *kubesphere.InstallPlan, spec *kubesphere.InstallPlanSpec) Expectation {
	exp := Expectation{Host: willAct(spec, "", plan.Status.InstallationStatus)}
	for _, cl := range placedClusters(spec) {
		st, ok := plan.Status.ClusterSchedulingStatuses[cl]
		if !ok || willAct(spec, cl, st) {
			exp.Clusters = append(exp.Clusters, cl)
		}
	}
	return exp
}

// deployedVersion is the version of the host release Helm has deployed, as
// far as the plan tells: status.version when Installed, or after an upgrade
// that failed before Helm recorded a revision (KubeSphere then copies the
// deployed release's version). Empty when unknown.
func deployedVersion(plan *kubesphere.InstallPlan) string {
	st := plan.Status.InstallationStatus
	switch {
	case st.State == kubesphere.StateInstalled:
		return st.Version
	case st.State == kubesphere.StateUpgradeFailed && st.Version != plan.Spec.Extension.Version:
		return st.Version
	}
	return ""
}
