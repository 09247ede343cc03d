package cluster_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/ksbuilder/ksbuilder/create"
	"github.com/ksbuilder/ksbuilder/pkg/cluster"
	"github.com/ksbuilder/ksbuilder/pkg/kubesphere"
)

// getObject reads a kubesphere.io object.
func getObject(t *testing.T, resource, name string, into any) error {
	t.Helper()
	_, dyn := kube(t)
	u, err := dyn.Resource(kubesphere.GroupVersion.WithResource(resource)).Get(testContext(t), name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	return runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, into)
}

// chartBytes reads the chart a published chart ConfigMap holds; nil when
// there is no ConfigMap.
func chartBytes(t *testing.T, pub *cluster.Publication) []byte {
	t.Helper()
	cs, _ := kube(t)
	cm, err := cs.CoreV1().ConfigMaps(pub.ConfigMap.Namespace).Get(testContext(t), pub.ConfigMap.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return cm.BinaryData[kubesphere.ChartKey]
}

// A version the CRD schema refuses is found by the dry run, before the
// chart ConfigMap is written.
func TestPublishChecksBeforeTheFirstWrite(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	ctx := testContext(t)
	dir := scaffold(t, "refused", create.Frontend)
	first := publication(t, dir)
	if _, err := c.Publish(ctx, first); err != nil {
		t.Fatal(err)
	}
	old := chartBytes(t, first)

	edit(t, dir, "README.md", func(s string) string { return s + "\nChanged.\n" })
	changed := publication(t, dir)
	changed.Version.Spec.InstallationMode = "Sideways"
	_, err := c.Publish(ctx, changed)
	if err == nil || !strings.Contains(err.Error(), "the server refuses ExtensionVersion refused-0.1.0 (nothing was written)") {
		t.Fatalf("got %v", err)
	}
	if !bytes.Equal(chartBytes(t, first), old) {
		t.Error("the refused publish replaced the chart")
	}

	// An object too large to store is refused before anything is written.
	huge := publication(t, scaffold(t, "huge-icon", create.Frontend))
	icon := "data:image/png;base64," + strings.Repeat("A", int(cluster.MaxObjectSize))
	huge.Version.Spec.Icon, huge.Extension.Spec.Icon = icon, icon
	_, err = c.Publish(ctx, huge)
	var tooLarge *cluster.ObjectTooLargeError
	if !errors.As(err, &tooLarge) || tooLarge.Kind != "ExtensionVersion" || !strings.Contains(err.Error(), "use a smaller icon") {
		t.Fatalf("got %v", err)
	}
	if chartBytes(t, huge) != nil {
		t.Error("the chart ConfigMap of a refused publication was created")
	}
}

// refuseWrites installs an admission policy that refuses every write of
// the named kubesphere.io objects except dry runs, as a webhook with side
// effects or a store limit would: the dry run passes, the write fails.
// probe is a name to wait with until the policy is in force.
func refuseWrites(t *testing.T, resource, probe string, names ...string) {
	t.Helper()
	ctx := testContext(t)
	cs, dyn := kube(t)
	policyName := "refuse-" + probe
	quoted := make([]string, 0, len(names)+1)
	for _, n := range append(names, probe) {
		quoted = append(quoted, "'"+n+"'")
	}
	fail := admissionv1.Fail
	policy := &admissionv1.ValidatingAdmissionPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: policyName},
		Spec: admissionv1.ValidatingAdmissionPolicySpec{
			FailurePolicy: &fail,
			MatchConstraints: &admissionv1.MatchResources{ResourceRules: []admissionv1.NamedRuleWithOperations{{
				RuleWithOperations: admissionv1.RuleWithOperations{
					Operations: []admissionv1.OperationType{admissionv1.Create, admissionv1.Update},
					Rule: admissionv1.Rule{APIGroups: []string{kubesphere.GroupVersion.Group}, APIVersions: []string{"*"},
						Resources: []string{resource}},
				},
			}}},
			Validations: []admissionv1.Validation{{
				Expression: "request.dryRun || !(object.metadata.name in [" + strings.Join(quoted, ", ") + "])",
				Message:    "refused by the test's admission policy",
			}},
		},
	}
	if _, err := cs.AdmissionregistrationV1().ValidatingAdmissionPolicies().Create(ctx, policy, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	binding := &admissionv1.ValidatingAdmissionPolicyBinding{
		ObjectMeta: metav1.ObjectMeta{Name: policyName},
		Spec: admissionv1.ValidatingAdmissionPolicyBindingSpec{
			PolicyName: policyName, ValidationActions: []admissionv1.ValidationAction{admissionv1.Deny},
		},
	}
	if _, err := cs.AdmissionregistrationV1().ValidatingAdmissionPolicyBindings().Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		_ = cs.AdmissionregistrationV1().ValidatingAdmissionPolicyBindings().Delete(ctx, policyName, metav1.DeleteOptions{})
		_ = cs.AdmissionregistrationV1().ValidatingAdmissionPolicies().Delete(ctx, policyName, metav1.DeleteOptions{})
	})
	// The policy takes effect once the server has loaded it.
	objects := dyn.Resource(kubesphere.GroupVersion.WithResource(resource))
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": kubesphere.GroupVersion.String(),
		"kind":       map[string]string{kubesphere.ResourceExtensionVersions: "ExtensionVersion", kubesphere.ResourceExtensions: "Extension"}[resource],
		"metadata":   map[string]any{"name": probe},
	}}
	for {
		_, err := objects.Create(ctx, obj, metav1.CreateOptions{})
		if err != nil && strings.Contains(err.Error(), "refused by the test's admission policy") {
			return
		}
		if err == nil {
			if err := objects.Delete(ctx, probe, metav1.DeleteOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the admission policy never took effect: %v", err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// When the ExtensionVersion write fails after the chart ConfigMap was
// written, the ConfigMap is put back as it was, and the error says so.
func TestPublishUndoesTheChartWhenTheVersionWriteFails(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	ctx := testContext(t)
	dir := scaffold(t, "undo", create.Frontend)
	first := publication(t, dir)
	if _, err := c.Publish(ctx, first); err != nil {
		t.Fatal(err)
	}
	old := chartBytes(t, first)
	refuseWrites(t, kubesphere.ResourceExtensionVersions, "undo-probe", "undo-0.1.0", "undo-0.2.0")

	// The published version: its chart is restored.
	edit(t, dir, "README.md", func(s string) string { return s + "\nChanged.\n" })
	_, err := c.Publish(ctx, publication(t, dir))
	var perr *cluster.PublishError
	if !errors.As(err, &perr) {
		t.Fatalf("got %v, want a *cluster.PublishError", err)
	}
	want := "writing ExtensionVersion undo-0.1.0: "
	if msg := err.Error(); !strings.HasPrefix(msg, want) || !strings.Contains(msg, "refused by the test's admission policy") ||
		!strings.HasSuffix(msg, "; undone: ConfigMap kubesphere-system/extension-undo-0.1.0-chart restored to the chart it held before; nothing else was changed") {
		t.Errorf("error %q", msg)
	}
	if !bytes.Equal(chartBytes(t, first), old) {
		t.Error("the ConfigMap still holds the new chart")
	}

	// A new version: the ConfigMap publish created is deleted.
	setVersion(t, dir, "0.2.0")
	second := publication(t, dir)
	_, err = c.Publish(ctx, second)
	if err == nil || !strings.HasSuffix(err.Error(), "; undone: ConfigMap kubesphere-system/extension-undo-0.2.0-chart deleted (publish created it); nothing else was changed") {
		t.Errorf("got %v", err)
	}
	if chartBytes(t, second) != nil {
		t.Error("the ConfigMap of the refused version is left")
	}
}

// When the Extension write fails, the ExtensionVersion and the chart
// ConfigMap are put back as they were.
func TestPublishUndoesEverythingWhenTheExtensionWriteFails(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	ctx := testContext(t)
	dir := scaffold(t, "undo-ext", create.Frontend)
	first := publication(t, dir)
	if _, err := c.Publish(ctx, first); err != nil {
		t.Fatal(err)
	}
	old := chartBytes(t, first)
	refuseWrites(t, kubesphere.ResourceExtensions, "undo-ext-probe", "undo-ext")

	// The same version with a new chart and description.
	edit(t, dir, "README.md", func(s string) string { return s + "\nChanged.\n" })
	changed := publication(t, dir)
	changed.Version.Spec.Description = kubesphere.Locales{"en": "changed"}
	changed.Extension.Spec.Description = kubesphere.Locales{"en": "changed"}
	_, err := c.Publish(ctx, changed)
	if err == nil || !strings.HasPrefix(err.Error(), "writing Extension undo-ext: ") || !strings.HasSuffix(err.Error(),
		"; undone: ExtensionVersion undo-ext-0.1.0 restored to what it was before, ConfigMap kubesphere-system/extension-undo-ext-0.1.0-chart restored to the chart it held before; nothing else was changed") {
		t.Errorf("got %v", err)
	}
	if !bytes.Equal(chartBytes(t, first), old) {
		t.Error("the ConfigMap still holds the new chart")
	}
	ev := &kubesphere.ExtensionVersion{}
	if err := getObject(t, kubesphere.ResourceExtensionVersions, "undo-ext-0.1.0", ev); err != nil {
		t.Fatal(err)
	}
	if ev.Spec.Description["en"] == "changed" {
		t.Error("the ExtensionVersion still describes the refused publication")
	}

	// A new version: what publish created is deleted.
	setVersion(t, dir, "0.2.0")
	second := publication(t, dir)
	_, err = c.Publish(ctx, second)
	if err == nil || !strings.HasSuffix(err.Error(),
		"; undone: ExtensionVersion undo-ext-0.2.0 deleted (publish created it), ConfigMap kubesphere-system/extension-undo-ext-0.2.0-chart deleted (publish created it); nothing else was changed") {
		t.Errorf("got %v", err)
	}
	if err := getObject(t, kubesphere.ResourceExtensionVersions, "undo-ext-0.2.0", ev); !apierrors.IsNotFound(err) {
		t.Errorf("the ExtensionVersion of the refused version: %v", err)
	}
}
