package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"
	"helm.sh/helm/v3/pkg/chart"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/ksbuilder/ksbuilder/pkg/kubesphere"
	"github.com/ksbuilder/ksbuilder/pkg/kubesphere/extensions"
	"github.com/ksbuilder/ksbuilder/pkg/kubesphere/multicluster"
	"github.com/ksbuilder/ksbuilder/pkg/manifest"
)

// ErrNotMulticluster is returned (as a *NotMulticlusterError) when
// clusters are given for an extension that is not installed in
// Multicluster mode.
var ErrNotMulticluster = errors.New("only Multicluster extensions have agents to place on clusters")

// NotMulticlusterError is a placement asked for an extension that is not
// Multicluster.
type NotMulticlusterError struct {
	Name, Version, Mode string
}

func (e *NotMulticlusterError) Error() string {
	return fmt.Sprintf("%v; %s %s is %s", ErrNotMulticluster, e.Name, e.Version, e.Mode)
}

// Is makes errors.Is(err, ErrNotMulticluster) true.
func (e *NotMulticlusterError) Is(target error) bool { return target == ErrNotMulticluster }

// InstallOptions say what to install, with which values, and where.
type InstallOptions struct {
	// Name and Version select the published ExtensionVersion. With
	// Publication set they are taken from it.
	Name    string
	Version string
	// Publication, when set, is published after the checks pass and before
	// the InstallPlan is written ("install PATH"). Without it, the published
	// chart is read from its ConfigMap for the checks.
	Publication *Publication
	// Values replace the plan's config; nil keeps the current config (none
	// for a new plan).
	Values map[string]any
	// ValueSource, when set, says where each of Values came from
	// (values.Options.MergeSources): a value values.schema.json refuses is
	// then named by its origin ("--set replicas=three").
	ValueSource manifest.ValueSource
	// ResetValues removes the plan's config when Values is nil.
	ResetValues bool
	// Clusters place a Multicluster extension's agent; empty means the
	// current placement, or the host cluster for a new plan.
	Clusters []string
	// ClusterValues are per-cluster values, written as the overrides of
	// those clusters (each must be placed); overrides of other clusters
	// are kept, and nil keeps them all.
	ClusterValues map[string]map[string]any
	// Upgrade changes the version of an existing plan; without it, a plan
	// for another version is an error.
	Upgrade bool
	// Renders, when set, holds the renders a caller has already checked
	// (see CheckRender): the chart is not rendered again with the same
	// values. Nil renders every time.
	Renders *RenderCache
	// DryRun runs every check (they read the cluster) but writes nothing:
	// the result lists the objects that would be written.
	DryRun bool
}

// InstallResult says what Install wrote.
type InstallResult struct {
	// Publish is what publishing wrote, when a Publication was given.
	Publish *PublishResult
	// Plan is the InstallPlan as written: the starting point for Wait.
	Plan *kubesphere.InstallPlan
	// Action is Created, Configured or Unchanged.
	Action Action
	// PreviousVersion is the plan's version before an upgrade.
	PreviousVersion string
	// ServedBy is the Repository the installed version was synced from;
	// nil for a version published otherwise, or given as a Publication.
	ServedBy *ServedBy
	// Expect is what Wait must see happen.
	Expect Expectation
	// Retry, when set, says how a failed installation is made to run again
	// (KubeSphere retries only when the version or the config changes).
	Retry    string
	Warnings []string
	// Objects are, after a dry run, the objects that would be written, in
	// order: the publication's, then the InstallPlan (its spec as it would
	// be after the write).
	Objects []runtime.Object
}

// Expectation lists the releases that must show new activity before their
// state is taken as the outcome of this change. A release not listed is
// judged by its current state.
type Expectation struct {
	Host     bool     `json:"host"`
	Clusters []string `json:"clusters,omitempty"`
}

// CheckError lists the reasons an installation was refused before anything
// was written.
type CheckError struct {
	Name, Version string
	Problems      []string
	// Clusters, when set, are the clusters an agent can be placed on: a
	// problem is about the placement.
	Clusters []string
}

func (e *CheckError) Error() string {
	if len(e.Problems) == 1 {
		return fmt.Sprintf("cannot install %s %s: %s", e.Name, e.Version, e.Problems[0])
	}
	return fmt.Sprintf("cannot install %s %s:\n  - %s", e.Name, e.Version, strings.Join(e.Problems, "\n  - "))
}

