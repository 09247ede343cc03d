package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"
	"helm.sh/helm/v3/pkg/chart"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/util/retry"

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
// the Extension, in that order, the first two with server-side apply.
// Publishing the same package again changes nothing. The Extension
// describes the newest published version: it is left alone when a newer
// version is published, even by a concurrent publish.
//
// Every check the server can make without a write (sizes, and a dry run of
// the ExtensionVersion and Extension writes) is made before the first
// write. When a write fails all the same, the writes before it are undone,
// and the *PublishError says what, if anything, is left changed.
func (c *Client) Publish(ctx context.Context, p *Publication) (*PublishResult, error) {
	if err := c.requireKubeSphere(ctx); err != nil {
		return nil, err
	}
	if err := c.systemNamespaceExists(ctx); err != nil {
		return nil, err
	}
	name, version := p.Extension.Name, p.Version.Spec.Version
	res := &PublishResult{Warnings: []string{}}

	existing := &kubesphere.ExtensionVersion{}
	switch err := c.get(ctx, kubesphere.ResourceExtensionVersions, p.Version.Name, existing); {
	case err == nil:
		if !existing.Spec.Created.IsZero() {
			p.setCreated(existing.Spec.Created)
		}
		if by := c.servedBy(ctx, existing); by != nil {
			res.Warnings = append(res.Warnings, repositoryVersionWarning(p, existing, by))
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
	for _, other := range others {
		if other.Spec.Version == version {
			continue
		}
		if ns, otherNS := p.Version.TargetNamespace(name), other.TargetNamespace(name); ns != otherNS {
			res.Warnings = append(res.Warnings, fmt.Sprintf(
				"%s %s installs into namespace %s but the published %s uses %s; KubeSphere cannot upgrade across a namespace change",
				name, version, ns, other.Spec.Version, otherNS))
		}
	}
	if err := c.checkPublication(ctx, p); err != nil {
		return nil, err
	}

	var done []*write
	fail := func(err error) (*PublishResult, error) {
		return nil, c.undo(ctx, err, done)
	}
	if p.ConfigMap != nil {
		w, changed, err := c.applyConfigMap(ctx, p.ConfigMap, name, version)
		if err != nil {
			return nil, err
		}
		res.ChartChanged = changed
		res.Objects = append(res.Objects, w.result)
		done = append(done, w)
	}

	w, err := c.applyObject(ctx, kubesphere.ResourceExtensionVersions, "ExtensionVersion", p.Version, &kubesphere.ExtensionVersion{}, &kubesphere.ExtensionVersion{})
	if err != nil {
		return fail(err)
	}
	res.Objects = append(res.Objects, w.result)
	done = append(done, w)
	if replaced != nil {
		cmRes, err := c.deleteReplacedChart(ctx, p.Version, replaced, others)
		if err != nil {
			return nil, err
		}
		if cmRes != nil {
			res.Objects = append(res.Objects, *cmRes)
		}
	}

	w, err = c.writeExtension(ctx, p)
	if err != nil {
		return fail(err)
	}
	res.Objects = append(res.Objects, w.result)
	return res, nil
}

// readSystemNamespace checks that the kubesphere-system namespace, where
// published charts are kept, exists.
func (c *Client) readSystemNamespace(ctx context.Context) error {
	if _, err := c.core.CoreV1().Namespaces().Get(ctx, kubesphere.SystemNamespace, metav1.GetOptions{}); err != nil {
		if apierrors.IsNotFound(err) {
			return fmt.Errorf("%s has no namespace %s, where published charts are kept: is KubeSphere installed?", c.describe(), kubesphere.SystemNamespace)
		}
		return c.explain(err)
	}
	return nil
}

// MaxObjectSize is the largest ExtensionVersion or Extension publish
// writes: KubeSphere keeps them in etcd, which refuses a request over 1.5
// MiB by default, and the server adds metadata of its own.
const MaxObjectSize = units.MiB

// ObjectTooLargeError is an ExtensionVersion or Extension too large to
// store, found before anything is written.
type ObjectTooLargeError struct {
	Kind, Name string
	Size       int64
	// IconSize is the size of the icon (often a data: URI) in it.
	IconSize int64
}

func (e *ObjectTooLargeError) Error() string {
	fix := "shorten its descriptions in extension.yaml"
	if e.IconSize > e.Size/2 {
		fix = fmt.Sprintf("its icon takes %s of it: use a smaller icon, or an http(s) URL, in extension.yaml", units.FormatBytes(e.IconSize))
	}
	return fmt.Sprintf("%s %s would take %s, over the %s publish allows (etcd refuses large objects); %s",
		e.Kind, e.Name, units.FormatBytes(e.Size), units.FormatBytes(MaxObjectSize), fix)
}

// checkPublication makes every check the server can make without a
// write, so a publication the server refuses changes nothing: the size of
// the ExtensionVersion and the Extension, and a dry run of their writes
// (the CRD schema, admission, permissions). The ConfigMap, the first
// write, needs no dry run.
func (c *Client) checkPublication(ctx context.Context, p *Publication) error {
	for _, o := range []struct {
		kind string
		obj  object
		info *kubesphere.ExtensionInfo
	}{{"ExtensionVersion", p.Version, &p.Version.Spec.ExtensionInfo}, {"Extension", p.Extension, &p.Extension.Spec.ExtensionInfo}} {
		body, err := json.Marshal(o.obj)
		if err != nil {
			return err
		}
		if size := int64(len(body)); size > MaxObjectSize {
			return &ObjectTooLargeError{Kind: o.kind, Name: o.obj.GetName(), Size: size, IconSize: int64(len(o.info.Icon))}
		}
	}
	body, err := json.Marshal(p.Version)
	if err != nil {
		return err
	}
	if err := c.ks.Patch(types.ApplyPatchType).Resource(kubesphere.ResourceExtensionVersions).Name(p.Version.Name).
		Param("fieldManager", FieldManager).Param("force", "true").Param("dryRun", metav1.DryRunAll).
		Body(body).Do(ctx).Error(); err != nil {
		return fmt.Errorf("the server refuses ExtensionVersion %s (nothing was written): %w", p.Version.Name, c.explain(err))
	}
	current, err := c.getRaw(ctx, kubesphere.ResourceExtensions, p.Extension.Name)
	if err != nil {
		return err
	}
	if _, err := c.putExtension(ctx, current, p.Extension, true); err != nil && !apierrors.IsConflict(err) && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("the server refuses Extension %s (nothing was written): %w", p.Extension.Name, err)
	}
	return nil
}

// write is an object publish wrote, and how to put it back.
type write struct {
	result ObjectResult
	// undo puts the object back as it was; nil when nothing changed.
	undo func(ctx context.Context) error
	// undone says what undo did, e.g. "deleted (publish created it)".
	undone string
	// left says what stays changed when undo fails.
	left string
}

// PublishError is a publish that failed after its first write: the writes
// before the failed one were undone (Undone), except those listed in Left.
type PublishError struct {
	// Err is the write that failed.
	Err error
	// Undone says, for each object put back as it was, what was done.
	Undone []string
	// Left says, for each object still changed, what it holds and why it
	// could not be put back.
	Left []string
}

func (e *PublishError) Error() string {
	msg := e.Err.Error()
	if len(e.Undone) > 0 {
		msg += "; undone: " + strings.Join(e.Undone, ", ")
	}
	if len(e.Left) == 0 {
		return msg + "; nothing else was changed"
	}
	return msg + "; left changed: " + strings.Join(e.Left, "; ") + " (publish again, or unpublish the version)"
}

func (e *PublishError) Unwrap() error { return e.Err }

// undo puts back what the writes changed, newest first, and returns the
// error that says what is left. It runs even when ctx is canceled (an
// interrupted publish still cleans up), for a bounded time.
func (c *Client) undo(ctx context.Context, err error, done []*write) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), undoTimeout)
	defer cancel()
	perr := &PublishError{Err: err}
	for i := len(done) - 1; i >= 0; i-- {
		w := done[i]
		if w.undo == nil {
			continue
		}
		name := w.result.Kind + " " + w.result.Name
		if w.result.Namespace != "" {
			name = w.result.Kind + " " + w.result.Namespace + "/" + w.result.Name
		}
		if uerr := w.undo(ctx); uerr != nil {
			perr.Left = append(perr.Left, fmt.Sprintf("%s %s (putting it back failed: %v)", name, w.left, c.explain(uerr)))
			continue
		}
		perr.Undone = append(perr.Undone, name+" "+w.undone)
	}
	return perr
}

