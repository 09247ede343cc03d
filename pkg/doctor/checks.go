package doctor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/Masterminds/semver/v3"
	appsv1 "k8s.io/api/apps/v1"
	authzv1 "k8s.io/api/authorization/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/version"

	"github.com/ksbuilder/ksbuilder/pkg/kubesphere"
	"github.com/ksbuilder/ksbuilder/pkg/kubesphere/extensions"
)

// What the checks look for, from KubeSphere's ks-core chart.
const (
	// ControllerDeployment runs KubeSphere's InstallPlan controller.
	ControllerDeployment = "ks-controller-manager"
	// MuseumDeployment serves the built-in extension repository
	// (https://extensions-museum.kubesphere-system.svc/charts).
	MuseumDeployment = "extensions-museum"
	// nodeLeaseNamespace holds the kubelets' heartbeat Leases.
	nodeLeaseNamespace = "kube-node-lease"
	// defaultNodeLeaseDuration is the kubelet's node Lease duration
	// (leaseDurationSeconds 40, renewed every quarter of it).
	defaultNodeLeaseDuration = 40 * time.Second
)

// requiredResources are the KubeSphere kinds publish and install use.
var requiredResources = []string{kubesphere.ResourceInstallPlans, kubesphere.ResourceExtensions, kubesphere.ResourceExtensionVersions}

func (r *run) apiServer(context.Context) Check {
	c, _ := r.conn()
	if c == nil {
		return Check{Status: Skip, Message: errNoConnection.Error()}
	}
	info, err := r.reach()
	if err != nil {
		return unreachable(c, err, r.opts.Timeout)
	}
	msg := fmt.Sprintf("Kubernetes %s at %s", info.version.GitVersion, c.server)
	if r.opts.KubeVersion != "" {
		if why := unsatisfied(r.opts.KubeVersion, info.version.GitVersion); why != "" {
			return Check{Status: Fail, Message: fmt.Sprintf("%s; the extension needs kubeVersion %s: %s", msg, r.opts.KubeVersion, why),
				Fix: "use a cluster with a matching Kubernetes version, or widen kubeVersion in extension.yaml"}
		}
		msg += fmt.Sprintf(" (satisfies kubeVersion %s)", r.opts.KubeVersion)
	}
	return Check{Status: OK, Message: msg}
}

// unreachable explains why the API server did not answer within timeout.
func unreachable(c *connection, err error, timeout time.Duration) Check {
	var urlErr *url.Error
	var netErr net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &netErr) && netErr.Timeout():
		return Check{Status: Fail, Message: fmt.Sprintf("the API server %s did not answer within %s", c.server, timeout),
			Fix: "check that the cluster runs and answers (kubectl get --raw /readyz), and the network path to it (VPN, proxy, firewall), or pick another --context"}
	case apierrors.IsUnauthorized(err):
		return Check{Status: Fail, Message: fmt.Sprintf("%s rejected the credentials: %v", c.server, err),
			Fix: "renew the credentials of the kubeconfig's user (log in to the cluster again)"}
	case errors.As(err, &urlErr) || errors.As(err, &netErr) || errors.Is(err, context.DeadlineExceeded):
		return Check{Status: Fail, Message: fmt.Sprintf("cannot reach the API server %s: %v", c.server, err),
			Fix: "check that the cluster runs and the server address is reachable (VPN, proxy, firewall), or pick another --context"}
	}
	return Check{Status: Fail, Message: fmt.Sprintf("the API server %s did not answer /version: %v", c.server, err),
		Fix: "check that the server URL points at a Kubernetes API server"}
}

// parseVersion decodes the body of /version.
func parseVersion(data []byte) (*version.Info, error) {
	var info version.Info
	if err := json.Unmarshal(data, &info); err != nil {
		return nil, fmt.Errorf("unexpected /version answer: %w", err)
	}
	return &info, nil
}

