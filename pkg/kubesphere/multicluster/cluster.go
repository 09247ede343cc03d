// Package multicluster holds our Go type for the few fields ksbuilder reads
// of KubeSphere's Cluster kind (cluster.kubesphere.io/v1alpha1): one object
// per cluster the host manages, the host included. Unknown fields are
// ignored when decoding.
//
// +kubebuilder:object:generate=true
// +groupName=cluster.kubesphere.io
// +versionName=v1alpha1
package multicluster

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// GroupVersion is cluster.kubesphere.io/v1alpha1.
var GroupVersion = schema.GroupVersion{Group: "cluster.kubesphere.io", Version: "v1alpha1"}

// ResourceClusters is the plural resource name of Cluster.
const ResourceClusters = "clusters"

// Condition types of a Cluster that decide whether agents are placed on it.
const (
	ConditionReady       = "Ready"
	ConditionSchedulable = "Schedulable"
)

// AddToScheme registers Cluster and ClusterList, and the meta types their API
// calls use, in a scheme.
func AddToScheme(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion, &Cluster{}, &ClusterList{})
	metav1.AddToGroupVersion(s, GroupVersion)
	return nil
}

// +kubebuilder:object:root=true

// Cluster is a Kubernetes cluster managed by KubeSphere. The host cluster
// carries the cluster-role.kubesphere.io/host label.
type Cluster struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +optional
	Status ClusterStatus `json:"status,omitzero"`
}

// ClusterStatus is written by KubeSphere's cluster controller.
type ClusterStatus struct {
	// +optional
	Conditions []ClusterCondition `json:"conditions,omitempty"`
	// KubernetesVersion is the cluster's Kubernetes GitVersion.
	// +optional
	KubernetesVersion string `json:"kubernetesVersion,omitempty"`
	// KubeSphereVersion is the GitVersion KubeSphere reports on the cluster.
	// +optional
	KubeSphereVersion string `json:"kubeSphereVersion,omitempty"`
}

// ClusterCondition is one condition of a Cluster.
type ClusterCondition struct {
	Type   string                 `json:"type"`
	Status metav1.ConditionStatus `json:"status"`
	// +optional
	LastUpdateTime metav1.Time `json:"lastUpdateTime,omitzero"`
	// +optional
	LastTransitionTime metav1.Time `json:"lastTransitionTime,omitzero"`
	// +optional
	Reason string `json:"reason,omitempty"`
	// +optional
	Message string `json:"message,omitempty"`
}

// +kubebuilder:object:root=true

// ClusterList is a list of Clusters.
type ClusterList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Cluster `json:"items"`
}

// IsHost reports whether the cluster is the host cluster.
func (c *Cluster) IsHost() bool {
	_, ok := c.Labels[LabelHost]
	return ok
}

// LabelHost marks the host Cluster object.
const LabelHost = "cluster-role.kubesphere.io/host"

// Condition returns the status of a condition type, or "" when absent.
func (c *Cluster) Condition(typ string) metav1.ConditionStatus {
	for _, cond := range c.Status.Conditions {
		if cond.Type == typ {
			return cond.Status
		}
	}
	return ""
}

// Schedulable reports whether KubeSphere places agents on the cluster: it is
// not being deleted, it is Ready, and it is not marked unschedulable.
func (c *Cluster) Schedulable() bool {
	return c.DeletionTimestamp == nil && c.Condition(ConditionReady) == metav1.ConditionTrue &&
		c.Condition(ConditionSchedulable) != metav1.ConditionFalse
}
