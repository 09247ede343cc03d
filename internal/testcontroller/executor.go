package testcontroller

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/releaseutil"
	"helm.sh/helm/v3/pkg/storage/driver"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apimachinery/pkg/types"
	utilrand "k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/yaml"

	"github.com/ksbuilder/ksbuilder/pkg/extension"
	"github.com/ksbuilder/ksbuilder/pkg/kubesphere"
)

// executorImage is the image KubeSphere's executor jobs run by default.
const executorImage = "kubesphere/kubectl:v1.27.16"

// loadChart reads a version's chart from its ConfigMap.
func (c *Controller) loadChart(ctx context.Context, ev *kubesphere.ExtensionVersion) (*chart.Chart, []byte, error) {
	ref := ev.Spec.ChartDataRef
	if ref == nil {
		return nil, nil, errors.New("the ExtensionVersion has no chartDataRef")
	}
	cm := &corev1.ConfigMap{}
	if err := c.client.Get(ctx, types.NamespacedName{Namespace: ref.Namespace, Name: ref.Name}, cm); err != nil {
		return nil, nil, fmt.Errorf("failed to load chart data: %w", err)
	}
	data, ok := cm.BinaryData[ref.Key]
	if !ok {
		return nil, nil, fmt.Errorf("failed to load chart data: key %s not found in configmap %s/%s", ref.Key, ref.Namespace, ref.Name)
	}
	ch, err := loader.LoadArchive(bytes.NewReader(data))
	if err != nil {
		return nil, nil, fmt.Errorf("failed to load chart: %w", err)
	}
	return ch, data, nil
}

// ensureNamespace creates the target namespace with KubeSphere's labels.
func (c *Controller) ensureNamespace(ctx context.Context, name, ns string) error {
	obj := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}
	_, err := controllerutil.CreateOrUpdate(ctx, c.client, obj, func() error {
		if obj.Labels == nil {
			obj.Labels = map[string]string{}
		}
		obj.Labels["kubesphere.io/workspace"] = "system-workspace"
		obj.Labels[kubesphere.LabelExtensionRef] = name
		obj.Labels[kubesphere.LabelManaged] = "true"
		return nil
	})
	return err
}

// defaultRoleRule is the part of the executor's Role KubeSphere always
// grants in the target namespace.
var defaultRoleRule = rbacv1.PolicyRule{
	APIGroups: []string{"", "apps", "batch", "policy", "networking.k8s.io", "autoscaling", "metrics.k8s.io"},
	Resources: []string{"*"},
	Verbs:     []string{"*"},
}

// executorSA is the service account the executor applies the chart as.
func executorSA(name string) string { return "helm-executor." + name }

// ensureRBAC creates the executor's service account and its Role and
// ClusterRole from permissions.yaml, with their bindings.
func (c *Controller) ensureRBAC(ctx context.Context, name, ns string, ch *chart.Chart) error {
	var clusterRules, nsRules []rbacv1.PolicyRule
	for _, f := range ch.Files {
		if f.Name != extension.PermissionsFile {
			continue
		}
		perms, _ := extension.ParsePermissions(f.Data)
		if perms != nil {
			clusterRules, nsRules = policyRules(perms.ClusterRules()), policyRules(perms.NamespaceRules())
		}
	}
	nsRules = append(nsRules, defaultRoleRule)
	roleName := fmt.Sprintf("kubesphere:%s:helm-executor", name)
	lbl := map[string]string{kubesphere.LabelExtensionRef: name}
	subject := []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: executorSA(name), Namespace: ns}}
	objects := []struct {
		obj    client.Object
		mutate func()
	}{
		{&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: executorSA(name), Namespace: ns}}, nil},
		{&rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: roleName, Namespace: ns}}, nil},
		{&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: roleName, Namespace: ns}}, nil},
		{&rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: roleName}}, nil},
		{&rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: roleName}}, nil},
	}
	for _, o := range objects {
		obj := o.obj
		_, err := controllerutil.CreateOrUpdate(ctx, c.client, obj, func() error {
			obj.SetLabels(lbl)
			switch r := obj.(type) {
			case *rbacv1.Role:
				r.Rules = nsRules
			case *rbacv1.ClusterRole:
				r.Rules = clusterRules
			case *rbacv1.RoleBinding:
				r.RoleRef = rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: roleName}
				r.Subjects = subject
			case *rbacv1.ClusterRoleBinding:
				r.RoleRef = rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: roleName}
				r.Subjects = subject
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("failed to create the executor's RBAC: %w", err)
		}
	}
	return nil
}

