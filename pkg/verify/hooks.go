package verify

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"helm.sh/helm/v3/pkg/release"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/ksbuilder/ksbuilder/pkg/cluster"
)

// testHooks returns a release's test hooks in the order Helm runs them: by
// weight, then by name.
func testHooks(rel *release.Release) []*release.Hook {
	var hooks []*release.Hook
	for _, h := range rel.Hooks {
		if h != nil && slices.Contains(h.Events, release.HookTest) {
			hooks = append(hooks, h)
		}
	}
	sort.SliceStable(hooks, func(i, j int) bool {
		if hooks[i].Weight != hooks[j].Weight {
			return hooks[i].Weight < hooks[j].Weight
		}
		return hooks[i].Name < hooks[j].Name
	})
	return hooks
}

// testHookChecks returns a check per test hook of a release, which runs it
// as "helm test" does.
func testHookChecks(rel loadedRelease, r *runner) []Check {
	var checks []Check
	for _, h := range testHooks(rel.release) {
		checks = append(checks, Check{
			Name:    fmt.Sprintf("test hook %s %s of release %s succeeds", h.Kind, h.Name, rel.name),
			Cluster: rel.conn.cluster,
			Run:     func(ctx context.Context) Outcome { return runHook(ctx, rel, h, r) },
		})
	}
	return checks
}

// hasPolicy reports whether a hook has a delete policy; a hook without any
// has before-hook-creation, as in Helm.
func hasPolicy(h *release.Hook, p release.HookDeletePolicy) bool {
	if len(h.DeletePolicies) == 0 {
		return p == release.HookBeforeHookCreation
	}
	return slices.Contains(h.DeletePolicies, p)
}

// hookObject is a test hook's Pod or Job on a cluster.
type hookObject interface {
	// create creates it; remove deletes it and waits until it is gone.
	create(ctx context.Context) error
	remove(ctx context.Context, wait time.Duration) error
	// state reads it: done once it ended, failed when it did not succeed,
	// with the reason and the logs of a failure.
	state(ctx context.Context, lines int) (done, failed bool, reason string, logs []LogLine, err error)
}

// runHook runs one test hook: deletes a leftover of an earlier run
// (before-hook-creation), creates it in the release's namespace, waits until
// it ends, and deletes it when its policy says so.
func runHook(ctx context.Context, rel loadedRelease, h *release.Hook, r *runner) Outcome {
	obj, err := newHookObject(rel, h)
	if err != nil {
		return Outcome{Status: Failed, Reason: err.Error()}
	}
	if obj == nil {
		return Outcome{Status: Skipped, Reason: fmt.Sprintf("ksbuilder runs test hooks of kind Pod and Job; a %s is not created (run \"helm test %s -n %s\" for it)", h.Kind, rel.name, rel.namespace)}
	}
	if hasPolicy(h, release.HookBeforeHookCreation) {
		if err := obj.remove(ctx, r.opts.Timeout); err != nil {
			return Outcome{Status: Failed, Reason: "deleting the previous run: " + err.Error()}
		}
	}
	if err := obj.create(ctx); err != nil {
		return Outcome{Status: Failed, Reason: "creating it: " + err.Error()}
	}
	var failed bool
	out := r.poll(ctx, time.Now().Add(r.opts.Timeout), func() (bool, Outcome) {
		done, bad, reason, logs, err := obj.state(ctx, r.opts.LogLines)
		switch {
		case err != nil:
			return false, Outcome{Status: Failed, Reason: err.Error()}
		case !done:
			return false, Outcome{Status: Failed, Reason: fmt.Sprintf("did not end within %s: %s", r.opts.Timeout, reason), Logs: logs}
		case bad:
			failed = true
			return true, Outcome{Status: Failed, Reason: reason, Logs: logs}
		}
		return true, Outcome{Status: Passed, Reason: reason}
	})
	if out.Status != Passed {
		failed = true
	}
	if (failed && hasPolicy(h, release.HookFailed)) || (!failed && hasPolicy(h, release.HookSucceeded)) {
		// Deleting ends the run; not waiting for it to be gone.
		if err := obj.remove(ctx, 0); err != nil && out.Status == Passed {
			return Outcome{Status: Failed, Reason: "deleting it after it passed (hook-succeeded): " + err.Error()}
		}
	}
	return out
}

// newHookObject decodes a hook's manifest; nil for a kind ksbuilder does
// not run.
func newHookObject(rel loadedRelease, h *release.Hook) (hookObject, error) {
	switch h.Kind {
	case "Pod":
		pod := &corev1.Pod{}
		if err := yaml.Unmarshal([]byte(h.Manifest), pod); err != nil {
			return nil, fmt.Errorf("%s: the hook is not a Pod: %w", h.Path, err)
		}
		pod.Namespace = orDefault(pod.Namespace, rel.namespace)
		return &hookPod{conn: rel.conn, pod: pod}, nil
	case "Job":
		job := &batchv1.Job{}
		if err := yaml.Unmarshal([]byte(h.Manifest), job); err != nil {
			return nil, fmt.Errorf("%s: the hook is not a Job: %w", h.Path, err)
		}
		job.Namespace = orDefault(job.Namespace, rel.namespace)
		return &hookJob{conn: rel.conn, job: job}, nil
	}
	return nil, nil
}

