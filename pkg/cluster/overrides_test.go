package cluster_test

import (
	"errors"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ksbuilder/ksbuilder/create"
	"github.com/ksbuilder/ksbuilder/internal/testutil/testcluster"
	"github.com/ksbuilder/ksbuilder/pkg/cluster"
)

// Per-cluster values become the cluster's override, which the agent
// release of that cluster is rendered with; without them, overrides stay.
func TestClusterValuesOverride(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	ctx := testContext(t)
	dir := scaffold(t, "overridden", create.Full)
	host := testcluster.HostClusterName

	_, _, err := install(t, c, dir, cluster.InstallOptions{ClusterValues: map[string]map[string]any{"member9": {"backend": map[string]any{"replicaCount": 2}}}})
	var notPlaced *cluster.OverrideClusterError
	if !errors.As(err, &notPlaced) || notPlaced.Cluster != "member9" || !strings.Contains(err.Error(), "place it there with --cluster member9") {
		t.Fatalf("override of an unplaced cluster: %v", err)
	}

	_, plan := mustInstall(t, c, dir, cluster.InstallOptions{ClusterValues: map[string]map[string]any{host: {"backend": map[string]any{"replicaCount": 3}}}})
	if got := plan.Spec.ClusterScheduling.Overrides[host]; got != "backend:\n  replicaCount: 3\n" {
		t.Errorf("override %q", got)
	}
	cs, _ := kube(t)
	dep, err := cs.AppsV1().Deployments("extension-overridden").Get(ctx, "overridden-agent-backend", metav1.GetOptions{})
	if err != nil || dep.Spec.Replicas == nil || *dep.Spec.Replicas != 3 {
		t.Errorf("agent deployment %v, %v: want 3 replicas from the override", dep.Spec.Replicas, err)
	}

	// A new override for an installed plan is written, and reaches the agent.
	_, plan = mustInstall(t, c, dir, cluster.InstallOptions{ClusterValues: map[string]map[string]any{host: {"backend": map[string]any{"replicaCount": 4}}}})
	if got := plan.Spec.ClusterScheduling.Overrides[host]; got != "backend:\n  replicaCount: 4\n" {
		t.Errorf("override after an update %q", got)
	}
	dep, err = cs.AppsV1().Deployments("extension-overridden").Get(ctx, "overridden-agent-backend", metav1.GetOptions{})
	if err != nil || dep.Spec.Replicas == nil || *dep.Spec.Replicas != 4 {
		t.Errorf("agent deployment %v, %v: want 4 replicas from the updated override", dep.Spec.Replicas, err)
	}

	// New values without cluster values keep the override.
	_, plan = mustInstall(t, c, dir, cluster.InstallOptions{Values: map[string]any{"backend": map[string]any{"replicaCount": 1}}})
	if got := cluster.OverriddenClusters(&plan.Spec); len(got) != 1 || got[0] != host {
		t.Errorf("overrides after a values change: %v", got)
	}
	if err := uninstall(t, c, "overridden", false); err != nil {
		t.Fatal(err)
	}
}

func TestClusterValuesNeedMulticluster(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	dir := scaffold(t, "hostonly-override", create.Frontend)
	_, _, err := install(t, c, dir, cluster.InstallOptions{ClusterValues: map[string]map[string]any{"host": {"a": 1}}})
	if !errors.Is(err, cluster.ErrNotMulticluster) {
		t.Errorf("got %v, want ErrNotMulticluster", err)
	}
}