// Install checks that an extension version can be installed (KubeSphere's
// controller runs, the version is published, its required dependencies are installed, the Kubernetes and
// KubeSphere versions fit, the chart renders with the values, its JSBundles,
// APIServices, ReverseProxies and ExtensionEntries do not clash with other
// extensions' on the cluster), publishes it
// when asked, and creates or updates its InstallPlan. It does not wait.
func (c *Client) Install(ctx context.Context, opts InstallOptions) (*InstallResult, error) {
	if err := c.requireKubeSphere(ctx); err != nil {
		return nil, err
	}
	res := &InstallResult{Warnings: []string{}}
	ev, err := c.targetVersion(ctx, &opts)
	if err != nil {
		return nil, err
	}
	name, version := opts.Name, opts.Version
	if opts.Publication == nil {
		res.ServedBy = c.servedBy(ctx, ev)
	}

	plan := &kubesphere.InstallPlan{}
	exists := true
	switch err := c.get(ctx, kubesphere.ResourceInstallPlans, name, plan); {
	case apierrors.IsNotFound(err):
		exists = false
	case err != nil:
		return nil, err
	}
	if err := checkPlanTransition(plan, exists, ev, opts); err != nil {
		return nil, err
	}

	check := &CheckError{Name: name, Version: version}
	if down := c.controllerDown(ctx); down != nil {
		check.Problems = append(check.Problems, down.Error())
	}
	clusters, err := c.placement(ctx, ev, plan, exists, opts.Clusters, check)
	if err != nil {
		return nil, err
	}
	res.Warnings = append(res.Warnings, c.checkRequirements(ctx, ev, check)...)

	spec := kubesphere.InstallPlanSpec{
		Extension:       kubesphere.ExtensionRef{Name: name, Version: version},
		Enabled:         true,
		UpgradeStrategy: kubesphere.UpgradeStrategyManual,
	}
	if exists {
		spec.Config = plan.Spec.Config
		spec.ClusterScheduling = plan.Spec.ClusterScheduling.DeepCopy()
	}
	switch {
	case opts.Values != nil:
		config, err := ConfigText(opts.Values)
		if err != nil {
			return nil, err
		}
		spec.Config = config
	case opts.ResetValues:
		spec.Config = ""
	}
	if clusters != nil {
		if spec.ClusterScheduling == nil {
			spec.ClusterScheduling = &kubesphere.ClusterScheduling{}
		}
		spec.ClusterScheduling.Placement = &kubesphere.Placement{Clusters: clusters}
	}
	if len(opts.ClusterValues) > 0 {
		if ev.Mode() != kubesphere.Multicluster {
			return nil, &NotMulticlusterError{Name: name, Version: version, Mode: string(ev.Mode())}
		}
		if err := applyClusterValues(&spec, placedClusters(&spec), opts.ClusterValues); err != nil {
			return nil, err
		}
	}

	if exists {
		// KubeSphere acts when the version or the config hash differs from
		// what the release's status records, not from the old spec: a
		// failed release it would leave alone is re-run with a new comment.
		if stalled := stalledReleases(plan, &spec); len(stalled) > 0 {
			var marker string
			spec.Config, marker = bumpRetry(spec.Config)
			res.Retry = fmt.Sprintf("the last installation failed (%s) and KubeSphere re-runs it only when the version or spec.config changes: setting the comment %q in spec.config of InstallPlan %s, which changes its hash and nothing else",
				strings.Join(stalled, ", "), marker, name)
		}
		if loop := UpgradeLoop(&plan.Spec, plan.Status.InstallationStatus); loop != "" {
			res.Warnings = append(res.Warnings, fmt.Sprintf("InstallPlan %s is looping: %s", name, loop))
		}
		var newChart *chart.Chart
		if opts.Publication != nil {
			newChart = opts.Publication.Chart
		}
		res.Warnings = append(res.Warnings, c.pinnedImageWarnings(ctx, name, plan.Spec.Extension.Version, version, spec.Config, newChart)...)
	}

	if len(check.Problems) == 0 {
		var ch *chart.Chart
		if opts.Publication != nil {
			ch = opts.Publication.Chart
		}
		kinds, err := c.renderCheck(ctx, ev, ch, spec, opts.Renders, opts.ValueSource)
		if err != nil {
			check.Problems = append(check.Problems, err.Error())
		}
		warning, err := c.checkConflicts(ctx, name, kinds, check)
		if err != nil {
			return nil, err
		}
		if warning != "" {
			res.Warnings = append(res.Warnings, warning)
		}
	}
	if len(check.Problems) > 0 {
		return nil, check
	}
	if opts.DryRun {
		return dryRunInstall(res, plan, exists, spec, opts), nil
	}

	if opts.Publication != nil {
		if res.Publish, err = c.Publish(ctx, opts.Publication); err != nil {
			return nil, err
		}
		res.Warnings = append(res.Warnings, res.Publish.Warnings...)
	}

	if !exists {
		newPlan := &kubesphere.InstallPlan{
			TypeMeta:   metav1.TypeMeta{APIVersion: kubesphere.GroupVersion.String(), Kind: "InstallPlan"},
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec:       spec,
		}
		created := &kubesphere.InstallPlan{}
		if err := c.create(ctx, kubesphere.ResourceInstallPlans, newPlan, created); err != nil {
			return nil, fmt.Errorf("creating InstallPlan %s: %w", name, err)
		}
		res.Plan, res.Action = created, Created
		res.Expect = Expectation{Host: true, Clusters: placedClusters(&spec)}
		return res, nil
	}

	res.PreviousVersion = plan.Spec.Extension.Version
	if deployed := deployedVersion(plan); semverLess(version, deployed) {
		res.Warnings = append(res.Warnings, fmt.Sprintf("downgrading %s from %s (deployed) to %s: Helm installs the older chart over the newer release", name, deployed, version))
	}
	res.Expect = expectedActions(plan, &spec)
	if reflect.DeepEqual(normalizedSpec(plan.Spec), normalizedSpec(spec)) {
		res.Plan, res.Action = plan, Unchanged
		if res.Publish != nil && res.Publish.ChartChanged {
			res.Warnings = append(res.Warnings, fmt.Sprintf(
				"the chart of %s %s changed, but KubeSphere only reinstalls when the version or the values change: bump the version, or run \"ksbuilder uninstall %s\" first",
				name, version, name))
		}
		return res, nil
	}
	patched, err := c.writeSpec(ctx, plan, spec)
	if err != nil {
		return nil, err
	}
	res.Plan, res.Action = patched, Configured
	if patched.ResourceVersion == plan.ResourceVersion {
		res.Action, res.Expect = Unchanged, Expectation{}
	}
	return res, nil
}

