// Package kubesphere holds our own Go types for KubeSphere's extension API
// (group kubesphere.io, version v1alpha1): Extension, ExtensionVersion,
// InstallPlan, Category and Repository, with the JSON names KubeSphere uses,
// plus the labels, annotations, states and naming rules of its controllers.
//
// KubeSphere's own Go modules cannot be downloaded here, so these types are
// written from the API's documented shape. Every status field is optional:
// older servers lack some of them. The CRDs in testdata/crds are generated
// from these types ("make generate").
//
// +kubebuilder:object:generate=true
// +groupName=kubesphere.io
// +versionName=v1alpha1
package kubesphere