func policyRules(rules []extension.PolicyRule) []rbacv1.PolicyRule {
	out := make([]rbacv1.PolicyRule, 0, len(rules))
	for _, r := range rules {
		out = append(out, rbacv1.PolicyRule{Verbs: r.Verbs, APIGroups: r.APIGroups, Resources: r.Resources,
			ResourceNames: r.ResourceNames, NonResourceURLs: r.NonResourceURLs})
	}
	return out
}

// createJob creates the executor's ConfigMap, Job and Pod for an action.
func (c *Controller) createJob(ctx context.Context, plan *kubesphere.InstallPlan, t target, action, configHash string, chartData []byte, config string) (*batchv1.Job, error) {
	name := plan.Spec.Extension.Name
	ns := plan.Status.TargetNamespace
	jobName := fmt.Sprintf("helm-%s-%s-%s", action, t.release, utilrand.String(6))
	c.jobStarted(jobName, time.Now())
	owner := metav1.OwnerReference{APIVersion: kubesphere.GroupVersion.String(), Kind: "InstallPlan", Name: plan.Name, UID: plan.UID}
	lbl := map[string]string{kubesphere.LabelManaged: "true", kubesphere.LabelExtensionRef: name, "name": jobName}

	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: jobName, Namespace: ns, Labels: lbl, OwnerReferences: []metav1.OwnerReference{owner}},
		BinaryData: map[string][]byte{"values.yaml": []byte(config)},
	}
	if action == actionUninstall {
		cm.Labels = nil
	} else {
		cm.BinaryData[t.release+".tgz"] = chartData
	}
	if err := c.client.Create(ctx, cm); err != nil {
		return nil, fmt.Errorf("failed to create the executor configmap: %w", err)
	}

	args := []string{"upgrade", "--install", t.release, "/tmp/helm-executor/" + t.release + ".tgz", "--namespace", ns,
		"--values", "/tmp/helm-executor/values.yaml", "--debug", "--wait", "--wait-for-jobs"}
	switch action {
	case actionUpgrade:
		args = append([]string{"upgrade"}, args[2:]...)
	case actionUninstall:
		args = []string{"uninstall", t.release, "--namespace", ns, "--debug", "--wait"}
	}
	podSpec := corev1.PodSpec{
		RestartPolicy:      corev1.RestartPolicyNever,
		ServiceAccountName: "default",
		Containers:         []corev1.Container{{Name: "helm", Image: executorImage, Command: append([]string{"helm"}, args...)}},
	}
	zero := int32(0)
	job := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{
			Name: jobName, Namespace: ns, Labels: lbl, OwnerReferences: []metav1.OwnerReference{owner},
			Annotations: map[string]string{kubesphere.AnnotationExecutorAction: action, kubesphere.AnnotationExecutorConfigHash: configHash},
		},
		Spec: batchv1.JobSpec{BackoffLimit: &zero, Template: corev1.PodTemplateSpec{Spec: podSpec}},
	}
	if err := c.client.Create(ctx, job); err != nil {
		return nil, fmt.Errorf("failed to create the executor job: %w", err)
	}
	// What the Job controller would do: one pod, which no scheduler places.
	isController := true
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: jobName + "-" + utilrand.String(5), Namespace: ns,
			Labels:          map[string]string{"job-name": jobName, "batch.kubernetes.io/job-name": jobName, "controller-uid": string(job.UID)},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "batch/v1", Kind: "Job", Name: job.Name, UID: job.UID, Controller: &isController}},
		},
		Spec: podSpec,
	}
	if err := c.client.Create(ctx, pod); err != nil {
		return nil, fmt.Errorf("creating the executor pod: %w", err)
	}
	return job, nil
}

