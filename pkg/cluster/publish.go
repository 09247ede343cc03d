package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/Masterminds/semver/v3"
	"helm.sh/helm/v3/pkg/chart"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	"github.com/ksbuilder/ksbuilder/pkg/extension"
	"github.com/ksbuilder/ksbuilder/pkg/kubesphere"
	"github.com/ksbuilder/ksbuilder/pkg/packager"
	"github.com/ksbuilder/ksbuilder/pkg/units"
)

// MaxChartSize is the largest chart publish accepts. A ConfigMap holds at
// most 1 MiB, and KubeSphere's installer copies the chart into a ConfigMap of
// its own next to the values, a kubeconfig and a few scripts; this leaves
// room for those.
const MaxChartSize = packager.MaxSize - 32*units.KiB

// ChartTooLargeError is returned for a chart that would not fit a ConfigMap.
type ChartTooLargeError struct {
	Name, Version string
	Size          int64
}

func (e *ChartTooLargeError) Error() string {
	return fmt.Sprintf("the chart of %s %s is %s; a published chart must stay under %s to fit a ConfigMap with room for the installer's own files (list files the chart does not need in .helmignore)",
		e.Name, e.Version, units.FormatBytes(e.Size), units.FormatBytes(MaxChartSize))
}

// Publication is the set of objects that publishes one extension version:
// the chart ConfigMap, the ExtensionVersion and the Extension, in the order
// they are written.
type Publication struct {
	// ConfigMap holds the chart; nil when the chart is in an OCI registry.
	ConfigMap *corev1.ConfigMap
	Version   *kubesphere.ExtensionVersion
	Extension *kubesphere.Extension
	// Chart is the packaged chart, for checks before installing.
	Chart *chart.Chart
}

// NewPublication builds the objects for a package. created is recorded as
// the version's creation time unless the version is already published.
func NewPublication(pkg *packager.Package, created time.Time) (*Publication, error) {
	ext := pkg.Extension
	if size := pkg.Size(); size > MaxChartSize {
		return nil, &ChartTooLargeError{Name: ext.Name, Version: ext.Version, Size: size}
	}
	cmName := kubesphere.ChartConfigMapName(ext.Name, ext.Version)
	p := newPublication(pkg, created)
	p.ConfigMap = &corev1.ConfigMap{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{
			Name: cmName, Namespace: kubesphere.SystemNamespace,
			Labels: map[string]string{kubesphere.LabelExtensionRef: ext.Name},
		},
		BinaryData: map[string][]byte{kubesphere.ChartKey: pkg.Data},
	}
	p.Version.Spec.ChartDataRef = &kubesphere.ChartDataRef{Namespace: kubesphere.SystemNamespace, Name: cmName, Key: kubesphere.ChartKey}
	return p, nil
}

// NewOCIPublication builds the objects for a package kept in an OCI
// registry: the ExtensionVersion's chartURL is chartURL
// (oci://HOST/REPO/NAME:VERSION), and there is no ConfigMap.
func NewOCIPublication(pkg *packager.Package, chartURL string, created time.Time) *Publication {
	p := newPublication(pkg, created)
	p.Version.Spec.ChartURL = chartURL
	return p
}

