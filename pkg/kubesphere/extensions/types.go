// Package extensions holds our own Go types for the kinds an extension's
// chart renders to plug into KubeSphere (group extensions.kubesphere.io,
// version v1alpha1): JSBundle (a console UI bundle), APIService (a
// /kapis/<group>/<version> API), ReverseProxy (a /proxy/... route) and
// ExtensionEntry (console menu entries). All four are cluster-scoped.
//
// KubeSphere's Go modules cannot be downloaded here; these types are
// written from the kinds' documented shape (docs/frontend.md). Fields of
// several KubeSphere releases are accepted, so that strict decoding only
// refuses what no release knows.
//
// +kubebuilder:object:generate=true
// +groupName=extensions.kubesphere.io
// +versionName=v1alpha1
package extensions

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// GroupVersion is extensions.kubesphere.io/v1alpha1.
var GroupVersion = schema.GroupVersion{Group: "extensions.kubesphere.io", Version: "v1alpha1"}

// Kind names, as written in a manifest's kind field.
const (
	KindJSBundle       = "JSBundle"
	KindAPIService     = "APIService"
	KindReverseProxy   = "ReverseProxy"
	KindExtensionEntry = "ExtensionEntry"
)

// Resource names (plurals) of the kinds, as used in API paths.
const (
	ResourceJSBundles        = "jsbundles"
	ResourceAPIServices      = "apiservices"
	ResourceReverseProxies   = "reverseproxies"
	ResourceExtensionEntries = "extensionentries"
)

// States the InstallPlan controller writes to status.state of the kinds
// once the host release is installed.
const (
	StateAvailable = "Available"
	StateDisabled  = "Disabled"
)

// LabelReverseProxyTarget set to "ks-console" on a ReverseProxy hands the
// route to the console instead of ks-apiserver.
const LabelReverseProxyTarget = "kubesphere.io/reverse-proxy-target"

// ProxyPathPrefix is the only request path prefix ks-apiserver hands to
// ReverseProxies; BundlePathPrefix the one it serves JSBundles under.
const (
	ProxyPathPrefix  = "/proxy"
	BundlePathPrefix = "/dist/"
)

// DefaultServicePort is the port of a service Endpoint without one: the
// backend is then reached over HTTPS on it.
const DefaultServicePort = 443

// MethodAny in a ReverseProxy matcher matches every HTTP method.
const MethodAny = "*"

// AddToScheme registers the kinds of this package and their lists, and the
// meta types their API calls use, in a scheme.
func AddToScheme(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion,
		&JSBundle{}, &JSBundleList{},
		&APIService{}, &APIServiceList{},
		&ReverseProxy{}, &ReverseProxyList{},
		&ExtensionEntry{}, &ExtensionEntryList{},
	)
	metav1.AddToGroupVersion(s, GroupVersion)
	return nil
}

// Endpoint is where ks-apiserver sends requests: exactly one of URL or
// Service.
type Endpoint struct {
	// URL is scheme://host[:port][/path].
	// +optional
	URL string `json:"url,omitempty"`
	// Service is an in-cluster Service, reached over HTTPS.
	// +optional
	Service *ServiceReference `json:"service,omitempty"`
	// CABundle is the PEM bundle that verifies the backend's certificate.
	// +optional
	CABundle []byte `json:"caBundle,omitempty"`
	// InsecureSkipVerify skips verifying the backend's certificate.
	// +optional
	InsecureSkipVerify bool `json:"insecureSkipVerify,omitempty"`
}

// ServiceReference names a Service; the request goes to
// https://NAME.NAMESPACE.svc:PORT/PATH.
type ServiceReference struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// +optional
	Path string `json:"path,omitempty"`
	// Port defaults to 443 (DefaultServicePort).
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	// +optional
	Port *int32 `json:"port,omitempty"`
}

// Status is the status shared by the four kinds; JSBundle adds its link.
type Status struct {
	// State is Available, Disabled or empty (not acted on yet).
	// +optional
	State string `json:"state,omitempty"`
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster,categories=extensions
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="State",type=string,JSONPath=".status.state"
// +kubebuilder:printcolumn:name="Link",type=string,JSONPath=".status.link"

// JSBundle is a JavaScript bundle the console loads from status.link.
type JSBundle struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +optional
	Spec JSBundleSpec `json:"spec,omitzero"`
	// +optional
	Status JSBundleStatus `json:"status,omitzero"`
}

// JSBundleSpec says where the bundle's JavaScript is: inline in Raw, or
// from RawFrom.
type JSBundleSpec struct {
	// Raw is the bundle itself.
	// +optional
	Raw []byte `json:"raw,omitempty"`
	// +optional
	RawFrom *JSBundleSource `json:"rawFrom,omitempty"`
}

// JSBundleSource is an Endpoint, or a key of a ConfigMap or Secret.
type JSBundleSource struct {
	Endpoint `json:",inline"`
	// +optional
	ConfigMapKeyRef *KeyRef `json:"configMapKeyRef,omitempty"`
	// +optional
	SecretKeyRef *KeyRef `json:"secretKeyRef,omitempty"`
}

