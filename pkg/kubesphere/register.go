package kubesphere

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// GroupVersion is kubesphere.io/v1alpha1.
var GroupVersion = schema.GroupVersion{Group: "kubesphere.io", Version: "v1alpha1"}

// Resource names (plurals) of the kinds, as used in API paths.
const (
	ResourceExtensions        = "extensions"
	ResourceExtensionVersions = "extensionversions"
	ResourceInstallPlans      = "installplans"
	ResourceCategories        = "categories"
	ResourceRepositories      = "repositories"
)

// AddToScheme registers the kinds of this package, and the meta types their
// API calls use (list and watch options, watch events), in a scheme.
func AddToScheme(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion,
		&Extension{}, &ExtensionList{},
		&ExtensionVersion{}, &ExtensionVersionList{},
		&InstallPlan{}, &InstallPlanList{},
		&Category{}, &CategoryList{},
		&Repository{}, &RepositoryList{},
	)
	metav1.AddToGroupVersion(s, GroupVersion)
	return nil
}
