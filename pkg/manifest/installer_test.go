package manifest

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"

	"github.com/ksbuilder/ksbuilder/pkg/extension"
)

// twoSided builds an extension chart with a host subchart ("ui", tagged
// extension, with a condition) and an agent subchart ("agent", tagged
// agent, with a condition), each rendering a ConfigMap that shows the values
// it got.
func twoSided(t *testing.T) (*extension.Extension, *chart.Chart) {
	t.Helper()
	cm := `apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-{{ .Chart.Name }}
data:
  namespace: {{ .Release.Namespace }}
  cluster: {{ dig "clusterInfo" "name" "none" (.Values.global | default dict) | quote }}
  role: {{ dig "clusterInfo" "role" "none" (.Values.global | default dict) | quote }}
  replicas: {{ .Values.replicas | quote }}
`
	files := []*loader.BufferedFile{
		{Name: "Chart.yaml", Data: []byte(`apiVersion: v2
name: demo
version: 0.1.0
dependencies:
  - name: ui
    condition: ui.enabled
    tags: [extension]
  - name: agent
    condition: agent.enabled,agentEnabled
    tags: [agent]
`)},
		{Name: "values.yaml", Data: []byte("ui:\n  enabled: true\n  replicas: 1\nagent:\n  enabled: true\n  replicas: 1\n")},
		{Name: "charts/ui/Chart.yaml", Data: []byte("apiVersion: v2\nname: ui\nversion: 0.1.0\n")},
		{Name: "charts/ui/templates/cm.yaml", Data: []byte(cm)},
		{Name: "charts/ui/crds/crd.yaml", Data: []byte("apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: things.demo.io\n")},
		{Name: "charts/agent/Chart.yaml", Data: []byte("apiVersion: v2\nname: agent\nversion: 0.1.0\n")},
		{Name: "charts/agent/templates/cm.yaml", Data: []byte(cm)},
		{Name: "charts/agent/templates/hook.yaml", Data: []byte("apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: pre\n  annotations:\n    helm.sh/hook: pre-install\nspec: {}\n")},
		{Name: "charts/agent/templates/test.yaml", Data: []byte("apiVersion: v1\nkind: Pod\nmetadata:\n  name: t\n  annotations:\n    helm.sh/hook: test\nspec: {}\n")},
	}
	c, err := loader.LoadFiles(files)
	require.NoError(t, err)
	return &extension.Extension{Name: "demo", Version: "0.1.0", InstallationMode: extension.Multicluster}, c
}

func TestInstallerOverrides(t *testing.T) {
	_, c := twoSided(t)
	assert.Equal(t, []string{"tags.extension=true", "tags.agent=false", "agent.enabled=false", "agentEnabled=false"},
		InstallerOverrides(c, Host, ClusterInfo{}))
	assert.Equal(t, []string{"tags.agent=true", "tags.extension=false", "ui.enabled=false",
		"global.clusterInfo.name=host", "global.clusterInfo.role=host"}, InstallerOverrides(c, Agent, ClusterInfo{}))
	assert.Equal(t, []string{"tags.agent=true", "tags.extension=false", "ui.enabled=false",
		"global.clusterInfo.name=member1", "global.clusterInfo.role=member"}, InstallerOverrides(c, Agent, ClusterInfoFor("member1")))
	assert.Equal(t, ClusterInfo{Name: "host", Role: "host"}, ClusterInfoFor("host"))
}

func TestInstallerRelease(t *testing.T) {
	ext, c := twoSided(t)
	user := map[string]any{"agent": map[string]any{"replicas": 3}}
	host, err := InstallerRelease(ext, c, Host, user)
	require.NoError(t, err)
	assert.Equal(t, "demo", host.ReleaseName)
	assert.Equal(t, "extension-demo", host.Namespace)
	assert.Equal(t, map[string]any{"replicas": 3}, user["agent"], "the user's values are not modified")

	ext.Namespace = "demo-system"
	agent, err := InstallerRelease(ext, c, Agent, user)
	require.NoError(t, err)
	assert.Equal(t, "demo-agent", agent.ReleaseName)
	assert.Equal(t, "demo-system", agent.Namespace)
}

func TestInstallerManifests(t *testing.T) {
	ext, c := twoSided(t)
	user := map[string]any{"agent": map[string]any{"replicas": 3}}

	host, err := InstallerManifests(ext, c, Host, user, ManifestOptions{IncludeCRDs: true})
	require.NoError(t, err)
	assert.Equal(t, []Document{
		{Source: "demo/charts/ui/crds/crd.yaml", Kind: DocumentCRD,
			Content: "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: things.demo.io"},
		{Source: "demo/charts/ui/templates/cm.yaml", Kind: DocumentManifest,
			Content: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: demo-ui\ndata:\n  namespace: extension-demo\n  cluster: \"none\"\n  role: \"none\"\n  replicas: \"1\""},
	}, host.Documents)

	agent, err := InstallerManifests(ext, c, Agent, user, ManifestOptions{})
	require.NoError(t, err)
	var sources []string
	for _, d := range agent.Documents {
		sources = append(sources, d.Kind+" "+d.Source)
	}
	assert.Equal(t, []string{"manifest demo/charts/agent/templates/cm.yaml", "hook demo/charts/agent/templates/hook.yaml"}, sources,
		"no CRDs without includeCRDs, the hook after the manifests, no test")
	out := agent.String()
	assert.True(t, strings.HasPrefix(out, "---\n# Source: demo/charts/agent/templates/cm.yaml\n"))
	assert.Contains(t, out, "name: demo-agent-agent")
	assert.Contains(t, out, `cluster: "host"`)
	assert.Contains(t, out, `replicas: "3"`)

	// A user's value cannot turn the other side's subchart back on.
	on := map[string]any{"agent": map[string]any{"enabled": true}, "agentEnabled": true}
	host, err = InstallerManifests(ext, c, Host, on, ManifestOptions{})
	require.NoError(t, err)
	assert.NotContains(t, host.String(), "demo/charts/agent/")
}

func TestKinds(t *testing.T) {
	r, ok := LookupKind("rbac.authorization.k8s.io", "ClusterRole")
	assert.True(t, ok)
	assert.Equal(t, Resource{Group: "rbac.authorization.k8s.io", Resource: "clusterroles"}, r)
	r, ok = LookupKind("extensions.kubesphere.io", "JSBundle")
	assert.True(t, ok)
	assert.False(t, r.Namespaced)
	_, ok = LookupKind("", "Deployment")
	assert.False(t, ok, "Deployment is in apps, not the core group")
	r, ok = LookupResource("customresourcedefinitions")
	assert.True(t, ok)
	assert.Equal(t, "apiextensions.k8s.io", r.Group)
	assert.Equal(t, "policies", GuessResource("example.com", "Policy"))
	assert.Equal(t, "widgets", GuessResource("example.com", "Widget"))
}
