package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	"github.com/ksbuilder/ksbuilder/pkg/kubesphere"
	"github.com/ksbuilder/ksbuilder/pkg/kubesphere/extensions"
	"github.com/ksbuilder/ksbuilder/pkg/manifest"
	"github.com/ksbuilder/ksbuilder/pkg/units"
)

// This file reads the objects an extension plugs into KubeSphere with
// (JSBundle, APIService, ReverseProxy, ExtensionEntry) from the cluster,
// checks a chart's against other extensions' before installing, and
// summarises their state for "status".

// KindsForbiddenError is a list of one of the kinds the credentials may
// not read.
type KindsForbiddenError struct {
	Resource string
	Err      error
}

func (e *KindsForbiddenError) Error() string {
	return fmt.Sprintf("cannot list %s.%s: %v", e.Resource, extensions.GroupVersion.Group, oneLine(e.Err))
}

func (e *KindsForbiddenError) Unwrap() error { return e.Err }

// ExtensionObjects lists the cluster's JSBundles, APIServices,
// ReverseProxies and ExtensionEntries: with extension set, only those
// labelled kubesphere.io/extension-ref=<extension> (KubeSphere's installer
// labels every object of an extension's chart so). A kind whose CRD is not
// installed (no KubeSphere) has no objects. A list refused by RBAC is a
// *KindsForbiddenError.
func (c *Client) ExtensionObjects(ctx context.Context, extension string) (*extensions.Objects, error) {
	return c.listKinds(ctx, extension, allKinds)
}

// kindSet says which of the four kinds to list.
type kindSet struct{ bundles, apis, proxies, entries bool }

var allKinds = kindSet{true, true, true, true}

// kindsOf is the set of kinds objs has objects of.
func kindsOf(objs *extensions.Objects) kindSet {
	return kindSet{len(objs.JSBundles) > 0, len(objs.APIServices) > 0, len(objs.ReverseProxies) > 0, len(objs.ExtensionEntries) > 0}
}

// listKinds lists the kinds of a set at once, labelled with extension
// when it is set.
func (c *Client) listKinds(ctx context.Context, extension string, kinds kindSet) (*extensions.Objects, error) {
	opts := metav1.ListOptions{}
	if extension != "" {
		opts.LabelSelector = kubesphere.LabelExtensionRef + "=" + extension
	}
	out := &extensions.Objects{}
	type list struct {
		resource string
		into     runtime.Object
	}
	var lists []list
	for _, l := range []struct {
		want bool
		list
	}{
		{kinds.bundles, list{extensions.ResourceJSBundles, &extensions.JSBundleList{}}},
		{kinds.apis, list{extensions.ResourceAPIServices, &extensions.APIServiceList{}}},
		{kinds.proxies, list{extensions.ResourceReverseProxies, &extensions.ReverseProxyList{}}},
		{kinds.entries, list{extensions.ResourceExtensionEntries, &extensions.ExtensionEntryList{}}},
	} {
		if l.want {
			lists = append(lists, l.list)
		}
	}
	errs := make([]error, len(lists))
	var wg sync.WaitGroup
	for i, l := range lists {
		wg.Go(func() {
			err := c.ext.Get().Resource(l.resource).VersionedParams(&opts, c.params).Do(ctx).Into(l.into)
			switch {
			case apierrors.IsNotFound(err):
			case apierrors.IsForbidden(err):
				errs[i] = &KindsForbiddenError{Resource: l.resource, Err: err}
			case err != nil:
				errs[i] = c.explain(err)
			}
		})
	}
	wg.Wait()
	for i, l := range lists {
		if errs[i] != nil {
			return nil, errs[i]
		}
		switch list := l.into.(type) {
		case *extensions.JSBundleList:
			out.JSBundles = list.Items
		case *extensions.APIServiceList:
			out.APIServices = list.Items
		case *extensions.ReverseProxyList:
			out.ReverseProxies = list.Items
		case *extensions.ExtensionEntryList:
			out.ExtensionEntries = list.Items
		}
	}
	return out, nil
}

// renderedKinds reads the objects of the four kinds from a render.
func renderedKinds(r *manifest.Release) *extensions.Objects {
	out := &extensions.Objects{}
	objs, _ := r.Objects()
	for _, o := range objs {
		// One that does not decode is refused by the API server at install;
		// the render checks and lint report it.
		_, _ = out.Add(o.Content)
	}
	return out
}

// checkConflicts lists the objects of other extensions on the cluster that
// KubeSphere's webhooks would refuse the chart's objects (ours) for, as
// problems of check, one line each with the fix. Without the kinds' CRDs
// there is nothing to check; a list refused by RBAC is a warning.
func (c *Client) checkConflicts(ctx context.Context, name string, ours *extensions.Objects, check *CheckError) (warning string, err error) {
	if ours == nil || ours.Len() == 0 {
		return "", nil
	}
	// Only the kinds the chart renders: each list costs a request.
	theirs, err := c.listKinds(ctx, "", kindsOf(ours))
	if err != nil {
		var forbidden *KindsForbiddenError
		if errors.As(err, &forbidden) {
			return fmt.Sprintf("not checking the extension's JSBundles, APIServices, ReverseProxies and ExtensionEntries against other extensions': %v (\"ksbuilder doctor\" lists the permissions ksbuilder needs)", forbidden), nil
		}
		return "", err
	}
	for _, conflict := range extensions.Conflicts(ours, name, theirs.Without(name)) {
		check.Problems = append(check.Problems, conflict.String()+"; "+conflictFix(conflict, name))
	}
	return "", nil
}

