package doctor

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/version"
	"k8s.io/client-go/discovery"
	appsv1client "k8s.io/client-go/kubernetes/typed/apps/v1"
	authzv1client "k8s.io/client-go/kubernetes/typed/authorization/v1"
	coordinationv1client "k8s.io/client-go/kubernetes/typed/coordination/v1"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/ksbuilder/ksbuilder/pkg/cluster"
)

// connection is the cluster the kubeconfig selects, with the typed clients
// of the groups the checks read (not client-go's whole clientset).
type connection struct {
	server  string
	context string

	disc  discovery.DiscoveryInterface
	core  corev1client.CoreV1Interface
	apps  appsv1client.AppsV1Interface
	authz authzv1client.AuthorizationV1Interface
	coord coordinationv1client.CoordinationV1Interface
	ks    *cluster.Client
}

// connect loads the kubeconfig as kubectl does and builds the clients; the
// Check is the kubeconfig check's result. It contacts no server.
func connect(opts Options) (*connection, Check) {
	fixFlags := "pass --kubeconfig FILE, set KUBECONFIG, or create ~/.kube/config"
	if missing := missingFiles(opts.Kubeconfig); len(missing) > 0 {
		return nil, Check{Status: Fail, Message: fmt.Sprintf("kubeconfig %s does not exist", strings.Join(missing, ", ")), Fix: fixFlags}
	}
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = opts.Kubeconfig
	loader := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: opts.Context})
	raw, err := loader.RawConfig()
	if err != nil {
		return nil, Check{Status: Fail, Message: "cannot read the kubeconfig: " + err.Error(), Fix: "repair the file (kubectl config view shows what is wrong)"}
	}
	ctxName := raw.CurrentContext
	if opts.Context != "" {
		ctxName = opts.Context
	}
	if ctxName != "" && raw.Contexts[ctxName] == nil && len(raw.Contexts) > 0 {
		names := make([]string, 0, len(raw.Contexts))
		for n := range raw.Contexts {
			names = append(names, n)
		}
		slices.Sort(names)
		return nil, Check{Status: Fail, Message: fmt.Sprintf("context %q not found (contexts: %s)", ctxName, strings.Join(names, ", ")),
			Fix: "pick one with --context NAME, or kubectl config use-context NAME"}
	}
	cfg, err := loader.ClientConfig()
	if err != nil {
		if clientcmd.IsEmptyConfig(err) {
			return nil, Check{Status: Fail, Message: "no cluster is configured", Fix: fixFlags}
		}
		return nil, Check{Status: Fail, Message: "the kubeconfig is unusable: " + err.Error(), Fix: "repair the context (kubectl config view shows it)"}
	}
	c, err := newConnection(cfg, opts.Timeout)
	if err != nil {
		return nil, Check{Status: Fail, Message: err.Error()}
	}
	c.context = ctxName
	msg := "server " + c.server
	if ctxName != "" {
		msg = fmt.Sprintf("context %s, server %s", ctxName, c.server)
	}
	if user := raw.Contexts[ctxName]; user != nil && raw.AuthInfos[user.AuthInfo] != nil && raw.AuthInfos[user.AuthInfo].Impersonate != "" {
		msg += ", acting as " + raw.AuthInfos[user.AuthInfo].Impersonate
	}
	return c, Check{Status: OK, Message: msg}
}

// missingFiles lists the kubeconfig files that are named but missing: the
// explicit one, or every one of $KUBECONFIG's when none exists.
func missingFiles(explicit string) []string {
	if explicit != "" {
		if _, err := os.Stat(explicit); errors.Is(err, fs.ErrNotExist) {
			return []string{explicit}
		}
		return nil
	}
	var missing []string
	for _, p := range filepath.SplitList(os.Getenv(clientcmd.RecommendedConfigPathEnvVar)) {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		missing = append(missing, p)
	}
	return missing
}

// The client-side rate limit of each client: enough for every request of
// one run at once.
const (
	clientQPS   = 50
	clientBurst = 50
)

func newConnection(cfg *rest.Config, timeout time.Duration) (*connection, error) {
	cfg = rest.CopyConfig(cfg)
	// Discovery calls take no context: the request timeout bounds them.
	cfg.Timeout = timeout
	// doctor sends a fixed handful of requests, the access reviews all at
	// once: client-go's default limit (5/s, burst 10) held the last two
	// back by 200 ms each, most of doctor's time.
	cfg.QPS, cfg.Burst = clientQPS, clientBurst
	if cfg.UserAgent == "" {
		cfg.UserAgent = "ksbuilder-doctor"
	}
	disc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, err
	}
	core, err := corev1client.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	apps, err := appsv1client.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	authz, err := authzv1client.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	coord, err := coordinationv1client.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	ks, err := cluster.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	return &connection{server: cfg.Host, disc: disc, core: core, apps: apps, authz: authz, coord: coord, ks: ks}, nil
}

// serverInfo is what the API server says about itself.
type serverInfo struct {
	version *version.Info
}

// serverInfo asks the API server for its version: the reachability probe
// every cluster check waits for.
func (c *connection) serverInfo(ctx context.Context) (*serverInfo, error) {
	data, err := c.disc.RESTClient().Get().AbsPath("/version").DoRaw(ctx)
	if err != nil {
		return nil, err
	}
	info, err := parseVersion(data)
	if err != nil {
		return nil, err
	}
	return &serverInfo{version: info}, nil
}
