package verify_test

import (
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/ksbuilder/ksbuilder/internal/testcontroller"
	"github.com/ksbuilder/ksbuilder/internal/testutil/requestlog"
	"github.com/ksbuilder/ksbuilder/pkg/cluster"
	"github.com/ksbuilder/ksbuilder/pkg/doctor"
	"github.com/ksbuilder/ksbuilder/pkg/verify"
)

// testJobTemplate is a Helm test hook Job that never completes here.
const testJobTemplate = `apiVersion: batch/v1
kind: Job
metadata:
  name: {{ .Release.Name }}-test-job
  annotations:
    helm.sh/hook: test
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: check
          image: busybox:1.36
`

// Every request test and logs send (reading the releases, workloads, pods,
// events and logs, running Pod and Job test hooks) is among the
// permissions doctor checks, as pkg/cluster's TestDoctorChecksEveryRequest
// checks for the other cluster commands.
func TestDoctorChecksTestAndLogsRequests(t *testing.T) {
	f := installExtension(t, "vaudit", map[string]string{
		"bundle.yaml":   bundleTemplate,
		"test-pod.yaml": fmt.Sprintf(testHookTemplate, "pod", "hook-succeeded"),
		"test-job.yaml": testJobTemplate,
	}, testcontroller.Behaviour{})
	d := f.setDeployment(0)
	f.addPod(d, "vaudit-backend-abc", corev1.ContainerStatus{RestartCount: 3,
		State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}}})
	f.addPod(d, "vaudit-backend-def", corev1.ContainerStatus{State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}})
	cfg, log := requestlog.Wrap(testEnv.Require(t))
	c, err := cluster.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	done := f.finishPod("vaudit-agent-test-pod", "", corev1.PodSucceeded, 0)
	if _, err := verify.Run(f.ctx, c, verify.Options{Name: "vaudit", Timeout: 500 * time.Millisecond, Interval: 50 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	<-done
	// The test API server has no kubelet: the log reads fail, after being
	// sent.
	_ = verify.Logs(f.ctx, c, verify.LogsOptions{Name: "vaudit", Cluster: "host"})

	seen := log.Seen()
	for _, want := range []string{"list secrets", "create pods", "create jobs.batch", "get pods/log", "list events"} {
		found := false
		for a := range seen {
			found = found || a.String() == want || a.Verb+" "+a.Resource+dotGroup(a.Group) == want
		}
		if !found {
			t.Errorf("the run sent no %q request; recorded %v", want, seen)
		}
	}
	for a, url := range log.Unchecked(doctor.ClusterAccess()) {
		t.Errorf("%s (%s) is not among doctor's permissions (doctor.ClusterAccess)", a, url)
	}
}

func dotGroup(g string) string {
	if g == "" {
		return ""
	}
	return "." + g
}
