package cluster_test

import (
	"errors"
	"testing"
	"time"

	"github.com/ksbuilder/ksbuilder/create"
	"github.com/ksbuilder/ksbuilder/pkg/cluster"
)

func TestSetEnabled(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	ctx := testContext(t)
	mustInstall(t, c, scaffold(t, "toggled", create.Frontend), cluster.InstallOptions{})

	plan, action, err := c.SetEnabled(ctx, "toggled", false)
	if err != nil || action != cluster.Configured || plan.Spec.Enabled {
		t.Fatalf("disable: %v, %s, %v", plan, action, err)
	}
	if plan, err = c.WaitEnabled(ctx, "toggled", false, time.Minute, 100*time.Millisecond); err != nil || plan.Status.Enabled {
		t.Fatalf("wait for disabled: %v, %v", plan, err)
	}
	objs, err := c.ExtensionObjects(ctx, "toggled")
	if err != nil || len(objs.JSBundles) != 1 || objs.JSBundles[0].Status.State != "Disabled" {
		t.Errorf("after disable, the bundle: %+v, %v", objs, err)
	}
	if _, action, err = c.SetEnabled(ctx, "toggled", false); err != nil || action != cluster.Unchanged {
		t.Errorf("disable again: %s, %v", action, err)
	}
	if _, action, err = c.SetEnabled(ctx, "toggled", true); err != nil || action != cluster.Configured {
		t.Errorf("enable: %s, %v", action, err)
	}
	if plan, err = c.WaitEnabled(ctx, "toggled", true, time.Minute, 100*time.Millisecond); err != nil || !plan.Status.Enabled {
		t.Fatalf("wait for enabled: %v, %v", plan, err)
	}
	if _, _, err := c.SetEnabled(ctx, "never-installed", true); !errors.Is(err, cluster.ErrNotInstalled) {
		t.Errorf("a missing extension: %v", err)
	}
}
