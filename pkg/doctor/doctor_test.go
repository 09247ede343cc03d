package doctor_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/utils/ptr"

	"github.com/ksbuilder/ksbuilder/internal/testutil/testcluster"
	"github.com/ksbuilder/ksbuilder/pkg/doctor"
	"github.com/ksbuilder/ksbuilder/pkg/kubesphere"
)

var (
	testEnv *testcluster.Env
	// kubeconfig is an administrator's kubeconfig of testEnv.
	kubeconfig string
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	var err error
	testEnv, err = testcluster.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = testEnv.Stop() }()
	if testEnv.Available() {
		dir, err := os.MkdirTemp("", "doctor-test")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		if kubeconfig, err = testEnv.WriteKubeconfig(dir); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	return m.Run()
}

func clientset(t testing.TB) *kubernetes.Clientset {
	t.Helper()
	cs, err := kubernetes.NewForConfig(testEnv.Require(t))
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// byID runs the checks and indexes the results.
func byID(t *testing.T, opts doctor.Options) map[string]doctor.Check {
	t.Helper()
	checks := doctor.Run(context.Background(), opts)
	out := map[string]doctor.Check{}
	for _, c := range checks {
		if c.Status != doctor.OK && c.Fix == "" && c.Status != doctor.Skip {
			t.Errorf("check %s is %s without a fix: %s", c.ID, c.Status, c.Message)
		}
		out[c.ID] = c
	}
	return out
}

func expect(t *testing.T, checks map[string]doctor.Check, id string, status doctor.Status, contains ...string) {
	t.Helper()
	c, ok := checks[id]
	if !ok {
		t.Fatalf("no check %s", id)
	}
	if c.Status != status {
		t.Errorf("%s: status %s, want %s (%s; fix: %s)", id, c.Status, status, c.Message, c.Fix)
	}
	for _, s := range contains {
		if !strings.Contains(c.Message+" fix: "+c.Fix, s) {
			t.Errorf("%s: %q (fix %q) does not contain %q", id, c.Message, c.Fix, s)
		}
	}
}

// deployment creates (or replaces) a Deployment in kubesphere-system with
// the given available replicas; the status is written through the status
// subresource, as no controller runs.
func deployment(t testing.TB, name string, availableReplicas int32) {
	t.Helper()
	cs := clientset(t)
	ctx := context.Background()
	deps := cs.AppsV1().Deployments(kubesphere.SystemNamespace)
	if err := deps.Delete(ctx, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	labels := map[string]string{"app": name}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](1),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "example.com/" + name + ":v1"}}},
			},
		},
	}
	created, err := deps.Create(ctx, d, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	status := corev1.ConditionTrue
	reason := "MinimumReplicasAvailable"
	if availableReplicas == 0 {
		status, reason = corev1.ConditionFalse, "MinimumReplicasUnavailable"
	}
	created.Status = appsv1.DeploymentStatus{
		Replicas: 1, AvailableReplicas: availableReplicas, ReadyReplicas: availableReplicas,
		Conditions: []appsv1.DeploymentCondition{{Type: appsv1.DeploymentAvailable, Status: status, Reason: reason,
			LastUpdateTime: metav1.Now(), LastTransitionTime: metav1.Now()}},
	}
	if _, err := deps.UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func deleteDeployment(t testing.TB, name string) {
	t.Helper()
	err := clientset(t).AppsV1().Deployments(kubesphere.SystemNamespace).Delete(context.Background(), name, metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
}

// node creates a Ready Node whose heartbeat is at the given time, and
// deletes it at the end of the test.
func node(t testing.TB, name string, heartbeat time.Time) {
	t.Helper()
	nodeReady(t, name, heartbeat, corev1.ConditionTrue)
}

// nodeReady creates a Node whose Ready condition has the given status and
// heartbeat, and deletes it at the end of the test.
func nodeReady(t testing.TB, name string, heartbeat time.Time, ready corev1.ConditionStatus) {
	t.Helper()
	cs := clientset(t)
	ctx := context.Background()
	n, err := cs.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cs.CoreV1().Nodes().Delete(context.Background(), name, metav1.DeleteOptions{}) })
	reason := "KubeletReady"
	if ready != corev1.ConditionTrue {
		reason = "NodeStatusUnknown"
	}
	n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: ready, Reason: reason,
		LastHeartbeatTime: metav1.NewTime(heartbeat), LastTransitionTime: metav1.NewTime(heartbeat)}}
	if _, err := cs.CoreV1().Nodes().UpdateStatus(ctx, n, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// lease creates a node's Lease in kube-node-lease, renewed at the given
// time by the node's clock, lasting seconds (0 leaves it unset), and
// deletes it at the end of the test.
func lease(t testing.TB, name string, renewed time.Time, seconds int32) {
	t.Helper()
	leases := clientset(t).CoordinationV1().Leases("kube-node-lease")
	renew := metav1.NewMicroTime(renewed)
	l := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To(name), RenewTime: &renew}}
	if seconds > 0 {
		l.Spec.LeaseDurationSeconds = ptr.To(seconds)
	}
	if _, err := leases.Create(context.Background(), l, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = leases.Delete(context.Background(), name, metav1.DeleteOptions{}) })
}