// retryComment is the YAML comment Install sets in spec.config to make
// KubeSphere re-run a failed installation: KubeSphere hashes the config
// text, so a new comment is a change, and Helm ignores it.
var retryComment = regexp.MustCompile(`(?m)^# ksbuilder-retry: (\d+)$`)

// bumpRetry adds the retry comment to a config, or counts it up; it returns
// the new config and the comment.
func bumpRetry(config string) (string, string) {
	if m := retryComment.FindStringSubmatch(config); m != nil {
		n, _ := strconv.Atoi(m[1])
		marker := fmt.Sprintf("# ksbuilder-retry: %d", n+1)
		return strings.Replace(config, m[0], marker, 1), marker
	}
	marker := "# ksbuilder-retry: 1"
	if config != "" && !strings.HasSuffix(config, "\n") {
		config += "\n"
	}
	return config + marker + "\n", marker
}

// dryRunInstall fills the result of a dry run: what would be written and
// how.
func dryRunInstall(res *InstallResult, plan *kubesphere.InstallPlan, exists bool, spec kubesphere.InstallPlanSpec, opts InstallOptions) *InstallResult {
	res.Plan = &kubesphere.InstallPlan{
		TypeMeta:   metav1.TypeMeta{APIVersion: kubesphere.GroupVersion.String(), Kind: "InstallPlan"},
		ObjectMeta: metav1.ObjectMeta{Name: opts.Name},
		Spec:       spec,
	}
	if opts.Publication != nil {
		res.Objects = append(res.Objects, opts.Publication.Objects()...)
	}
	res.Objects = append(res.Objects, res.Plan)
	switch {
	case !exists:
		res.Action = Created
	case reflect.DeepEqual(normalizedSpec(plan.Spec), normalizedSpec(spec)):
		res.Action, res.PreviousVersion = Unchanged, plan.Spec.Extension.Version
	default:
		res.Action, res.PreviousVersion = Configured, plan.Spec.Extension.Version
	}
	return res
}