func checkCRDs(_ context.Context, c *connection) Check {
	fix := "install KubeSphere 4.x (ks-core) on this cluster, or pick the cluster that runs it with --context"
	groups, err := c.disc.ServerGroups()
	if err != nil {
		return Check{Status: Fail, Message: "cannot list the served API groups: " + err.Error(), Fix: "check the API server's health (kubectl get --raw /readyz)"}
	}
	var served []string
	for _, g := range groups.Groups {
		if g.Name == kubesphere.GroupVersion.Group {
			for _, v := range g.Versions {
				served = append(served, v.Version)
			}
		}
	}
	if len(served) == 0 {
		return Check{Status: Fail, Message: fmt.Sprintf("the API group %s is not served: KubeSphere's CRDs (InstallPlan, Extension, ExtensionVersion) are missing", kubesphere.GroupVersion.Group), Fix: fix}
	}
	if !slices.Contains(served, kubesphere.GroupVersion.Version) {
		return Check{Status: Fail, Message: fmt.Sprintf("%s serves %s, not %s", kubesphere.GroupVersion.Group, strings.Join(served, ", "), kubesphere.GroupVersion.Version),
			Fix: "ksbuilder needs KubeSphere 4.1 or later; upgrade KubeSphere"}
	}
	list, err := c.disc.ServerResourcesForGroupVersion(kubesphere.GroupVersion.String())
	if err != nil {
		return Check{Status: Fail, Message: fmt.Sprintf("cannot list the resources of %s: %v", kubesphere.GroupVersion, err), Fix: fix}
	}
	var missing []string
	for _, want := range requiredResources {
		if !slices.ContainsFunc(list.APIResources, func(r metav1.APIResource) bool { return r.Name == want }) {
			missing = append(missing, want+"."+kubesphere.GroupVersion.Group)
		}
	}
	if len(missing) > 0 {
		return Check{Status: Fail, Message: fmt.Sprintf("CRDs missing from %s: %s", kubesphere.GroupVersion, strings.Join(missing, ", ")), Fix: fix}
	}
	return Check{Status: OK, Message: fmt.Sprintf("InstallPlan, Extension and ExtensionVersion served (%s versions: %s)", kubesphere.GroupVersion.Group, strings.Join(served, ", "))}
}

func (r *run) checkKubeSphereVersion(ctx context.Context, c *connection) Check {
	v, err := c.ks.KubeSphereVersion(ctx)
	switch {
	case err != nil:
		return Check{Status: Warn, Message: "cannot read the host Cluster object: " + err.Error(), Fix: "check your permission to list clusters.cluster.kubesphere.io"}
	case v == "":
		msg := "the host Cluster object (cluster.kubesphere.io) reports no KubeSphere version"
		if r.opts.KSVersion != "" {
			msg += fmt.Sprintf("; install cannot check ksVersion %s", r.opts.KSVersion)
		}
		return Check{Status: Warn, Message: msg, Fix: "check that KubeSphere 4.x is fully installed (kubectl get clusters.cluster.kubesphere.io)"}
	}
	msg := "KubeSphere " + v
	if r.opts.KSVersion != "" {
		if why := unsatisfied(r.opts.KSVersion, v); why != "" {
			return Check{Status: Fail, Message: fmt.Sprintf("%s; the extension needs ksVersion %s: %s", msg, r.opts.KSVersion, why),
				Fix: "use a cluster with a matching KubeSphere version, or widen ksVersion in extension.yaml"}
		}
		msg += fmt.Sprintf(" (satisfies ksVersion %s)", r.opts.KSVersion)
	}
	return Check{Status: OK, Message: msg}
}

// unsatisfied checks a version against a semver constraint and says why it
// does not match, or "".
func unsatisfied(constraint, v string) string {
	cons, err := semver.NewConstraint(constraint)
	if err != nil {
		return fmt.Sprintf("the constraint is invalid: %v", err)
	}
	ver, err := semver.NewVersion(v)
	if err != nil {
		return fmt.Sprintf("%q is not a semantic version", v)
	}
	if cons.Check(ver) {
		return ""
	}
	if ver.Prerelease() != "" && !strings.Contains(constraint, "-") {
		return fmt.Sprintf("%s does not satisfy it (a pre-release only matches constraints ending in -0, such as \">=1.0.0-0\")", v)
	}
	return v + " does not satisfy it"
}