// runJob does the executor's work after a delay, in the background: runs
// the Helm action, then marks the job succeeded or failed.
func (c *Controller) runJob(plan *kubesphere.InstallPlan, t target, action string, job *batchv1.Job, ch *chart.Chart, vals map[string]any) {
	name := plan.Spec.Extension.Name
	b := c.behaviour(name)
	c.jobs.Add(1)
	go func() {
		defer c.jobs.Done()
		delay := c.opts.JobDuration
		if b.JobDuration > 0 {
			delay = b.JobDuration
		}
		var elapsed <-chan time.Time // a nil channel never delivers
		if b.Hold == nil {
			timer := time.NewTimer(delay)
			defer timer.Stop()
			elapsed = timer.C
		}
		select {
		case <-b.Hold:
		case <-elapsed:
		case <-c.ctx.Done():
			return
		}
		var err error
		switch {
		case action == actionUninstall && b.FailUninstall:
			err = errors.New("timed out waiting for the condition")
		case action == actionUninstall:
			err = c.helmUninstall(job.Namespace, t.release, executorSA(name), false)
		default:
			err = c.helmInstall(job.Namespace, t.release, executorSA(name), name, ch, vals)
		}
		if b.JobEndDelay > 0 {
			settle := time.NewTimer(b.JobEndDelay)
			defer settle.Stop()
			select {
			case <-settle.C:
			case <-c.ctx.Done():
				return
			}
		}
		finished := time.Now()
		if err != nil {
			c.logf("job %s/%s: %v", job.Namespace, job.Name, err)
			if rel, _ := c.lastRelease(job.Namespace, t.release); b.FailFast && action != actionUninstall && rel != nil {
				finished = rel.Info.LastDeployed.Time
			}
		}
		if err := c.finishJob(job, err == nil, finished, b.ExecutorClockOffset); err != nil {
			c.logf("job %s/%s: marking it finished: %v", job.Namespace, job.Name, err)
		}
	}()
}

// finishJob marks a job as the Job controller would once its pod ended, at
// the given time of the executor's clock.
func (c *Controller) finishJob(job *batchv1.Job, succeeded bool, at time.Time, clockOffset time.Duration) error {
	ctx, cancel := context.WithTimeout(c.ctx, 30*time.Second)
	defer cancel()
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		current := &batchv1.Job{}
		if err := c.client.Get(ctx, client.ObjectKeyFromObject(job), current); err != nil {
			return client.IgnoreNotFound(err)
		}
		// Both times come from the executor's node, whatever its clock.
		now := metav1.NewTime(at.Add(clockOffset))
		start := metav1.NewTime(current.CreationTimestamp.Add(clockOffset))
		current.Status.StartTime = &start
		if succeeded {
			current.Status.Succeeded = 1
			current.Status.CompletionTime = &now
			current.Status.Conditions = []batchv1.JobCondition{
				{Type: batchv1.JobSuccessCriteriaMet, Status: corev1.ConditionTrue, Reason: "CompletionsReached", Message: "Reached expected number of succeeded pods", LastProbeTime: now, LastTransitionTime: now},
				{Type: batchv1.JobComplete, Status: corev1.ConditionTrue, Reason: "CompletionsReached", Message: "Reached expected number of succeeded pods", LastProbeTime: now, LastTransitionTime: now},
			}
		} else {
			current.Status.Failed = 1
			current.Status.Conditions = []batchv1.JobCondition{
				{Type: batchv1.JobFailureTarget, Status: corev1.ConditionTrue, Reason: "BackoffLimitExceeded", Message: "Job has reached the specified backoff limit", LastProbeTime: now, LastTransitionTime: now},
				{Type: batchv1.JobFailed, Status: corev1.ConditionTrue, Reason: "BackoffLimitExceeded", Message: "Job has reached the specified backoff limit", LastProbeTime: now, LastTransitionTime: now},
			}
		}
		return c.client.Status().Update(ctx, current)
	})
}

