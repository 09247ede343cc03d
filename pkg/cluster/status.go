package cluster

import (
	"sort"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ksbuilder/ksbuilder/pkg/kubesphere"
)

// PlanStatus is what "status" shows of an InstallPlan.
type PlanStatus struct {
	Name      string `json:"name"`
	Extension string `json:"extension"`
	// PlannedVersion is the version the plan asks for.
	PlannedVersion string `json:"plannedVersion"`
	// ReleaseStatus is the host release.
	ReleaseStatus `json:",inline"`
	// Enabled is what the plan asks for (spec.enabled); KubeSphere applies
	// it once the release is Installed.
	Enabled bool `json:"enabled"`
	// Retrying says why KubeSphere keeps starting upgrade jobs, when it
	// loops on an upgrade Helm refuses (see UpgradeLoop).
	Retrying string   `json:"retrying,omitempty"`
	Clusters []string `json:"placement,omitempty"`
	// Overridden are the clusters whose agent has values of its own
	// (spec.clusterScheduling.overrides).
	Overridden []string `json:"overridden,omitempty"`
	// Agents are the agent releases per cluster, by cluster name.
	Agents []ReleaseStatus `json:"agents,omitempty"`
	// Deleting is set once the plan's deletion was requested.
	Deleting bool `json:"deleting,omitempty"`
	// ImagePull lists executor containers whose image cannot be pulled
	// (filled from the cluster by Client.ImagePullErrors, not by StatusOf).
	ImagePull []ImagePullError `json:"imagePull,omitempty"`
	// Objects are the extension's JSBundles, APIServices, ReverseProxies
	// and ExtensionEntries on the cluster, with their state (filled from
	// StatusOutcome.Objects by ObjectStatuses, not by StatusOf).
	Objects []ObjectStatus `json:"objects,omitempty"`
}

// ReleaseStatus is the state of one release of the extension.
type ReleaseStatus struct {
	// Cluster is empty for the host release.
	Cluster string `json:"cluster,omitempty"`
	// State is KubeSphere's state of the release; Pending (see
	// PendingMeaning) before KubeSphere has acted on it.
	State string `json:"state"`
	// Version is what KubeSphere recorded: the deployed chart's version when
	// Installed, the target version while an action runs or after it
	// failed.
	Version    string             `json:"version,omitempty"`
	Namespace  string             `json:"namespace,omitempty"`
	Release    string             `json:"release,omitempty"`
	Job        string             `json:"job,omitempty"`
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	History    []StateChange      `json:"history,omitempty"`
}

// StateChange is one entry of a release's state history.
type StateChange struct {
	Time  time.Time `json:"time"`
	State string    `json:"state"`
}

// StatusOf summarises an InstallPlan.
func StatusOf(plan *kubesphere.InstallPlan) *PlanStatus {
	s := &PlanStatus{
		Name: plan.Name, Extension: plan.Spec.Extension.Name, PlannedVersion: plan.Spec.Extension.Version,
		ReleaseStatus: releaseStatus("", plan.Status.InstallationStatus), Enabled: plan.Spec.Enabled,
		Retrying: UpgradeLoop(&plan.Spec, plan.Status.InstallationStatus),
		Clusters: placedClusters(&plan.Spec), Overridden: OverriddenClusters(&plan.Spec), Deleting: plan.DeletionTimestamp != nil,
	}
	clusters := make([]string, 0, len(plan.Status.ClusterSchedulingStatuses))
	for cl := range plan.Status.ClusterSchedulingStatuses {
		clusters = append(clusters, cl)
	}
	sort.Strings(clusters)
	for _, cl := range clusters {
		s.Agents = append(s.Agents, releaseStatus(cl, plan.Status.ClusterSchedulingStatuses[cl]))
	}
	return s
}

func releaseStatus(cluster string, st kubesphere.InstallationStatus) ReleaseStatus {
	r := ReleaseStatus{
		Cluster: cluster, State: orPending(st.State), Version: st.Version, Namespace: st.TargetNamespace,
		Release: st.ReleaseName, Job: st.JobName, Conditions: st.Conditions,
	}
	for _, h := range st.StateHistory {
		r.History = append(r.History, StateChange{Time: h.LastTransitionTime.Time, State: h.State})
	}
	return r
}
