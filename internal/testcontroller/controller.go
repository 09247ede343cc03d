// Package testcontroller imitates KubeSphere's InstallPlan controller, for
// tests against a real API server where KubeSphere itself is not available.
// It follows the controller's documented behaviour: the finalizer, the state
// machine Preparing → Installing → Installed/InstallFailed (Upgrading,
// Uninstalling, ...) with the real condition types and reasons, the state
// history and its "never go back in time" rule, executor Jobs named
// helm-<action>-<release>-<6 random> in the target namespace, agents on
// clusterScheduling placements, force deletion, the copy of the plan's
// status onto the Extension, and the state (Available or Disabled) of the
// extension's JSBundles, APIServices, ReverseProxies and ExtensionEntries. It acts on a release by KubeSphere's own rule
// (seen on v4.1.3): when the release has no state, or is Installed,
// InstallFailed or UpgradeFailed and spec.extension.version differs from
// status.version or the values' hash from status.configHash; status.version
// is copied from the deployed Helm release when a job failed before Helm
// recorded a revision, even though the state change is dropped, so an upgrade Helm refuses before recording a revision loops on
// new upgrade jobs until the version or the values change. It presents itself as ks-core's
// ks-controller-manager Deployment, with one ready replica.
//
// Since no pods run, the executor's work is done in-process: after a short
// delay the Helm SDK installs, upgrades or uninstalls the chart read from the
// version's ConfigMap (no --wait), so every rendered object goes through the
// API server's validation, and the Job's status is then marked succeeded or
// failed. Each Job gets a Pod that is never scheduled, as on a cluster with
// no free node, so its logs cannot be read.
//
// Use it only from tests.
package testcontroller

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/go-logr/logr"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/ksbuilder/ksbuilder/pkg/cluster"
	"github.com/ksbuilder/ksbuilder/pkg/kubesphere"
	"github.com/ksbuilder/ksbuilder/pkg/kubesphere/extensions"
	"github.com/ksbuilder/ksbuilder/pkg/kubesphere/multicluster"
)

// Behaviour bends the controller for one extension, to reproduce failures
// seen on real clusters.
type Behaviour struct {
	// StallInPreparing stops every action right after the Preparing state,
	// as a controller that restarted before creating the job.
	StallInPreparing bool
	// Ignore leaves the extension's InstallPlans alone (no finalizer, no
	// status, no job), as a KubeSphere that has not acted on them yet:
	// benchmarks measure ksbuilder's own work without KubeSphere's.
	Ignore bool
	// ExecutorClockOffset shifts the clock of the simulated executor pod:
	// its job completion time and the Helm release time. A negative offset
	// reproduces a node whose clock is behind the controller's.
	ExecutorClockOffset time.Duration
	// FailUninstall makes uninstall jobs fail without uninstalling.
	FailUninstall bool
	// FailFast stamps a failed install or upgrade job with the time of the
	// Helm release it left behind, as when Helm fails in milliseconds and
	// the Job controller marks the job failed within the same second.
	// (In-process, Helm's discovery takes a second or more.)
	FailFast bool
	// JobDuration, when set, replaces Options.JobDuration.
	JobDuration time.Duration
	// JobEndDelay keeps an executor job running this long after its Helm
	// action, as the executor pod does after Helm has written the release:
	// KubeSphere then reports the release's outcome while the job runs.
	JobEndDelay time.Duration
	// NoObjectStates leaves the state of the extension's JSBundles,
	// APIServices, ReverseProxies and ExtensionEntries alone (KubeSphere
	// sets it once the host release is Installed): tests write it.
	NoObjectStates bool
	// Hold, when set, keeps every executor job running until it is closed,
	// instead of JobDuration: tests decide when a job ends.
	Hold <-chan struct{}
}

// Options configure the controller.
type Options struct {
	// JobDuration is how long an executor job runs before its Helm action
	// (default 300ms).
	JobDuration time.Duration
	// Log receives the controller's log; nil discards it.
	Log func(format string, args ...any)
}

// Controller is a running imitation of the InstallPlan controller.
type Controller struct {
	opts   Options
	cfg    *rest.Config
	client client.Client
	// ctx ends the controller, and the executor jobs in flight.
	ctx context.Context

	mu         sync.Mutex
	behaviours map[string]Behaviour
	// jobStarts records when each executor job was created, to the
	// nanosecond (see refresh).
	jobStarts map[string]time.Time

	jobs sync.WaitGroup
}

