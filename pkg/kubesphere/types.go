package kubesphere

import (
	"maps"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Locales maps a language code ("en", "zh") to text.
type Locales map[string]string

// Default returns the "en" text, else "zh", else the first non-empty text
// in the order of the language codes.
func (l Locales) Default() string {
	for _, lang := range append([]string{"en", "zh"}, slices.Sorted(maps.Keys(l))...) {
		if l[lang] != "" {
			return l[lang]
		}
	}
	return ""
}

// Provider is who publishes an extension, per language.
type Provider struct {
	// +optional
	Name string `json:"name,omitempty"`
	// +optional
	URL string `json:"url,omitempty"`
	// +optional
	Email string `json:"email,omitempty"`
}

// ExtensionInfo is the descriptive part shared by Extension.spec and
// ExtensionVersion.spec.
type ExtensionInfo struct {
	// +optional
	DisplayName Locales `json:"displayName,omitempty"`
	// +optional
	Description Locales `json:"description,omitempty"`
	// Icon is a URL or a data: URI.
	// +optional
	Icon string `json:"icon,omitempty"`
	// +optional
	Provider map[string]Provider `json:"provider,omitempty"`
	// +optional
	Created metav1.Time `json:"created,omitzero"`
}

// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster,categories=extensions
// +kubebuilder:printcolumn:name="State",type=string,JSONPath=".status.state"

// Extension is a catalogue entry: one per extension, whatever its versions.
type Extension struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +optional
	Spec ExtensionSpec `json:"spec,omitzero"`
	// +optional
	Status ExtensionStatus `json:"status,omitzero"`
}

// ExtensionSpec describes an extension; it is copied from its newest version.
type ExtensionSpec struct {
	ExtensionInfo `json:",inline"`
}

// ExtensionStatus is written by KubeSphere's controllers from the
// InstallPlan of the same name and from the published versions.
type ExtensionStatus struct {
	// +optional
	State string `json:"state,omitempty"`
	// +optional
	Enabled bool `json:"enabled,omitempty"`
	// +optional
	PlannedInstallVersion string `json:"plannedInstallVersion,omitempty"`
	// InstalledVersion already shows the target version while an upgrade
	// runs or after it failed; read it together with State.
	// +optional
	InstalledVersion string `json:"installedVersion,omitempty"`
	// +optional
	RecommendedVersion string `json:"recommendedVersion,omitempty"`
	// +optional
	Versions []ExtensionVersionInfo `json:"versions,omitempty"`
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// +optional
	ClusterSchedulingStatuses map[string]InstallationStatus `json:"clusterSchedulingStatuses,omitempty"`
}

// ExtensionVersionInfo is one published version in Extension.status.
type ExtensionVersionInfo struct {
	Version string `json:"version"`
	// +optional
	CreationTimestamp metav1.Time `json:"creationTimestamp,omitzero"`
}

// +kubebuilder:object:root=true

// ExtensionList is a list of Extensions.
type ExtensionList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Extension `json:"items"`
}

// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster,categories=extensions

// ExtensionVersion is one installable version of an extension. Its name
// must be "<extension>-<version>": the InstallPlan controller looks it up
// by that name.
type ExtensionVersion struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +optional
	Spec ExtensionVersionSpec `json:"spec,omitzero"`
}

