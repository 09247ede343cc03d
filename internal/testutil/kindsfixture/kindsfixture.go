// Package kindsfixture writes, for tests, an extension shaped like the
// scaffold's frontend: a bundle file in the chart (charts/frontend/files/
// index.js) read with .Files.Get into a ConfigMap, a JSBundle with
// rawFrom.configMapKeyRef to it, and an APIService, a ReverseProxy and an
// ExtensionEntry, with the executor's permissions for them.
package kindsfixture

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Options choose what the extension's objects claim; empty fields take
// the extension's own defaults.
type Options struct {
	// Link is the JSBundle's status.link (default: none, so KubeSphere
	// gives /dist/<name>/index.js).
	Link string
	// Group is the APIService's group (default <name>.kubesphere.io).
	Group string
	// ProxyPath is the ReverseProxy's matcher path (default
	// /proxy/<name>/*), with method "*".
	ProxyPath string
	// Entry is the ExtensionEntry's entry name (default <name>).
	Entry string
	// Bundle is the content of charts/frontend/files/index.js.
	Bundle string
	// Inline writes the bundle into the ConfigMap's template, as the
	// public samples do, instead of a chart file.
	Inline bool
}

// BundleFile is where the chart keeps the bundle, relative to the
// extension directory.
const BundleFile = "charts/frontend/files/index.js"

// ConfigMapName is the name of the bundle's ConfigMap for an extension.
func ConfigMapName(name string) string { return name + "-js-bundle" }

// Write writes the extension into dir (created) and returns dir.
func Write(t testing.TB, dir, name string, o Options) string {
	t.Helper()
	if o.Group == "" {
		o.Group = name + ".kubesphere.io"
	}
	if o.ProxyPath == "" {
		o.ProxyPath = "/proxy/" + name + "/*"
	}
	if o.Entry == "" {
		o.Entry = name
	}
	if o.Bundle == "" {
		o.Bundle = `System.register([], function (e) { return { execute: function () { e("default", { routes: [], menus: [], locales: {} }); } }; });` + "\n"
	}
	link := ""
	if o.Link != "" {
		link = "status:\n  link: " + o.Link + "\n"
	}
	files := map[string]string{
		"extension.yaml": `apiVersion: kubesphere.io/v1alpha1
name: NAME
version: 0.1.0
displayName:
  en: NAME
description:
  en: A test extension with a frontend
category: dev-tools
provider:
  en:
    name: Test
icon: ./icon.svg
dependencies:
  - name: frontend
    tags: [extension]
installationMode: HostOnly
`,
		"icon.svg": `<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>` + "\n",
		"permissions.yaml": `kind: ClusterRole
rules:
  - apiGroups: [extensions.kubesphere.io]
    resources: [jsbundles, apiservices, reverseproxies, extensionentries]
    verbs: [get, list, create, update, patch, delete]
`,
		"charts/frontend/Chart.yaml": "apiVersion: v2\nname: frontend\nversion: 0.1.0\n",
		BundleFile:                   o.Bundle,
		"charts/frontend/templates/bundle.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-js-bundle
data:
  index.js: BUNDLEVALUE
---
apiVersion: extensions.kubesphere.io/v1alpha1
kind: JSBundle
metadata:
  name: {{ .Release.Name }}
spec:
  rawFrom:
    configMapKeyRef:
      name: {{ .Release.Name }}-js-bundle
      key: index.js
      namespace: {{ .Release.Namespace }}
` + link,
		"charts/frontend/templates/api.yaml": `apiVersion: extensions.kubesphere.io/v1alpha1
kind: APIService
metadata:
  name: v1alpha1.{{ .Release.Name }}
spec:
  group: GROUP
  version: v1alpha1
  url: http://{{ .Release.Name }}.{{ .Release.Namespace }}.svc:8080
---
apiVersion: extensions.kubesphere.io/v1alpha1
kind: ReverseProxy
metadata:
  name: {{ .Release.Name }}
spec:
  matcher:
    method: "*"
    path: PROXYPATH
  upstream:
    url: http://{{ .Release.Name }}.{{ .Release.Namespace }}.svc:8080
---
apiVersion: extensions.kubesphere.io/v1alpha1
kind: ExtensionEntry
metadata:
  name: {{ .Release.Name }}
spec:
  entries:
    - name: ENTRY
      title: NAME
      link: /ENTRY
`,
	}
	value := `{{ .Files.Get "files/index.js" | quote }}`
	if o.Inline {
		value = strconv.Quote(o.Bundle)
		delete(files, BundleFile)
	}
	r := strings.NewReplacer("NAME", name, "GROUP", o.Group, "PROXYPATH", o.ProxyPath, "ENTRY", o.Entry, "BUNDLEVALUE", value)
	for file, content := range files {
		if file != BundleFile {
			content = r.Replace(content)
		}
		p := filepath.Join(dir, filepath.FromSlash(file))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
