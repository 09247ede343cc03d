package lint

import (
	"path/filepath"
	"testing"

	"github.com/ksbuilder/ksbuilder/internal/testutil/fixture"
	"github.com/ksbuilder/ksbuilder/pkg/manifest"
	"github.com/ksbuilder/ksbuilder/pkg/packager"
)

// manifestSeeds are rendered documents that broke upstream's checks or
// stress the splitting: workloads without pod templates, containers without
// images, generateName, empty documents, "---" inside block scalars.
var manifestSeeds = []string{
	"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\nspec: {}\n",
	"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\nspec:\n  template:\n    spec:\n      containers:\n        - name: a\n",
	"apiVersion: batch/v1\nkind: Job\nmetadata:\n  generateName: migrate-\nspec:\n  template:\n    spec:\n      containers:\n        - image: busybox\n",
	"---\n---\n# only a comment\n---\n",
	"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  labels:\n    kubesphere.io/managed: \"true\"\ndata:\n  a: |\n    ---\n    not a document\n",
	"apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers: [1, \"x\", {image: 3}]\n  nodeSelector: [a]\n",
	"apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c}\nspec:\n  jobTemplate:\n    spec:\n      template: 7\n",
	"apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: w}\nspec: {group: g.io, names: {kind: W, plural: ws}, scope: Cluster}\n---\napiVersion: g.io/v1\nkind: W\nmetadata: {name: w1}\n",
	"- just\n- a list\n",
	"kind: [Deployment]\nmetadata: {name: {a: b}}\n",
	"apiVersion: v1\nkind: List\nitems: []\n",
}

// FuzzManifestChecks feeds random rendered documents to every rule that
// reads rendered objects. None may panic.
func FuzzManifestChecks(f *testing.F) {
	for _, s := range manifestSeeds {
		f.Add(s)
	}
	files, _ := fixture.Load(f, filepath.Join(fixtures, "base"), filepath.Join(fixtures, "base"))
	src := sourceOf("base", files)
	ext, _ := packager.Validate(src)
	c, err := packager.LoadChart(src, ext)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		l := &linter{src: src, ext: ext, chart: c, marker: markerFor(ext), loc: manifest.NewLocator(src, c)}
		objs, _ := manifest.ParseObjects(map[string]string{"demo/charts/app/templates/fuzz.yaml": doc})
		crds, _ := manifest.ParseObjects(map[string]string{"demo/charts/app/crds/fuzz.yaml": doc})
		l.releases = []*release{{side: manifest.Host, namespace: ext.TargetNamespace(), objects: objs, crds: crds}}
		l.workloadRules()
		l.imageRules()
		l.crdUpgrade()
		l.permissionRules()
		for _, d := range l.findings {
			if d.Code == "" || d.Message == "" {
				t.Fatalf("finding without rule or message: %+v", d)
			}
		}
	})
}
