package cluster

import "k8s.io/apimachinery/pkg/types"

// SetControllerDeployment makes a client look for KubeSphere's controller in
// another Deployment, so a test can play a cluster whose controller is
// missing or down without stopping the shared one.
func (c *Client) SetControllerDeployment(d types.NamespacedName) { c.controller = d }