// newPublication builds the ExtensionVersion, with no chart location, and
// the Extension.
func newPublication(pkg *packager.Package, created time.Time) *Publication {
	ext := pkg.Extension
	info := kubesphere.ExtensionInfo{
		DisplayName: kubesphere.Locales(ext.DisplayName),
		Description: kubesphere.Locales(ext.Description),
		Icon:        pkg.Chart.Metadata.Icon,
		Created:     metav1.NewTime(created.UTC().Truncate(time.Second)),
	}
	if len(ext.Provider) > 0 {
		info.Provider = map[string]kubesphere.Provider{}
		for lang, p := range ext.Provider {
			info.Provider[lang] = kubesphere.Provider{Name: p.Name, URL: p.URL, Email: p.Email}
		}
	}
	version := &kubesphere.ExtensionVersion{
		TypeMeta: metav1.TypeMeta{APIVersion: kubesphere.GroupVersion.String(), Kind: "ExtensionVersion"},
		ObjectMeta: metav1.ObjectMeta{
			Name:        kubesphere.ExtensionVersionName(ext.Name, ext.Version),
			Labels:      map[string]string{kubesphere.LabelExtensionRef: ext.Name, kubesphere.LabelCategory: ext.Category},
			Annotations: ext.Annotations,
		},
		Spec: kubesphere.ExtensionVersionSpec{
			ExtensionInfo:        info,
			Version:              ext.Version,
			Keywords:             ext.Keywords,
			Sources:              ext.Sources,
			Category:             ext.Category,
			KubeVersion:          ext.KubeVersion,
			KSVersion:            ext.KSVersion,
			Home:                 ext.Home,
			Docs:                 ext.Docs,
			Screenshots:          ext.Screenshots,
			Namespace:            ext.Namespace,
			InstallationMode:     string(ext.Mode()),
			ExternalDependencies: externalDependencies(ext.ExternalDependencies),
		},
	}
	return &Publication{
		Chart:   pkg.Chart,
		Version: version,
		Extension: &kubesphere.Extension{
			TypeMeta: metav1.TypeMeta{APIVersion: kubesphere.GroupVersion.String(), Kind: "Extension"},
			ObjectMeta: metav1.ObjectMeta{
				Name:   ext.Name,
				Labels: map[string]string{kubesphere.LabelCategory: ext.Category, kubesphere.LabelManaged: "true"},
			},
			Spec: kubesphere.ExtensionSpec{ExtensionInfo: info},
		},
	}
}

func externalDependencies(deps []extension.ExternalDependency) []kubesphere.ExternalDependency {
	var out []kubesphere.ExternalDependency
	for _, d := range deps {
		out = append(out, kubesphere.ExternalDependency{Name: d.Name, Type: d.Type, Version: d.Version, Required: d.IsRequired()})
	}
	return out
}

// Objects returns the objects in the order they are written.
func (p *Publication) Objects() []runtime.Object {
	if p.ConfigMap == nil {
		return []runtime.Object{p.Version, p.Extension}
	}
	return []runtime.Object{p.ConfigMap, p.Version, p.Extension}
}

// setCreated records when the version was first published, in both the
// version and the extension.
func (p *Publication) setCreated(t metav1.Time) {
	p.Version.Spec.Created = t
	p.Extension.Spec.Created = t
}

// Action says what a write did to an object.
type Action string

// Actions, as kubectl names them.
const (
	Created    Action = "created"
	Configured Action = "configured"
	Unchanged  Action = "unchanged"
	Deleted    Action = "deleted"
	// Kept means the object was left as it was on purpose.
	Kept Action = "kept"
)

// ObjectResult is what happened to one object.
type ObjectResult struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
	Action    Action `json:"action"`
	// Reason explains a Kept object, or why an object is Deleted.
	Reason string `json:"reason,omitempty"`
	// DryRun is true when nothing was done: Action is what would happen.
	DryRun bool `json:"dryRun,omitempty"`
}

// PublishResult lists what publishing wrote, and warnings.
type PublishResult struct {
	Objects  []ObjectResult `json:"objects"`
	Warnings []string       `json:"warnings"`
	// ChartChanged is true when the chart bytes differ from the ones
	// already published under the same version.
	ChartChanged bool `json:"-"`
}