// targetVersion returns the ExtensionVersion to install: the publication's
// (not yet on the cluster) or the published one.
func (c *Client) targetVersion(ctx context.Context, opts *InstallOptions) (*kubesphere.ExtensionVersion, error) {
	if opts.Publication != nil {
		opts.Name, opts.Version = opts.Publication.Extension.Name, opts.Publication.Version.Spec.Version
		return opts.Publication.Version, nil
	}
	ev := &kubesphere.ExtensionVersion{}
	err := c.get(ctx, kubesphere.ResourceExtensionVersions, kubesphere.ExtensionVersionName(opts.Name, opts.Version), ev)
	if apierrors.IsNotFound(err) {
		return nil, c.versionNotFound(ctx, opts.Name, opts.Version)
	}
	return ev, err
}

// versionNotFound explains a missing ExtensionVersion and lists the
// published ones: KubeSphere silently ignores a plan without it.
func (c *Client) versionNotFound(ctx context.Context, name, version string) error {
	msg := fmt.Sprintf("ExtensionVersion %s not found: %s %s is not published on %s",
		kubesphere.ExtensionVersionName(name, version), name, version, c.describe())
	list, err := c.versions(ctx, name)
	if err != nil {
		return errors.New(msg)
	}
	var have []string
	for _, v := range list {
		have = append(have, v.Spec.Version)
	}
	sortVersions(have)
	if len(have) == 0 {
		return fmt.Errorf("%s (no version of %s is published; run \"ksbuilder publish PATH\" first)", msg, name)
	}
	return fmt.Errorf("%s (published versions: %s)", msg, strings.Join(have, ", "))
}

// InstalledVersionError refuses an installation of another version than
// the installed one without an upgrade.
type InstalledVersionError struct {
	Name, Installed, Requested string
}

func (e *InstalledVersionError) Error() string {
	return fmt.Sprintf("%s %s is installed; changing the version to %s is an upgrade", e.Name, e.Installed, e.Requested)
}

// checkPlanTransition refuses changes the plan's current state does not
// allow.
func checkPlanTransition(plan *kubesphere.InstallPlan, exists bool, ev *kubesphere.ExtensionVersion, opts InstallOptions) error {
	name, version := opts.Name, opts.Version
	switch {
	case !exists && opts.Upgrade:
		return fmt.Errorf("%s is not installed (no InstallPlan %s); use \"ksbuilder install\"", name, name)
	case !exists:
		return nil
	case plan.DeletionTimestamp != nil:
		return fmt.Errorf("InstallPlan %s is being deleted (state %s); wait for it with \"ksbuilder uninstall %s\" before installing again", name, orUnknown(plan.Status.State), name)
	case plan.Spec.Extension.Name != name:
		return fmt.Errorf("InstallPlan %s installs extension %q, not %q; KubeSphere expects the plan to be named after its extension", name, plan.Spec.Extension.Name, name)
	case !opts.Upgrade && plan.Spec.Extension.Version != version:
		return &InstalledVersionError{Name: name, Installed: plan.Spec.Extension.Version, Requested: version}
	}
	if ns := ev.TargetNamespace(name); plan.Status.TargetNamespace != "" && plan.Status.TargetNamespace != ns {
		return fmt.Errorf("%s %s installs into namespace %s, but the installed version uses %s; KubeSphere cannot move an installed extension to another namespace: uninstall it first",
			name, version, ns, plan.Status.TargetNamespace)
	}
	return nil
}

