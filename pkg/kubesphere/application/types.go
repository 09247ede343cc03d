// Package application holds our Go types for KubeSphere's App Store kinds
// (application.kubesphere.io/v2): an Application, one per App Store entry,
// and its ApplicationVersions, whose Helm chart KubeSphere reads from a
// ConfigMap of the same name in the App Store's namespace. Only the fields
// ksbuilder writes or reads are declared; unknown fields are ignored when
// decoding.
//
// +kubebuilder:object:generate=true
// +groupName=application.kubesphere.io
// +versionName=v2
package application

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// GroupVersion is application.kubesphere.io/v2.
var GroupVersion = schema.GroupVersion{Group: "application.kubesphere.io", Version: "v2"}

// Resource names (plurals) of the kinds, as used in API paths.
const (
	ResourceApplications        = "applications"
	ResourceApplicationVersions = "applicationversions"
)

// Labels and annotations the App Store reads.
const (
	// LabelAppID names, on an ApplicationVersion, its Application.
	LabelAppID = "application.kubesphere.io/app-id"
	// LabelAppStore marks an Application listed in the App Store.
	LabelAppStore = "application.kubesphere.io/app-store"
	// LabelAppType is the kind of application ("helm").
	LabelAppType = "application.kubesphere.io/app-type"
	// LabelRepoName is the repository an application came from ("upload"
	// for one uploaded rather than synchronised).
	LabelRepoName = "application.kubesphere.io/repo-name"
	// AnnotationMaintainers names the maintainers.
	AnnotationMaintainers = "application.kubesphere.io/app-maintainers"
	// AnnotationOriginalName is the chart's name.
	AnnotationOriginalName = "application.kubesphere.io/app-originalName"
	// AnnotationLatestVersion is the newest version's name.
	AnnotationLatestVersion = "application.kubesphere.io/latest-app-version"
)

// The App Store's own values.
const (
	// AppTypeHelm is the type of an application installed from a Helm chart.
	AppTypeHelm = "helm"
	// StateActive is the state of an Application or ApplicationVersion the
	// App Store offers for installation.
	StateActive = "active"
	// StoreNamespace is the namespace of the App Store extension
	// (openpitrix), where the chart ConfigMaps live.
	StoreNamespace = "extension-openpitrix"
	// ChartKey is the binaryData key of the ConfigMap that holds an
	// ApplicationVersion's chart archive.
	ChartKey = "BinaryKey"
)

// AddToScheme registers the kinds of this package, and the meta types their
// API calls use, in a scheme.
func AddToScheme(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion,
		&Application{}, &ApplicationList{},
		&ApplicationVersion{}, &ApplicationVersionList{},
	)
	metav1.AddToGroupVersion(s, GroupVersion)
	return nil
}

// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster
// +kubebuilder:subresource:status

// Application is one entry of the App Store (cluster-scoped).
type Application struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +optional
	Spec ApplicationSpec `json:"spec,omitzero"`
	// +optional
	Status ApplicationStatus `json:"status,omitzero"`
}

// ApplicationSpec describes the application.
type ApplicationSpec struct {
	// AppType is "helm" for a chart.
	// +optional
	AppType string `json:"appType,omitempty"`
	// AppHome is the project's home page.
	// +optional
	AppHome string `json:"appHome,omitempty"`
	// Icon is a URL or data URI.
	// +optional
	Icon string `json:"icon,omitempty"`
	// Abstraction is the one-line description.
	// +optional
	Abstraction string `json:"abstraction,omitempty"`
	// Attachments are the ids of screenshots and other files.
	// +optional
	Attachments []string `json:"attachments,omitempty"`
	// Resources are the API resources of a YAML-type application.
	// +optional
	Resources []GroupVersionResource `json:"resources,omitempty"`
}

// GroupVersionResource names one resource of a YAML-type application; the
// field names are capitalised in KubeSphere's API.
type GroupVersionResource struct {
	// +optional
	Group string `json:"Group,omitempty"`
	// +optional
	Version string `json:"Version,omitempty"`
	// +optional
	Resource string `json:"Resource,omitempty"`
	// +optional
	Name string `json:"Name,omitempty"`
	// +optional
	Desc string `json:"Desc,omitempty"`
	// +optional
	ParentNode string `json:"ParentNode,omitempty"`
}

// ApplicationStatus is the App Store's view of the application.
type ApplicationStatus struct {
	// State is draft, submitted, passed, rejected, suspended or active.
	// +optional
	State string `json:"state,omitempty"`
	// +optional
	UpdateTime *metav1.Time `json:"updateTime,omitempty"`
}

// +kubebuilder:object:root=true

// ApplicationList is a list of Applications.
type ApplicationList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Application `json:"items"`
}

// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster
// +kubebuilder:subresource:status

// ApplicationVersion is one version of an Application (cluster-scoped); its
// chart is the ConfigMap of the same name in StoreNamespace.
type ApplicationVersion struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec ApplicationVersionSpec `json:"spec"`
	// +optional
	Status ApplicationVersionStatus `json:"status,omitzero"`
}

// ApplicationVersionSpec describes one version.
type ApplicationVersionSpec struct {
	// VersionName is the chart's version.
	VersionName string `json:"versionName"`
	// +optional
	AppHome string `json:"appHome,omitempty"`
	// +optional
	Icon string `json:"icon,omitempty"`
	// +optional
	Created *metav1.Time `json:"created,omitempty"`
	// Digest is the chart archive's digest.
	// +optional
	Digest string `json:"digest,omitempty"`
	// +optional
	AppType string `json:"appType,omitempty"`
	// +optional
	Maintainer []Maintainer `json:"maintainer,omitempty"`
	// PullURL is where a chart of a repository is downloaded from.
	// +optional
	PullURL string `json:"pullUrl,omitempty"`
}

// Maintainer is a chart maintainer.
type Maintainer struct {
	// +optional
	Name string `json:"name,omitempty"`
	// +optional
	Email string `json:"email,omitempty"`
	// +optional
	URL string `json:"url,omitempty"`
}

// ApplicationVersionStatus is the App Store's view of the version.
type ApplicationVersionStatus struct {
	// +optional
	State string `json:"state,omitempty"`
	// +optional
	Message string `json:"message,omitempty"`
	// UserName is who submitted the version.
	// +optional
	UserName string `json:"userName,omitempty"`
	// +optional
	Updated *metav1.Time `json:"updated,omitempty"`
}

// +kubebuilder:object:root=true

// ApplicationVersionList is a list of ApplicationVersions.
type ApplicationVersionList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ApplicationVersion `json:"items"`
}
