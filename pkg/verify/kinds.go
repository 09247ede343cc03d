package verify

import (
	"context"
	"fmt"

	"github.com/ksbuilder/ksbuilder/pkg/cluster"
	"github.com/ksbuilder/ksbuilder/pkg/kubesphere/extensions"
)

// extensionObjectChecks lists the extension's JSBundles, APIServices,
// ReverseProxies and ExtensionEntries (labelled kubesphere.io/extension-ref,
// as "ksbuilder status" reads them) and returns a check per object that it
// becomes Available. A kind the cluster does not serve has no objects.
func extensionObjectChecks(ctx context.Context, cn *conn, name string, r *runner) []Check {
	objs, err := cn.client.ExtensionObjects(ctx, name)
	if err != nil {
		return []Check{{Name: fmt.Sprintf("the JSBundles, APIServices, ReverseProxies and ExtensionEntries of %s can be read", name), Cluster: cn.cluster,
			Run: func(context.Context) Outcome { return Outcome{Status: Failed, Reason: err.Error()} }}}
	}
	var checks []Check
	for _, obj := range cluster.ObjectStatuses(objs) {
		checks = append(checks, Check{Name: fmt.Sprintf("%s %s is Available", obj.Kind, obj.Name), Cluster: cn.cluster,
			Run: func(ctx context.Context) Outcome { return cn.awaitAvailable(ctx, name, obj.Kind, obj.Name, r) }})
	}
	return checks
}

// awaitAvailable waits until an object's status.state is Available, until
// the run's deadline.
func (c *conn) awaitAvailable(ctx context.Context, extension, kind, name string, r *runner) Outcome {
	return r.poll(ctx, r.deadline, func() (bool, Outcome) {
		objs, err := c.client.ExtensionObjects(ctx, extension)
		if err != nil {
			return false, Outcome{Status: Failed, Reason: err.Error()}
		}
		state := ""
		for _, o := range cluster.ObjectStatuses(objs) {
			if o.Kind == kind && o.Name == name {
				state = o.State
			}
		}
		switch state {
		case extensions.StateAvailable:
			return true, Outcome{Status: Passed}
		case "":
			return false, Outcome{Status: Failed, Reason: "it no longer exists"}
		case cluster.StateNone:
			return false, Outcome{Status: Failed, Reason: "status.state is empty: KubeSphere sets it once the host release is Installed"}
		case extensions.StateDisabled:
			return false, Outcome{Status: Failed, Reason: "status.state is Disabled: the InstallPlan has enabled: false"}
		}
		return false, Outcome{Status: Failed, Reason: "status.state is " + state}
	})
}
