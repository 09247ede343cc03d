package cluster

import (
	"errors"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chart"

	"github.com/ksbuilder/ksbuilder/pkg/kubesphere"
	"github.com/ksbuilder/ksbuilder/pkg/manifest"
)

// cacheChart fails to render when replicas is "bad".
func cacheChart() *chart.Chart {
	return &chart.Chart{
		Metadata: &chart.Metadata{APIVersion: "v2", Name: "demo", Version: "0.1.0"},
		Values:   map[string]any{"replicas": 1},
		Templates: []*chart.File{{Name: "templates/cm.yaml", Data: []byte(
			"{{ if eq (toString .Values.replicas) \"bad\" }}{{ fail \"bad replicas\" }}{{ end }}\n" +
				"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: demo\ndata:\n  replicas: {{ .Values.replicas | quote }}\n")}},
	}
}

func demoSpec(config string, clusters ...string) kubesphere.InstallPlanSpec {
	spec := kubesphere.InstallPlanSpec{Extension: kubesphere.ExtensionRef{Name: "demo", Version: "0.1.0"}, Config: config}
	if len(clusters) > 0 {
		spec.ClusterScheduling = placed(clusters...)
	}
	return spec
}

func TestRenderCacheRemembersSuccessesOnly(t *testing.T) {
	rc := &RenderCache{}
	if err := CheckRender(cacheChart(), "extension-demo", demoSpec(""), rc, nil); err != nil {
		t.Fatal(err)
	}
	if len(rc.ok) != 1 {
		t.Fatalf("%d renders remembered after the host render, want 1", len(rc.ok))
	}
	// The same chart (a fresh copy) and values: a hit, nothing added.
	if err := CheckRender(cacheChart(), "extension-demo", demoSpec(""), rc, nil); err != nil {
		t.Fatal(err)
	}
	if len(rc.ok) != 1 {
		t.Fatalf("%d renders remembered after the same render, want 1", len(rc.ok))
	}
	// Other values, another namespace, an agent, another chart: new renders.
	for _, spec := range []kubesphere.InstallPlanSpec{demoSpec("replicas: 2\n"), demoSpec("", "host")} {
		if err := CheckRender(cacheChart(), "extension-demo", spec, rc, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := CheckRender(cacheChart(), "other", demoSpec(""), rc, nil); err != nil {
		t.Fatal(err)
	}
	changed := cacheChart()
	changed.Templates[0].Data = append(changed.Templates[0].Data, "  extra: x\n"...)
	if err := CheckRender(changed, "extension-demo", demoSpec(""), rc, nil); err != nil {
		t.Fatal(err)
	}
	if len(rc.ok) != 5 {
		t.Fatalf("%d renders remembered, want 5 (host, other values, agent, namespace, chart)", len(rc.ok))
	}
	// A failure is reported every time and never remembered.
	for range 2 {
		err := CheckRender(cacheChart(), "extension-demo", demoSpec("replicas: bad\n"), rc, nil)
		if err == nil || !strings.Contains(err.Error(), "bad replicas") {
			t.Fatalf("got %v, want the render's failure", err)
		}
	}
	if len(rc.ok) != 5 {
		t.Fatalf("%d renders remembered after failures, want 5", len(rc.ok))
	}
}

func TestCheckRenderWithoutCache(t *testing.T) {
	if err := CheckRender(cacheChart(), "extension-demo", demoSpec("replicas: 3\n", "host"), nil, nil); err != nil {
		t.Fatal(err)
	}
	err := CheckRender(cacheChart(), "extension-demo", demoSpec("", "member-1"), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	spec := demoSpec("", "member-1")
	spec.ClusterScheduling.Overrides = map[string]string{"member-1": "replicas: bad\n"}
	err = CheckRender(cacheChart(), "extension-demo", spec, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "agent chart does not render for cluster member-1") {
		t.Fatalf("got %v, want the agent's failure", err)
	}
}

func TestRenderCacheValidate(t *testing.T) {
	var validated int
	rc := &RenderCache{Validate: func(r *manifest.Release) error {
		validated++
		if strings.Contains(r.Templates["demo/templates/cm.yaml"], `"9"`) {
			return errors.New("nine is refused")
		}
		return nil
	}}
	for range 2 {
		if err := CheckRender(cacheChart(), "extension-demo", demoSpec(""), rc, nil); err != nil {
			t.Fatal(err)
		}
	}
	if validated != 1 {
		t.Errorf("validated %d times, want once: the second render is cached", validated)
	}
	for range 2 {
		err := CheckRender(cacheChart(), "extension-demo", demoSpec("replicas: 9\n"), rc, nil)
		if err == nil || !strings.Contains(err.Error(), "nine is refused") {
			t.Fatalf("got %v, want Validate's refusal", err)
		}
	}
	if validated != 3 || len(rc.ok) != 1 {
		t.Errorf("validated %d times, %d renders remembered; want 3 and 1: a refused render is not remembered", validated, len(rc.ok))
	}
}

// TestCheckRenderReportsInOrder: the releases render in parallel, and the
// problem reported is the first in the order host, then each placed
// cluster, whichever render ends first.
func TestCheckRenderReportsInOrder(t *testing.T) {
	spec := func(config string, overrides map[string]string) kubesphere.InstallPlanSpec {
		s := demoSpec(config, "member-1", "member-2", "member-3")
		s.ClusterScheduling.Overrides = overrides
		return s
	}
	for _, tc := range []struct {
		name string
		spec kubesphere.InstallPlanSpec
		want string
	}{
		{"host and agents fail", spec("replicas: bad\n", nil), "the chart does not render with these values"},
		{"host fails, an override is invalid", spec("replicas: bad\n", map[string]string{"member-1": "[unclosed"}), "the chart does not render with these values"},
		{"two agents fail", spec("", map[string]string{"member-2": "replicas: bad\n", "member-3": "replicas: bad\n"}), "for cluster member-2"},
		{"an override is invalid before an agent fails", spec("", map[string]string{"member-2": "[unclosed", "member-3": "replicas: bad\n"}), "the values for cluster member-2"},
		{"an agent fails before an override is invalid", spec("", map[string]string{"member-1": "replicas: bad\n", "member-3": "[unclosed"}), "agent chart does not render for cluster member-1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, cache := range []*RenderCache{nil, {}} {
				err := CheckRender(cacheChart(), "extension-demo", tc.spec, cache, nil)
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("cache %v: got %v, want %q", cache != nil, err, tc.want)
				}
			}
		})
	}
}
