package cluster

import (
	"context"
	"sort"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ksbuilder/ksbuilder/pkg/kubesphere"
)

// NameKind says which names Names lists.
type NameKind int

// The kinds of names shell completion asks for.
const (
	// PublishedNames are the names of the Extensions on the cluster.
	PublishedNames NameKind = iota
	// InstalledNames are the names of the InstallPlans.
	InstalledNames
	// ClusterNames are the names of KubeSphere's Cluster objects.
	ClusterNames
)

// Names lists the names of one kind of object, sorted, with one request
// and no other check (shell completion calls it on every TAB).
func (c *Client) Names(ctx context.Context, kind NameKind) ([]string, error) {
	var names []string
	switch kind {
	case ClusterNames:
		clusters, err := c.clusters(ctx)
		if err != nil {
			return nil, err
		}
		for _, cl := range clusters {
			names = append(names, cl.Name)
		}
	case InstalledNames:
		plans := &kubesphere.InstallPlanList{}
		if err := c.list(ctx, kubesphere.ResourceInstallPlans, metav1.ListOptions{}, plans); err != nil {
			return nil, err
		}
		for _, p := range plans.Items {
			names = append(names, p.Name)
		}
	default:
		exts := &kubesphere.ExtensionList{}
		if err := c.list(ctx, kubesphere.ResourceExtensions, metav1.ListOptions{}, exts); err != nil {
			return nil, err
		}
		for _, e := range exts.Items {
			names = append(names, e.Name)
		}
	}
	sort.Strings(names)
	return names, nil
}
