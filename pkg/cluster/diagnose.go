package cluster

import (
	"context"
	"fmt"
	"slices"
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
	// ImagePull lists the executor containers whose image cannot be
	// pulled: the job then never runs, and has no log.
	ImagePull []ImagePullError `json:"imagePull,omitempty"`
}

// ImagePullError is an executor pod's container waiting for an image the
// node cannot pull (ImagePullBackOff, ErrImagePull).
type ImagePullError struct {
	Pod       string `json:"pod"`
	Container string `json:"container"`
	// Hook is true for an init container: the executor hook image
	// (annotation executor-hook-image.kubesphere.io), not ks-core's
	// helmExecutor.image.
	Hook    bool   `json:"hook,omitempty"`
	Image   string `json:"image"`
	Node    string `json:"node,omitempty"`
	Reason  string `json:"reason"`
	Message string `json:"message,omitempty"`
}

// imagePullReasons are the container waiting reasons of an image that
// cannot be pulled.
var imagePullReasons = map[string]bool{"ImagePullBackOff": true, "ErrImagePull": true, "InvalidImageName": true}

func (e ImagePullError) Error() string {
	what, where := "executor image", "node "+e.Node
	if e.Hook {
		what = "executor hook image"
	}
	if e.Node == "" {
		where = "its node"
	}
	msg := fmt.Sprintf("the %s %s cannot be pulled on %s (pod %s, container %s: %s", what, e.Image, where, e.Pod, e.Container, e.Reason)
	if m := strings.Join(strings.Fields(e.Message), " "); m != "" {
		msg += ": " + m
	}
	msg += "): mirror it into a registry the nodes can reach and "
	if e.Hook {
		msg += "set the executor-hook-image.kubesphere.io annotation in extension.yaml to the mirror (ks-core's extension.imageRegistry, when set, is put in front of it)"
	} else {
		msg += "set ks-core's helmExecutor.image values to the mirror (helm upgrade ks-core ... --set helmExecutor.image.repository=...,helmExecutor.image.tag=...)"
	}
	return msg + fmt.Sprintf(", or pull it on %s (crictl pull %s)", where, e.Image)
}

// ImagePullErrorsOf finds the containers of pods waiting for an image that
// cannot be pulled.
func ImagePullErrorsOf(pods []corev1.Pod) []ImagePullError {
	var out []ImagePullError
	for _, pod := range pods {
		images := map[string]string{}
		hooks := map[string]bool{}
		for _, c := range pod.Spec.InitContainers {
			images[c.Name], hooks[c.Name] = c.Image, true
		}
		for _, c := range pod.Spec.Containers {
			images[c.Name] = c.Image
		}
		for _, st := range slices.Concat(pod.Status.InitContainerStatuses, pod.Status.ContainerStatuses) {
			w := st.State.Waiting
			if w == nil || !imagePullReasons[w.Reason] {
				continue
			}
			image := images[st.Name]
			if image == "" {
				image = st.Image
			}
			out = append(out, ImagePullError{Pod: pod.Name, Container: st.Name, Hook: hooks[st.Name], Image: image,
				Node: pod.Spec.NodeName, Reason: w.Reason, Message: w.Message})
		}
	}
	return out
}

// ImagePullErrors reads the executor pods of every release of a plan that
// has a job, and returns the containers whose image cannot be pulled. What
// cannot be read is skipped: this only adds to what status shows.
func (c *Client) ImagePullErrors(ctx context.Context, plan *kubesphere.InstallPlan) []ImagePullError {
	ns := plan.Status.TargetNamespace
	var out []ImagePullError
	jobs := []string{plan.Status.JobName}
	for _, cl := range sortedKeys(plan.Status.ClusterSchedulingStatuses) {
		jobs = append(jobs, plan.Status.ClusterSchedulingStatuses[cl].JobName)
	}
	for _, job := range jobs {
		out = append(out, c.jobImagePullErrors(ctx, ns, job)...)
	}
	return out
}

// jobImagePullErrors returns the image pull errors of one executor job's
// pods; none when they cannot be read.
func (c *Client) jobImagePullErrors(ctx context.Context, ns, job string) []ImagePullError {
	if ns == "" || job == "" {
		return nil
	}
	pods, err := c.core.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "job-name=" + job})
	if err != nil {
		return nil
	}
	return ImagePullErrorsOf(pods.Items)
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
	d.ImagePull = ImagePullErrorsOf(pods.Items)
	var problems []string
	tail := int64(LogLines)
	for _, pod := range pods.Items {
		if pod.Spec.NodeName == "" {
			problems = append(problems, fmt.Sprintf("pod %s is %s and has not been scheduled to a node, so it has no logs (kubectl%s describe pod -n %s %s)",
				pod.Name, orUnknown(string(pod.Status.Phase)), c.KubectlFlags(), d.Namespace, pod.Name))
			continue
		}
		for _, name := range ContainerNames(&pod) {
			data, err := c.core.CoreV1().Pods(d.Namespace).GetLogs(pod.Name, &corev1.PodLogOptions{Container: name, TailLines: &tail}).DoRaw(ctx)
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s/%s: %s", pod.Name, name, LogError(err)))
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

// ContainerNames lists a pod's init containers, then its containers.
func ContainerNames(pod *corev1.Pod) []string {
	var names []string
	for _, c := range pod.Spec.InitContainers {
		names = append(names, c.Name)
	}
	for _, c := range pod.Spec.Containers {
		names = append(names, c.Name)
	}
	return names
}

// LogError explains a failed pod log read (RBAC's refusal in words).
func LogError(err error) string {
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