func checkController(ctx context.Context, c *connection) Check {
	describe := fmt.Sprintf("kubectl -n %s describe deployment %s", kubesphere.SystemNamespace, ControllerDeployment)
	d, err := c.apps.Deployments(kubesphere.SystemNamespace).Get(ctx, ControllerDeployment, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return Check{Status: Fail, Message: fmt.Sprintf("deployment %s/%s not found: nothing will act on InstallPlans", kubesphere.SystemNamespace, ControllerDeployment),
			Fix: "install or repair KubeSphere (ks-core); install waits for a controller that does not exist"}
	case apierrors.IsForbidden(err):
		return Check{Status: Warn, Message: "not allowed to read deployment " + ControllerDeployment, Fix: "ask for read access to deployments in " + kubesphere.SystemNamespace}
	case err != nil:
		return Check{Status: Warn, Message: "cannot read deployment " + ControllerDeployment + ": " + err.Error()}
	}
	msg, ok := available(d)
	if !ok {
		return Check{Status: Fail, Message: fmt.Sprintf("deployment %s is not available: %s; InstallPlans will not move", ControllerDeployment, msg), Fix: "see why: " + describe}
	}
	return Check{Status: OK, Message: fmt.Sprintf("deployment %s: %s", ControllerDeployment, msg)}
}

func checkMuseum(ctx context.Context, c *connection) Check {
	d, err := c.apps.Deployments(kubesphere.SystemNamespace).Get(ctx, MuseumDeployment, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return Check{Status: Warn, Message: fmt.Sprintf("deployment %s/%s not found: the built-in extension repository is unavailable (publish and install do not need it)", kubesphere.SystemNamespace, MuseumDeployment),
			Fix: "enable the extensions museum in ks-core's values if you install extensions from it"}
	case apierrors.IsForbidden(err):
		return Check{Status: Warn, Message: "not allowed to read deployment " + MuseumDeployment, Fix: "ask for read access to deployments in " + kubesphere.SystemNamespace}
	case err != nil:
		return Check{Status: Warn, Message: "cannot read deployment " + MuseumDeployment + ": " + err.Error()}
	}
	msg, ok := available(d)
	if !ok {
		return Check{Status: Warn, Message: fmt.Sprintf("deployment %s is not available: %s; the built-in repository's extensions cannot be installed", MuseumDeployment, msg),
			Fix: fmt.Sprintf("see why: kubectl -n %s describe deployment %s", kubesphere.SystemNamespace, MuseumDeployment)}
	}
	return Check{Status: OK, Message: fmt.Sprintf("deployment %s: %s", MuseumDeployment, msg)}
}

// available reads a Deployment's Available condition and replica counts.
func available(d *appsv1.Deployment) (string, bool) {
	want := int32(1)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	counts := fmt.Sprintf("%d/%d replicas available", d.Status.AvailableReplicas, want)
	for _, cond := range d.Status.Conditions {
		if cond.Type == appsv1.DeploymentAvailable && cond.Status != corev1.ConditionTrue {
			return strings.TrimSpace(fmt.Sprintf("%s (%s %s)", counts, cond.Reason, cond.Message)), false
		}
	}
	return counts, d.Status.AvailableReplicas > 0
}

