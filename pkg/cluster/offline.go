package cluster

import (
	"github.com/ksbuilder/ksbuilder/pkg/kubesphere"
)

// OfflineInstall is a dry run of Install that contacts no cluster: the
// InstallPlan a first installation writes, from the options alone, after
// the render check of the publication's chart (when there is one), plus
// the publication's objects. It is what a GitOps repository commits; the
// cluster-side checks (controller, placement, dependencies, conflicts with
// other extensions) are left out, and a warning says so.
func OfflineInstall(opts InstallOptions) (*InstallResult, error) {
	spec := kubesphere.InstallPlanSpec{
		Extension:       kubesphere.ExtensionRef{Name: opts.Name, Version: opts.Version},
		Enabled:         true,
		UpgradeStrategy: kubesphere.UpgradeStrategyManual,
	}
	if opts.Values != nil {
		config, err := ConfigText(opts.Values)
		if err != nil {
			return nil, err
		}
		spec.Config = config
	}
	res := &InstallResult{Warnings: []string{"offline: the cluster-side checks (KubeSphere's controller, placement, dependencies, other extensions) did not run"}}
	if len(opts.Clusters) > 0 {
		spec.ClusterScheduling = &kubesphere.ClusterScheduling{Placement: &kubesphere.Placement{Clusters: opts.Clusters}}
	} else if opts.Publication != nil && opts.Publication.Version.Mode() == kubesphere.Multicluster {
		res.Warnings = append(res.Warnings, "offline: the plan places no agent (online, the host cluster is the default): name the clusters with --cluster")
	}
	if len(opts.ClusterValues) > 0 {
		if pub := opts.Publication; pub != nil && pub.Version.Mode() != kubesphere.Multicluster {
			return nil, &NotMulticlusterError{Name: opts.Name, Version: opts.Version, Mode: string(pub.Version.Mode())}
		}
		if err := applyClusterValues(&spec, opts.Clusters, opts.ClusterValues); err != nil {
			return nil, err
		}
	}
	if pub := opts.Publication; pub != nil && pub.Chart != nil {
		if err := CheckRender(pub.Chart, pub.Version.TargetNamespace(opts.Name), spec, opts.Renders, opts.ValueSource); err != nil {
			return nil, &CheckError{Name: opts.Name, Version: opts.Version, Problems: []string{err.Error()}}
		}
	}
	return dryRunInstall(res, nil, false, spec, opts), nil
}