// undoTimeout bounds the undoing of a failed publish.
const undoTimeout = 30 * time.Second

// applyConfigMap applies the chart ConfigMap and reports whether its chart
// bytes changed.
func (c *Client) applyConfigMap(ctx context.Context, cm *corev1.ConfigMap, name, version string) (*write, bool, error) {
	w := &write{result: ObjectResult{Kind: "ConfigMap", Namespace: cm.Namespace, Name: cm.Name}}
	cms := c.core.CoreV1().ConfigMaps(cm.Namespace)
	before, err := cms.Get(ctx, cm.Name, metav1.GetOptions{})
	existed := err == nil
	if err != nil && !apierrors.IsNotFound(err) {
		return nil, false, c.explain(err)
	}
	body, err := json.Marshal(cm)
	if err != nil {
		return nil, false, err
	}
	force := true
	after, err := cms.Patch(ctx, cm.Name, types.ApplyPatchType, body, metav1.PatchOptions{FieldManager: FieldManager, Force: &force})
	if err != nil {
		return nil, false, fmt.Errorf("writing ConfigMap %s/%s: %w", cm.Namespace, cm.Name, c.explain(err))
	}
	w.result.Action = writeAction(existed, before, after)
	changed := !existed || !bytes.Equal(before.BinaryData[kubesphere.ChartKey], cm.BinaryData[kubesphere.ChartKey])
	switch w.result.Action {
	case Created:
		w.undone, w.left = "deleted (publish created it)", fmt.Sprintf("holds the chart of %s %s", name, version)
		w.undo = func(ctx context.Context) error {
			pre := metav1.Preconditions{UID: &after.UID, ResourceVersion: &after.ResourceVersion}
			return cms.Delete(ctx, after.Name, metav1.DeleteOptions{Preconditions: &pre})
		}
	case Configured:
		w.undone = "restored to what it held before"
		if changed {
			w.undone = "restored to the chart it held before"
		}
		w.left = fmt.Sprintf("holds the new chart of %s %s", name, version)
		w.undo = func(ctx context.Context) error {
			restore := before.DeepCopy()
			restore.ResourceVersion, restore.ManagedFields = after.ResourceVersion, nil
			_, err := cms.Update(ctx, restore, metav1.UpdateOptions{FieldManager: FieldManager})
			return err
		}
	}
	return w, changed, nil
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
func (c *Client) applyObject(ctx context.Context, resource, kind string, obj, before, after object) (*write, error) {
	w := &write{result: ObjectResult{Kind: kind, Name: obj.GetName()}}
	raw, err := c.getRaw(ctx, resource, obj.GetName())
	if err != nil {
		return nil, err
	}
	if raw != nil {
		if err := json.Unmarshal(raw, before); err != nil {
			return nil, err
		}
	}
	body, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	if err := c.apply(ctx, resource, obj.GetName(), body, after); err != nil {
		return nil, fmt.Errorf("writing %s %s: %w", kind, obj.GetName(), err)
	}
	w.result.Action = writeAction(raw != nil, before, after)
	c.setUndo(w, resource, raw, after)
	return w, nil
}

// setUndo records how to undo a write of a kubesphere.io object: delete
// what it created, or put back raw, what it replaced; either only while
// the object is still as written (after).
func (c *Client) setUndo(w *write, resource string, raw []byte, after object) {
	uid, rv := after.GetUID(), after.GetResourceVersion()
	switch w.result.Action {
	case Created:
		w.undone, w.left = "deleted (publish created it)", "was created by this publish"
		w.undo = func(ctx context.Context) error {
			opts := metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid, ResourceVersion: &rv}}
			return c.ks.Delete().Resource(resource).Name(w.result.Name).Body(&opts).Do(ctx).Error()
		}
	case Configured:
		w.undone, w.left = "restored to what it was before", "describes this publication"
		w.undo = func(ctx context.Context) error {
			restore := &unstructured.Unstructured{}
			if err := restore.UnmarshalJSON(raw); err != nil {
				return err
			}
			restore.SetResourceVersion(rv)
			restore.SetManagedFields(nil)
			body, err := restore.MarshalJSON()
			if err != nil {
				return err
			}
			return c.ks.Put().Resource(resource).Name(w.result.Name).Param("fieldManager", FieldManager).Body(body).Do(ctx).Error()
		}
	}
}