func (r *run) checkClockSkew(ctx context.Context, c *connection) Check {
	nodes, err := c.core.Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		if apierrors.IsForbidden(err) {
			return Check{Status: Warn, Message: "not allowed to list nodes, so their clocks cannot be compared", Fix: "ask for read access to nodes, or check NTP on the nodes yourself"}
		}
		return Check{Status: Warn, Message: "cannot list nodes: " + err.Error()}
	}
	now := r.opts.Now()
	latest := map[string]time.Time{}
	ready := map[string]bool{}
	for _, n := range nodes.Items {
		for _, cond := range n.Status.Conditions {
			if t := cond.LastHeartbeatTime.Time; t.After(latest[n.Name]) {
				latest[n.Name] = t
			}
			if cond.Type == corev1.NodeReady && cond.Status == corev1.ConditionTrue {
				ready[n.Name] = true
			}
		}
	}
	// The kubelet renews its Lease every few seconds; the Node's own
	// heartbeat only every few minutes. Reading them is best effort.
	var behind []string
	leases, leaseErr := c.coord.Leases(nodeLeaseNamespace).List(ctx, metav1.ListOptions{})
	if leaseErr == nil {
		for _, l := range leases.Items {
			if _, ok := latest[l.Name]; !ok || l.Spec.RenewTime == nil {
				continue
			}
			renewed := l.Spec.RenewTime.Time
			if renewed.After(latest[l.Name]) {
				latest[l.Name] = renewed
			}
			if age := now.Sub(renewed); ready[l.Name] && age > leaseDuration(&l)+MaxClockSkew {
				behind = append(behind, fmt.Sprintf("%s renewed %s ago", l.Name, age.Round(time.Second)))
			}
		}
	}
	if len(latest) == 0 {
		return Check{Status: Skip, Message: "no node heartbeats to compare with this machine's clock"}
	}
	var ahead []string
	for name, t := range latest {
		if d := t.Sub(now); d > MaxClockSkew {
			ahead = append(ahead, fmt.Sprintf("%s by %s", name, d.Round(time.Second)))
		}
	}
	slices.Sort(ahead)
	slices.Sort(behind)
	const hang = "KubeSphere drops InstallPlan state changes stamped earlier than the last one, so installs can hang in Installing"
	const ntp = "synchronise the clocks of every node and of this machine with NTP (chrony or systemd-timesyncd)"
	switch {
	case len(ahead) > 0 && len(behind) > 0:
		return Check{Status: Warn,
			Message: fmt.Sprintf("node heartbeats are stamped ahead of this machine's clock (%s), and the Leases of Ready nodes are more than %s past their expiry (%s): the clocks differ, and %s", strings.Join(ahead, ", "), MaxClockSkew, strings.Join(behind, ", "), hang),
			Fix:     ntp}
	case len(ahead) > 0:
		return Check{Status: Warn,
			Message: fmt.Sprintf("node heartbeats are stamped ahead of this machine's clock (%s): the clocks differ, and %s", strings.Join(ahead, ", "), hang),
			Fix:     ntp}
	case len(behind) > 0:
		return Check{Status: Warn,
			Message: fmt.Sprintf("the Leases of Ready nodes are more than %s past their expiry by this machine's clock (%s): either those nodes' clocks are behind this machine's by about that much, or their kubelets stopped renewing and the nodes are not marked NotReady yet; if the clocks differ, %s", MaxClockSkew, strings.Join(behind, ", "), hang),
			Fix:     ntp + "; if they agree, check the kubelet on those nodes (journalctl -u kubelet)"}
	}
	msg := fmt.Sprintf("%d node(s); no heartbeat ahead of this machine's clock by more than %s, no Ready node's Lease more than %s past its expiry", len(latest), MaxClockSkew, MaxClockSkew)
	if leaseErr != nil {
		msg = fmt.Sprintf("%d node(s); no heartbeat ahead of this machine's clock by more than %s (the node Leases, which would show a clock behind, are unreadable: %s)", len(latest), MaxClockSkew, firstLine(leaseErr))
	}
	return Check{Status: OK, Message: msg}
}

// leaseDuration is how long a node Lease stays valid after its renewal:
// its spec, else the kubelet's default.
func leaseDuration(l *coordinationv1.Lease) time.Duration {
	if l.Spec.LeaseDurationSeconds != nil && *l.Spec.LeaseDurationSeconds > 0 {
		return time.Duration(*l.Spec.LeaseDurationSeconds) * time.Second
	}
	return defaultNodeLeaseDuration
}

// Access is one permission of the cluster commands.
type Access struct {
	Verb, Group, Resource string
	// Namespace is where; "" for a cluster-scoped resource, or for every
	// namespace (an extension's target namespace is not known in advance).
	Namespace string
	// Optional permissions only add detail (the executor job's status and
	// logs, the check that KubeSphere's controller runs): without them the
	// commands still work.
	Optional bool
	// ForTest permissions are needed by "test" and "logs" only: reading
	// the releases, workloads, pods, events and logs, and running Helm
	// test hooks (Pods and Jobs) in the extension's namespaces.
	ForTest bool
}

