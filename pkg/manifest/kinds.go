package manifest

import (
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Resource is what RBAC rules name for a kind: its API group and plural
// resource, and whether objects of the kind live in a namespace.
type Resource struct {
	Group      string
	Resource   string
	Namespaced bool
}

// kindResource is one entry of the table of well-known kinds.
type kindResource struct {
	group, kind, resource string
	namespaced            bool
}

// knownKinds lists the kinds of Kubernetes and KubeSphere that charts
// commonly render, with their resources and scopes. Kept as a slice of
// constants so it costs nothing at start-up.
var knownKinds = []kindResource{
	// core
	{"", "Pod", "pods", true},
	{"", "Service", "services", true},
	{"", "ConfigMap", "configmaps", true},
	{"", "Secret", "secrets", true},
	{"", "ServiceAccount", "serviceaccounts", true},
	{"", "PersistentVolumeClaim", "persistentvolumeclaims", true},
	{"", "Endpoints", "endpoints", true},
	{"", "LimitRange", "limitranges", true},
	{"", "ResourceQuota", "resourcequotas", true},
	{"", "ReplicationController", "replicationcontrollers", true},
	{"", "PodTemplate", "podtemplates", true},
	{"", "Event", "events", true},
	{"", "Namespace", "namespaces", false},
	{"", "PersistentVolume", "persistentvolumes", false},
	{"", "Node", "nodes", false},
	// apps, batch, autoscaling, policy
	{"apps", "Deployment", "deployments", true},
	{"apps", "StatefulSet", "statefulsets", true},
	{"apps", "DaemonSet", "daemonsets", true},
	{"apps", "ReplicaSet", "replicasets", true},
	{"apps", "ControllerRevision", "controllerrevisions", true},
	{"batch", "Job", "jobs", true},
	{"batch", "CronJob", "cronjobs", true},
	{"autoscaling", "HorizontalPodAutoscaler", "horizontalpodautoscalers", true},
	{"policy", "PodDisruptionBudget", "poddisruptionbudgets", true},
	{"policy", "PodSecurityPolicy", "podsecuritypolicies", false},
	// networking
	{"networking.k8s.io", "Ingress", "ingresses", true},
	{"networking.k8s.io", "NetworkPolicy", "networkpolicies", true},
	{"networking.k8s.io", "IngressClass", "ingressclasses", false},
	{"discovery.k8s.io", "EndpointSlice", "endpointslices", true},
	{"coordination.k8s.io", "Lease", "leases", true},
	// RBAC
	{"rbac.authorization.k8s.io", "Role", "roles", true},
	{"rbac.authorization.k8s.io", "RoleBinding", "rolebindings", true},
	{"rbac.authorization.k8s.io", "ClusterRole", "clusterroles", false},
	{"rbac.authorization.k8s.io", "ClusterRoleBinding", "clusterrolebindings", false},
	// API extension and admission
	{"apiextensions.k8s.io", "CustomResourceDefinition", "customresourcedefinitions", false},
	{"apiregistration.k8s.io", "APIService", "apiservices", false},
	{"admissionregistration.k8s.io", "MutatingWebhookConfiguration", "mutatingwebhookconfigurations", false},
	{"admissionregistration.k8s.io", "ValidatingWebhookConfiguration", "validatingwebhookconfigurations", false},
	{"admissionregistration.k8s.io", "ValidatingAdmissionPolicy", "validatingadmissionpolicies", false},
	{"admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding", "validatingadmissionpolicybindings", false},
	// storage, scheduling, nodes, certificates, flow control
	{"storage.k8s.io", "StorageClass", "storageclasses", false},
	{"storage.k8s.io", "CSIDriver", "csidrivers", false},
	{"storage.k8s.io", "VolumeAttachment", "volumeattachments", false},
	{"storage.k8s.io", "CSIStorageCapacity", "csistoragecapacities", true},
	{"scheduling.k8s.io", "PriorityClass", "priorityclasses", false},
	{"node.k8s.io", "RuntimeClass", "runtimeclasses", false},
	{"certificates.k8s.io", "CertificateSigningRequest", "certificatesigningrequests", false},
	{"flowcontrol.apiserver.k8s.io", "FlowSchema", "flowschemas", false},
	{"flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration", "prioritylevelconfigurations", false},
	// Prometheus Operator, common in extensions
	{"monitoring.coreos.com", "ServiceMonitor", "servicemonitors", true},
	{"monitoring.coreos.com", "PodMonitor", "podmonitors", true},
	{"monitoring.coreos.com", "PrometheusRule", "prometheusrules", true},
	// KubeSphere
	{"extensions.kubesphere.io", "JSBundle", "jsbundles", false},
	{"extensions.kubesphere.io", "APIService", "apiservices", false},
	{"extensions.kubesphere.io", "ReverseProxy", "reverseproxies", false},
	{"extensions.kubesphere.io", "ExtensionEntry", "extensionentries", false},
	{"kubesphere.io", "Extension", "extensions", false},
	{"kubesphere.io", "ExtensionVersion", "extensionversions", false},
	{"kubesphere.io", "InstallPlan", "installplans", false},
	{"kubesphere.io", "Category", "categories", false},
	{"kubesphere.io", "Repository", "repositories", false},
	{"application.kubesphere.io", "Application", "applications", false},
	{"application.kubesphere.io", "ApplicationVersion", "applicationversions", false},
}

// LookupKind returns the resource of a well-known kind in an API group ("" is
// the core group).
func LookupKind(group, kind string) (Resource, bool) {
	for _, k := range knownKinds {
		if k.group == group && k.kind == kind {
			return Resource{Group: k.group, Resource: k.resource, Namespaced: k.namespaced}, true
		}
	}
	return Resource{}, false
}

// GuessResource returns the plural resource Kubernetes would most likely use
// for a kind it does not know ("Widget" -> "widgets", "Policy" ->
// "policies").
func GuessResource(group, kind string) string {
	plural, _ := meta.UnsafeGuessKindToResource(schema.GroupVersionKind{Group: group, Kind: kind})
	return strings.ToLower(plural.Resource)
}

// CRDResource reads a CustomResourceDefinition object and returns the kind
// it defines with its resource. ok is false when the object is not a CRD or
// lacks the fields.
func CRDResource(o Object) (kind string, r Resource, ok bool) {
	if o.Kind != "CustomResourceDefinition" || o.Group() != "apiextensions.k8s.io" {
		return "", Resource{}, false
	}
	spec := mapAt(o.Content, "spec")
	names := mapAt(o.Content, "spec", "names")
	group, _ := spec["group"].(string)
	scope, _ := spec["scope"].(string)
	kind, _ = names["kind"].(string)
	plural, _ := names["plural"].(string)
	if group == "" || kind == "" || plural == "" {
		return "", Resource{}, false
	}
	return kind, Resource{Group: group, Resource: plural, Namespaced: scope != "Cluster"}, true
}

// LookupResource finds the well-known kind whose plural resource is name,
// in any group ("customresourcedefinitions" -> apiextensions.k8s.io).
func LookupResource(name string) (Resource, bool) {
	for _, k := range knownKinds {
		if k.resource == name {
			return Resource{Group: k.group, Resource: k.resource, Namespaced: k.namespaced}, true
		}
	}
	return Resource{}, false
}