// healthy sets up what a working KubeSphere host has besides the CRDs and
// the host Cluster: the controller, the museum and a node whose kubelet
// renews its Lease.
func healthy(t testing.TB) {
	deployment(t, doctor.ControllerDeployment, 1)
	deployment(t, doctor.MuseumDeployment, 1)
	t.Cleanup(func() {
		deleteDeployment(t, doctor.ControllerDeployment)
		deleteDeployment(t, doctor.MuseumDeployment)
	})
	node(t, "node-in-time", time.Now())
	lease(t, "node-in-time", time.Now(), 40)
}

func baseOptions(t testing.TB) doctor.Options {
	testEnv.Require(t)
	return doctor.Options{
		Kubeconfig: kubeconfig,
		Cloud:      &doctor.CloudLogin{Server: "https://cloud.example.com", Lookup: func() (string, error) { return "keyring", nil }},
	}
}

func TestHealthyCluster(t *testing.T) {
	opts := baseOptions(t)
	healthy(t)
	reg := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(reg, []byte(`{"auths":{"registry.example.com":{"auth":"eDp5"},"ghcr.io":{}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	opts.RegistryConfig = reg
	opts.KubeVersion = ">=1.19.0-0"
	opts.KSVersion = ">=4.1.0-0"
	checks := doctor.Run(context.Background(), opts)
	ids := make([]string, len(checks))
	for i, c := range checks {
		ids[i] = c.ID
		if c.Status != doctor.OK {
			t.Errorf("%s: %s: %s (fix: %s)", c.ID, c.Status, c.Message, c.Fix)
		}
	}
	want := "kubeconfig api-server crds kubesphere-version controller museum clock-skew permissions cloud-login registry-login"
	if got := strings.Join(ids, " "); got != want {
		t.Errorf("check IDs %q, want %q", got, want)
	}
	if doctor.Failed(checks) {
		t.Error("Failed is true for a healthy cluster")
	}
	m := byID(t, opts)
	expect(t, m, doctor.IDKubeSphereVersion, doctor.OK, testcluster.KubeSphereVersion, "satisfies ksVersion")
	expect(t, m, doctor.IDRegistryLogin, doctor.OK, "ghcr.io, registry.example.com")
	expect(t, m, doctor.IDCloudLogin, doctor.OK, "cloud.example.com", "keyring")
	expect(t, m, doctor.IDCRDs, doctor.OK, "v1alpha1")
}

func TestControllerMissingOrUnavailable(t *testing.T) {
	opts := baseOptions(t)
	deleteDeployment(t, doctor.ControllerDeployment)
	m := byID(t, opts)
	expect(t, m, doctor.IDController, doctor.Fail, "ks-controller-manager not found")
	expect(t, m, doctor.IDMuseum, doctor.Warn, "extensions-museum not found")
	if !doctor.Failed(doctor.Run(context.Background(), opts)) {
		t.Error("Failed is false without a controller")
	}

	deployment(t, doctor.ControllerDeployment, 0)
	t.Cleanup(func() { deleteDeployment(t, doctor.ControllerDeployment) })
	m = byID(t, opts)
	expect(t, m, doctor.IDController, doctor.Fail, "not available", "0/1 replicas available", "MinimumReplicasUnavailable", "describe deployment ks-controller-manager")
}

func TestClockSkew(t *testing.T) {
	opts := baseOptions(t)
	now := time.Now().Truncate(time.Second)
	opts.Now = func() time.Time { return now }
	node(t, "node-in-time", now)
	node(t, "node-ahead", now.Add(5*time.Minute))
	m := byID(t, opts)
	expect(t, m, doctor.IDClockSkew, doctor.Warn, "node-ahead by 5m0s", "NTP")
	if strings.Contains(m[doctor.IDClockSkew].Message, "node-in-time") {
		t.Errorf("the node in time is named: %s", m[doctor.IDClockSkew].Message)
	}
}

// A kubelet renews its Lease every few seconds but the Node's heartbeat
// only every few minutes: a Lease renewed ahead of this machine's clock
// shows the skew even when the Node's heartbeat does not.
func TestClockSkewFromLease(t *testing.T) {
	opts := baseOptions(t)
	now := time.Now().Truncate(time.Second)
	opts.Now = func() time.Time { return now }
	node(t, "node-lease-ahead", now.Add(-time.Minute))
	lease(t, "node-lease-ahead", now.Add(3*time.Minute), 40)
	m := byID(t, opts)
	expect(t, m, doctor.IDClockSkew, doctor.Warn, "node-lease-ahead by 3m0s", "NTP")
}

// A kubelet renews its node's Lease every 10 s (leaseDurationSeconds 40),
// and the node controller marks a node NotReady once the Lease stops
// changing. A Ready node whose Lease is long past its expiry by this
// machine's clock therefore has a clock behind this machine's, or a kubelet
// that stopped unnoticed: a warning naming both. Nodes within their Lease
// (plus the skew allowed) and nodes already NotReady are not named.
func TestClockBehindFromLease(t *testing.T) {
	opts := baseOptions(t)
	now := time.Now().Truncate(time.Second)
	opts.Now = func() time.Time { return now }
	node(t, "node-behind", now.Add(-5*time.Minute))
	lease(t, "node-behind", now.Add(-5*time.Minute), 40)
	node(t, "node-default-lease", now.Add(-4*time.Minute))
	lease(t, "node-default-lease", now.Add(-4*time.Minute), 0)
	node(t, "node-renewing", now.Add(-time.Minute))
	lease(t, "node-renewing", now.Add(-65*time.Second), 40)
	node(t, "node-long-lease", now.Add(-5*time.Minute))
	lease(t, "node-long-lease", now.Add(-5*time.Minute), 600)
	nodeReady(t, "node-down", now.Add(-time.Hour), corev1.ConditionUnknown)
	lease(t, "node-down", now.Add(-time.Hour), 40)

	m := byID(t, opts)
	expect(t, m, doctor.IDClockSkew, doctor.Warn, "node-behind renewed 5m0s ago, node-default-lease renewed 4m0s ago",
		"clocks are behind this machine's", "kubelets stopped renewing", "Installing", "NTP", "journalctl -u kubelet")
	for _, name := range []string{"node-renewing", "node-long-lease", "node-down"} {
		if strings.Contains(m[doctor.IDClockSkew].Message, name) {
			t.Errorf("%s is named: %s", name, m[doctor.IDClockSkew].Message)
		}
	}

	node(t, "node-ahead", now.Add(2*time.Minute))
	m = byID(t, opts)
	expect(t, m, doctor.IDClockSkew, doctor.Warn, "ahead of this machine's clock (node-ahead by 2m0s)", "past their expiry (node-behind renewed 5m0s ago")
}

// The museum's deployment exists but has no available replica: a warning
// (publish and install do not need it), with how to see why.
func TestMuseumUnavailable(t *testing.T) {
	opts := baseOptions(t)
	deployment(t, doctor.MuseumDeployment, 0)
	t.Cleanup(func() { deleteDeployment(t, doctor.MuseumDeployment) })
	m := byID(t, opts)
	expect(t, m, doctor.IDMuseum, doctor.Warn, "extensions-museum is not available", "0/1 replicas available", "describe deployment extensions-museum")
}

func TestNoNodes(t *testing.T) {
	m := byID(t, baseOptions(t))
	expect(t, m, doctor.IDClockSkew, doctor.Skip, "no node heartbeats")
}

func TestVersionConstraints(t *testing.T) {
	opts := baseOptions(t)
	opts.KubeVersion = ">=99.0.0"
	opts.KSVersion = ">=4.2.0-0"
	m := byID(t, opts)
	expect(t, m, doctor.IDAPIServer, doctor.Fail, "kubeVersion >=99.0.0", "does not satisfy")
	expect(t, m, doctor.IDKubeSphereVersion, doctor.Fail, "ksVersion >=4.2.0-0", testcluster.KubeSphereVersion+" does not satisfy")
}

func TestPermissionsDenied(t *testing.T) {
	opts := baseOptions(t)
	cfg, err := clientcmd.LoadFromFile(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	for _, user := range cfg.AuthInfos {
		user.Impersonate = "nobody"
	}
	opts.Kubeconfig = filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, opts.Kubeconfig); err != nil {
		t.Fatal(err)
	}
	m := byID(t, opts)
	expect(t, m, doctor.IDKubeconfig, doctor.OK, "acting as nobody")
	expect(t, m, doctor.IDPermissions, doctor.Fail, "create configmaps in kubesphere-system", "delete installplans.kubesphere.io", "patch extensions.kubesphere.io", "cluster administrator")
	expect(t, m, doctor.IDController, doctor.Warn, "not allowed")
}

func TestKubeconfigProblems(t *testing.T) {
	testEnv.Require(t)
	missing := filepath.Join(t.TempDir(), "nope")
	m := byID(t, doctor.Options{Kubeconfig: missing})
	expect(t, m, doctor.IDKubeconfig, doctor.Fail, missing+" does not exist", "--kubeconfig")
	for _, id := range []string{doctor.IDAPIServer, doctor.IDCRDs, doctor.IDController, doctor.IDPermissions, doctor.IDCloudLogin, doctor.IDRegistryLogin} {
		expect(t, m, id, doctor.Skip)
	}

	m = byID(t, doctor.Options{Kubeconfig: kubeconfig, Context: "elsewhere"})
	expect(t, m, doctor.IDKubeconfig, doctor.Fail, `context "elsewhere" not found`, "--context")

	cfg, err := clientcmd.LoadFromFile(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cfg.Clusters {
		c.Server = "https://127.0.0.1:1"
	}
	down := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, down); err != nil {
		t.Fatal(err)
	}
	m = byID(t, doctor.Options{Kubeconfig: down})
	expect(t, m, doctor.IDKubeconfig, doctor.OK)
	expect(t, m, doctor.IDAPIServer, doctor.Fail, "cannot reach the API server https://127.0.0.1:1")
	expect(t, m, doctor.IDCRDs, doctor.Skip, "not reachable")
}

func TestLocalLogins(t *testing.T) {
	opts := baseOptions(t)
	opts.Cloud.Lookup = func() (string, error) { return "", doctor.ErrNotLoggedIn }
	opts.RegistryConfig = filepath.Join(t.TempDir(), "missing.json")
	m := byID(t, opts)
	expect(t, m, doctor.IDCloudLogin, doctor.Warn, "not logged in", "ksbuilder login --server https://cloud.example.com")
	expect(t, m, doctor.IDRegistryLogin, doctor.OK, "no registry logins")

	if err := os.WriteFile(opts.RegistryConfig, []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	m = byID(t, opts)
	expect(t, m, doctor.IDRegistryLogin, doctor.Warn, "not valid JSON")
}

var crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// TestCRDsMissing deletes the InstallPlan CRD, and recreates it after.
func TestCRDsMissing(t *testing.T) {
	opts := baseOptions(t)
	dyn, err := dynamic.NewForConfig(testEnv.Require(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	name := kubesphere.ResourceInstallPlans + "." + kubesphere.GroupVersion.Group
	crd, err := dyn.Resource(crdGVR).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := dyn.Resource(crdGVR).Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { recreateCRD(t, dyn, crd) })
	var m map[string]doctor.Check
	for range 100 {
		m = byID(t, opts)
		if m[doctor.IDCRDs].Status == doctor.Fail {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	expect(t, m, doctor.IDCRDs, doctor.Fail, "installplans.kubesphere.io", "install KubeSphere")
}

func recreateCRD(t *testing.T, dyn dynamic.Interface, crd *unstructured.Unstructured) {
	ctx := context.Background()
	crd = crd.DeepCopy()
	unstructured.RemoveNestedField(crd.Object, "metadata", "resourceVersion")
	unstructured.RemoveNestedField(crd.Object, "metadata", "uid")
	unstructured.RemoveNestedField(crd.Object, "metadata", "creationTimestamp")
	unstructured.RemoveNestedField(crd.Object, "status")
	for range 100 {
		_, err := dyn.Resource(crdGVR).Create(ctx, crd, metav1.CreateOptions{})
		if err == nil {
			break
		}
		if !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond) // the old one is still terminating
	}
	for range 100 {
		if m := byID(t, baseOptions(t)); m[doctor.IDCRDs].Status == doctor.OK {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("the InstallPlan CRD did not come back")
}

// An API server that accepts connections and never answers fails doctor
// every time: no check may turn a missing answer into a warning.
func TestUnansweringServerFails(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, conn) // held open, never answered
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["silent"] = &clientcmdapi.Cluster{Server: "http://" + ln.Addr().String()}
	cfg.AuthInfos["me"] = &clientcmdapi.AuthInfo{Token: "x"}
	cfg.Contexts["silent"] = &clientcmdapi.Context{Cluster: "silent", AuthInfo: "me"}
	cfg.CurrentContext = "silent"
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		checks := byID(t, doctor.Options{Kubeconfig: path, Timeout: 200 * time.Millisecond})
		var all []doctor.Check
		for _, c := range checks {
			all = append(all, c)
		}
		if !doctor.Failed(all) {
			t.Errorf("run %d: doctor did not fail: %+v", i, all)
		}
		expect(t, checks, doctor.IDAPIServer, doctor.Fail, "did not answer within 200ms")
		for _, id := range []string{doctor.IDCRDs, doctor.IDController, doctor.IDPermissions} {
			expect(t, checks, id, doctor.Skip)
		}
	}
}

// A user who may create, patch and delete the objects but not read them
// cannot publish: the permissions check fails naming what is missing.
func TestPermissionsIncomplete(t *testing.T) {
	opts := baseOptions(t)
	impersonate(t, &opts, "writer", []rbacv1.PolicyRule{
		{Verbs: []string{"create", "patch", "delete"}, APIGroups: []string{"", "kubesphere.io"}, Resources: []string{"configmaps", "extensionversions", "extensions", "installplans"}},
	})
	m := byID(t, opts)
	expect(t, m, doctor.IDPermissions, doctor.Fail, "get namespaces", "get configmaps in kubesphere-system", "list clusters.cluster.kubesphere.io", "watch installplans.kubesphere.io")
}

// A user who may do everything but what test and logs need gets a
// warning naming those permissions (the other commands work).
func TestPermissionsWithoutTest(t *testing.T) {
	opts := baseOptions(t)
	var rules []rbacv1.PolicyRule
	for _, a := range doctor.ClusterAccess() {
		if !a.ForTest {
			rules = append(rules, rbacv1.PolicyRule{Verbs: []string{a.Verb}, APIGroups: []string{a.Group}, Resources: []string{a.Resource}})
		}
	}
	impersonate(t, &opts, "no-tester", rules)
	m := byID(t, opts)
	expect(t, m, doctor.IDPermissions, doctor.Warn, "test and logs need permissions you lack (the other commands work without them): ",
		"list secrets", "list events", "get statefulsets.apps", "create pods", "delete pods", "create jobs.batch")
}

// impersonate points opts at a kubeconfig acting as user, bound to a
// ClusterRole with rules (and the right to ask what it may do).
func impersonate(t *testing.T, opts *doctor.Options, user string, rules []rbacv1.PolicyRule) {
	t.Helper()
	cs := clientset(t)
	ctx := context.Background()
	rules = append(rules, rbacv1.PolicyRule{Verbs: []string{"create"}, APIGroups: []string{"authorization.k8s.io"}, Resources: []string{"selfsubjectaccessreviews"}})
	role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: user}, Rules: rules}
	binding := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: user},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: user},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}}}
	if _, err := cs.RbacV1().ClusterRoles().Create(ctx, role, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	if _, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, binding, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	cfg, err := clientcmd.LoadFromFile(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range cfg.AuthInfos {
		u.Impersonate = user
	}
	opts.Kubeconfig = filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, opts.Kubeconfig); err != nil {
		t.Fatal(err)
	}
}
