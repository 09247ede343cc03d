package testcontroller

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ksbuilder/ksbuilder/pkg/kubesphere"
	"github.com/ksbuilder/ksbuilder/pkg/kubesphere/extensions"
)

// syncKinds does what KubeSphere's InstallPlan controller does once the
// host release is Installed: it sets status.state of the extension's
// JSBundles, APIServices, ReverseProxies and ExtensionEntries (those
// labelled kubesphere.io/extension-ref=<extension>, as the executor's
// post-renderer labels every object of the chart) to Available, or
// Disabled when the plan has enabled: false. (KubeSphere does the same on
// each member cluster whose agent is Installed; here members share the
// host's API server, so the host's pass covers them.)
//
// It also stands in for KubeSphere's JSBundle mutating webhook, which sets
// status.link to /dist/<extension>/index.js when it is empty: here the
// link is set with the state, after the release is installed, rather than
// when the bundle is created.
func (c *Controller) syncKinds(ctx context.Context, name string, enabled bool) error {
	if c.behaviour(name).NoObjectStates {
		return nil
	}
	state := extensions.StateAvailable
	if !enabled {
		state = extensions.StateDisabled
	}
	sel := client.MatchingLabels{kubesphere.LabelExtensionRef: name}
	lists := []client.ObjectList{&extensions.JSBundleList{}, &extensions.APIServiceList{}, &extensions.ReverseProxyList{}, &extensions.ExtensionEntryList{}}
	for _, list := range lists {
		if err := c.client.List(ctx, list, sel); err != nil {
			if meta.IsNoMatchError(err) {
				continue // the kinds' CRDs are not installed
			}
			return fmt.Errorf("listing %T: %w", list, err)
		}
		err := meta.EachListItem(list, func(o runtime.Object) error {
			obj := o.(client.Object)
			patch := client.MergeFrom(obj.DeepCopyObject().(client.Object))
			changed := false
			switch x := obj.(type) {
			case *extensions.JSBundle:
				if x.Status.Link == "" {
					x.Status.Link, changed = extensions.DefaultBundleLink(name), true
				}
				changed = setKindState(&x.Status.Status, state) || changed
			case *extensions.APIService:
				changed = setKindState(&x.Status, state)
			case *extensions.ReverseProxy:
				changed = setKindState(&x.Status, state)
			case *extensions.ExtensionEntry:
				changed = setKindState(&x.Status, state)
			}
			if !changed {
				return nil
			}
			return client.IgnoreNotFound(c.client.Status().Patch(ctx, obj, patch))
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func setKindState(st *extensions.Status, state string) bool {
	if st.State == state {
		return false
	}
	st.State = state
	return true
}
