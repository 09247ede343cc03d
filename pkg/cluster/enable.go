package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/ksbuilder/ksbuilder/pkg/kubesphere"
	"github.com/ksbuilder/ksbuilder/pkg/kubesphere/extensions"
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
	// Pending are the extension's objects still in another state.
	Pending []string
}

func (e *EnabledNotReflectedError) Error() string {
	if e.State != kubesphere.StateInstalled {
		return fmt.Sprintf("KubeSphere did not apply enabled: %t to %s within %s: it does so once the release is Installed, and it is %s (see \"ksbuilder status %s\")",
			e.Enabled, e.Name, e.Timeout, orPending(e.State), e.Name)
	}
	if len(e.Pending) > 0 {
		return fmt.Sprintf("KubeSphere did not apply enabled: %t to all of %s within %s (%s): is its controller running? \"ksbuilder doctor\" checks", e.Enabled, e.Name, e.Timeout, strings.Join(e.Pending, ", "))
	}
	return fmt.Sprintf("KubeSphere did not apply enabled: %t to %s within %s (status.enabled still differs): is its controller running? \"ksbuilder doctor\" checks", e.Enabled, e.Name, e.Timeout)
}

// WaitEnabled waits until KubeSphere has applied spec.enabled: the plan's
// status.enabled has the value, and every JSBundle, APIService,
// ReverseProxy and ExtensionEntry of the extension has the matching state
// (Available or Disabled). Kinds the cluster lacks, or that the user may
// not list, are not waited for. A zero timeout waits until ctx ends.
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
	var (
		plan    *kubesphere.InstallPlan
		pending []string
	)
	err := wait.PollUntilContextCancel(wctx, interval, true, func(ctx context.Context) (bool, error) {
		p, err := c.Plan(ctx, name)
		if err != nil {
			return false, err
		}
		plan = p
		if p.Status.State != kubesphere.StateInstalled || p.Status.Enabled != enabled {
			return false, nil
		}
		objs, err := c.ExtensionObjects(ctx, name)
		var forbidden *KindsForbiddenError
		if errors.As(err, &forbidden) {
			return true, nil
		}
		if err != nil {
			return false, err
		}
		want := extensions.StateAvailable
		if !enabled {
			want = extensions.StateDisabled
		}
		pending = pending[:0]
		for _, o := range ObjectStatuses(objs) {
			if o.State != want {
				pending = append(pending, o.Kind+" "+o.Name+" is "+o.State)
			}
		}
		return len(pending) == 0, nil
	})
	if err != nil && ctx.Err() == nil && wctx.Err() != nil {
		state := ""
		if plan != nil {
			state = plan.Status.State
		}
		return plan, &EnabledNotReflectedError{Name: name, Enabled: enabled, State: state, Timeout: timeout, Pending: pending}
	}
	return plan, err
}
