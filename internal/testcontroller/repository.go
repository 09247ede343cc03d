package testcontroller

import (
	"context"
	"encoding/json"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/ksbuilder/ksbuilder/pkg/kubesphere"
)

// RepositoryFieldManager is the field manager SyncVersion writes with, as
// KubeSphere's repository controller writes its own.
const RepositoryFieldManager = "repository-controller"

// SyncVersion makes a published ExtensionVersion look synced from the
// Repository repo, as KubeSphere's repository controller writes one: the
// kubesphere.io/repository-ref label and spec.repository and, when
// chartURL is not empty, spec.chartURL, under the controller's own field
// manager. This imitation installs only from spec.chartDataRef, so a
// version meant to be installed keeps chartURL empty.
func SyncVersion(ctx context.Context, cfg *rest.Config, repo, evName, chartURL string) error {
	spec := map[string]any{"repository": repo}
	if chartURL != "" {
		spec["chartURL"] = chartURL
	}
	patch, err := json.Marshal(map[string]any{
		"metadata": map[string]any{"labels": map[string]any{kubesphere.LabelRepositoryRef: repo}},
		"spec":     spec,
	})
	if err != nil {
		return err
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return err
	}
	_, err = dyn.Resource(kubesphere.GroupVersion.WithResource(kubesphere.ResourceExtensionVersions)).
		Patch(ctx, evName, types.MergePatchType, patch, metav1.PatchOptions{FieldManager: RepositoryFieldManager})
	return err
}
