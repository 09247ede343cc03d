package cluster

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/ksbuilder/ksbuilder/pkg/kubesphere"
)

// ControllerDeployment is the Deployment that runs KubeSphere's InstallPlan
// controller (ks-core's ks-controller-manager).
var ControllerDeployment = types.NamespacedName{Namespace: kubesphere.SystemNamespace, Name: "ks-controller-manager"}

// ControllerDownError says that nothing will act on an InstallPlan:
// KubeSphere's controller Deployment is missing or has no ready replica.
type ControllerDownError struct {
	// Deployment is the controller's Deployment.
	Deployment types.NamespacedName
	// Missing is true when the Deployment does not exist.
	Missing bool
	// Ready and Desired are the Deployment's replica counts.
	Ready, Desired int32
}

func (e *ControllerDownError) Error() string {
	if e.Missing {
		return fmt.Sprintf("KubeSphere's controller is not installed: deployment %s not found, so nothing acts on InstallPlans", e.Deployment)
	}
	return fmt.Sprintf("KubeSphere's controller is down: deployment %s has %d/%d ready replicas, so nothing acts on InstallPlans (see why: kubectl -n %s describe deployment %s)",
		e.Deployment, e.Ready, e.Desired, e.Deployment.Namespace, e.Deployment.Name)
}

// controllerDown reads KubeSphere's controller Deployment: a
// *ControllerDownError when it is missing or has no ready replica, nil
// when it runs or cannot be read (no permission: the wait's own warnings
// then tell).
func (c *Client) controllerDown(ctx context.Context) *ControllerDownError {
	d, err := c.core.AppsV1().Deployments(c.controller.Namespace).Get(ctx, c.controller.Name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return &ControllerDownError{Deployment: c.controller, Missing: true}
	case err != nil:
		return nil
	}
	desired := int32(1)
	if d.Spec.Replicas != nil {
		desired = *d.Spec.Replicas
	}
	if d.Status.ReadyReplicas > 0 {
		return nil
	}
	return &ControllerDownError{Deployment: c.controller, Ready: d.Status.ReadyReplicas, Desired: desired}
}
