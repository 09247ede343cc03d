// Package cluster publishes extensions to a KubeSphere cluster and
// test-installs them through InstallPlans, the way KubeSphere's console
// does, with the checks and diagnostics the console leaves out. It talks to
// the API server with client-go only (no controller-runtime), which keeps
// the CLI's start-up cheap.
//
// Publish, Install, Uninstall, Unpublish and Status are the workflows of the
// commands of those names (one call each, reporting through a Progress);
// the Client methods are their steps.
package cluster

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"
	appsv1client "k8s.io/client-go/kubernetes/typed/apps/v1"
	batchv1client "k8s.io/client-go/kubernetes/typed/batch/v1"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/ksbuilder/ksbuilder/pkg/kubesphere"
	"github.com/ksbuilder/ksbuilder/pkg/kubesphere/extensions"
	"github.com/ksbuilder/ksbuilder/pkg/kubesphere/multicluster"
)

// FieldManager is the name ksbuilder's writes are recorded under.
const FieldManager = "ksbuilder"

// requestTimeout bounds every API call except watches.
const requestTimeout = 60 * time.Second

// ConnectOptions select the cluster with kubectl's rules: --kubeconfig, else
// $KUBECONFIG, else ~/.kube/config, else the in-cluster service account.
type ConnectOptions struct {
	Kubeconfig string
	Context    string
}

// Client talks to one cluster.
type Client struct {
	// Server is the API server's URL.
	Server string
	// Context is the kubeconfig context in use; empty in-cluster.
	Context string

	opts   ConnectOptions
	config *rest.Config
	core   coreAPI
	ks     rest.Interface // kubesphere.io/v1alpha1
	ext    rest.Interface // extensions.kubesphere.io/v1alpha1
	mc     rest.Interface // cluster.kubesphere.io/v1alpha1
	watch  rest.Interface // kubesphere.io/v1alpha1 without a request timeout
	params runtime.ParameterCodec
	// controller is KubeSphere's controller Deployment.
	controller types.NamespacedName

	checkOnce sync.Once
	checkErr  error

	// charts are the charts last loaded from archives.
	charts chartArchives
	// stable are the answers kept for a session (KeepStableReads).
	stable stableReads
}

// ErrNoConfig is returned by Connect when no kubeconfig file exists and the
// process does not run in a cluster.
var ErrNoConfig = errors.New("no cluster is configured")

// KubeconfigNotFoundError is a kubeconfig file that was asked for but does
// not exist.
type KubeconfigNotFoundError struct {
	// Paths are the missing files.
	Paths []string
	// FromEnv is true when the paths come from $KUBECONFIG, false when
	// ConnectOptions.Kubeconfig named the file.
	FromEnv bool
}

func (e *KubeconfigNotFoundError) Error() string {
	if e.FromEnv {
		return fmt.Sprintf("KUBECONFIG=%s: no such file", strings.Join(e.Paths, string(filepath.ListSeparator)))
	}
	return fmt.Sprintf("kubeconfig file %s does not exist", strings.Join(e.Paths, ", "))
}

// ContextNotFoundError is a kubeconfig context that does not exist.
type ContextNotFoundError struct {
	Name string
	// Known are the kubeconfig's contexts.
	Known []string
	// Explicit is true when ConnectOptions.Context named it, false when it
	// is the kubeconfig's current context.
	Explicit bool
}

func (e *ContextNotFoundError) Error() string {
	what := "the current context"
	if e.Explicit {
		what = "context"
	}
	return fmt.Sprintf("%s %q is not in the kubeconfig (contexts: %s)", what, e.Name, strings.Join(e.Known, ", "))
}

// KubeconfigError is a kubeconfig that cannot be used; its message is one
// line, with client-go's list of problems joined.
type KubeconfigError struct {
	Err error
}

func (e *KubeconfigError) Error() string {
	msg := strings.TrimPrefix(oneLine(e.Err), "invalid configuration: ")
	msg = strings.TrimSuffix(strings.TrimPrefix(msg, "["), "]")
	return "the kubeconfig is unusable: " + msg + " (kubectl config view shows it)"
}

func (e *KubeconfigError) Unwrap() error { return e.Err }

