package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/ksbuilder/ksbuilder/pkg/kubesphere"
)

// SetEnabled sets an installed extension's spec.enabled, which KubeSphere
// reflects on the extension's JSBundles, APIServices, ReverseProxies and
// ExtensionEntries (Available or Disabled) once the release is installed;
// the release itself is not touched. It returns the plan as written and
// Unchanged when spec.enabled already had the value.
func (c *Client) SetEnabled(ctx context.Context, name string, enabled bool) (*kubesphere.InstallPlan, Action, error) {
	plan, err := c.Plan(ctx, name)
	if err != nil {
		return nil, "", err
	}
	if plan.DeletionTimestamp != nil {
		return nil, "", fmt.Errorf("InstallPlan %s is being deleted", name)
	}
	if plan.Spec.Enabled == enabled {
		return plan, Unchanged, nil
	}
	patch, _ := json.Marshal(map[string]any{"spec": map[string]any{"enabled": enabled}})
	if err := c.mergePatch(ctx, kubesphere.ResourceInstallPlans, name, patch, plan); err != nil {
		return nil, "", err
	}
	return plan, Configured, nil
}

// EnabledNotReflectedError is a wait for spec.enabled that timed out.
type EnabledNotReflectedError struct {
	Name    string
	Enabled bool
	// State is the host release's state when the wait gave up.
	State   string
	Timeout time.Duration
}

func (e *EnabledNotReflectedError) Error() string {
	if e.State != kubesphere.StateInstalled {
		return fmt.Sprintf("KubeSphere did not apply enabled: %t to %s within %s: it does so once the release is Installed, and it is %s (see \"ksbuilder status %s\")",
			e.Enabled, e.Name, e.Timeout, orPending(e.State), e.Name)
	}
	return fmt.Sprintf("KubeSphere did not apply enabled: %t to %s within %s (status.enabled still differs): is its controller running? \"ksbuilder doctor\" checks", e.Enabled, e.Name, e.Timeout)
}

// WaitEnabled waits until KubeSphere records spec.enabled in the plan's
// status (it does so with the states of the extension's kinds). A zero
// timeout waits until ctx ends.
func (c *Client) WaitEnabled(ctx context.Context, name string, enabled bool, timeout, interval time.Duration) (*kubesphere.InstallPlan, error) {
	if interval <= 0 {
		interval = time.Second
	}
	wctx := ctx
	if timeout > 0 {
		var cancel context.CancelFunc
		wctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	var plan *kubesphere.InstallPlan
	err := wait.PollUntilContextCancel(wctx, interval, true, func(ctx context.Context) (bool, error) {
		p, err := c.Plan(ctx, name)
		if err != nil {
			return false, err
		}
		plan = p
		return p.Status.State == kubesphere.StateInstalled && p.Status.Enabled == enabled, nil
	})
	if err != nil && ctx.Err() == nil && wctx.Err() != nil {
		state := ""
		if plan != nil {
			state = plan.Status.State
		}
		return plan, &EnabledNotReflectedError{Name: name, Enabled: enabled, State: state, Timeout: timeout}
	}
	return plan, err
}
