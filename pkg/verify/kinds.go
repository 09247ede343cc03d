package verify

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/ksbuilder/ksbuilder/pkg/kubesphere"
	"github.com/ksbuilder/ksbuilder/pkg/kubesphere/extensions"
)

// extensionsAPI is the path of KubeSphere's extensions.kubesphere.io/v1alpha1
// kinds, which are cluster-scoped.
var extensionsAPI = "/apis/" + extensions.GroupVersion.String()

// extensionKinds are the kinds that plug an extension into the console and
// the API gateway, with their resources.
var extensionKinds = []struct{ kind, resource string }{
	{extensions.KindJSBundle, extensions.ResourceJSBundles},
	{extensions.KindAPIService, extensions.ResourceAPIServices},
	{extensions.KindReverseProxy, extensions.ResourceReverseProxies},
	{extensions.KindExtensionEntry, extensions.ResourceExtensionEntries},
}

// extensionObject is the part of those kinds the checks read (the same in
// the four).
type extensionObject struct {
	Metadata struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Status struct {
		State string `json:"state"`
	} `json:"status"`
}

// extensionObjectChecks lists the extension's JSBundles, APIServices,
// ReverseProxies and ExtensionEntries (labelled kubesphere.io/extension-ref)
// and returns a check per object that it becomes Available. A kind the
// cluster does not serve has no objects.
func extensionObjectChecks(ctx context.Context, cn *conn, name string, r *runner) []Check {
	var checks []Check
	for _, k := range extensionKinds {
		items, err := cn.listExtensionObjects(ctx, k.resource, name)
		switch {
		case apierrors.IsNotFound(err):
			continue
		case err != nil:
			checks = append(checks, Check{Name: fmt.Sprintf("the %ss of %s can be read", k.kind, name), Cluster: cn.cluster,
				Run: func(context.Context) Outcome { return Outcome{Status: Failed, Reason: err.Error()} }})
			continue
		}
		for _, obj := range items {
			checks = append(checks, Check{Name: fmt.Sprintf("%s %s is Available", k.kind, obj), Cluster: cn.cluster,
				Run: func(ctx context.Context) Outcome { return cn.awaitAvailable(ctx, k.resource, obj, r) }})
		}
	}
	return checks
}

// listExtensionObjects returns the names of an extension's objects of one
// resource, sorted.
func (c *conn) listExtensionObjects(ctx context.Context, resource, extension string) ([]string, error) {
	data, err := c.core.RESTClient().Get().AbsPath(extensionsAPI, resource).
		Param("labelSelector", kubesphere.LabelExtensionRef+"="+extension).DoRaw(ctx)
	if err != nil {
		return nil, err
	}
	var list struct {
		Items []extensionObject `json:"items"`
	}
	if err := json.Unmarshal(data, &list); err != nil {
		return nil, fmt.Errorf("reading %s: %w", resource, err)
	}
	names := make([]string, 0, len(list.Items))
	for _, o := range list.Items {
		names = append(names, o.Metadata.Name)
	}
	sort.Strings(names)
	return names, nil
}

// awaitAvailable waits until an object's status.state is Available, until
// the run's deadline.
func (c *conn) awaitAvailable(ctx context.Context, resource, name string, r *runner) Outcome {
	return r.poll(ctx, r.deadline, func() (bool, Outcome) {
		data, err := c.core.RESTClient().Get().AbsPath(extensionsAPI, resource, name).DoRaw(ctx)
		if err != nil {
			return false, Outcome{Status: Failed, Reason: err.Error()}
		}
		var obj extensionObject
		if err := json.Unmarshal(data, &obj); err != nil {
			return false, Outcome{Status: Failed, Reason: err.Error()}
		}
		switch obj.Status.State {
		case extensions.StateAvailable:
			return true, Outcome{Status: Passed}
		case "":
			return false, Outcome{Status: Failed, Reason: "status.state is empty: KubeSphere sets it once the host release is Installed"}
		case extensions.StateDisabled:
			return false, Outcome{Status: Failed, Reason: "status.state is Disabled: the InstallPlan has enabled: false"}
		}
		return false, Outcome{Status: Failed, Reason: "status.state is " + obj.Status.State}
	})
}
