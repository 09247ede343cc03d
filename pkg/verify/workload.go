package verify

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"

	"github.com/ksbuilder/ksbuilder/pkg/cluster"
)

// readiness is a workload's state as "kubectl rollout status" judges it
// (Jobs as "helm --wait-for-jobs" does).
type readiness struct {
	ready bool
	// stuck is a state that waiting does not change (a failed Job, a
	// Deployment past its progress deadline).
	stuck bool
	// why says what is awaited.
	why      string
	selector *metav1.LabelSelector
}

// workloadCheck waits until a workload is ready, until the run's deadline.
func workloadCheck(cn *conn, w workload, r *runner) Check {
	return Check{Name: w.String() + " is ready", Cluster: cn.cluster, Run: func(ctx context.Context) Outcome {
		var last readiness
		out := r.poll(ctx, r.deadline, func() (bool, Outcome) {
			st, err := cn.readiness(ctx, w)
			if err != nil {
				return false, Outcome{Status: Failed, Reason: err.Error()}
			}
			last = st
			if st.ready {
				return true, Outcome{Status: Passed}
			}
			return st.stuck, Outcome{Status: Failed, Reason: st.why}
		})
		if out.Status == Passed || last.selector == nil {
			return out
		}
		if !last.stuck {
			out.Reason = fmt.Sprintf("not ready after %s: %s", r.opts.Timeout, out.Reason)
		}
		problems, logs := cn.podProblems(ctx, w.namespace, last.selector, r.opts.LogLines)
		if len(problems) > 0 {
			out.Reason += "; " + strings.Join(problems, "; ")
		}
		out.Logs = logs
		return out
	}}
}

// readiness reads a workload and judges it.
func (c *conn) readiness(ctx context.Context, w workload) (readiness, error) {
	var err error
	var st readiness
	switch w.kind {
	case "Deployment":
		var d *appsv1.Deployment
		if d, err = c.apps.Deployments(w.namespace).Get(ctx, w.name, metav1.GetOptions{}); err == nil {
			st = deploymentReadiness(d)
		}
	case "StatefulSet":
		var s *appsv1.StatefulSet
		if s, err = c.apps.StatefulSets(w.namespace).Get(ctx, w.name, metav1.GetOptions{}); err == nil {
			st = statefulSetReadiness(s)
		}
	case "DaemonSet":
		var d *appsv1.DaemonSet
		if d, err = c.apps.DaemonSets(w.namespace).Get(ctx, w.name, metav1.GetOptions{}); err == nil {
			st = daemonSetReadiness(d)
		}
	case "Job":
		var j *batchv1.Job
		if j, err = c.batch.Jobs(w.namespace).Get(ctx, w.name, metav1.GetOptions{}); err == nil {
			st = jobReadiness(j)
		}
	}
	if apierrors.IsNotFound(err) {
		return readiness{why: fmt.Sprintf("%s is in the release but not on the cluster", w)}, nil
	}
	return st, err
}

// deploymentReadiness follows kubectl's rollout status for Deployments.
func deploymentReadiness(d *appsv1.Deployment) readiness {
	st := readiness{selector: d.Spec.Selector}
	if d.Generation > d.Status.ObservedGeneration {
		st.why = "the Deployment controller has not observed the latest spec yet"
		return st
	}
	for _, cond := range d.Status.Conditions {
		if cond.Type == appsv1.DeploymentProgressing && cond.Reason == "ProgressDeadlineExceeded" {
			st.stuck, st.why = true, "exceeded its progress deadline: "+oneLine(cond.Message)
			return st
		}
	}
	want := int32(1)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	switch {
	case d.Status.UpdatedReplicas < want:
		st.why = fmt.Sprintf("%d of %d new replicas have been updated", d.Status.UpdatedReplicas, want)
	case d.Status.Replicas > d.Status.UpdatedReplicas:
		st.why = fmt.Sprintf("%d old replicas are pending termination", d.Status.Replicas-d.Status.UpdatedReplicas)
	case d.Status.AvailableReplicas < d.Status.UpdatedReplicas:
		st.why = fmt.Sprintf("%d of %d updated replicas are available", d.Status.AvailableReplicas, d.Status.UpdatedReplicas)
	default:
		st.ready = true
	}
	return st
}

