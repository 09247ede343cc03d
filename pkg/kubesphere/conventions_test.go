package kubesphere

import (
	"encoding/json"
	"testing"
)

func TestNames(t *testing.T) {
	if got := ExtensionVersionName("network", "1.3.0"); got != "network-1.3.0" {
		t.Errorf("ExtensionVersionName = %q", got)
	}
	if got := ChartConfigMapName("network", "1.3.0"); got != "extension-network-1.3.0-chart" {
		t.Errorf("ChartConfigMapName = %q", got)
	}
	if got := AgentReleaseName("network"); got != "network-agent" {
		t.Errorf("AgentReleaseName = %q", got)
	}
	ev := &ExtensionVersion{}
	if ev.TargetNamespace("network") != "extension-network" || ev.Mode() != HostOnly {
		t.Errorf("defaults: %q %q", ev.TargetNamespace("network"), ev.Mode())
	}
	ev.Spec.Namespace, ev.Spec.InstallationMode = "kubesphere-network", Multicluster
	if ev.TargetNamespace("network") != "kubesphere-network" || ev.Mode() != Multicluster {
		t.Errorf("set: %q %q", ev.TargetNamespace("network"), ev.Mode())
	}
}

func TestLocalesDefault(t *testing.T) {
	tests := []struct {
		l    Locales
		want string
	}{
		{Locales{"zh": "网络", "en": "Network"}, "Network"},
		{Locales{"zh": "网络", "en": ""}, "网络"},
		{Locales{"fr": "Réseau", "de": "Netz"}, "Netz"},
		{nil, ""},
	}
	for _, tt := range tests {
		if got := tt.l.Default(); got != tt.want {
			t.Errorf("%v.Default() = %q, want %q", tt.l, got, tt.want)
		}
	}
}

// The JSON of the kinds matches KubeSphere's: required fields always
// present, empty status and zero times left out.
func TestJSON(t *testing.T) {
	plan := InstallPlan{Spec: InstallPlanSpec{Extension: ExtensionRef{Name: "x", Version: "1.0.0"}}}
	data, err := json.Marshal(plan)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(data); got != `{"metadata":{},"spec":{"extension":{"name":"x","version":"1.0.0"},"enabled":false}}` {
		t.Errorf("InstallPlan JSON %s", got)
	}
	dep, _ := json.Marshal(ExternalDependency{Name: "a", Version: ">=1.0.0"})
	if string(dep) != `{"name":"a","version":"\u003e=1.0.0","required":false}` {
		t.Errorf("ExternalDependency JSON %s", dep)
	}
	var st InstallPlanStatus
	if err := json.Unmarshal([]byte(`{"state":"Installed","configHash":"abc","unknownField":1,"clusterSchedulingStatuses":{"host":{"state":"Installed"}}}`), &st); err != nil {
		t.Fatal(err)
	}
	if st.State != StateInstalled || st.ClusterSchedulingStatuses["host"].State != StateInstalled {
		t.Errorf("decoded %+v", st)
	}
}