// missingKubeconfig checks the files a kubeconfig is read from: the
// explicit file must exist, and so must one of $KUBECONFIG's (kubectl
// skips the missing ones, but when none exists it falls back to another
// cluster than the one asked for).
func missingKubeconfig(explicit string) error {
	if explicit != "" {
		if _, err := os.Stat(explicit); errors.Is(err, fs.ErrNotExist) {
			return &KubeconfigNotFoundError{Paths: []string{explicit}}
		}
		return nil
	}
	var paths []string
	for _, p := range filepath.SplitList(os.Getenv(clientcmd.RecommendedConfigPathEnvVar)) {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		paths = append(paths, p)
	}
	if len(paths) > 0 {
		return &KubeconfigNotFoundError{Paths: paths, FromEnv: true}
	}
	return nil
}

// Connect loads the connection settings and returns a client. It does not
// contact the server. A kubeconfig file that is named (in opts or in
// $KUBECONFIG) but missing is a *KubeconfigNotFoundError; no configuration
// at all is ErrNoConfig.
func Connect(opts ConnectOptions) (*Client, error) {
	if err := missingKubeconfig(opts.Kubeconfig); err != nil {
		return nil, err
	}
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = opts.Kubeconfig
	loader := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: opts.Context})
	if raw, err := loader.RawConfig(); err == nil {
		name := raw.CurrentContext
		if opts.Context != "" {
			name = opts.Context
		}
		if name != "" && raw.Contexts[name] == nil && len(raw.Contexts) > 0 {
			known := make([]string, 0, len(raw.Contexts))
			for n := range raw.Contexts {
				known = append(known, n)
			}
			sort.Strings(known)
			return nil, &ContextNotFoundError{Name: name, Known: known, Explicit: opts.Context != ""}
		}
	}
	cfg, err := loader.ClientConfig()
	if err != nil {
		if clientcmd.IsEmptyConfig(err) {
			return nil, ErrNoConfig
		}
		return nil, &KubeconfigError{Err: err}
	}
	c, err := NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	c.opts = opts
	if raw, err := loader.RawConfig(); err == nil {
		c.Context = raw.CurrentContext
		if opts.Context != "" {
			c.Context = opts.Context
		}
	}
	return c, nil
}

// NewForConfig returns a client for a REST config.
func NewForConfig(cfg *rest.Config) (*Client, error) {
	cfg = rest.CopyConfig(cfg)
	if cfg.UserAgent == "" {
		cfg.UserAgent = "ksbuilder"
	}
	scheme := runtime.NewScheme()
	if err := kubesphere.AddToScheme(scheme); err != nil {
		return nil, err
	}
	if err := multicluster.AddToScheme(scheme); err != nil {
		return nil, err
	}
	if err := extensions.AddToScheme(scheme); err != nil {
		return nil, err
	}
	watchCfg := rest.CopyConfig(cfg)
	cfg.Timeout = requestTimeout
	core, err := newCoreClients(cfg)
	if err != nil {
		return nil, err
	}
	ks, err := groupClient(cfg, kubesphere.GroupVersion, scheme)
	if err != nil {
		return nil, err
	}
	mc, err := groupClient(cfg, multicluster.GroupVersion, scheme)
	if err != nil {
		return nil, err
	}
	ext, err := groupClient(cfg, extensions.GroupVersion, scheme)
	if err != nil {
		return nil, err
	}
	watch, err := groupClient(watchCfg, kubesphere.GroupVersion, scheme)
	if err != nil {
		return nil, err
	}
	return &Client{
		Server: cfg.Host, config: watchCfg, core: core, ks: ks, ext: ext, mc: mc, watch: watch,
		params: runtime.NewParameterCodec(scheme), controller: ControllerDeployment,
	}, nil
}

// coreAPI is the part of Kubernetes' own API the client uses. client-go's
// fake clientset implements it for tests.
type coreAPI interface {
	CoreV1() corev1client.CoreV1Interface
	AppsV1() appsv1client.AppsV1Interface
	BatchV1() batchv1client.BatchV1Interface
	Discovery() discovery.DiscoveryInterfaces
}

// coreClients implements coreAPI with the typed clients of these groups
// only, not client-go's whole clientset, which would double the binary.
type coreClients struct {
	core      *corev1client.CoreV1Client
	apps      *appsv1client.AppsV1Client
	batch     *batchv1client.BatchV1Client
	discovery *discovery.DiscoveryClient
}

func newCoreClients(cfg *rest.Config) (*coreClients, error) {
	core, err := corev1client.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	apps, err := appsv1client.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	batch, err := batchv1client.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	disc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, err
	}
	return &coreClients{core: core, apps: apps, batch: batch, discovery: disc}, nil
}

func (c *coreClients) CoreV1() corev1client.CoreV1Interface     { return c.core }
func (c *coreClients) AppsV1() appsv1client.AppsV1Interface     { return c.apps }
func (c *coreClients) BatchV1() batchv1client.BatchV1Interface  { return c.batch }
func (c *coreClients) Discovery() discovery.DiscoveryInterfaces { return c.discovery }

