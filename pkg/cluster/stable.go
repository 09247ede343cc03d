package cluster

import (
	"context"
	"slices"
	"sync"

	"k8s.io/apimachinery/pkg/version"

	"github.com/ksbuilder/ksbuilder/pkg/kubesphere/multicluster"
)

// stableReads are answers the client keeps while KeepStableReads is on.
// Errors are never kept.
type stableReads struct {
	mu sync.Mutex
	on bool
	// serverVersion is /version; nil when not read yet.
	serverVersion *version.Info
	// clusters are KubeSphere's Cluster objects (none when the kind is not
	// served), valid when haveClusters.
	clusters     []multicluster.Cluster
	haveClusters bool
	// systemNamespace is true once the kubesphere-system namespace was
	// found.
	systemNamespace bool
}

// KeepStableReads makes the client remember, until ForgetStableReads or
// ForgetClusters, the answers that a long session (ksbuilder dev) would
// otherwise read again for every change though they change only with the
// cluster itself: the Kubernetes version (the kubeVersion check), that
// the kubesphere-system namespace exists (publish), and KubeSphere's
// Cluster objects (the placement, the ksVersion check). A failed read is
// not remembered.
func (c *Client) KeepStableReads() {
	c.stable.mu.Lock()
	defer c.stable.mu.Unlock()
	c.stable.on = true
}

// ForgetStableReads drops every answer KeepStableReads kept: the next
// checks read the cluster again (and remember what they read).
func (c *Client) ForgetStableReads() {
	c.stable.mu.Lock()
	defer c.stable.mu.Unlock()
	c.stable.serverVersion, c.stable.clusters, c.stable.haveClusters, c.stable.systemNamespace = nil, nil, false, false
}

// ForgetClusters drops the Cluster objects KeepStableReads kept: a
// cluster's readiness and its KubeSphere version change more often than
// the rest.
func (c *Client) ForgetClusters() {
	c.stable.mu.Lock()
	defer c.stable.mu.Unlock()
	c.stable.clusters, c.stable.haveClusters = nil, false
}

// serverVersion reads the Kubernetes version (/version).
func (c *Client) serverVersion() (*version.Info, error) {
	s := &c.stable
	s.mu.Lock()
	kept := s.serverVersion
	s.mu.Unlock()
	if kept != nil {
		return kept, nil
	}
	info, err := c.core.Discovery().ServerVersion()
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if s.on {
		s.serverVersion = info
	}
	s.mu.Unlock()
	return info, nil
}

// clusters lists KubeSphere's Cluster objects; none when the kind is not
// served (a cluster without multi-cluster support).
func (c *Client) clusters(ctx context.Context) ([]multicluster.Cluster, error) {
	s := &c.stable
	s.mu.Lock()
	kept, have := s.clusters, s.haveClusters
	s.mu.Unlock()
	if have {
		return slices.Clone(kept), nil
	}
	list, err := c.listClusters(ctx)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if s.on {
		s.clusters, s.haveClusters = slices.Clone(list), true
	}
	s.mu.Unlock()
	return list, nil
}

// systemNamespaceExists checks that the kubesphere-system namespace
// exists; an error says why not.
func (c *Client) systemNamespaceExists(ctx context.Context) error {
	s := &c.stable
	s.mu.Lock()
	kept := s.systemNamespace
	s.mu.Unlock()
	if kept {
		return nil
	}
	if err := c.readSystemNamespace(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	s.systemNamespace = s.on
	s.mu.Unlock()
	return nil
}
