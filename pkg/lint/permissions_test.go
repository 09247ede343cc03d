package lint

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ksbuilder/ksbuilder/internal/testutil/fixture"
	"github.com/ksbuilder/ksbuilder/pkg/extension"
)

func TestAllows(t *testing.T) {
	rules := []extension.PolicyRule{
		{APIGroups: []string{"rbac.authorization.k8s.io"}, Resources: []string{"clusterroles"}, Verbs: []string{"get", "patch"}, ResourceNames: []string{"mine"}},
		{APIGroups: []string{"*"}, Resources: []string{"widgets"}, Verbs: []string{"*"}},
	}
	tests := []struct {
		group, resource, verb, name string
		want                        bool
	}{
		{"rbac.authorization.k8s.io", "clusterroles", "get", "mine", true},
		{"rbac.authorization.k8s.io", "clusterroles", "get", "other", false},
		{"rbac.authorization.k8s.io", "clusterroles", "create", "mine", false}, // resourceNames never allow create
		{"rbac.authorization.k8s.io", "clusterroles", "delete", "mine", false},
		{"example.com", "widgets", "create", "w", true},
		{"example.com", "gadgets", "create", "g", false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, allows(rules, tt.group, tt.resource, tt.verb, tt.name), "%+v", tt)
	}
}

// TestCoverageScopes checks which rules cover an object: the extension's
// namespace may use the Role, KubeSphere's default Role or a ClusterRole;
// other namespaces and cluster-scoped objects only a ClusterRole.
func TestCoverageScopes(t *testing.T) {
	files, _ := fixture.Load(t, filepath.Join(fixtures, "base"), filepath.Join(fixtures, "base"))
	files["charts/app/templates/more.yaml"] = []byte(`apiVersion: v1
kind: ConfigMap
metadata:
  name: here
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: elsewhere
  namespace: kube-system
---
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: monitor
---
apiVersion: example.com/v1
kind: Gizmo
metadata:
  name: g
`)
	files["permissions.yaml"] = append(files["permissions.yaml"], []byte(`---
kind: Role
rules:
  - apiGroups: [monitoring.coreos.com]
    resources: [servicemonitors]
    verbs: [get, create, patch]
`)...)
	res, err := Lint(sourceOf("scopes", files), Options{})
	require.NoError(t, err)
	var got []string
	for _, d := range res.Findings {
		if d.Code == RulePermissionsMissing {
			got = append(got, d.Severity.String()+": "+d.Message)
		}
	}
	assert.Equal(t, []string{
		`error: the chart creates ConfigMap "elsewhere" (charts/app/templates/more.yaml) in namespace "kube-system", outside the extension's namespace, but no ClusterRole rule allows get, create on configmaps, so the install fails`,
		`warning: the chart creates Gizmo "g" (charts/app/templates/more.yaml) in the extension's namespace but no Role or ClusterRole rule, nor KubeSphere's default Role, allows get, create on gizmos.example.com, so the install fails (Gizmo is not a kind ksbuilder knows: the resource name is a guess)`,
		`warning: the chart creates ServiceMonitor "monitor" (charts/app/templates/more.yaml) in the extension's namespace but no Role or ClusterRole rule, nor KubeSphere's default Role, allows delete on servicemonitors.monitoring.coreos.com, so uninstalls fail`,
	}, got)
}
