package dev_test

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/ksbuilder/ksbuilder/internal/testcontroller"
	"github.com/ksbuilder/ksbuilder/internal/testutil/requestlog"
	"github.com/ksbuilder/ksbuilder/pkg/cluster"
	"github.com/ksbuilder/ksbuilder/pkg/dev"
	"github.com/ksbuilder/ksbuilder/pkg/kubesphere"
)

// TestChangeRequests records the requests each change of a HostOnly
// extension (with kubeVersion and ksVersion constraints) sends: a change
// of values only reads the version to install, the plan, KubeSphere's
// controller and the published chart, and writes the plan; the
// Kubernetes version, KubeSphere's clusters and the kubesphere-system
// namespace are read once for the session, the clusters again at each
// publication, and everything again after a change that failed.
func TestChangeRequests(t *testing.T) {
	cfg := testEnv.Require(t)
	logged, log := requestlog.Wrap(cfg)
	c, err := cluster.NewForConfig(logged)
	if err != nil {
		t.Fatal(err)
	}
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := testContext(t)
	const name = "devrequests"
	// KubeSphere leaves the plan alone: no Preparing to wait out, no
	// status for the session to follow.
	controller.SetBehaviour(name, testcontroller.Behaviour{Ignore: true})
	dir := scaffold(t, name)
	edit(t, dir, "extension.yaml", replace(`installationMode: "Multicluster"`, `installationMode: "HostOnly"`))
	events := newFakeSource()
	rec := newRecorder(t)
	// The wait for KubeSphere reads the plan every hour: the requests
	// recorded are the changes'.
	startSession(t, rec, dev.Options{Dir: dir, Events: events, Debounce: time.Millisecond, Target: cluster.Target{Client: c},
		Wait: cluster.WaitOptions{Timeout: time.Hour, Interval: time.Hour}})
	// waitStarted waits until the wait for KubeSphere that follows a
	// write has started (read KubeSphere's controller): what it sends
	// then is not the next change's.
	waitStarted := func() {
		rec.await(ctx, "the wait started", func(v any) bool { _, ok := v.(live); return ok })
	}
	installed := rec.awaitApplied(ctx).Version
	waitStarted()

	const (
		plan       = "/apis/kubesphere.io/v1alpha1/installplans/" + name
		serverInfo = "GET /version"
		clusters   = "GET /apis/cluster.kubesphere.io/v1alpha1/clusters"
		system     = "GET /api/v1/namespaces/kubesphere-system"
	)
	// change applies an edit and returns the requests sent up to the plan's
	// write, which the pruning of old versions and the wait for KubeSphere
	// follow; watches left out.
	change := func(file string, how func(string) string, applied bool) (sent []string, version string) {
		t.Helper()
		edit(t, dir, file, how)
		log.Reset()
		events.events <- filepath.Join(dir, file)
		v := rec.await(ctx, "the change applied or refused", func(v any) bool {
			switch v.(type) {
			case dev.Applied, problem:
				return true
			}
			return false
		})
		a, ok := v.(dev.Applied)
		if ok != applied {
			t.Fatalf("%s: got %+v", file, v)
		}
		if applied {
			waitStarted()
		}
		sent = slices.DeleteFunc(log.Requests(), func(r string) bool { return strings.HasPrefix(r, "WATCH ") })
		if i := slices.Index(sent, "PATCH "+plan); i >= 0 {
			sent = sent[:i+1]
		}
		return sent, a.Version
	}
	chartMap := func(version string) string {
		return "/api/v1/namespaces/kubesphere-system/configmaps/" + kubesphere.ChartConfigMapName(name, version)
	}

	values := func(n string) func(string) string {
		return func(s string) string { return s + "\ndevRequests: " + n + "\n" }
	}
	got, _ := change("values.yaml", values("1"), true)
	want := []string{
		"GET /apis/kubesphere.io/v1alpha1/extensionversions/" + kubesphere.ExtensionVersionName(name, installed),
		"GET " + plan,
		"GET /apis/apps/v1/namespaces/kubesphere-system/deployments/ks-controller-manager",
		"GET " + chartMap(installed),
		"PATCH " + plan,
	}
	if !slices.Equal(got, want) {
		t.Errorf("a change of values sent\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}

	// A publication lists the clusters again; the rest is kept.
	got, installed = change("charts/backend/templates/dev-configmap.yaml", content("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dev-marker\n"), true)
	if n := count(got, clusters); n != 1 {
		t.Errorf("a publication listed the clusters %d times, want 1:\n  %s", n, strings.Join(got, "\n  "))
	}
	if count(got, serverInfo) != 0 || count(got, system) != 0 {
		t.Errorf("a publication read the Kubernetes version or the kubesphere-system namespace again:\n  %s", strings.Join(got, "\n  "))
	}

	// A change that fails (the published chart is gone)...
	if err := kube.CoreV1().ConfigMaps(kubesphere.SystemNamespace).Delete(ctx, kubesphere.ChartConfigMapName(name, installed), metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	change("values.yaml", values("2"), false)
	// ...makes the next one read everything again.
	got, _ = change("charts/backend/templates/dev-configmap.yaml", content("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dev-marker-2\n"), true)
	for _, r := range []string{serverInfo, clusters, system} {
		if n := count(got, r); n != 1 {
			t.Errorf("after a failed change, the publication sent %q %d times, want 1:\n  %s", r, n, strings.Join(got, "\n  "))
		}
	}
}

// count counts the requests of a log with the given method and path.
func count(requests []string, request string) int {
	n := 0
	for _, r := range requests {
		if r == request {
			n++
		}
	}
	return n
}