// getRaw reads a kubesphere.io object as the server sends it, so that
// writing it back loses no field; it returns nil when there is none.
func (c *Client) getRaw(ctx context.Context, resource, name string) ([]byte, error) {
	raw, err := c.ks.Get().Resource(resource).Name(name).Do(ctx).Raw()
	switch {
	case apierrors.IsNotFound(err):
		return nil, nil
	case err != nil:
		return nil, c.explain(err)
	}
	return raw, nil
}

// writeExtension makes the Extension describe the publication's version
// when it is the newest published one, or when there is no Extension. The
// Extension is read before the versions are listed, and written only if it
// has not changed since (created if still missing, replaced only at the
// resource version read), retrying on a conflict: so of concurrent
// publishes of several versions, the newest always has the last word.
func (c *Client) writeExtension(ctx context.Context, p *Publication) (*write, error) {
	name, version := p.Extension.Name, p.Version.Spec.Version
	var w *write
	retriable := func(err error) bool { return apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err) }
	err := retry.OnError(extensionBackoff, retriable, func() error {
		w = &write{result: ObjectResult{Kind: "Extension", Name: name}}
		raw, err := c.getRaw(ctx, kubesphere.ResourceExtensions, name)
		if err != nil {
			return err
		}
		versions, err := c.versions(ctx, name)
		if err != nil {
			return err
		}
		if newer := newestAbove(version, versions); newer != "" && raw != nil {
			w.result.Action, w.result.Reason = Kept, fmt.Sprintf("it describes the newer version %s", newer)
			return nil
		}
		after, err := c.putExtension(ctx, raw, p.Extension, false)
		if err != nil {
			return err
		}
		before := &kubesphere.Extension{}
		if raw != nil {
			if err := json.Unmarshal(raw, before); err != nil {
				return err
			}
		}
		w.result.Action = writeAction(raw != nil, before, after)
		c.setUndo(w, kubesphere.ResourceExtensions, raw, after)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("writing Extension %s: %w", name, err)
	}
	return w, nil
}

