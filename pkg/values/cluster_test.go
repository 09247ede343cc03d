package values_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ksbuilder/ksbuilder/pkg/values"
)

func TestClusterOptions(t *testing.T) {
	file := filepath.Join(t.TempDir(), "m1.yaml")
	if err := os.WriteFile(file, []byte("agent:\n  replicas: 3\n  zone: a\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	opts, err := values.ClusterOptions([]string{"member1=" + file}, []string{"member1:agent.zone=b", "member2:agent.replicas=1"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := values.MergeClusters(opts, strings.NewReader(""))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]any{
		"member1": {"agent": map[string]any{"replicas": float64(3), "zone": "b"}},
		"member2": {"agent": map[string]any{"replicas": int64(1)}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %#v\nwant %#v", got, want)
	}
	for _, bad := range [][2][]string{{{"member1"}, nil}, {{"=x.yaml"}, nil}, {nil, {"agent.replicas=1"}}, {nil, {"m1:agent"}}} {
		if _, err := values.ClusterOptions(bad[0], bad[1]); err == nil || !strings.Contains(err.Error(), "write CLUSTER") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}
