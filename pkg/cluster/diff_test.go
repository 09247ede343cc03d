package cluster_test

import (
	"strings"
	"testing"

	"github.com/ksbuilder/ksbuilder/create"
	"github.com/ksbuilder/ksbuilder/pkg/cluster"
)

func TestDiff(t *testing.T) {
	t.Parallel()
	c := newClient(t)
	ctx := testContext(t)
	dir := scaffold(t, "diffed", create.Frontend)
	addDeployment(t, dir, "frontend")
	edit(t, dir, "charts/frontend/templates/secret.yaml", func(string) string {
		return "apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\nstringData:\n  password: {{ .Values.password | default \"hunter2\" | quote }}\n"
	})
	mustInstall(t, c, dir, cluster.InstallOptions{})

	// The same again: no difference.
	res, err := c.Diff(ctx, cluster.InstallOptions{Publication: publication(t, dir), Name: "diffed", Version: "0.1.0"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Changed() {
		t.Errorf("no change expected: plan %q, objects %+v", res.Plan, res.Objects)
	}

	// New values: the plan's config and the objects change; the secret is masked.
	res, err = c.Diff(ctx, cluster.InstallOptions{Publication: publication(t, dir), Name: "diffed", Version: "0.1.0",
		Values: map[string]any{"frontend": map[string]any{"replicaCount": 3, "password": "s3cret"}}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(res.Plan, "+config: |") || !strings.Contains(res.Plan, "replicaCount: 3") {
		t.Errorf("plan diff:\n%s", res.Plan)
	}
	var deployment, secret *cluster.ObjectDiff
	for i := range res.Objects {
		switch res.Objects[i].Kind {
		case "Deployment":
			deployment = &res.Objects[i]
		case "Secret":
			secret = &res.Objects[i]
		}
	}
	if deployment == nil || deployment.Change != "changed" || !strings.Contains(deployment.Diff, "-  replicas: 1") || !strings.Contains(deployment.Diff, "+  replicas: 3") ||
		!strings.Contains(deployment.Diff, "diffed: Deployment extension-diffed/diffed-frontend (installed)") {
		t.Errorf("deployment diff %+v", deployment)
	}
	if secret == nil || strings.Contains(secret.Diff, "hunter2") || strings.Contains(secret.Diff, "s3cret") || !strings.Contains(secret.Diff, "(masked, sha256:") {
		t.Errorf("secret diff %+v", secret)
	}
	// Nothing was written.
	plan, err := c.Plan(ctx, "diffed")
	if err != nil || plan.Spec.Config != "" {
		t.Errorf("the diff wrote the plan: %+v, %v", plan, err)
	}
}