// statefulSetReadiness follows kubectl's rollout status for StatefulSets;
// with the OnDelete strategy, which it does not judge, the ready replicas
// are counted.
func statefulSetReadiness(s *appsv1.StatefulSet) readiness {
	st := readiness{selector: s.Spec.Selector}
	if s.Status.ObservedGeneration == 0 || s.Generation > s.Status.ObservedGeneration {
		st.why = "the StatefulSet controller has not observed the latest spec yet"
		return st
	}
	want := int32(1)
	if s.Spec.Replicas != nil {
		want = *s.Spec.Replicas
	}
	if s.Status.ReadyReplicas < want {
		st.why = fmt.Sprintf("%d of %d pods are ready", s.Status.ReadyReplicas, want)
		return st
	}
	if s.Spec.UpdateStrategy.Type == appsv1.RollingUpdateStatefulSetStrategyType {
		if ru := s.Spec.UpdateStrategy.RollingUpdate; ru != nil && ru.Partition != nil && *ru.Partition > 0 {
			if s.Status.UpdatedReplicas < want-*ru.Partition {
				st.why = fmt.Sprintf("%d of %d pods have been updated (partition %d)", s.Status.UpdatedReplicas, want-*ru.Partition, *ru.Partition)
				return st
			}
			st.ready = true
			return st
		}
		if s.Status.UpdateRevision != s.Status.CurrentRevision {
			st.why = fmt.Sprintf("%d pods at revision %s", s.Status.UpdatedReplicas, s.Status.UpdateRevision)
			return st
		}
	}
	st.ready = true
	return st
}

// daemonSetReadiness follows kubectl's rollout status for DaemonSets; with
// the OnDelete strategy the available pods are counted.
func daemonSetReadiness(d *appsv1.DaemonSet) readiness {
	st := readiness{selector: d.Spec.Selector}
	if d.Generation > d.Status.ObservedGeneration {
		st.why = "the DaemonSet controller has not observed the latest spec yet"
		return st
	}
	want := d.Status.DesiredNumberScheduled
	switch {
	case d.Spec.UpdateStrategy.Type != appsv1.OnDeleteDaemonSetStrategyType && d.Status.UpdatedNumberScheduled < want:
		st.why = fmt.Sprintf("%d of %d updated pods are scheduled", d.Status.UpdatedNumberScheduled, want)
	case d.Status.NumberAvailable < want:
		st.why = fmt.Sprintf("%d of %d pods are available", d.Status.NumberAvailable, want)
	default:
		st.ready = true
	}
	return st
}

// jobReadiness is "helm --wait-for-jobs": a Job is ready once complete.
func jobReadiness(j *batchv1.Job) readiness {
	st := readiness{selector: &metav1.LabelSelector{MatchLabels: map[string]string{"job-name": j.Name}}}
	for _, cond := range j.Status.Conditions {
		if cond.Status != corev1.ConditionTrue {
			continue
		}
		switch cond.Type {
		case batchv1.JobComplete:
			st.ready = true
			return st
		case batchv1.JobFailed:
			st.stuck, st.why = true, "failed: "+oneLine(cond.Reason+" "+cond.Message)
			return st
		}
	}
	st.why = fmt.Sprintf("not complete (%d active, %d succeeded, %d failed)", j.Status.Active, j.Status.Succeeded, j.Status.Failed)
	return st
}

// workloadPods lists the pods of a workload.
func (c *conn) workloadPods(ctx context.Context, w workload) ([]corev1.Pod, error) {
	st, err := c.readiness(ctx, w)
	if err != nil || st.selector == nil {
		return nil, err
	}
	return c.selectPods(ctx, w.namespace, st.selector)
}

func (c *conn) selectPods(ctx context.Context, ns string, sel *metav1.LabelSelector) ([]corev1.Pod, error) {
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return nil, err
	}
	list, err := c.core.Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: s.String()})
	if err != nil {
		return nil, err
	}
	sort.Slice(list.Items, func(i, j int) bool { return list.Items[i].Name < list.Items[j].Name })
	return list.Items, nil
}

// podProblems says why the selected pods are not ready, with the log lines
// that explain it.
func (c *conn) podProblems(ctx context.Context, ns string, sel *metav1.LabelSelector, lines int) ([]string, []LogLine) {
	pods, err := c.selectPods(ctx, ns, sel)
	if err != nil {
		return []string{"cannot list its pods: " + err.Error()}, nil
	}
	if len(pods) == 0 {
		s, _ := metav1.LabelSelectorAsSelector(sel)
		return []string{fmt.Sprintf("no pods match %s in namespace %s (kubectl describe shows the events of the controller)", s, ns)}, nil
	}
	var problems []string
	var logs []LogLine
	for i := range pods {
		p, l := c.podProblem(ctx, &pods[i], lines)
		problems = append(problems, p...)
		logs = append(logs, l...)
	}
	return problems, logs
}