// KeyRef selects a key of a ConfigMap or Secret in a namespace.
type KeyRef struct {
	Name      string `json:"name"`
	Key       string `json:"key"`
	Namespace string `json:"namespace"`
	// +optional
	Optional *bool `json:"optional,omitempty"`
}

// JSBundleStatus adds the served link to the shared status.
type JSBundleStatus struct {
	Status `json:",inline"`
	// Link is the path the console loads the bundle from; KubeSphere sets
	// it to /dist/<extension>/index.js when empty.
	// +optional
	Link string `json:"link,omitempty"`
}

// +kubebuilder:object:root=true

// JSBundleList is a list of JSBundles.
type JSBundleList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []JSBundle `json:"items"`
}

// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster,categories=extensions
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="Group",type=string,JSONPath=".spec.group"
// +kubebuilder:printcolumn:name="Version",type=string,JSONPath=".spec.version"
// +kubebuilder:printcolumn:name="State",type=string,JSONPath=".status.state"

// APIService routes /kapis/<group>/<version> of ks-apiserver to a backend.
// Not Kubernetes' apiregistration.k8s.io APIService.
type APIService struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +optional
	Spec APIServiceSpec `json:"spec,omitzero"`
	// +optional
	Status Status `json:"status,omitzero"`
}

// APIServiceSpec is the API's group and version and its backend.
type APIServiceSpec struct {
	Group    string `json:"group"`
	Version  string `json:"version"`
	Endpoint `json:",inline"`
}

// +kubebuilder:object:root=true

// APIServiceList is a list of APIServices.
type APIServiceList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []APIService `json:"items"`
}

// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster,categories=extensions
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="Method",type=string,JSONPath=".spec.matcher.method"
// +kubebuilder:printcolumn:name="Path",type=string,JSONPath=".spec.matcher.path"
// +kubebuilder:printcolumn:name="State",type=string,JSONPath=".status.state"

// ReverseProxy forwards requests under /proxy that match its matcher to an
// upstream.
type ReverseProxy struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +optional
	Spec ReverseProxySpec `json:"spec,omitzero"`
	// +optional
	Status Status `json:"status,omitzero"`
}

// ReverseProxySpec is which requests are forwarded, where, and how.
type ReverseProxySpec struct {
	Matcher  Matcher  `json:"matcher"`
	Upstream Endpoint `json:"upstream"`
	// +optional
	Directives Directives `json:"directives,omitzero"`
}

// Matcher selects requests: Method ("*" for any) and Path (a trailing "*"
// makes it a prefix).
type Matcher struct {
	Path   string `json:"path"`
	Method string `json:"method"`
}

// Directives change the request on its way up and the response on its way
// down. Fields of KubeSphere 4.0 to 4.2 are all accepted.
type Directives struct {
	// +optional
	Method string `json:"method,omitempty"`
	// +optional
	StripPathPrefix string `json:"stripPathPrefix,omitempty"`
	// +optional
	StripPathSuffix string `json:"stripPathSuffix,omitempty"`
	// HeaderUp sets ("Name value"), adds (+), deletes (-) or replaces
	// request headers.
	// +optional
	HeaderUp []string `json:"headerUp,omitempty"`
	// HeaderDown does the same for response headers.
	// +optional
	HeaderDown []string `json:"headerDown,omitempty"`
	// +optional
	RejectForwardingRedirects bool `json:"rejectForwardingRedirects,omitempty"`
	// +optional
	WrapTransport bool `json:"wrapTransport,omitempty"`
	// +optional
	AuthProxy bool `json:"authProxy,omitempty"`
	// +optional
	Rewrite []string `json:"rewrite,omitempty"`
	// +optional
	Replace []string `json:"replace,omitempty"`
	// +optional
	PathRegexp []string `json:"pathRegexp,omitempty"`
	// URISubstring, ChangeOrigin and InterceptRedirects are 4.0 spellings.
	// +optional
	URISubstring []string `json:"uriSubstring,omitempty"`
	// +optional
	ChangeOrigin bool `json:"changeOrigin,omitempty"`
	// +optional
	InterceptRedirects bool `json:"interceptRedirects,omitempty"`
}

// +kubebuilder:object:root=true

// ReverseProxyList is a list of ReverseProxies.
type ReverseProxyList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ReverseProxy `json:"items"`
}

// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster,categories=extensions
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="State",type=string,JSONPath=".status.state"

// ExtensionEntry adds entries (menus, links) to the console.
type ExtensionEntry struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +optional
	Spec ExtensionEntrySpec `json:"spec,omitzero"`
	// +optional
	Status Status `json:"status,omitzero"`
}

// ExtensionEntrySpec holds free-form entries; each needs a string "name",
// and names and links are unique cluster-wide.
type ExtensionEntrySpec struct {
	// +kubebuilder:pruning:PreserveUnknownFields
	// +optional
	Entries []runtime.RawExtension `json:"entries,omitempty"`
}

// +kubebuilder:object:root=true

// ExtensionEntryList is a list of ExtensionEntries.
type ExtensionEntryList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ExtensionEntry `json:"items"`
}