// placement returns the clusters to place the agent on, or nil to leave the
// plan's placement alone. Problems are added to check.
func (c *Client) placement(ctx context.Context, ev *kubesphere.ExtensionVersion, plan *kubesphere.InstallPlan, exists bool, requested []string, check *CheckError) ([]string, error) {
	if ev.Mode() != kubesphere.Multicluster {
		if len(requested) > 0 {
			return nil, &NotMulticlusterError{Name: extensionOf(ev), Version: ev.Spec.Version, Mode: string(ev.Mode())}
		}
		return nil, nil
	}
	if len(requested) == 0 && exists && plan.Spec.ClusterScheduling != nil && plan.Spec.ClusterScheduling.Placement != nil {
		return nil, nil
	}
	clusters, err := c.clusters(ctx)
	if err != nil {
		return nil, err
	}
	if len(requested) == 0 {
		host := hostCluster(clusters)
		if host == nil {
			check.Problems = append(check.Problems, "no host Cluster object (cluster.kubesphere.io, label "+multicluster.LabelHost+") to place the agent on; name the clusters to place it on")
			check.Clusters = clusterList(clusters)
			return nil, nil
		}
		requested = []string{host.Name}
	}
	var out []string
	for _, name := range requested {
		if slices.Contains(out, name) {
			continue
		}
		out = append(out, name)
		cl := findCluster(clusters, name)
		switch {
		case cl == nil:
			check.Problems = append(check.Problems, fmt.Sprintf("cluster %q not found (clusters: %s)", name, clusterNames(clusters)))
			check.Clusters = clusterList(clusters)
		case !cl.Schedulable():
			check.Problems = append(check.Problems, fmt.Sprintf("cluster %q is not ready for agents (Ready=%s, Schedulable=%s); KubeSphere skips it",
				name, orUnknown(string(cl.Condition("Ready"))), orUnknown(string(cl.Condition("Schedulable")))))
			check.Clusters = clusterList(clusters)
		}
	}
	return out, nil
}

// checkRequirements checks the external dependencies and the Kubernetes and
// KubeSphere version constraints. Problems go to check; it returns warnings.
func (c *Client) checkRequirements(ctx context.Context, ev *kubesphere.ExtensionVersion, check *CheckError) []string {
	var warnings []string
	for _, dep := range ev.Spec.ExternalDependencies {
		why := c.unmetDependency(ctx, dep)
		switch {
		case why == "":
		case dep.Required:
			check.Problems = append(check.Problems, fmt.Sprintf("it requires extension %s %s, which %s", dep.Name, dep.Version, why))
		default:
			warnings = append(warnings, fmt.Sprintf("optional extension %s %s %s; the features that use it will not work", dep.Name, dep.Version, why))
		}
	}
	if constraint := ev.Spec.KubeVersion; constraint != "" {
		info, err := c.serverVersion()
		switch {
		case err != nil:
			check.Problems = append(check.Problems, fmt.Sprintf("cannot read the Kubernetes version: %v", c.explain(err)))
		default:
			if why := unsatisfied(constraint, info.GitVersion); why != "" {
				check.Problems = append(check.Problems, fmt.Sprintf("it needs Kubernetes %s; %s", constraint, why))
			}
		}
	}
	if constraint := ev.Spec.KSVersion; constraint != "" {
		ks := c.kubeSphereVersion(ctx)
		if ks == "" {
			warnings = append(warnings, fmt.Sprintf("cannot find the KubeSphere version (the host Cluster object reports none); not checking ksVersion %q", constraint))
		} else if why := unsatisfied(constraint, ks); why != "" {
			check.Problems = append(check.Problems, fmt.Sprintf("it needs KubeSphere %s; %s", constraint, why))
		}
	}
	return warnings
}

// unmetDependency says why a dependency is not satisfied, or "". Its
// InstallPlan is the truth; the Extension's status is KubeSphere's copy of
// it, read when there is no plan.
func (c *Client) unmetDependency(ctx context.Context, dep kubesphere.ExternalDependency) string {
	state, version := "", ""
	plan := &kubesphere.InstallPlan{}
	switch err := c.get(ctx, kubesphere.ResourceInstallPlans, dep.Name, plan); {
	case err == nil:
		state, version = plan.Status.State, plan.Status.Version
	case !apierrors.IsNotFound(err):
		return fmt.Sprintf("could not be checked: %v", err)
	default:
		ext := &kubesphere.Extension{}
		switch err := c.get(ctx, kubesphere.ResourceExtensions, dep.Name, ext); {
		case apierrors.IsNotFound(err):
			return "is not published on this cluster"
		case err != nil:
			return fmt.Sprintf("could not be checked: %v", err)
		}
		state, version = ext.Status.State, ext.Status.InstalledVersion
	}
	if state != kubesphere.StateInstalled {
		return fmt.Sprintf("is not installed (state %s)", orPending(state))
	}
	if why := unsatisfied(dep.Version, version); why != "" {
		return "is installed but " + why
	}
	return ""
}