// ExtensionVersionSpec is the metadata of one version and where its chart is.
type ExtensionVersionSpec struct {
	ExtensionInfo `json:",inline"`

	// Version is the semantic version; it equals the chart's version.
	// +optional
	Version string `json:"version,omitempty"`
	// +optional
	Keywords []string `json:"keywords,omitempty"`
	// +optional
	Sources []string `json:"sources,omitempty"`
	// Repository names the Repository this version was synced from; empty
	// for a locally published version.
	// +optional
	Repository string `json:"repository,omitempty"`
	// +optional
	Category string `json:"category,omitempty"`
	// KubeVersion is a semver constraint on the Kubernetes version.
	// +optional
	KubeVersion string `json:"kubeVersion,omitempty"`
	// KSVersion is a semver constraint on the KubeSphere version.
	// +optional
	KSVersion string `json:"ksVersion,omitempty"`
	// +optional
	Home string `json:"home,omitempty"`
	// +optional
	Docs string `json:"docs,omitempty"`
	// +optional
	Digest string `json:"digest,omitempty"`
	// +optional
	Screenshots []string `json:"screenshots,omitempty"`
	// ChartDataRef points at the ConfigMap key that holds the chart .tgz.
	// +optional
	ChartDataRef *ChartDataRef `json:"chartDataRef,omitempty"`
	// ChartURL is an http(s):// or oci:// chart location; when set, the
	// installer uses it instead of ChartDataRef.
	// +optional
	ChartURL string `json:"chartURL,omitempty"`
	// Namespace is the target namespace; empty means "extension-<name>".
	// +optional
	Namespace string `json:"namespace,omitempty"`
	// +kubebuilder:validation:Enum=HostOnly;Multicluster
	// +kubebuilder:default=HostOnly
	// +optional
	InstallationMode string `json:"installationMode,omitempty"`
	// +optional
	ExternalDependencies []ExternalDependency `json:"externalDependencies,omitempty"`
}

// ChartDataRef selects a key of a ConfigMap in a namespace.
// +structType=atomic
type ChartDataRef struct {
	Namespace string `json:"namespace"`
	// +kubebuilder:default=""
	// +optional
	Name string `json:"name,omitempty"`
	Key  string `json:"key"`
	// +optional
	Optional *bool `json:"optional,omitempty"`
}

// ExternalDependency is another extension this one needs (Required) or can
// use.
type ExternalDependency struct {
	Name string `json:"name"`
	// Type is "extension" by convention.
	// +optional
	Type string `json:"type,omitempty"`
	// Version is a semver constraint such as ">= 1.0.0-0".
	Version  string `json:"version"`
	Required bool   `json:"required"`
}

// +kubebuilder:object:root=true

// ExtensionVersionList is a list of ExtensionVersions.
type ExtensionVersionList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ExtensionVersion `json:"items"`
}

// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster,categories=extensions
// +kubebuilder:printcolumn:name="State",type=string,JSONPath=".status.state"

// InstallPlan asks KubeSphere to install one version of an extension. By
// convention its name is the extension's name.
type InstallPlan struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +optional
	Spec InstallPlanSpec `json:"spec,omitzero"`
	// +optional
	Status InstallPlanStatus `json:"status,omitzero"`
}

// InstallPlanSpec is what to install, with which values, and where.
type InstallPlanSpec struct {
	Extension ExtensionRef `json:"extension"`
	// Enabled switches the extension's UI resources on or off; it does not
	// gate the installation.
	Enabled bool `json:"enabled"`
	// UpgradeStrategy is stored but not acted on by KubeSphere.
	// +kubebuilder:default=Manual
	// +optional
	UpgradeStrategy string `json:"upgradeStrategy,omitempty"`
	// Config is YAML text: the Helm values of the host release.
	// +optional
	Config string `json:"config,omitempty"`
	// ClusterScheduling places the agent release on clusters; always with
	// Placement.
	// +optional
	ClusterScheduling *ClusterScheduling `json:"clusterScheduling,omitempty"`
}

// ExtensionRef names the extension and the exact version to install.
type ExtensionRef struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// ClusterScheduling says which clusters get the agent release, and per-cluster
// values that override Config.
type ClusterScheduling struct {
	// +optional
	Placement *Placement `json:"placement,omitempty"`
	// Overrides maps a cluster name to YAML values merged over Config.
	// +optional
	Overrides map[string]string `json:"overrides,omitempty"`
}

// Placement selects clusters by name or by label.
type Placement struct {
	// +listType=set
	// +optional
	Clusters []string `json:"clusters,omitempty"`
	// +optional
	ClusterSelector *metav1.LabelSelector `json:"clusterSelector,omitempty"`
}

