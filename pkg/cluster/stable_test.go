package cluster_test

import (
	"fmt"
	"testing"

	"github.com/ksbuilder/ksbuilder/create"
	"github.com/ksbuilder/ksbuilder/internal/testutil/requestlog"
	"github.com/ksbuilder/ksbuilder/pkg/cluster"
)

// TestKeepStableReads: a client reads the Kubernetes version, KubeSphere's
// clusters and the kubesphere-system namespace for every check, unless
// KeepStableReads is on; then it reads each once, until ForgetClusters
// (the clusters only) or ForgetStableReads (all).
func TestKeepStableReads(t *testing.T) {
	t.Parallel()
	cfg, log := requestlog.Wrap(testEnv.Require(t))
	c, err := cluster.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := testContext(t)
	// Multicluster, with kubeVersion and ksVersion: the checks read the
	// version, the clusters (for the placement and for ksVersion) and,
	// to publish, the namespace.
	pub := publication(t, scaffold(t, "stablereads", create.Backend))
	const (
		serverInfo = "GET /version"
		clusters   = "GET /apis/cluster.kubesphere.io/v1alpha1/clusters"
		system     = "GET /api/v1/namespaces/kubesphere-system"
	)
	// reads runs install's checks and a publication, and counts the reads
	// of the version, the clusters and the namespace.
	reads := func() string {
		t.Helper()
		log.Reset()
		if _, err := c.Install(ctx, cluster.InstallOptions{Publication: pub, DryRun: true}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Publish(ctx, pub); err != nil {
			t.Fatal(err)
		}
		n := map[string]int{}
		for _, r := range log.Requests() {
			n[r]++
		}
		return fmt.Sprintf("version %d, clusters %d, namespace %d", n[serverInfo], n[clusters], n[system])
	}
	for _, step := range []struct {
		what string
		do   func()
		want string
	}{
		{"by default", func() {}, "version 1, clusters 2, namespace 1"},
		{"by default, again", func() {}, "version 1, clusters 2, namespace 1"},
		{"kept", c.KeepStableReads, "version 1, clusters 1, namespace 1"},
		{"kept, again", func() {}, "version 0, clusters 0, namespace 0"},
		{"after ForgetClusters", c.ForgetClusters, "version 0, clusters 1, namespace 0"},
		{"after ForgetStableReads", c.ForgetStableReads, "version 1, clusters 1, namespace 1"},
		{"kept again", func() {}, "version 0, clusters 0, namespace 0"},
	} {
		step.do()
		if got := reads(); got != step.want {
			t.Errorf("%s: %s, want %s", step.what, got, step.want)
		}
	}
}

// TestLoadChartArchive: the same archive again gives the chart loaded
// before; the client keeps the last few.
func TestLoadChartArchive(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	dir := scaffold(t, "archives", create.Backend)
	var archives [][]byte
	for i := range 6 {
		edit(t, dir, "values.yaml", func(s string) string { return s + fmt.Sprintf("\nrevision%d: %d\n", i, i) })
		archives = append(archives, build(t, dir).Data)
	}
	first, err := c.LoadChartArchive(archives[0])
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.LoadChartArchive(append([]byte(nil), archives[0]...))
	if err != nil {
		t.Fatal(err)
	}
	if again != first {
		t.Error("the same archive was loaded again")
	}
	if _, ok := first.Values["revision0"]; !ok {
		t.Errorf("values %v: not the archive's chart", first.Values)
	}
	for _, data := range archives[1:] {
		ch, err := c.LoadChartArchive(data)
		if err != nil {
			t.Fatal(err)
		}
		if ch == first {
			t.Fatal("another archive gave the first chart")
		}
	}
	// Five archives later, the first is no longer kept.
	if reloaded, err := c.LoadChartArchive(archives[0]); err != nil || reloaded == first {
		t.Errorf("the first archive is still kept after five others (err %v)", err)
	}
	if _, err := c.LoadChartArchive([]byte("not a chart")); err == nil {
		t.Error("a broken archive loaded")
	}
}