// jobResult reads a job's outcome: when it finished (zero while it runs),
// whether it succeeded, and its latest condition message.
func jobResult(job *batchv1.Job) (time.Time, bool, string) {
	for _, cond := range job.Status.Conditions {
		if cond.Status != corev1.ConditionTrue {
			continue
		}
		switch cond.Type {
		case batchv1.JobComplete:
			return job.Status.CompletionTime.Time, true, cond.Message
		case batchv1.JobFailed:
			return cond.LastTransitionTime.Time, false, cond.Message
		}
	}
	return time.Time{}, false, ""
}

func (c *Controller) getJob(ctx context.Context, ns, name string) (*batchv1.Job, error) {
	job := &batchv1.Job{}
	return job, c.client.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, job)
}

// cleanup deletes executor jobs and configmaps that no release uses, as
// KubeSphere does after starting a job.
func (c *Controller) cleanup(ctx context.Context, plan *kubesphere.InstallPlan) {
	current := []string{plan.Status.JobName}
	for _, st := range plan.Status.ClusterSchedulingStatuses {
		current = append(current, st.JobName)
	}
	sel := labels.SelectorFromSet(labels.Set{kubesphere.LabelManaged: "true", kubesphere.LabelExtensionRef: plan.Spec.Extension.Name})
	req, err := labels.NewRequirement("name", selection.NotIn, current)
	if err != nil {
		return
	}
	sel = sel.Add(*req)
	opts := []client.DeleteAllOfOption{client.InNamespace(plan.Status.TargetNamespace), client.MatchingLabelsSelector{Selector: sel},
		client.PropagationPolicy(metav1.DeletePropagationBackground)}
	for _, obj := range []client.Object{&batchv1.Job{}, &corev1.ConfigMap{}} {
		if err := c.client.DeleteAllOf(ctx, obj, opts...); err != nil {
			c.logf("cleaning up executor objects: %v", err)
		}
	}
}

// helmConfig is a Helm action configuration for a namespace, acting as the
// given user (the executor's service account) or, with "", as the controller.
func (c *Controller) helmConfig(ns, serviceAccount string) (*action.Configuration, error) {
	cfg := rest.CopyConfig(c.cfg)
	if serviceAccount != "" {
		cfg.Impersonate = rest.ImpersonationConfig{UserName: "system:serviceaccount:" + ns + ":" + serviceAccount}
	}
	ac := &action.Configuration{}
	return ac, ac.Init(restGetter{cfg: cfg, ns: ns}, ns, "secret", func(string, ...any) {})
}

// helmInstall is the executor's "helm upgrade --install", without --wait.
func (c *Controller) helmInstall(ns, releaseName, serviceAccount, extensionName string, ch *chart.Chart, vals map[string]any) error {
	ac, err := c.helmConfig(ns, serviceAccount)
	if err != nil {
		return err
	}
	post := labelAll{key: kubesphere.LabelExtensionRef, value: extensionName}
	ctx, cancel := context.WithTimeout(c.ctx, time.Minute)
	defer cancel()
	if _, err := ac.Releases.Last(releaseName); errors.Is(err, driver.ErrReleaseNotFound) {
		inst := action.NewInstall(ac)
		inst.ReleaseName, inst.Namespace, inst.PostRenderer, inst.Timeout = releaseName, ns, post, time.Minute
		_, err = inst.RunWithContext(ctx, ch, vals)
		return err
	}
	up := action.NewUpgrade(ac)
	up.Namespace, up.PostRenderer, up.MaxHistory, up.Timeout = ns, post, 2, time.Minute
	_, err = up.RunWithContext(ctx, releaseName, ch, vals)
	return err
}