// Publish creates or updates the chart ConfigMap, the ExtensionVersion and
// the Extension, in that order, with server-side apply. Publishing the same
// package again changes nothing. The Extension is left alone when a newer
// version is already published, since it describes the newest version.
func (c *Client) Publish(ctx context.Context, p *Publication) (*PublishResult, error) {
	if err := c.requireKubeSphere(ctx); err != nil {
		return nil, err
	}
	if _, err := c.core.CoreV1().Namespaces().Get(ctx, kubesphere.SystemNamespace, metav1.GetOptions{}); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("%s has no namespace %s, where published charts are kept: is KubeSphere installed?", c.describe(), kubesphere.SystemNamespace)
		}
		return nil, c.explain(err)
	}
	name, version := p.Extension.Name, p.Version.Spec.Version
	res := &PublishResult{Warnings: []string{}}

	existing := &kubesphere.ExtensionVersion{}
	switch err := c.get(ctx, kubesphere.ResourceExtensionVersions, p.Version.Name, existing); {
	case err == nil:
		if !existing.Spec.Created.IsZero() {
			p.setCreated(existing.Spec.Created)
		}
	case !apierrors.IsNotFound(err):
		return nil, err
	}
	// replaced is the chart ConfigMap of a version in a registry: the one
	// the version used so far, else the one publish would have written (left
	// behind by an earlier move).
	var replaced *kubesphere.ChartDataRef
	if p.ConfigMap == nil {
		replaced = existing.Spec.ChartDataRef
		if replaced == nil {
			replaced = &kubesphere.ChartDataRef{Namespace: kubesphere.SystemNamespace, Name: kubesphere.ChartConfigMapName(name, version), Key: kubesphere.ChartKey}
		}
	}
	others, err := c.versions(ctx, name)
	if err != nil {
		return nil, err
	}
	newer := ""
	for _, other := range others {
		if other.Spec.Version == version {
			continue
		}
		if ns, otherNS := p.Version.TargetNamespace(name), other.TargetNamespace(name); ns != otherNS {
			res.Warnings = append(res.Warnings, fmt.Sprintf(
				"%s %s installs into namespace %s but the published %s uses %s; KubeSphere cannot upgrade across a namespace change",
				name, version, ns, other.Spec.Version, otherNS))
		}
		if semverLess(version, other.Spec.Version) && semverLess(newer, other.Spec.Version) {
			newer = other.Spec.Version
		}
	}

	if p.ConfigMap != nil {
		cmRes, changed, err := c.applyConfigMap(ctx, p.ConfigMap)
		if err != nil {
			return nil, err
		}
		res.ChartChanged = changed
		res.Objects = append(res.Objects, cmRes)
	}

	evRes, err := c.applyObject(ctx, kubesphere.ResourceExtensionVersions, "ExtensionVersion", p.Version, &kubesphere.ExtensionVersion{}, &kubesphere.ExtensionVersion{})
	if err != nil {
		return nil, err
	}
	res.Objects = append(res.Objects, evRes)
	if replaced != nil {
		cmRes, err := c.deleteReplacedChart(ctx, p.Version, replaced, others)
		if err != nil {
			return nil, err
		}
		if cmRes != nil {
			res.Objects = append(res.Objects, *cmRes)
		}
	}

	if newer != "" {
		// Keep the Extension (it describes the newest version) unless it is
		// missing.
		switch err := c.get(ctx, kubesphere.ResourceExtensions, name, &kubesphere.Extension{}); {
		case err == nil:
			res.Objects = append(res.Objects, ObjectResult{Kind: "Extension", Name: name, Action: Kept,
				Reason: fmt.Sprintf("it describes the newer version %s", newer)})
			return res, nil
		case !apierrors.IsNotFound(err):
			return nil, err
		}
	}
	extRes, err := c.applyObject(ctx, kubesphere.ResourceExtensions, "Extension", p.Extension, &kubesphere.Extension{}, &kubesphere.Extension{})
	if err != nil {
		return nil, err
	}
	res.Objects = append(res.Objects, extRes)
	return res, nil
}

// applyConfigMap applies the chart ConfigMap and reports whether its chart
// bytes changed.
func (c *Client) applyConfigMap(ctx context.Context, cm *corev1.ConfigMap) (ObjectResult, bool, error) {
	res := ObjectResult{Kind: "ConfigMap", Namespace: cm.Namespace, Name: cm.Name}
	cms := c.core.CoreV1().ConfigMaps(cm.Namespace)
	before, err := cms.Get(ctx, cm.Name, metav1.GetOptions{})
	existed := err == nil
	if err != nil && !apierrors.IsNotFound(err) {
		return res, false, c.explain(err)
	}
	body, err := json.Marshal(cm)
	if err != nil {
		return res, false, err
	}
	force := true
	after, err := cms.Patch(ctx, cm.Name, types.ApplyPatchType, body, metav1.PatchOptions{FieldManager: FieldManager, Force: &force})
	if err != nil {
		return res, false, fmt.Errorf("writing ConfigMap %s/%s: %w", cm.Namespace, cm.Name, c.explain(err))
	}
	res.Action = writeAction(existed, before, after)
	changed := !existed || !bytes.Equal(before.BinaryData[kubesphere.ChartKey], cm.BinaryData[kubesphere.ChartKey])
	return res, changed, nil
}