// unsatisfied checks a version against a semver constraint and says why it
// does not match, or "".
func unsatisfied(constraint, version string) string {
	cons, err := semver.NewConstraint(constraint)
	if err != nil {
		return fmt.Sprintf("the constraint %q is invalid: %v", constraint, err)
	}
	v, err := semver.NewVersion(version)
	if err != nil {
		return fmt.Sprintf("its version %q is not a semantic version", version)
	}
	if !cons.Check(v) {
		hint := ""
		if v.Prerelease() != "" && !strings.Contains(constraint, "-") {
			hint = " (a pre-release version only matches constraints ending in -0, such as \">=1.0.0-0\")"
		}
		return fmt.Sprintf("version %s does not satisfy %q%s", version, constraint, hint)
	}
	return ""
}

// renderCheck renders the chart the way KubeSphere's installer will, for
// the host release and each placed cluster, so a template error is reported
// before anything is written. Renders already in cache are not repeated.
// It returns the objects of KubeSphere's extension kinds the host release
// renders (nil when the chart is published by URL only).
func (c *Client) renderCheck(ctx context.Context, ev *kubesphere.ExtensionVersion, ch *chart.Chart, spec kubesphere.InstallPlanSpec, cache *RenderCache, given manifest.ValueSource) (*extensions.Objects, error) {
	if ch == nil {
		var err error
		if ch, err = c.publishedChart(ctx, ev); err != nil || ch == nil {
			return nil, err
		}
	}
	return checkRender(ch, ev.TargetNamespace(spec.Extension.Name), spec, cache, given)
}

// publishedChart loads a published version's chart from its ConfigMap; nil
// when the version is published by URL only. An archive loaded before is
// not loaded again (LoadChartArchive).
func (c *Client) publishedChart(ctx context.Context, ev *kubesphere.ExtensionVersion) (*chart.Chart, error) {
	ref := ev.Spec.ChartDataRef
	if ref == nil || ev.Spec.ChartURL != "" {
		return nil, nil
	}
	cm, err := c.core.CoreV1().ConfigMaps(ref.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
	if err != nil {
		if apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("the chart ConfigMap %s/%s of %s is missing: publish the version again", ref.Namespace, ref.Name, ev.Name)
		}
		return nil, c.explain(err)
	}
	data, ok := cm.BinaryData[ref.Key]
	if !ok {
		return nil, fmt.Errorf("the chart ConfigMap %s/%s has no binaryData key %q: publish the version again", ref.Namespace, ref.Name, ref.Key)
	}
	ch, err := c.LoadChartArchive(data)
	if err != nil {
		return nil, fmt.Errorf("the chart in ConfigMap %s/%s cannot be loaded: %w", ref.Namespace, ref.Name, err)
	}
	return ch, nil
}

func overrideOf(spec *kubesphere.InstallPlanSpec, cluster string) string {
	if spec.ClusterScheduling == nil {
		return ""
	}
	return spec.ClusterScheduling.Overrides[cluster]
}

// placedClusters returns the clusters a spec names for the agent.
func placedClusters(spec *kubesphere.InstallPlanSpec) []string {
	if spec.ClusterScheduling == nil || spec.ClusterScheduling.Placement == nil {
		return nil
	}
	return spec.ClusterScheduling.Placement.Clusters
}

// normalizedSpec fills the defaults the API server adds, for comparing.
func normalizedSpec(spec kubesphere.InstallPlanSpec) kubesphere.InstallPlanSpec {
	out := *spec.DeepCopy()
	if out.UpgradeStrategy == "" {
		out.UpgradeStrategy = kubesphere.UpgradeStrategyManual
	}
	return out
}

// Writing a plan's spec waits this long at most for KubeSphere to leave
// Preparing, checking every preparingPoll.
const (
	preparingWait = 30 * time.Second
	preparingPoll = 200 * time.Millisecond
)

