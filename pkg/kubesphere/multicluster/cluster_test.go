package multicluster

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestSchedulable(t *testing.T) {
	now := metav1.Now()
	cond := func(typ string, s metav1.ConditionStatus) ClusterCondition {
		return ClusterCondition{Type: typ, Status: s}
	}
	tests := []struct {
		name string
		c    Cluster
		want bool
	}{
		{"ready", Cluster{Status: ClusterStatus{Conditions: []ClusterCondition{cond(ConditionReady, "True")}}}, true},
		{"no conditions", Cluster{}, false},
		{"not ready", Cluster{Status: ClusterStatus{Conditions: []ClusterCondition{cond(ConditionReady, "False")}}}, false},
		{"unschedulable", Cluster{Status: ClusterStatus{Conditions: []ClusterCondition{cond(ConditionReady, "True"), cond(ConditionSchedulable, "False")}}}, false},
		{"deleting", Cluster{ObjectMeta: metav1.ObjectMeta{DeletionTimestamp: &now}, Status: ClusterStatus{Conditions: []ClusterCondition{cond(ConditionReady, "True")}}}, false},
	}
	for _, tt := range tests {
		if got := tt.c.Schedulable(); got != tt.want {
			t.Errorf("%s: Schedulable() = %v", tt.name, got)
		}
	}
	host := Cluster{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{LabelHost: ""}}}
	if !host.IsHost() || (&Cluster{}).IsHost() {
		t.Error("IsHost does not follow the host label")
	}
}
