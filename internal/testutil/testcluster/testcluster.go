// Package testcluster runs a real Kubernetes control plane (kube-apiserver
// and etcd, through controller-runtime's envtest) that looks like a minimal
// KubeSphere host: the CRDs of testdata/crds, the kubesphere-system
// namespace and a Ready host Cluster object. Start one per test package in
// TestMain and share it.
//
// The binaries come from KUBEBUILDER_ASSETS (see hack/install-test-cluster.sh).
// Without them, tests skip, except under CI=true, where Start fails: CI must
// never silently skip the cluster tests.
package testcluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	goruntime "runtime"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/ksbuilder/ksbuilder/pkg/kubesphere"
	"github.com/ksbuilder/ksbuilder/pkg/kubesphere/multicluster"
)

// HostClusterName is the name of the host Cluster object.
const HostClusterName = "host"

// KubeSphereVersion is the KubeSphere version the host Cluster reports.
const KubeSphereVersion = "v4.1.3"

// Env is a running control plane, or the reason there is none.
type Env struct {
	// Config is the admin connection; nil when unavailable.
	Config *rest.Config

	env         *envtest.Environment
	unavailable string
}

// Start starts the control plane, installs the CRDs and creates the host
// objects. When the binaries are missing it returns an Env whose Require
// skips the test, or, under CI=true, an error.
func Start() (*Env, error) {
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if why := missingBinaries(assets); why != "" {
		msg := why + `; run: export KUBEBUILDER_ASSETS="$(hack/install-test-cluster.sh)" (or "make test")`
		if os.Getenv("CI") == "true" {
			return nil, errors.New("CI=true and the test control plane is missing: " + msg)
		}
		return &Env{unavailable: msg}, nil
	}
	env := &envtest.Environment{
		BinaryAssetsDirectory: assets,
		CRDDirectoryPaths:     []string{CRDDir()},
		ErrorIfCRDPathMissing: true,
	}
	cfg, err := env.Start()
	if err != nil {
		_ = env.Stop()
		return nil, fmt.Errorf("starting the test control plane from %s: %w", assets, err)
	}
	e := &Env{Config: cfg, env: env}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := seedHost(ctx, cfg); err != nil {
		_ = e.Stop()
		return nil, err
	}
	return e, nil
}

// missingBinaries says what is missing from the assets directory, or "".
func missingBinaries(assets string) string {
	if assets == "" {
		return "KUBEBUILDER_ASSETS is not set"
	}
	for _, name := range []string{"kube-apiserver", "etcd"} {
		if fi, err := os.Stat(filepath.Join(assets, name)); err != nil || fi.IsDir() {
			return fmt.Sprintf("%s is missing from KUBEBUILDER_ASSETS=%s", name, assets)
		}
	}
	return ""
}

// CRDDir returns the absolute path of testdata/crds.
func CRDDir() string {
	_, file, _, _ := goruntime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "testdata", "crds")
}

// Available reports whether the control plane runs.
func (e *Env) Available() bool { return e != nil && e.Config != nil }

// Require returns the admin connection, or skips the test with the reason
// the control plane is unavailable.
func (e *Env) Require(t testing.TB) *rest.Config {
	t.Helper()
	if !e.Available() {
		t.Skip("no test control plane: " + e.unavailable)
	}
	return rest.CopyConfig(e.Config)
}

// Stop stops kube-apiserver and etcd. Safe to call on an unavailable Env.
func (e *Env) Stop() error {
	if e == nil || e.env == nil {
		return nil
	}
	return e.env.Stop()
}

// WriteKubeconfig writes a kubeconfig file for a system:masters user to dir
// and returns its path, for running the CLI as a separate process.
func (e *Env) WriteKubeconfig(dir string) (string, error) {
	user, err := e.env.AddUser(envtest.User{Name: "ksbuilder-test", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return "", fmt.Errorf("adding the test user: %w", err)
	}
	data, err := user.KubeConfig()
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "kubeconfig")
	return path, os.WriteFile(path, data, 0o600)
}

// seedHost creates what every KubeSphere host has: the kubesphere-system
// namespace and the host Cluster object, Ready, reporting its versions.
func seedHost(ctx context.Context, cfg *rest.Config) error {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: kubesphere.SystemNamespace}}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating namespace %s: %w", kubesphere.SystemNamespace, err)
	}
	version, err := cs.Discovery().ServerVersion()
	if err != nil {
		return err
	}
	host := &multicluster.Cluster{
		TypeMeta:   metav1.TypeMeta{APIVersion: multicluster.GroupVersion.String(), Kind: "Cluster"},
		ObjectMeta: metav1.ObjectMeta{Name: HostClusterName, Labels: map[string]string{multicluster.LabelHost: ""}},
		Status: multicluster.ClusterStatus{
			KubernetesVersion: version.GitVersion,
			KubeSphereVersion: KubeSphereVersion,
			Conditions: []multicluster.ClusterCondition{{
				Type: multicluster.ConditionReady, Status: metav1.ConditionTrue,
				LastTransitionTime: metav1.Now(), Reason: "Ready", Message: "Cluster is available now",
			}},
		},
	}
	return CreateCluster(ctx, cfg, host)
}

// CreateCluster creates a Cluster object, status included (the kind has no
// status subresource in the test CRD).
func CreateCluster(ctx context.Context, cfg *rest.Config, c *multicluster.Cluster) error {
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return err
	}
	obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(c)
	if err != nil {
		return err
	}
	gvr := multicluster.GroupVersion.WithResource(multicluster.ResourceClusters)
	_, err = dyn.Resource(gvr).Create(ctx, &unstructured.Unstructured{Object: obj}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating Cluster %s: %w", c.Name, err)
	}
	return nil
}