// podProblem says why one pod is not ready; nothing for a ready or
// succeeded pod.
func (c *conn) podProblem(ctx context.Context, pod *corev1.Pod, lines int) ([]string, []LogLine) {
	if pod.Status.Phase == corev1.PodSucceeded || podReady(pod) {
		return nil, nil
	}
	name := "pod " + pod.Name
	var problems []string
	var logs []LogLine
	for _, cond := range pod.Status.Conditions {
		if cond.Type == corev1.PodScheduled && cond.Status == corev1.ConditionFalse {
			problems = append(problems, fmt.Sprintf("%s is Pending: %s", name, oneLine(orDefault(cond.Message, cond.Reason))))
		}
	}
	pulls := map[string]bool{}
	for _, e := range cluster.ImagePullErrorsOf([]corev1.Pod{*pod}) {
		pulls[e.Container] = true
		where := "its node"
		if e.Node != "" {
			where = "node " + e.Node
		}
		msg := fmt.Sprintf("%s container %s: image %s cannot be pulled on %s (%s", name, e.Container, e.Image, where, e.Reason)
		if m := oneLine(e.Message); m != "" {
			msg += ": " + m
		}
		problems = append(problems, msg+")")
	}
	for _, st := range slices.Concat(pod.Status.InitContainerStatuses, pod.Status.ContainerStatuses) {
		if pulls[st.Name] {
			continue
		}
		where := fmt.Sprintf("%s container %s", name, st.Name)
		switch {
		case st.State.Waiting != nil && st.State.Waiting.Reason == "CrashLoopBackOff":
			msg := fmt.Sprintf("%s is in CrashLoopBackOff (restarted %d times", where, st.RestartCount)
			if t := st.LastTerminationState.Terminated; t != nil {
				msg += fmt.Sprintf("; last exit code %d", t.ExitCode)
				if t.Reason != "" {
					msg += " " + t.Reason
				}
			}
			problems = append(problems, msg+")")
			logs = append(logs, c.logsOrNote(ctx, pod, st.Name, lines, true)...)
		case st.State.Waiting != nil && st.State.Waiting.Reason != "" && st.State.Waiting.Reason != "ContainerCreating" && st.State.Waiting.Reason != "PodInitializing":
			problems = append(problems, fmt.Sprintf("%s is waiting: %s", where, oneLine(st.State.Waiting.Reason+" "+st.State.Waiting.Message)))
		case st.State.Terminated != nil && st.State.Terminated.ExitCode != 0:
			problems = append(problems, fmt.Sprintf("%s exited with code %d %s", where, st.State.Terminated.ExitCode, st.State.Terminated.Reason))
			logs = append(logs, c.logsOrNote(ctx, pod, st.Name, lines, false)...)
		case st.State.Running != nil && !st.Ready:
			msg := where + " is running but not ready"
			if probe := c.probeFailure(ctx, pod); probe != "" {
				msg += ": " + probe
			} else if hasReadinessProbe(pod, st.Name) {
				msg += " (its readiness probe does not pass)"
			}
			problems = append(problems, msg)
		}
	}
	if len(problems) == 0 && pod.Status.Phase == corev1.PodFailed {
		problems = append(problems, fmt.Sprintf("%s failed: %s", name, oneLine(pod.Status.Reason+" "+pod.Status.Message)))
	}
	return problems, logs
}

// logsOrNote returns the last lines of a container's log, or one line
// saying why they cannot be read.
func (c *conn) logsOrNote(ctx context.Context, pod *corev1.Pod, container string, lines int, previous bool) []LogLine {
	logs, err := c.tail(ctx, pod.Namespace, pod.Name, container, lines, previous)
	if err != nil {
		return []LogLine{{Cluster: c.logName, Pod: pod.Name, Container: container, Text: "(the log cannot be read: " + cluster.LogError(err) + ")"}}
	}
	return logs
}

// probeFailure is the newest "Unhealthy" event of a pod: the kubelet's
// message of a failing probe.
func (c *conn) probeFailure(ctx context.Context, pod *corev1.Pod) string {
	sel := fields.Set{"involvedObject.name": pod.Name, "reason": "Unhealthy"}.AsSelector().String()
	list, err := c.core.Events(pod.Namespace).List(ctx, metav1.ListOptions{FieldSelector: sel})
	if err != nil || len(list.Items) == 0 {
		return ""
	}
	newest := list.Items[0]
	for _, e := range list.Items[1:] {
		if eventTime(e).After(eventTime(newest)) {
			newest = e
		}
	}
	return oneLine(newest.Message)
}

func eventTime(e corev1.Event) time.Time {
	if !e.LastTimestamp.IsZero() {
		return e.LastTimestamp.Time
	}
	return e.EventTime.Time
}

func hasReadinessProbe(pod *corev1.Pod, container string) bool {
	for _, c := range pod.Spec.Containers {
		if c.Name == container {
			return c.ReadinessProbe != nil
		}
	}
	return false
}

func podReady(pod *corev1.Pod) bool {
	for _, cond := range pod.Status.Conditions {
		if cond.Type == corev1.PodReady {
			return cond.Status == corev1.ConditionTrue
		}
	}
	return false
}
