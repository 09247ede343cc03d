package cluster

import (
	"context"
	"sort"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ksbuilder/ksbuilder/pkg/kubesphere/multicluster"
)

// listClusters lists KubeSphere's Cluster objects; none when the kind is
// not served (a cluster without multi-cluster support). clusters is the
// same, from what the client keeps when it can (KeepStableReads).
func (c *Client) listClusters(ctx context.Context) ([]multicluster.Cluster, error) {
	list := &multicluster.ClusterList{}
	err := c.mc.Get().Resource(multicluster.ResourceClusters).VersionedParams(&metav1.ListOptions{}, c.params).Do(ctx).Into(list)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, c.explain(err)
	}
	return list.Items, nil
}

// HostCluster returns the name of the host Cluster object (label
// cluster-role.kubesphere.io/host), or "" when there is none.
func (c *Client) HostCluster(ctx context.Context) (string, error) {
	clusters, err := c.clusters(ctx)
	if err != nil {
		return "", err
	}
	if host := hostCluster(clusters); host != nil {
		return host.Name, nil
	}
	return "", nil
}

func hostCluster(clusters []multicluster.Cluster) *multicluster.Cluster {
	for i := range clusters {
		if clusters[i].IsHost() {
			return &clusters[i]
		}
	}
	return nil
}

func findCluster(clusters []multicluster.Cluster, name string) *multicluster.Cluster {
	for i := range clusters {
		if clusters[i].Name == name {
			return &clusters[i]
		}
	}
	return nil
}

// clusterList returns the names of the clusters an agent can be placed
// on (Ready and schedulable), sorted.
func clusterList(clusters []multicluster.Cluster) []string {
	names := []string{}
	for _, cl := range clusters {
		if cl.Schedulable() {
			names = append(names, cl.Name)
		}
	}
	sort.Strings(names)
	return names
}

func clusterNames(clusters []multicluster.Cluster) string {
	if len(clusters) == 0 {
		return "none"
	}
	names := make([]string, len(clusters))
	for i, cl := range clusters {
		names[i] = cl.Name
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// kubeSphereVersion returns the KubeSphere version the host Cluster object
// reports, or "" when it cannot be found.
func (c *Client) kubeSphereVersion(ctx context.Context) string {
	v, _ := c.KubeSphereVersion(ctx)
	return v
}

// KubeSphereVersion returns the KubeSphere version the host Cluster object
// reports (how install checks ksVersion): "" with a nil error when there is
// no host Cluster object or it reports no version.
func (c *Client) KubeSphereVersion(ctx context.Context) (string, error) {
	clusters, err := c.clusters(ctx)
	if err != nil {
		return "", err
	}
	if host := hostCluster(clusters); host != nil {
		return host.Status.KubeSphereVersion, nil
	}
	return "", nil
}