// Start runs the controller until ctx ends. It returns once the controller's
// caches are synced. After ending ctx, call Wait before stopping the API
// server.
func Start(ctx context.Context, cfg *rest.Config, opts Options) (*Controller, error) {
	if opts.JobDuration <= 0 {
		opts.JobDuration = 300 * time.Millisecond
	}
	if opts.Log == nil {
		opts.Log = func(string, ...any) {}
	}
	ctrllog.SetLogger(logr.Discard())
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, kubesphere.AddToScheme, multicluster.AddToScheme, extensions.AddToScheme} {
		if err := add(scheme); err != nil {
			return nil, err
		}
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
	})
	if err != nil {
		return nil, err
	}
	// Reads go to the API server, not the manager's cache, so each
	// reconcile sees the writes of the previous one.
	direct, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return nil, err
	}
	c := &Controller{opts: opts, cfg: cfg, client: direct, ctx: ctx, behaviours: map[string]Behaviour{}, jobStarts: map[string]time.Time{}}
	if err := c.announce(ctx); err != nil {
		return nil, err
	}
	skip := true
	err = builder.ControllerManagedBy(mgr).
		Named("installplan").
		For(&kubesphere.InstallPlan{}).
		// Executor jobs map to the plan named by their extension-ref label.
		Watches(&batchv1.Job{}, handler.EnqueueRequestsFromMapFunc(byLabel(kubesphere.LabelExtensionRef))).
		// Helm release Secrets map to the plan named after the release.
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(byLabel("name")),
			builder.WithPredicates(predicate.NewPredicateFuncs(func(o client.Object) bool { return o.GetLabels()["owner"] == "helm" }))).
		// Only deletions of versions matter.
		Watches(&kubesphere.ExtensionVersion{}, handler.EnqueueRequestsFromMapFunc(byLabel(kubesphere.LabelExtensionRef)),
			builder.WithPredicates(predicate.Funcs{
				CreateFunc: func(event.CreateEvent) bool { return false },
				UpdateFunc: func(event.UpdateEvent) bool { return false },
			})).
		WithOptions(controller.Options{MaxConcurrentReconciles: 2, SkipNameValidation: &skip}).
		Complete(reconcile.Func(c.reconcile))
	if err != nil {
		return nil, err
	}
	errc := make(chan error, 1)
	go func() { errc <- mgr.Start(ctx) }()
	syncCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if !mgr.GetCache().WaitForCacheSync(syncCtx) {
		select {
		case err := <-errc:
			return nil, fmt.Errorf("the test controller stopped: %w", err)
		default:
			return nil, fmt.Errorf("the test controller's caches did not sync")
		}
	}
	return c, nil
}

// announce creates KubeSphere's controller Deployment with one ready
// replica, as ks-core runs it: ksbuilder checks it before waiting.
func (c *Controller) announce(ctx context.Context) error {
	name := cluster.ControllerDeployment
	labels := map[string]string{"app": name.Name}
	one := int32(1)
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: name.Namespace, Name: name.Name},
		Spec: appsv1.DeploymentSpec{
			Replicas: &one,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "ks-controller-manager", Image: "kubesphere/ks-controller-manager:v4.1.3"}}},
			},
		},
	}
	if err := c.client.Create(ctx, d); client.IgnoreAlreadyExists(err) != nil {
		return fmt.Errorf("creating deployment %s: %w", name, err)
	}
	if err := c.client.Get(ctx, name, d); err != nil {
		return err
	}
	d.Status.Replicas, d.Status.ReadyReplicas, d.Status.AvailableReplicas, d.Status.UpdatedReplicas = 1, 1, 1, 1
	d.Status.Conditions = []appsv1.DeploymentCondition{{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue, Reason: "MinimumReplicasAvailable"}}
	return c.client.Status().Update(ctx, d)
}

// SetBehaviour bends the controller for one extension.
func (c *Controller) SetBehaviour(extension string, b Behaviour) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.behaviours[extension] = b
}

func (c *Controller) jobStarted(job string, at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.jobStarts[job] = at
}

func (c *Controller) jobStart(job string) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.jobStarts[job]
}

func (c *Controller) behaviour(extension string) Behaviour {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.behaviours[extension]
}

// Wait blocks until the executor jobs in flight have stopped.
func (c *Controller) Wait() { c.jobs.Wait() }

func byLabel(label string) handler.MapFunc {
	return func(_ context.Context, o client.Object) []reconcile.Request {
		name := o.GetLabels()[label]
		if name == "" {
			return nil
		}
		return []reconcile.Request{{NamespacedName: types.NamespacedName{Name: name}}}
	}
}

func (c *Controller) logf(format string, args ...any) { c.opts.Log(format, args...) }
