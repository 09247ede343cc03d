package cluster

import (
	"context"
	"fmt"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ksbuilder/ksbuilder/pkg/kubesphere"
)

// LogLines is how many lines of each executor container's log a diagnosis
// keeps.
const LogLines = 100

// Diagnosis is what is known about a release's last action: its conditions,
// its executor job, and the job's logs (Helm runs there with --debug, so the
// real error is in the log, not in the conditions).
type Diagnosis struct {
	// Cluster is "" for the host release.
	Cluster    string             `json:"cluster,omitempty"`
	State      string             `json:"state"`
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	Namespace  string             `json:"namespace,omitempty"`
	Job        string             `json:"job,omitempty"`
	// JobStatus is "running", "succeeded", "failed: <reason>" or why the
	// job could not be read.
	JobStatus string   `json:"jobStatus,omitempty"`
	Logs      []PodLog `json:"logs,omitempty"`
	// LogsUnavailable says why logs could not be read.
	LogsUnavailable string `json:"logsUnavailable,omitempty"`
	// LogsCommand is the kubectl command that reads the same logs.
	LogsCommand string `json:"logsCommand,omitempty"`
}

// PodLog is the tail of one container's log.
type PodLog struct {
	Pod       string `json:"pod"`
	Container string `json:"container"`
	Log       string `json:"log"`
}

// message is the newest condition message, for one-line errors.
func (d *Diagnosis) message() string {
	if d == nil {
		return ""
	}
	return latestMessage(d.Conditions)
}

// Diagnose collects the diagnosis of the host release (cluster "") or of the
// agent release on a cluster. It never fails: what cannot be read is
// described instead.
func (c *Client) Diagnose(ctx context.Context, plan *kubesphere.InstallPlan, cluster string) *Diagnosis {
	st := plan.Status.InstallationStatus
	if cluster != "" {
		st = plan.Status.ClusterSchedulingStatuses[cluster]
	}
	d := &Diagnosis{Cluster: cluster, State: st.State, Conditions: st.Conditions, Job: st.JobName,
		// Executor jobs, agents' included, run on the host in the host's
		// target namespace.
		Namespace: plan.Status.TargetNamespace}
	if d.Namespace == "" {
		d.Namespace = st.TargetNamespace
	}
	if d.Job == "" || d.Namespace == "" {
		d.LogsUnavailable = "no executor job was recorded for this release"
		return d
	}
	d.LogsCommand = fmt.Sprintf("kubectl%s logs -n %s -l job-name=%s --all-containers --tail=%d", c.KubectlFlags(), d.Namespace, d.Job, LogLines)

	job, err := c.core.BatchV1().Jobs(d.Namespace).Get(ctx, d.Job, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		d.JobStatus = "not found (KubeSphere deletes old executor jobs, and a job TTL may have removed it)"
	case err != nil:
		d.JobStatus = "cannot be read: " + c.explain(err).Error()
	default:
		d.JobStatus = jobStatus(job.Status.Conditions, job.Status.Active)
	}

	pods, err := c.core.CoreV1().Pods(d.Namespace).List(ctx, metav1.ListOptions{LabelSelector: "job-name=" + d.Job})
	if err != nil {
		d.LogsUnavailable = "cannot list the job's pods: " + c.explain(err).Error()
		return d
	}
	if len(pods.Items) == 0 {
		d.LogsUnavailable = fmt.Sprintf("no pods with label job-name=%s in namespace %s (they are deleted with the job)", d.Job, d.Namespace)
		return d
	}
	var problems []string
	tail := int64(LogLines)
	for _, pod := range pods.Items {
		if pod.Spec.NodeName == "" {
			problems = append(problems, fmt.Sprintf("pod %s is %s and has not been scheduled to a node, so it has no logs (kubectl%s describe pod -n %s %s)",
				pod.Name, orUnknown(string(pod.Status.Phase)), c.KubectlFlags(), d.Namespace, pod.Name))
			continue
		}
		for _, name := range containerNames(&pod) {
			data, err := c.core.CoreV1().Pods(d.Namespace).GetLogs(pod.Name, &corev1.PodLogOptions{Container: name, TailLines: &tail}).DoRaw(ctx)
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s/%s: %s", pod.Name, name, logError(err)))
				continue
			}
			d.Logs = append(d.Logs, PodLog{Pod: pod.Name, Container: name, Log: string(data)})
		}
	}
	if len(d.Logs) == 0 {
		d.LogsUnavailable = strings.Join(problems, "; ")
	}
	return d
}

// containerNames lists a pod's init containers, then its containers.
func containerNames(pod *corev1.Pod) []string {
	var names []string
	for _, c := range pod.Spec.InitContainers {
		names = append(names, c.Name)
	}
	for _, c := range pod.Spec.Containers {
		names = append(names, c.Name)
	}
	return names
}

// logError explains a failed log read.
func logError(err error) string {
	if apierrors.IsForbidden(err) {
		return fmt.Sprintf("not allowed to read pod logs (%v)", err)
	}
	return err.Error()
}

// jobStatus summarises a job's conditions.
func jobStatus(conds []batchv1.JobCondition, active int32) string {
	for _, cond := range conds {
		if cond.Status != corev1.ConditionTrue {
			continue
		}
		switch cond.Type {
		case batchv1.JobComplete:
			return "succeeded at " + cond.LastTransitionTime.UTC().Format(time.RFC3339)
		case batchv1.JobFailed:
			return fmt.Sprintf("failed at %s: %s", cond.LastTransitionTime.UTC().Format(time.RFC3339), strings.TrimSpace(cond.Reason+" "+cond.Message))
		}
	}
	if active > 0 {
		return "running"
	}
	return "pending"
}