// writeSpec changes the spec of the InstallPlan read as plan to spec. It
// never writes while a release of the plan is Preparing: KubeSphere writes
// Preparing, creates the executor job, then records the job with a second
// write, and a spec written in between makes that second write conflict,
// which leaves the release Preparing for good with its job unrecorded. So
// it waits out Preparing and writes at the resource version it saw (a
// Preparing written meanwhile makes the write conflict, and it looks
// again). A spec changed by someone else meanwhile is an error.
func (c *Client) writeSpec(ctx context.Context, plan *kubesphere.InstallPlan, spec kubesphere.InstallPlanSpec) (*kubesphere.InstallPlan, error) {
	name := plan.Name
	current := plan
	deadline := time.Now().Add(preparingWait)
	for {
		for preparing(current) && time.Now().Before(deadline) {
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(preparingPoll):
			}
			current = &kubesphere.InstallPlan{}
			if err := c.get(ctx, kubesphere.ResourceInstallPlans, name, current); err != nil {
				return nil, err
			}
		}
		if !reflect.DeepEqual(normalizedSpec(current.Spec), normalizedSpec(plan.Spec)) {
			return nil, fmt.Errorf("InstallPlan %s was changed by someone else while ksbuilder prepared its change: run the command again", name)
		}
		patch, err := specPatch(&current.Spec, &spec, current.ResourceVersion)
		if err != nil {
			return nil, err
		}
		patched := &kubesphere.InstallPlan{}
		err = c.mergePatch(ctx, kubesphere.ResourceInstallPlans, name, patch, patched)
		if apierrors.IsConflict(err) && time.Now().Before(deadline) {
			current = &kubesphere.InstallPlan{}
			if err := c.get(ctx, kubesphere.ResourceInstallPlans, name, current); err != nil {
				return nil, err
			}
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("updating InstallPlan %s: %w", name, err)
		}
		return patched, nil
	}
}

// preparing reports whether KubeSphere is between Preparing and recording
// the executor job for a release of the plan.
func preparing(plan *kubesphere.InstallPlan) bool {
	if plan.Status.State == kubesphere.StatePreparing {
		return true
	}
	for _, st := range plan.Status.ClusterSchedulingStatuses {
		if st.State == kubesphere.StatePreparing {
			return true
		}
	}
	return false
}

// specPatch builds the JSON merge patch that turns old into updated, to be
// applied at resourceVersion (none: unconditionally). Placement lists are
// replaced whole; a removed config is set to null; overrides are set per
// cluster, a removed one to null.
func specPatch(old, updated *kubesphere.InstallPlanSpec, resourceVersion string) ([]byte, error) {
	spec := map[string]any{
		"extension":       updated.Extension,
		"enabled":         updated.Enabled,
		"upgradeStrategy": updated.UpgradeStrategy,
	}
	switch {
	case updated.Config != "":
		spec["config"] = updated.Config
	case old.Config != "":
		spec["config"] = nil
	}
	scheduling := map[string]any{}
	if clusters := placedClusters(updated); !reflect.DeepEqual(clusters, placedClusters(old)) {
		scheduling["placement"] = map[string]any{"clusters": clusters}
	}
	if overrides := overridesPatch(old, updated); len(overrides) > 0 {
		scheduling["overrides"] = overrides
	}
	if len(scheduling) > 0 {
		spec["clusterScheduling"] = scheduling
	}
	body := map[string]any{"spec": spec}
	if resourceVersion != "" {
		body["metadata"] = map[string]any{"resourceVersion": resourceVersion}
	}
	return json.Marshal(body)
}

// overridesPatch is the merge patch of spec.clusterScheduling.overrides
// from old to updated: the overrides added or changed, and null for those
// removed; empty when they are the same.
func overridesPatch(old, updated *kubesphere.InstallPlanSpec) map[string]any {
	var before, after map[string]string
	if old.ClusterScheduling != nil {
		before = old.ClusterScheduling.Overrides
	}
	if updated.ClusterScheduling != nil {
		after = updated.ClusterScheduling.Overrides
	}
	out := map[string]any{}
	for cl, text := range after {
		if prev, ok := before[cl]; !ok || prev != text {
			out[cl] = text
		}
	}
	for cl := range before {
		if _, ok := after[cl]; !ok {
			out[cl] = nil
		}
	}
	return out
}

// sortVersions sorts semantic versions in ascending order; invalid ones
// first.
func sortVersions(vs []string) {
	sort.SliceStable(vs, func(i, j int) bool { return semverLess(vs[i], vs[j]) })
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// oneLine joins the lines of an error message.
func oneLine(err error) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "\n", " ")), " ")
}

// extensionOf names the extension of a version.
func extensionOf(ev *kubesphere.ExtensionVersion) string {
	if name := ev.Labels[kubesphere.LabelExtensionRef]; name != "" {
		return name
	}
	return ev.Name
}