func (a Access) String() string {
	res := a.Resource
	if a.Group != "" {
		res += "." + a.Group
	}
	if a.Namespace != "" {
		return fmt.Sprintf("%s %s in %s", a.Verb, res, a.Namespace)
	}
	return a.Verb + " " + res
}

// ClusterAccess lists every request publish, install, upgrade, status,
// uninstall, unpublish, extension list/versions/show, test and logs send
// (tests in pkg/cluster and pkg/verify record their requests and fail on
// one missing here).
func ClusterAccess() []Access {
	ks := kubesphere.GroupVersion.Group
	sys := kubesphere.SystemNamespace
	out := []Access{
		{Verb: "get", Resource: "namespaces"},
		{Verb: "list", Group: "cluster.kubesphere.io", Resource: "clusters"},
		{Verb: "list", Group: ks, Resource: kubesphere.ResourceCategories},
	}
	// publish writes the Extension at the resource version it read (update)
	// and puts back what it replaced when a later write fails (update).
	for _, verb := range []string{"get", "create", "patch", "update", "delete"} {
		out = append(out, Access{Verb: verb, Resource: "configmaps", Namespace: sys})
	}
	for _, res := range []string{kubesphere.ResourceExtensionVersions, kubesphere.ResourceExtensions, kubesphere.ResourceInstallPlans} {
		verbs := []string{"get", "list", "create", "patch", "delete"}
		if res != kubesphere.ResourceInstallPlans {
			verbs = append(verbs, "update")
		}
		for _, verb := range verbs {
			out = append(out, Access{Verb: verb, Group: ks, Resource: res})
		}
	}
	out = append(out, Access{Verb: "watch", Group: ks, Resource: kubesphere.ResourceInstallPlans},
		Access{Verb: "get", Group: "apps", Resource: "deployments", Namespace: sys, Optional: true})
	for _, verb := range []string{"get", "watch", "delete"} {
		out = append(out, Access{Verb: verb, Group: "batch", Resource: "jobs", Optional: true})
	}
	// install checks the extension's JSBundles, APIServices, ReverseProxies
	// and ExtensionEntries against other extensions' (skipped with a
	// warning when refused), and status shows them.
	for _, res := range []string{extensions.ResourceJSBundles, extensions.ResourceAPIServices, extensions.ResourceReverseProxies, extensions.ResourceExtensionEntries} {
		out = append(out, Access{Verb: "list", Group: extensions.GroupVersion.Group, Resource: res, Optional: true})
	}
	// dev --frontend reads the installed bundle's ConfigMap and updates it.
	out = append(out, Access{Verb: "get", Resource: "configmaps", Optional: true}, Access{Verb: "patch", Resource: "configmaps", Optional: true})
	out = append(out, Access{Verb: "list", Resource: "pods", Optional: true}, Access{Verb: "get", Resource: "pods/log", Optional: true})
	// test reads the Helm release records (Secrets), the workloads, their
	// pods' events, and runs the chart's test hooks, in the extension's
	// namespaces.
	out = append(out, Access{Verb: "list", Resource: "secrets", ForTest: true}, Access{Verb: "list", Resource: "events", ForTest: true})
	for _, res := range []string{"deployments", "statefulsets", "daemonsets"} {
		out = append(out, Access{Verb: "get", Group: "apps", Resource: res, ForTest: true})
	}
	for _, verb := range []string{"get", "create", "delete"} {
		out = append(out, Access{Verb: verb, Resource: "pods", ForTest: true})
	}
	return append(out, Access{Verb: "create", Group: "batch", Resource: "jobs", ForTest: true})
}

