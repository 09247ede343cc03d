package cluster_test

import (
	"testing"

	"github.com/ksbuilder/ksbuilder/create"
	"github.com/ksbuilder/ksbuilder/internal/testutil/requestlog"
	"github.com/ksbuilder/ksbuilder/pkg/cluster"
	"github.com/ksbuilder/ksbuilder/pkg/doctor"
)

// Every request publish, install, upgrade, status, uninstall, unpublish and
// the extension listings send is among the permissions doctor checks: a
// command that starts using a new verb or resource fails here until doctor
// checks it too.
func TestDoctorChecksEveryRequest(t *testing.T) {
	t.Parallel()
	cfg, log := requestlog.Wrap(testEnv.Require(t))
	c, err := cluster.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := testContext(t)
	const name = "audited"
	dir := scaffold(t, name, create.Frontend)
	_, plan := mustInstall(t, c, dir, cluster.InstallOptions{})
	mustInstall(t, c, dir, cluster.InstallOptions{Values: map[string]any{"frontend": map[string]any{"replicaCount": 2}}})
	c.Diagnose(ctx, plan, "")
	if _, err := cluster.Status(ctx, cluster.StatusRequest{Target: cluster.Target{Client: c}, Name: name}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListExtensions(ctx, "dev-tools"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListVersions(ctx, name); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ShowVersion(ctx, name, ""); err != nil {
		t.Fatal(err)
	}
	if err := uninstall(t, c, name, false); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Unpublish(ctx, cluster.UnpublishOptions{Name: name}); err != nil {
		t.Fatal(err)
	}

	if seen := log.Seen(); len(seen) < 10 {
		t.Fatalf("recorded only %d kinds of request: %v", len(seen), seen)
	}
	for a, url := range log.Unchecked(doctor.ClusterAccess()) {
		t.Errorf("%s (%s) is not among doctor's permissions (doctor.ClusterAccess)", a, url)
	}
}
