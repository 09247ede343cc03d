package cluster

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ksbuilder/ksbuilder/pkg/kubesphere"
)

// ExtensionSummary is one row of "extension list".
type ExtensionSummary struct {
	Name        string `json:"name"`
	DisplayName string `json:"displayName,omitempty"`
	Category    string `json:"category,omitempty"`
	// Versions are the published versions, oldest first.
	Versions []string `json:"versions"`
	// Latest is the newest published version.
	Latest string `json:"latest,omitempty"`
	// State and PlannedVersion come from the InstallPlan; empty when the
	// extension is not installed.
	State          string `json:"state,omitempty"`
	PlannedVersion string `json:"plannedVersion,omitempty"`
}

// ListExtensions lists the extensions published on the cluster, with their
// versions and installation state; only those of a category when category is
// set. An unknown category is an error that lists the known ones.
func (c *Client) ListExtensions(ctx context.Context, category string) ([]ExtensionSummary, error) {
	if err := c.requireKubeSphere(ctx); err != nil {
		return nil, err
	}
	opts := metav1.ListOptions{}
	if category != "" {
		opts.LabelSelector = kubesphere.LabelCategory + "=" + category
	}
	exts := &kubesphere.ExtensionList{}
	if err := c.list(ctx, kubesphere.ResourceExtensions, opts, exts); err != nil {
		return nil, err
	}
	if category != "" && len(exts.Items) == 0 {
		if err := c.checkCategory(ctx, category); err != nil {
			return nil, err
		}
	}
	evs := &kubesphere.ExtensionVersionList{}
	if err := c.list(ctx, kubesphere.ResourceExtensionVersions, metav1.ListOptions{}, evs); err != nil {
		return nil, err
	}
	plans := &kubesphere.InstallPlanList{}
	if err := c.list(ctx, kubesphere.ResourceInstallPlans, metav1.ListOptions{}, plans); err != nil {
		return nil, err
	}
	versions := map[string][]string{}
	for _, ev := range evs.Items {
		ref := ev.Labels[kubesphere.LabelExtensionRef]
		versions[ref] = append(versions[ref], ev.Spec.Version)
	}
	planOf := map[string]*kubesphere.InstallPlan{}
	for i, p := range plans.Items {
		planOf[p.Spec.Extension.Name] = &plans.Items[i]
	}
	out := []ExtensionSummary{}
	for _, ext := range exts.Items {
		s := ExtensionSummary{
			Name: ext.Name, DisplayName: ext.Spec.DisplayName.Default(), Category: ext.Labels[kubesphere.LabelCategory],
			Versions: versions[ext.Name], State: ext.Status.State, PlannedVersion: ext.Status.PlannedInstallVersion,
		}
		if s.Versions == nil {
			s.Versions = []string{}
		}
		sortVersions(s.Versions)
		if n := len(s.Versions); n > 0 {
			s.Latest = s.Versions[n-1]
		}
		if p := planOf[ext.Name]; p != nil {
			s.State, s.PlannedVersion = orPending(p.Status.State), p.Spec.Extension.Version
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// checkCategory returns an error naming the known categories when there is
// no Category object called name.
func (c *Client) checkCategory(ctx context.Context, name string) error {
	cats := &kubesphere.CategoryList{}
	if err := c.list(ctx, kubesphere.ResourceCategories, metav1.ListOptions{}, cats); err != nil {
		return err
	}
	var names []string
	for _, cat := range cats.Items {
		if cat.Name == name {
			return nil
		}
		names = append(names, cat.Name)
	}
	if len(names) == 0 {
		return nil // categories are not installed on this cluster; nothing to compare with
	}
	sort.Strings(names)
	return fmt.Errorf("no category %q on %s (categories: %s)", name, c.describe(), strings.Join(names, ", "))
}

// VersionSummary is one row of "extension versions".
type VersionSummary struct {
	Version          string    `json:"version"`
	InstallationMode string    `json:"installationMode"`
	Namespace        string    `json:"namespace"`
	KubeVersion      string    `json:"kubeVersion,omitempty"`
	KSVersion        string    `json:"ksVersion,omitempty"`
	Source           string    `json:"source"`
	Created          time.Time `json:"created,omitzero"`
	// Installed is the InstallPlan's state when it uses this version.
	Installed string `json:"installed,omitempty"`
}

// ListVersions lists an extension's published versions, oldest first.
func (c *Client) ListVersions(ctx context.Context, name string) ([]VersionSummary, error) {
	if err := c.requireKubeSphere(ctx); err != nil {
		return nil, err
	}
	evs, err := c.versions(ctx, name)
	if err != nil {
		return nil, err
	}
	if len(evs) == 0 {
		return nil, fmt.Errorf("%s is not published on %s (no ExtensionVersion labelled %s=%s)", name, c.describe(), kubesphere.LabelExtensionRef, name)
	}
	plan := c.planOrNil(ctx, name)
	sort.Slice(evs, func(i, j int) bool { return semverLess(evs[i].Spec.Version, evs[j].Spec.Version) })
	out := make([]VersionSummary, 0, len(evs))
	for _, ev := range evs {
		s := VersionSummary{
			Version: ev.Spec.Version, InstallationMode: ev.Mode(), Namespace: ev.TargetNamespace(name),
			KubeVersion: ev.Spec.KubeVersion, KSVersion: ev.Spec.KSVersion, Source: chartSource(&ev),
			Created: ev.Spec.Created.Time,
		}
		if plan != nil && plan.Spec.Extension.Version == ev.Spec.Version {
			s.Installed = orPending(plan.Status.State)
		}
		out = append(out, s)
	}
	return out, nil
}

// planOrNil returns the extension's InstallPlan, or nil.
func (c *Client) planOrNil(ctx context.Context, name string) *kubesphere.InstallPlan {
	plan := &kubesphere.InstallPlan{}
	if err := c.get(ctx, kubesphere.ResourceInstallPlans, name, plan); err != nil {
		return nil
	}
	return plan
}

// chartSource says where a version's chart comes from.
func chartSource(ev *kubesphere.ExtensionVersion) string {
	switch {
	case ev.Spec.ChartURL != "":
		return ev.Spec.ChartURL
	case ev.Spec.ChartDataRef != nil:
		return fmt.Sprintf("configmap %s/%s", ev.Spec.ChartDataRef.Namespace, ev.Spec.ChartDataRef.Name)
	}
	return "none"
}

// VersionDetails is what "extension show" prints about one version.
type VersionDetails struct {
	Name             string            `json:"name"`
	Version          string            `json:"version"`
	DisplayName      string            `json:"displayName,omitempty"`
	Description      string            `json:"description,omitempty"`
	Category         string            `json:"category,omitempty"`
	Provider         string            `json:"provider,omitempty"`
	Home             string            `json:"home,omitempty"`
	Docs             string            `json:"docs,omitempty"`
	InstallationMode string            `json:"installationMode"`
	Namespace        string            `json:"namespace"`
	KubeVersion      string            `json:"kubeVersion,omitempty"`
	KSVersion        string            `json:"ksVersion,omitempty"`
	Dependencies     []DependencyCheck `json:"externalDependencies"`
	Source           string            `json:"source"`
	Repository       string            `json:"repository,omitempty"`
	Annotations      map[string]string `json:"annotations,omitempty"`
	Created          time.Time         `json:"created,omitzero"`
	// Installed is the InstallPlan's state when it uses this version.
	Installed string `json:"installed,omitempty"`
	// Versions are all published versions, oldest first.
	Versions []string `json:"versions"`
}

// DependencyCheck is an external dependency and whether it is met.
type DependencyCheck struct {
	Name     string `json:"name"`
	Version  string `json:"version"`
	Required bool   `json:"required"`
	// Unmet says why the dependency is not satisfied; empty when it is.
	Unmet string `json:"unmet,omitempty"`
}

// ShowVersion describes one published version. An empty version means the
// installed one, else the newest.
func (c *Client) ShowVersion(ctx context.Context, name, version string) (*VersionDetails, error) {
	if err := c.requireKubeSphere(ctx); err != nil {
		return nil, err
	}
	evs, err := c.versions(ctx, name)
	if err != nil {
		return nil, err
	}
	if len(evs) == 0 {
		return nil, fmt.Errorf("%s is not published on %s", name, c.describe())
	}
	var all []string
	for _, ev := range evs {
		all = append(all, ev.Spec.Version)
	}
	sortVersions(all)
	plan := c.planOrNil(ctx, name)
	if version == "" {
		version = all[len(all)-1]
		if plan != nil {
			version = plan.Spec.Extension.Version
		}
	}
	ev := &kubesphere.ExtensionVersion{}
	switch err := c.get(ctx, kubesphere.ResourceExtensionVersions, kubesphere.ExtensionVersionName(name, version), ev); {
	case apierrors.IsNotFound(err):
		return nil, c.versionNotFound(ctx, name, version)
	case err != nil:
		return nil, err
	}
	d := &VersionDetails{
		Name: name, Version: ev.Spec.Version, DisplayName: ev.Spec.DisplayName.Default(), Description: ev.Spec.Description.Default(),
		Category: ev.Spec.Category, Home: ev.Spec.Home, Docs: ev.Spec.Docs,
		InstallationMode: ev.Mode(), Namespace: ev.TargetNamespace(name),
		KubeVersion: ev.Spec.KubeVersion, KSVersion: ev.Spec.KSVersion, Dependencies: []DependencyCheck{},
		Source: chartSource(ev), Repository: fromRepository(ev), Annotations: ev.Annotations,
		Created: ev.Spec.Created.Time, Versions: all,
	}
	for _, lang := range []string{"en", "zh"} {
		if p, ok := ev.Spec.Provider[lang]; ok && p.Name != "" {
			d.Provider = p.Name
			break
		}
	}
	for _, dep := range ev.Spec.ExternalDependencies {
		d.Dependencies = append(d.Dependencies, DependencyCheck{Name: dep.Name, Version: dep.Version, Required: dep.Required, Unmet: c.unmetDependency(ctx, dep)})
	}
	if plan != nil && plan.Spec.Extension.Version == d.Version {
		d.Installed = orPending(plan.Status.State)
	}
	return d, nil
}