func checkPermissions(ctx context.Context, c *connection) Check {
	list := ClusterAccess()
	allowed := make([]bool, len(list))
	errs := make([]error, len(list))
	var wg sync.WaitGroup
	for i, a := range list {
		wg.Go(func() {
			res, sub, _ := strings.Cut(a.Resource, "/")
			review := &authzv1.SelfSubjectAccessReview{Spec: authzv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authzv1.ResourceAttributes{
				Verb: a.Verb, Group: a.Group, Resource: res, Subresource: sub, Namespace: a.Namespace,
			}}}
			got, err := c.authz.SelfSubjectAccessReviews().Create(ctx, review, metav1.CreateOptions{})
			if err != nil {
				errs[i] = err
				return
			}
			allowed[i] = got.Status.Allowed
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return Check{Status: Warn, Message: "cannot ask the API server what you may do: " + firstLine(err), Fix: "check your permission to create selfsubjectaccessreviews"}
	}
	var denied, optional, forTest []string
	for i, a := range list {
		switch {
		case allowed[i]:
		case a.Optional:
			optional = append(optional, a.String())
		case a.ForTest:
			forTest = append(forTest, a.String())
		default:
			denied = append(denied, a.String())
		}
	}
	const grant = "ask a cluster administrator to grant them (e.g. KubeSphere's platform-admin role, or cluster-admin)"
	switch {
	case len(denied) > 0:
		return Check{Status: Fail, Message: "publish, install, status and uninstall need permissions you lack: " + strings.Join(denied, ", "), Fix: grant}
	case len(forTest) > 0 && len(optional) > 0:
		return Check{Status: Warn, Message: "test and logs need permissions you lack: " + strings.Join(forTest, ", ") +
			"; failure reports and the controller check need (the other commands work without them): " + strings.Join(optional, ", "), Fix: grant}
	case len(forTest) > 0:
		return Check{Status: Warn, Message: "test and logs need permissions you lack (the other commands work without them): " + strings.Join(forTest, ", "), Fix: grant}
	case len(optional) > 0:
		return Check{Status: Warn, Message: "failure reports and the controller check need permissions you lack (the commands work without them): " + strings.Join(optional, ", "), Fix: grant}
	}
	return Check{Status: OK, Message: fmt.Sprintf("may do all %d things publish, install, status, uninstall and test do", len(list))}
}

func firstLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}

func (r *run) cloudLogin(context.Context) Check {
	cl := r.opts.Cloud
	if cl == nil || cl.Lookup == nil {
		return Check{Status: Skip, Message: "not checked"}
	}
	source, err := cl.Lookup()
	switch {
	case errors.Is(err, ErrNotLoggedIn):
		return Check{Status: Warn, Message: "not logged in to KubeSphere Cloud at " + cl.Server + " (only push, list, get and unpush need it)",
			Fix: "ksbuilder login --server " + cl.Server}
	case err != nil:
		return Check{Status: Warn, Message: "cannot read the stored Cloud token: " + err.Error(), Fix: "ksbuilder login --server " + cl.Server}
	}
	msg := "token stored for " + cl.Server
	if source != "" {
		msg += " (" + source + ")"
	}
	return Check{Status: OK, Message: msg}
}

// registryConfig is the part of Helm's registry config (Docker's
// config.json format) that names the logins.
type registryConfig struct {
	Auths       map[string]json.RawMessage `json:"auths"`
	CredHelpers map[string]string          `json:"credHelpers"`
}

func (r *run) registryLogin(context.Context) Check {
	path := r.opts.RegistryConfig
	if path == "" {
		return Check{Status: Skip, Message: "not checked"}
	}
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return Check{Status: OK, Message: "no registry logins (" + path + " does not exist); only private OCI chart URLs need one"}
	case err != nil:
		return Check{Status: Warn, Message: "cannot read " + path + ": " + err.Error(), Fix: "check the file's permissions"}
	}
	var cfg registryConfig
	if err := json.Unmarshal(data, &cfg); err != nil {
		return Check{Status: Warn, Message: fmt.Sprintf("%s is not valid JSON: %v", path, err), Fix: "log in again with helm registry login HOST, or remove the file"}
	}
	var hosts []string
	for h := range cfg.Auths {
		hosts = append(hosts, h)
	}
	for h := range cfg.CredHelpers {
		if !slices.Contains(hosts, h) {
			hosts = append(hosts, h)
		}
	}
	slices.Sort(hosts)
	if len(hosts) == 0 {
		return Check{Status: OK, Message: "no registry logins in " + path}
	}
	return Check{Status: OK, Message: fmt.Sprintf("logged in to %s (%s)", strings.Join(hosts, ", "), path)}
}