func groupClient(cfg *rest.Config, gv schema.GroupVersion, scheme *runtime.Scheme) (*rest.RESTClient, error) {
	cfg = rest.CopyConfig(cfg)
	cfg.GroupVersion = &gv
	cfg.APIPath = "/apis"
	cfg.ContentType = runtime.ContentTypeJSON
	cfg.NegotiatedSerializer = serializer.NewCodecFactory(scheme).WithoutConversion()
	return rest.RESTClientFor(cfg)
}

// RESTConfig returns a copy of the client's connection settings, without
// a request timeout, for packages that talk to other APIs of the cluster.
func (c *Client) RESTConfig() *rest.Config { return rest.CopyConfig(c.config) }

// KubectlFlags returns the kubectl flags that select the same cluster, for
// commands printed in hints.
func (c *Client) KubectlFlags() string {
	var b strings.Builder
	if c.opts.Kubeconfig != "" {
		b.WriteString(" --kubeconfig " + c.opts.Kubeconfig)
	}
	if c.opts.Context != "" {
		b.WriteString(" --context " + c.opts.Context)
	}
	return b.String()
}

// requireKubeSphere checks once that the server answers and serves the
// KubeSphere extension API.
func (c *Client) requireKubeSphere(ctx context.Context) error {
	c.checkOnce.Do(func() {
		err := c.core.Discovery().RESTClient().Get().AbsPath("/apis", kubesphere.GroupVersion.Group, kubesphere.GroupVersion.Version).Do(ctx).Error()
		switch {
		case apierrors.IsNotFound(err):
			c.checkErr = fmt.Errorf("%s does not serve the KubeSphere extension API (%s): is KubeSphere 4.x installed on this cluster?", c.describe(), kubesphere.GroupVersion)
		case err != nil:
			c.checkErr = c.explain(err)
		}
	})
	return c.checkErr
}

// describe names the cluster in messages: "the cluster at URL (context X)".
func (c *Client) describe() string {
	s := "the cluster at " + c.Server
	if c.Context != "" {
		s += " (context " + c.Context + ")"
	}
	return s
}

// explain turns transport errors into a sentence naming the server; API
// errors are returned unchanged.
func (c *Client) explain(err error) error {
	if err == nil {
		return nil
	}
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		if apierrors.IsUnauthorized(err) {
			return fmt.Errorf("%s rejected the credentials: %w", c.describe(), err)
		}
		return err
	}
	var urlErr *url.Error
	var netErr net.Error
	if errors.As(err, &urlErr) || errors.As(err, &netErr) {
		return fmt.Errorf("cannot reach the Kubernetes API server: %s: %w", c.describe(), err)
	}
	return err
}

// The generic calls on kubesphere.io/v1alpha1 resources.

func (c *Client) get(ctx context.Context, resource, name string, into runtime.Object) error {
	return c.explain(c.ks.Get().Resource(resource).Name(name).Do(ctx).Into(into))
}

func (c *Client) list(ctx context.Context, resource string, opts metav1.ListOptions, into runtime.Object) error {
	return c.explain(c.ks.Get().Resource(resource).VersionedParams(&opts, c.params).Do(ctx).Into(into))
}

func (c *Client) create(ctx context.Context, resource string, obj, into runtime.Object) error {
	return c.explain(c.ks.Post().Resource(resource).Param("fieldManager", FieldManager).Body(obj).Do(ctx).Into(into))
}

func (c *Client) mergePatch(ctx context.Context, resource, name string, patch []byte, into runtime.Object) error {
	return c.explain(c.ks.Patch("application/merge-patch+json").Resource(resource).Name(name).
		Param("fieldManager", FieldManager).Body(patch).Do(ctx).Into(into))
}

// apply is a server-side apply that takes over fields other managers own.
func (c *Client) apply(ctx context.Context, resource, name string, obj []byte, into runtime.Object) error {
	return c.explain(c.ks.Patch("application/apply-patch+yaml").Resource(resource).Name(name).
		Param("fieldManager", FieldManager).Param("force", "true").Body(obj).Do(ctx).Into(into))
}

func (c *Client) delete(ctx context.Context, resource, name string) error {
	policy := metav1.DeletePropagationBackground
	opts := metav1.DeleteOptions{PropagationPolicy: &policy}
	return c.explain(c.ks.Delete().Resource(resource).Name(name).Body(&opts).Do(ctx).Error())
}