// conflictFix says how to resolve a conflict.
func conflictFix(c extensions.Conflict, name string) string {
	other := "delete " + c.Kind + " " + c.Other
	if c.OtherExtension != "" {
		other = "uninstall " + c.OtherExtension
	}
	switch c.Kind {
	case extensions.KindJSBundle:
		return fmt.Sprintf("KubeSphere refuses two bundles with one link: set another status.link under %s%s/, or %s", extensions.BundlePathPrefix, name, other)
	case extensions.KindAPIService:
		return "KubeSphere refuses a second APIService for one group and version: use a group of your own (e.g. " + name + ".kubesphere.io), or " + other
	case extensions.KindReverseProxy:
		return fmt.Sprintf("KubeSphere refuses overlapping matchers: match a path of your own (e.g. %s/%s/*), or %s", extensions.ProxyPathPrefix, name, other)
	}
	return "KubeSphere refuses entry names and links used by another ExtensionEntry: rename them, or " + other
}

// ObjectStatus is one of an extension's JSBundles, APIServices,
// ReverseProxies and ExtensionEntries, as "status" shows it.
type ObjectStatus struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
	// State is what KubeSphere set: Available, Disabled, or None before it
	// acted (KubeSphere sets it once the release is installed).
	State string `json:"state"`
	// Serves is what the object serves: a bundle's link, an APIService's
	// /kapis/GROUP/VERSION, a proxy's METHOD PATH, an entry's names.
	Serves string `json:"serves,omitempty"`
}

// StateNone is the state of an object KubeSphere has not acted on yet.
const StateNone = "None"

// ObjectStatuses summarises an extension's objects, in kind order then
// as listed (by name).
func ObjectStatuses(objs *extensions.Objects) []ObjectStatus {
	if objs == nil {
		return nil
	}
	state := func(s string) string {
		if s == "" {
			return StateNone
		}
		return s
	}
	var out []ObjectStatus
	for _, b := range objs.JSBundles {
		out = append(out, ObjectStatus{Kind: extensions.KindJSBundle, Name: b.Name, State: state(b.Status.State), Serves: b.Status.Link})
	}
	for _, a := range objs.APIServices {
		out = append(out, ObjectStatus{Kind: extensions.KindAPIService, Name: a.Name, State: state(a.Status.State), Serves: "/kapis/" + a.Spec.Group + "/" + a.Spec.Version})
	}
	for _, p := range objs.ReverseProxies {
		out = append(out, ObjectStatus{Kind: extensions.KindReverseProxy, Name: p.Name, State: state(p.Status.State), Serves: strings.TrimSpace(p.Spec.Matcher.Method + " " + p.Spec.Matcher.Path)})
	}
	for _, e := range objs.ExtensionEntries {
		var names []string
		for _, k := range extensions.EntryKeys(&e) {
			if k.Link != "" {
				names = append(names, k.Name+" ("+k.Link+")")
			} else {
				names = append(names, k.Name)
			}
		}
		out = append(out, ObjectStatus{Kind: extensions.KindExtensionEntry, Name: e.Name, State: state(e.Status.State), Serves: strings.Join(names, ", ")})
	}
	return out
}

// JSBundles lists an extension's JSBundles (labelled
// kubesphere.io/extension-ref=<extension>); none without the kind's CRD.
func (c *Client) JSBundles(ctx context.Context, extension string) ([]extensions.JSBundle, error) {
	objs, err := c.listKinds(ctx, extension, kindSet{bundles: true})
	if err != nil {
		return nil, err
	}
	return objs.JSBundles, nil
}

// ConfigMapKey reads a key of a ConfigMap (data, else binaryData). A
// missing ConfigMap is an error for which apierrors.IsNotFound is true.
func (c *Client) ConfigMapKey(ctx context.Context, namespace, name, key string) ([]byte, bool, error) {
	cm, err := c.core.CoreV1().ConfigMaps(namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, false, c.explain(err)
	}
	if v, ok := cm.Data[key]; ok {
		return []byte(v), true, nil
	}
	v, ok := cm.BinaryData[key]
	return v, ok, nil
}

// MaxConfigMapSize is the most a ConfigMap holds.
const MaxConfigMapSize = 1 << 20

// ApplyConfigMapKey sets one key of an existing ConfigMap by server-side
// apply as ksbuilder's field manager (taking the field over from Helm);
// the ConfigMap's other keys are left alone. Text goes to data, anything
// else to binaryData. It never creates the ConfigMap: a missing one is an
// error for which apierrors.IsNotFound is true.
func (c *Client) ApplyConfigMapKey(ctx context.Context, namespace, name, key string, value []byte) error {
	if len(value) > MaxConfigMapSize {
		return fmt.Errorf("%s is more than a ConfigMap holds (1 MiB): serve the bundle from a Service (rawFrom.service or rawFrom.url) instead", units.FormatBytes(int64(len(value))))
	}
	if _, err := c.core.CoreV1().ConfigMaps(namespace).Get(ctx, name, metav1.GetOptions{}); err != nil {
		return c.explain(err)
	}
	obj := map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": name, "namespace": namespace}}
	if utf8.Valid(value) {
		obj["data"] = map[string]string{key: string(value)}
	} else {
		obj["binaryData"] = map[string][]byte{key: value}
	}
	body, err := json.Marshal(obj)
	if err != nil {
		return err
	}
	force := true
	_, err = c.core.CoreV1().ConfigMaps(namespace).Patch(ctx, name, types.ApplyPatchType, body, metav1.PatchOptions{FieldManager: FieldManager, Force: &force})
	if err != nil {
		return fmt.Errorf("updating ConfigMap %s/%s: %w", namespace, name, c.explain(err))
	}
	return nil
}