// hookPod is a Pod test hook.
type hookPod struct {
	conn *conn
	pod  *corev1.Pod
}

func (p *hookPod) create(ctx context.Context) error {
	_, err := p.conn.core.Pods(p.pod.Namespace).Create(ctx, p.pod, metav1.CreateOptions{FieldManager: "ksbuilder"})
	return err
}

func (p *hookPod) remove(ctx context.Context, wait time.Duration) error {
	pods := p.conn.core.Pods(p.pod.Namespace)
	return removeAndWait(ctx, wait, func() error { return pods.Delete(ctx, p.pod.Name, metav1.DeleteOptions{}) },
		func() error { _, err := pods.Get(ctx, p.pod.Name, metav1.GetOptions{}); return err })
}

func (p *hookPod) state(ctx context.Context, lines int) (bool, bool, string, []LogLine, error) {
	pod, err := p.conn.core.Pods(p.pod.Namespace).Get(ctx, p.pod.Name, metav1.GetOptions{})
	if err != nil {
		return false, false, "", nil, err
	}
	return podOutcome(ctx, p.conn, pod, lines)
}

// podOutcome judges a test pod: done once Succeeded or Failed.
func podOutcome(ctx context.Context, cn *conn, pod *corev1.Pod, lines int) (bool, bool, string, []LogLine, error) {
	switch pod.Status.Phase {
	case corev1.PodSucceeded:
		return true, false, "pod " + pod.Name + " Succeeded", nil, nil
	case corev1.PodFailed:
		var why []string
		var logs []LogLine
		for _, st := range slices.Concat(pod.Status.InitContainerStatuses, pod.Status.ContainerStatuses) {
			if t := st.State.Terminated; t != nil && t.ExitCode != 0 {
				why = append(why, fmt.Sprintf("container %s exited with code %d", st.Name, t.ExitCode))
			}
		}
		for _, name := range cluster.ContainerNames(pod) {
			logs = append(logs, cn.logsOrNote(ctx, pod, name, lines, false)...)
		}
		reason := "pod " + pod.Name + " Failed"
		if len(why) > 0 {
			reason += ": " + strings.Join(why, ", ")
		}
		return true, true, reason, logs, nil
	}
	problems, logs := cn.podProblem(ctx, pod, lines)
	return false, false, orDefault(strings.Join(problems, "; "), "pod "+pod.Name+" is "+orDefault(string(pod.Status.Phase), "Pending")), logs, nil
}

// hookJob is a Job test hook.
type hookJob struct {
	conn *conn
	job  *batchv1.Job
}

func (j *hookJob) create(ctx context.Context) error {
	_, err := j.conn.batch.Jobs(j.job.Namespace).Create(ctx, j.job, metav1.CreateOptions{FieldManager: "ksbuilder"})
	return err
}

func (j *hookJob) remove(ctx context.Context, wait time.Duration) error {
	jobs := j.conn.batch.Jobs(j.job.Namespace)
	background := metav1.DeletePropagationBackground
	return removeAndWait(ctx, wait, func() error {
		return jobs.Delete(ctx, j.job.Name, metav1.DeleteOptions{PropagationPolicy: &background})
	}, func() error { _, err := jobs.Get(ctx, j.job.Name, metav1.GetOptions{}); return err })
}

func (j *hookJob) state(ctx context.Context, lines int) (bool, bool, string, []LogLine, error) {
	job, err := j.conn.batch.Jobs(j.job.Namespace).Get(ctx, j.job.Name, metav1.GetOptions{})
	if err != nil {
		return false, false, "", nil, err
	}
	st := jobReadiness(job)
	if st.ready {
		return true, false, "job " + job.Name + " complete", nil, nil
	}
	pods, _ := j.conn.selectPods(ctx, job.Namespace, st.selector)
	var logs []LogLine
	var problems []string
	for i := range pods {
		if st.stuck {
			for _, name := range cluster.ContainerNames(&pods[i]) {
				logs = append(logs, j.conn.logsOrNote(ctx, &pods[i], name, lines, false)...)
			}
			continue
		}
		p, l := j.conn.podProblem(ctx, &pods[i], lines)
		problems, logs = append(problems, p...), append(logs, l...)
	}
	return st.stuck, st.stuck, strings.Join(append([]string{"job " + job.Name + " " + st.why}, problems...), "; "), logs, nil
}

// removeAndWait deletes an object and, given a wait, polls until it is
// gone. An object already gone is not an error.
func removeAndWait(ctx context.Context, wait time.Duration, del, get func() error) error {
	if err := del(); err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		return err
	}
	deadline := time.Now().Add(wait)
	for wait > 0 {
		err := get()
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		if !time.Now().Before(deadline) {
			return fmt.Errorf("still there after %s", wait)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return nil
}
