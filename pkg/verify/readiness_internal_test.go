package verify

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func ptr[T any](v T) *T { return &v }

func TestDeploymentReadinessFollowsRolloutStatus(t *testing.T) {
	base := func() *appsv1.Deployment {
		return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Generation: 2}, Spec: appsv1.DeploymentSpec{Replicas: ptr(int32(3))},
			Status: appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 3, UpdatedReplicas: 3, AvailableReplicas: 3}}
	}
	cases := []struct {
		name   string
		change func(*appsv1.Deployment)
		ready  bool
		stuck  bool
		why    string
	}{
		{"rolled out", func(*appsv1.Deployment) {}, true, false, ""},
		{"spec not observed", func(d *appsv1.Deployment) { d.Status.ObservedGeneration = 1 }, false, false, "has not observed the latest spec"},
		{"updating", func(d *appsv1.Deployment) { d.Status.UpdatedReplicas = 1 }, false, false, "1 of 3 new replicas have been updated"},
		{"old replicas", func(d *appsv1.Deployment) { d.Status.Replicas = 4 }, false, false, "1 old replicas are pending termination"},
		{"unavailable", func(d *appsv1.Deployment) { d.Status.AvailableReplicas = 2 }, false, false, "2 of 3 updated replicas are available"},
		{"deadline", func(d *appsv1.Deployment) {
			d.Status.Conditions = []appsv1.DeploymentCondition{{Type: appsv1.DeploymentProgressing, Reason: "ProgressDeadlineExceeded", Message: "ReplicaSet has timed out"}}
		}, false, true, "exceeded its progress deadline: ReplicaSet has timed out"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := base()
			tc.change(d)
			st := deploymentReadiness(d)
			if st.ready != tc.ready || st.stuck != tc.stuck || !strings.Contains(st.why, tc.why) {
				t.Errorf("got ready=%v stuck=%v why=%q, want ready=%v stuck=%v why containing %q", st.ready, st.stuck, st.why, tc.ready, tc.stuck, tc.why)
			}
		})
	}
}

func TestStatefulSetReadiness(t *testing.T) {
	s := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Generation: 1},
		Spec:   appsv1.StatefulSetSpec{Replicas: ptr(int32(2)), UpdateStrategy: appsv1.StatefulSetUpdateStrategy{Type: appsv1.RollingUpdateStatefulSetStrategyType}},
		Status: appsv1.StatefulSetStatus{ObservedGeneration: 1, ReadyReplicas: 2, UpdatedReplicas: 2, CurrentRevision: "r2", UpdateRevision: "r2"}}
	if st := statefulSetReadiness(s); !st.ready {
		t.Errorf("a rolled-out StatefulSet is not ready: %s", st.why)
	}
	s.Status.CurrentRevision = "r1"
	if st := statefulSetReadiness(s); st.ready || !strings.Contains(st.why, "at revision r2") {
		t.Errorf("want a StatefulSet between revisions to wait, got %+v", st)
	}
	s.Spec.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateStatefulSetStrategy{Partition: ptr(int32(1))}
	s.Status.UpdatedReplicas = 1
	if st := statefulSetReadiness(s); !st.ready {
		t.Errorf("a partitioned rollout with the pods above the partition updated is done: %s", st.why)
	}
	s.Status.ReadyReplicas = 1
	if st := statefulSetReadiness(s); st.ready || st.why != "1 of 2 pods are ready" {
		t.Errorf("want 1 of 2 pods ready, got %+v", st)
	}
}

func TestDaemonSetAndJobReadiness(t *testing.T) {
	d := &appsv1.DaemonSet{Status: appsv1.DaemonSetStatus{DesiredNumberScheduled: 3, UpdatedNumberScheduled: 3, NumberAvailable: 2}}
	if st := daemonSetReadiness(d); st.ready || st.why != "2 of 3 pods are available" {
		t.Errorf("want 2 of 3 available, got %+v", st)
	}
	d.Status.NumberAvailable = 3
	if st := daemonSetReadiness(d); !st.ready {
		t.Errorf("want ready, got %+v", st)
	}
	j := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "migrate"}, Status: batchv1.JobStatus{Active: 1}}
	if st := jobReadiness(j); st.ready || st.stuck {
		t.Errorf("a running job is neither ready nor stuck: %+v", st)
	}
	j.Status.Conditions = []batchv1.JobCondition{{Type: batchv1.JobFailed, Status: corev1.ConditionTrue, Reason: "BackoffLimitExceeded"}}
	if st := jobReadiness(j); !st.stuck || !strings.Contains(st.why, "BackoffLimitExceeded") {
		t.Errorf("a failed job is stuck: %+v", st)
	}
	j.Status.Conditions = []batchv1.JobCondition{{Type: batchv1.JobComplete, Status: corev1.ConditionTrue}}
	if st := jobReadiness(j); !st.ready {
		t.Errorf("a complete job is ready: %+v", st)
	}
}

// FuzzJUnit checks that any check names, reasons and log lines make a
// report that parses back with the same failures: control characters and
// markup in logs must not break the XML CI systems read.
func FuzzJUnit(f *testing.F) {
	f.Add("Deployment ns/web is ready", "pod web-1: image x:1 cannot be pulled", "panic: <boom> & \"quotes\"", "")
	f.Add("JSBundle b is Available", "status.state is empty", "\x00\x1b[31mred\x1b[0m", "member1")
	f.Add("]]>", "\ufffe", "\xff\xfe", "a b")
	f.Fuzz(func(t *testing.T, check, reason, logLine, cluster string) {
		rep := &Report{Extension: "ext", Version: "0.1.0"}
		rep.add(Result{Check: check, Cluster: cluster, Outcome: Outcome{Status: Failed, Reason: reason, Logs: []LogLine{{Cluster: "host", Pod: "p", Container: "c", Text: logLine}}}})
		rep.add(Result{Check: "ok " + check, Outcome: Outcome{Status: Passed, Reason: reason}})
		rep.add(Result{Check: "skip " + check, Cluster: cluster, Outcome: Outcome{Status: NotChecked, Reason: reason}})
		var buf bytes.Buffer
		if err := rep.WriteJUnit(&buf); err != nil {
			t.Fatal(err)
		}
		var back JUnitSuites
		if err := xml.Unmarshal(buf.Bytes(), &back); err != nil {
			t.Fatalf("the report does not parse: %v\n%s", err, buf.String())
		}
		failures, skipped, cases, suiteSkipped := 0, 0, 0, 0
		for _, s := range back.Suites {
			cases += len(s.Cases)
			suiteSkipped += s.Skipped
			for _, c := range s.Cases {
				if c.Failure != nil {
					failures++
				}
				if c.Skipped != nil {
					skipped++
				}
			}
		}
		if back.Tests != 3 || cases != 3 || back.Failures != 1 || failures != 1 || suiteSkipped != 1 || skipped != 1 {
			t.Fatalf("want 3 cases, 1 failure, 1 skipped; got %+v", back)
		}
	})
}