// extensionBackoff paces the retries of an Extension write that lost a
// race with another writer.
var extensionBackoff = wait.Backoff{Steps: 12, Duration: 10 * time.Millisecond, Factor: 1.5, Jitter: 1, Cap: time.Second}

// putExtension creates the Extension when current (its raw JSON) is nil,
// else replaces its spec and sets its labels, keeping everything else
// (status, other labels), at current's resource version: a write since
// current was read makes it fail with a conflict.
func (c *Client) putExtension(ctx context.Context, current []byte, ext *kubesphere.Extension, dryRun bool) (*kubesphere.Extension, error) {
	after := &kubesphere.Extension{}
	if current == nil {
		req := c.ks.Post().Resource(kubesphere.ResourceExtensions).Param("fieldManager", FieldManager)
		if dryRun {
			req = req.Param("dryRun", metav1.DryRunAll)
		}
		return after, c.explain(req.Body(ext).Do(ctx).Into(after))
	}
	obj := &unstructured.Unstructured{}
	if err := obj.UnmarshalJSON(current); err != nil {
		return nil, err
	}
	spec, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&ext.Spec)
	if err != nil {
		return nil, err
	}
	obj.Object["spec"] = spec
	labels := obj.GetLabels()
	if labels == nil {
		labels = map[string]string{}
	}
	maps.Copy(labels, ext.Labels)
	obj.SetLabels(labels)
	body, err := obj.MarshalJSON()
	if err != nil {
		return nil, err
	}
	req := c.ks.Put().Resource(kubesphere.ResourceExtensions).Name(ext.Name).Param("fieldManager", FieldManager)
	if dryRun {
		req = req.Param("dryRun", metav1.DryRunAll)
	}
	return after, c.explain(req.Body(body).Do(ctx).Into(after))
}

// newestAbove returns the newest of the versions newer than version, or
// "" when there is none.
func newestAbove(version string, versions []kubesphere.ExtensionVersion) string {
	newest := ""
	for _, v := range versions {
		if semverLess(version, v.Spec.Version) && semverLess(newest, v.Spec.Version) {
			newest = v.Spec.Version
		}
	}
	return newest
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
