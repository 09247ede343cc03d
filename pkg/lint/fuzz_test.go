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
	// KubeSphere's kinds, and the objects they refer to.
	"apiVersion: extensions.kubesphere.io/v1alpha1\nkind: JSBundle\nmetadata: {name: b}\nspec:\n  rawFrom:\n    configMapKeyRef: {name: c, key: index.js, namespace: extension-demo}\nstatus: {link: /dist/x}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  index.js: 'globals.context.registerExtension({menus: [{parent: \"topbar\", authKey: \"k\"}]})'\n",
	"apiVersion: extensions.kubesphere.io/v1alpha1\nkind: JSBundle\nmetadata: {name: b}\nspec: {raw: !!binary cGFyZW50OiAidG9wYmFyIg==}\n---\napiVersion: extensions.kubesphere.io/v1alpha1\nkind: JSBundle\nmetadata: {name: b2}\nspec: {rawFrom: {secretKeyRef: {name: s, key: k, namespace: extension-demo}}}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {k: '%%%'}\n",
	"apiVersion: extensions.kubesphere.io/v1alpha1\nkind: APIService\nmetadata: {name: a}\nspec: {group: g, version: v, service: {name: s, namespace: extension-demo}}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 80, name: http}, {port: x}, 7]}\n",
	"apiVersion: extensions.kubesphere.io/v1alpha1\nkind: ReverseProxy\nmetadata: {name: p}\nspec: {matcher: {path: '*', method: '*'}, upstream: {url: u, service: {name: s, namespace: n, port: 0}}}\n---\napiVersion: extensions.kubesphere.io/v1alpha1\nkind: ReverseProxy\nmetadata: {name: q}\nspec: {matcher: {path: '', method: GET}, upstream: {}}\n",
	"apiVersion: extensions.kubesphere.io/v1alpha1\nkind: ExtensionEntry\nmetadata: {name: e}\nspec: {entries: [{name: a, link: l, parent: project, authKey: [1]}, {name: a, link: l}, 3, {name: {x: 1}}]}\n",
	"apiVersion: iam.kubesphere.io/v1beta1\nkind: RoleTemplate\nmetadata:\n  name: r\n  labels: {iam.kubesphere.io/scope: x}\n  annotations: {iam.kubesphere.io/dependencies: '[1]', iam.kubesphere.io/role-template-rules: 'null'}\nspec: {rules: [{verbs: 5}]}\n",
	"apiVersion: apiregistration.k8s.io/v1\nkind: APIService\nmetadata: {name: v1.x}\nspec: {group: x, version: v1}\n",
}

// FuzzManifestChecks feeds random rendered documents to every rule that
// reads rendered objects (the kind rules included). None may panic.
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
		l.kindRules()
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