// InstallPlanStatus is written by the InstallPlan controller.
type InstallPlanStatus struct {
	InstallationStatus `json:",inline"`
	// +optional
	Enabled bool `json:"enabled,omitempty"`
	// ClusterSchedulingStatuses holds the agent release's status per cluster.
	// +optional
	ClusterSchedulingStatuses map[string]InstallationStatus `json:"clusterSchedulingStatuses,omitempty"`
}

// InstallationStatus is the state of one Helm release of the extension.
type InstallationStatus struct {
	// +optional
	State string `json:"state,omitempty"`
	// ConfigHash is the hash of the values the last job was started with;
	// empty until a job has been created.
	// +optional
	ConfigHash string `json:"configHash,omitempty"`
	// +optional
	TargetNamespace string `json:"targetNamespace,omitempty"`
	// +optional
	ReleaseName string `json:"releaseName,omitempty"`
	// +optional
	Version string `json:"version,omitempty"`
	// JobName is the executor Job of the last action, in TargetNamespace.
	// +optional
	JobName string `json:"jobName,omitempty"`
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// StateHistory lists the last state changes, oldest first.
	// +optional
	StateHistory []StateChange `json:"stateHistory,omitempty"`
}

// StateChange is one entry of a state history.
type StateChange struct {
	LastTransitionTime metav1.Time `json:"lastTransitionTime"`
	State              string      `json:"state"`
}

// +kubebuilder:object:root=true

// InstallPlanList is a list of InstallPlans.
type InstallPlanList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []InstallPlan `json:"items"`
}

// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster,categories=extensions

// Category groups extensions in the console; extensions name theirs with the
// kubesphere.io/category label.
type Category struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +optional
	Spec CategorySpec `json:"spec,omitzero"`
}

// CategorySpec describes a category.
type CategorySpec struct {
	// +optional
	DisplayName Locales `json:"displayName,omitempty"`
	// +optional
	Description Locales `json:"description,omitempty"`
	// +optional
	Icon string `json:"icon,omitempty"`
}

// +kubebuilder:object:root=true

// CategoryList is a list of Categories.
type CategoryList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Category `json:"items"`
}

// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster,categories=extensions

// Repository is a Helm repository KubeSphere syncs ExtensionVersions from.
type Repository struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +optional
	Spec RepositorySpec `json:"spec,omitzero"`
	// +optional
	Status RepositoryStatus `json:"status,omitzero"`
}

// RepositorySpec says where the repository is and how to sync it.
type RepositorySpec struct {
	// +optional
	URL string `json:"url,omitempty"`
	// +optional
	Description string `json:"description,omitempty"`
	// +optional
	BasicAuth *BasicAuth `json:"basicAuth,omitempty"`
	// CABundle is a base64 PEM bundle.
	// +optional
	CABundle string `json:"caBundle,omitempty"`
	// +optional
	Insecure bool `json:"insecure,omitempty"`
	// Depth is how many versions per extension to sync; 0 means all.
	// +kubebuilder:default=3
	// +optional
	Depth *int `json:"depth,omitempty"`
	// +optional
	UpdateStrategy *UpdateStrategy `json:"updateStrategy,omitempty"`
}

// BasicAuth are repository credentials.
type BasicAuth struct {
	// +optional
	Username string `json:"username,omitempty"`
	// +optional
	Password string `json:"password,omitempty"`
}

// UpdateStrategy is how often and how long a sync may take.
type UpdateStrategy struct {
	// +optional
	RegistryPoll *RegistryPoll   `json:"registryPoll,omitempty"`
	Timeout      metav1.Duration `json:"timeout"`
}

// RegistryPoll is the polling interval of a repository.
type RegistryPoll struct {
	Interval metav1.Duration `json:"interval"`
}

// RepositoryStatus is written by the repository controller.
type RepositoryStatus struct {
	// +optional
	LastSyncTime *metav1.Time `json:"lastSyncTime,omitempty"`
}

// +kubebuilder:object:root=true

// RepositoryList is a list of Repositories.
type RepositoryList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Repository `json:"items"`
}