// helmUninstall uninstalls a release; force skips the hooks and orphans the
// objects' dependents, as KubeSphere's forced deletion does.
func (c *Controller) helmUninstall(ns, releaseName, serviceAccount string, force bool) error {
	ac, err := c.helmConfig(ns, serviceAccount)
	if err != nil {
		return err
	}
	un := action.NewUninstall(ac)
	un.Timeout = time.Minute
	if force {
		un.DisableHooks, un.DeletionPropagation, un.IgnoreNotFound = true, "orphan", true
	}
	_, err = un.Run(releaseName)
	return err
}

// forceUninstall is the in-process uninstall of a force-deleted plan.
func (c *Controller) forceUninstall(ns, releaseName string) error {
	if !c.releaseExists(ns, releaseName) {
		return nil
	}
	return c.helmUninstall(ns, releaseName, "", true)
}

// lastRelease returns the latest revision of a release, nil when none.
func (c *Controller) lastRelease(ns, name string) (*release.Release, error) {
	if ns == "" {
		return nil, nil
	}
	ac, err := c.helmConfig(ns, "")
	if err != nil {
		return nil, err
	}
	rel, err := ac.Releases.Last(name)
	if errors.Is(err, driver.ErrReleaseNotFound) {
		return nil, nil
	}
	return rel, err
}

func (c *Controller) releaseExists(ns, name string) bool {
	rel, err := c.lastRelease(ns, name)
	return err == nil && rel != nil
}

// labelAll is the executor's post-renderer: it labels every rendered object
// with the extension's name.
type labelAll struct{ key, value string }

func (l labelAll) Run(rendered *bytes.Buffer) (*bytes.Buffer, error) {
	out := &bytes.Buffer{}
	manifests := releaseutil.SplitManifests(rendered.String())
	for _, key := range sortedManifestKeys(manifests) {
		obj := map[string]any{}
		if err := yaml.Unmarshal([]byte(manifests[key]), &obj); err != nil {
			return nil, err
		}
		if len(obj) == 0 {
			continue
		}
		md, _ := obj["metadata"].(map[string]any)
		if md == nil {
			md = map[string]any{}
			obj["metadata"] = md
		}
		lbl, _ := md["labels"].(map[string]any)
		if lbl == nil {
			lbl = map[string]any{}
			md["labels"] = lbl
		}
		lbl[l.key] = l.value
		data, err := yaml.Marshal(obj)
		if err != nil {
			return nil, err
		}
		out.WriteString("---\n")
		out.Write(data)
	}
	return out, nil
}

func sortedManifestKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Sort(releaseutil.BySplitManifestsOrder(keys))
	return keys
}

// restGetter hands Helm a REST config.
type restGetter struct {
	cfg *rest.Config
	ns  string
}

func (g restGetter) ToRESTConfig() (*rest.Config, error) { return rest.CopyConfig(g.cfg), nil }

func (g restGetter) ToDiscoveryClient() (discovery.CachedDiscoveryInterface, error) {
	dc, err := discovery.NewDiscoveryClientForConfig(g.cfg)
	if err != nil {
		return nil, err
	}
	return memory.NewMemCacheClient(dc), nil
}

func (g restGetter) ToRESTMapper() (meta.RESTMapper, error) {
	dc, err := g.ToDiscoveryClient()
	if err != nil {
		return nil, err
	}
	return restmapper.NewShortcutExpander(restmapper.NewDeferredDiscoveryRESTMapper(dc), dc, nil), nil
}

func (g restGetter) ToRawKubeConfigLoader() clientcmd.ClientConfig {
	return clientcmd.NewDefaultClientConfig(clientcmdapi.Config{}, &clientcmd.ConfigOverrides{Context: clientcmdapi.Context{Namespace: g.ns}})
}