// deleteReplacedChart deletes the ConfigMap a version took its chart from
// before it moved to an OCI registry, once the ExtensionVersion no longer
// points at it: only the one publish created (its name, label and field
// manager), and only when no other version uses it. It returns nil when
// there is no such ConfigMap.
func (c *Client) deleteReplacedChart(ctx context.Context, ev *kubesphere.ExtensionVersion, ref *kubesphere.ChartDataRef, others []kubesphere.ExtensionVersion) (*ObjectResult, error) {
	res := &ObjectResult{Kind: "ConfigMap", Namespace: ref.Namespace, Name: ref.Name}
	cms := c.core.CoreV1().ConfigMaps(ref.Namespace)
	cm, err := cms.Get(ctx, ref.Name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return nil, nil
	case err != nil:
		return nil, c.explain(err)
	}
	name := ev.Labels[kubesphere.LabelExtensionRef]
	if !publishedChart(cm, name, ev.Spec.Version) {
		res.Action, res.Reason = Kept, fmt.Sprintf("ExtensionVersion %s no longer uses it, but ksbuilder publish did not create it", ev.Name)
		return res, nil
	}
	for _, other := range others {
		if r := other.Spec.ChartDataRef; other.Name != ev.Name && r != nil && r.Namespace == ref.Namespace && r.Name == ref.Name {
			res.Action, res.Reason = Kept, fmt.Sprintf("ExtensionVersion %s uses it", other.Name)
			return res, nil
		}
	}
	// Delete what was checked, not a ConfigMap written since.
	pre := metav1.Preconditions{UID: &cm.UID, ResourceVersion: &cm.ResourceVersion}
	if err := cms.Delete(ctx, cm.Name, metav1.DeleteOptions{Preconditions: &pre}); err != nil && !apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("deleting ConfigMap %s/%s, which held the chart of %s before it moved to %s: %w",
			cm.Namespace, cm.Name, ev.Name, ev.Spec.ChartURL, c.explain(err))
	}
	res.Action, res.Reason = Deleted, "the chart is now in "+ev.Spec.ChartURL
	return res, nil
}

// publishedChart reports whether a ConfigMap is the chart ConfigMap
// publish wrote for a version: its name, its extension label, and written
// with ksbuilder's field manager.
func publishedChart(cm *corev1.ConfigMap, name, version string) bool {
	if cm.Namespace != kubesphere.SystemNamespace || cm.Name != kubesphere.ChartConfigMapName(name, version) ||
		cm.Labels[kubesphere.LabelExtensionRef] != name {
		return false
	}
	for _, mf := range cm.ManagedFields {
		if mf.Manager == FieldManager && mf.Operation == metav1.ManagedFieldsOperationApply {
			return true
		}
	}
	return false
}

// applyObject applies a kubesphere.io object and says what changed. before
// and after are empty objects of the same kind to decode into.
func (c *Client) applyObject(ctx context.Context, resource, kind string, obj, before, after object) (ObjectResult, error) {
	res := ObjectResult{Kind: kind, Name: obj.GetName()}
	err := c.get(ctx, resource, obj.GetName(), before)
	existed := err == nil
	if err != nil && !apierrors.IsNotFound(err) {
		return res, err
	}
	body, err := json.Marshal(obj)
	if err != nil {
		return res, err
	}
	if err := c.apply(ctx, resource, obj.GetName(), body, after); err != nil {
		return res, fmt.Errorf("writing %s %s: %w", kind, obj.GetName(), err)
	}
	res.Action = writeAction(existed, before, after)
	return res, nil
}

// object is a Kubernetes object with metadata.
type object interface {
	metav1.Object
	runtime.Object
}

// writeAction compares resource versions around a write.
func writeAction(existed bool, before, after metav1.Object) Action {
	switch {
	case !existed:
		return Created
	case before.GetResourceVersion() != after.GetResourceVersion():
		return Configured
	}
	return Unchanged
}

// versions lists the published versions of an extension.
func (c *Client) versions(ctx context.Context, name string) ([]kubesphere.ExtensionVersion, error) {
	list := &kubesphere.ExtensionVersionList{}
	err := c.list(ctx, kubesphere.ResourceExtensionVersions, metav1.ListOptions{LabelSelector: kubesphere.LabelExtensionRef + "=" + name}, list)
	if err != nil {
		return nil, err
	}
	return list.Items, nil
}

// semverLess reports whether a < b as semantic versions; an empty or
// invalid version sorts first.
func semverLess(a, b string) bool {
	va, errA := semver.NewVersion(a)
	vb, errB := semver.NewVersion(b)
	switch {
	case errB != nil:
		return false
	case errA != nil:
		return true
	}
	return va.LessThan(vb)
}
