// Package iam holds our own Go type for KubeSphere's RoleTemplate
// (iam.kubesphere.io/v1beta1, cluster-scoped): the permissions an extension
// adds, which the console groups and aggregates into roles.
//
// +kubebuilder:object:generate=true
// +groupName=iam.kubesphere.io
// +versionName=v1beta1
package iam

import (
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// GroupVersion is iam.kubesphere.io/v1beta1.
var GroupVersion = schema.GroupVersion{Group: "iam.kubesphere.io", Version: "v1beta1"}

// KindRoleTemplate is RoleTemplate's kind; ResourceRoleTemplates its plural.
const (
	KindRoleTemplate      = "RoleTemplate"
	ResourceRoleTemplates = "roletemplates"
)

// Labels and annotations of a RoleTemplate.
const (
	// LabelScope is where the template applies: one of Scopes.
	LabelScope = "iam.kubesphere.io/scope"
	// LabelCategory groups templates in the console.
	LabelCategory = "iam.kubesphere.io/category"
	// AnnotationDependencies is a JSON list of RoleTemplate names that
	// this one needs.
	AnnotationDependencies = "iam.kubesphere.io/dependencies"
	// AnnotationRoleTemplateRules is a JSON object of rule names to
	// levels, e.g. {"credentials": "view"}.
	AnnotationRoleTemplateRules = "iam.kubesphere.io/role-template-rules"
)

// Scopes are the values LabelScope may take.
var Scopes = []string{"global", "workspace", "cluster", "namespace"}

// AddToScheme registers RoleTemplate and its list, and the meta types their
// API calls use, in a scheme.
func AddToScheme(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion, &RoleTemplate{}, &RoleTemplateList{})
	metav1.AddToGroupVersion(s, GroupVersion)
	return nil
}

// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster

// RoleTemplate is a named set of permissions an extension adds.
type RoleTemplate struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +optional
	Spec RoleTemplateSpec `json:"spec,omitzero"`
}

// RoleTemplateSpec is the template's localised texts and its rules.
type RoleTemplateSpec struct {
	// DisplayName and Description map a language code to text.
	// +optional
	DisplayName map[string]string `json:"displayName,omitempty"`
	// +optional
	Description map[string]string   `json:"description,omitempty"`
	Rules       []rbacv1.PolicyRule `json:"rules"`
}

// +kubebuilder:object:root=true

// RoleTemplateList is a list of RoleTemplates.
type RoleTemplateList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []RoleTemplate `json:"items"`
}
