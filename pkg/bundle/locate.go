package bundle

import (
	"bytes"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/ksbuilder/ksbuilder/pkg/manifest"
	"github.com/ksbuilder/ksbuilder/pkg/packager"
	"github.com/ksbuilder/ksbuilder/pkg/source"
)

// JSBundle's API group and kind.
const (
	jsBundleAPIVersion = "extensions.kubesphere.io/v1alpha1"
	jsBundleKind       = "JSBundle"
)

// Target is the file of an extension that holds the bundle of one JSBundle.
type Target struct {
	// File is the bundle, slash-separated and relative to the extension.
	File string `json:"file"`
	// JSBundle is the JSBundle that loads it, through key Key of the
	// ConfigMap Namespace/ConfigMap.
	JSBundle  string `json:"jsbundle"`
	ConfigMap string `json:"configMap"`
	Namespace string `json:"namespace"`
	Key       string `json:"key"`
}

// reference is a JSBundle's spec.rawFrom.configMapKeyRef.
type reference struct {
	jsbundle, name, namespace, key string
}

// Locate finds the file that holds the bundle of the extension in src: it
// renders the host release as KubeSphere's installer does, follows each
// JSBundle's spec.rawFrom.configMapKeyRef to the ConfigMap the chart
// creates, and looks in that ConfigMap's chart for the file whose content
// the key holds (the scaffold reads charts/frontend/files/index.js with
// .Files.Get). jsbundle picks one JSBundle by name when several load files;
// "" accepts the only one.
func Locate(src *source.Source, jsbundle string) (Target, error) {
	ext, diags := packager.Validate(src)
	if err := diags.Err(); err != nil {
		return Target{}, err
	}
	c, err := packager.LoadChart(src, ext)
	if err != nil {
		return Target{}, err
	}
	opts, err := manifest.InstallerRelease(ext, c, manifest.Host, nil)
	if err != nil {
		return Target{}, err
	}
	rendered, err := manifest.Render(c, opts)
	if err != nil {
		return Target{}, fmt.Errorf("rendering %s: %w (ksbuilder lint shows where)", src.Path, err)
	}
	objects, bad := manifest.ParseObjects(rendered)
	if len(bad) > 0 {
		return Target{}, fmt.Errorf("rendering %s: %w (ksbuilder lint shows where)", src.Path, bad[0])
	}
	locator := manifest.NewLocator(src, c)

	var refs []reference
	var names []string
	for _, o := range objects {
		if o.APIVersion != jsBundleAPIVersion || o.Kind != jsBundleKind {
			continue
		}
		names = append(names, o.Name)
		ref, ok := configMapRef(o)
		if ok && (jsbundle == "" || jsbundle == o.Name) {
			refs = append(refs, ref)
		}
	}
	if jsbundle != "" && len(refs) == 0 {
		return Target{}, fmt.Errorf("%s renders no JSBundle %q that reads a ConfigMap (JSBundles: %s)", src.Path, jsbundle, listOrNone(names))
	}
	if len(refs) == 0 {
		return Target{}, fmt.Errorf("%s renders no JSBundle with spec.rawFrom.configMapKeyRef, so there is no bundle file to replace (JSBundles: %s): "+
			"a project made by ksbuilder create --type frontend or full has one; docs/frontend.md shows how to add it", src.Path, listOrNone(names))
	}

	var targets []Target
	var problems []string
	for _, ref := range refs {
		t, err := locateFile(src, locator, objects, ref, opts.Namespace)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		targets = append(targets, t)
	}
	switch {
	case len(targets) == 1:
		return targets[0], nil
	case len(targets) == 0:
		return Target{}, fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	var list []string
	for _, t := range targets {
		list = append(list, fmt.Sprintf("%s (JSBundle %s)", t.File, t.JSBundle))
	}
	return Target{}, fmt.Errorf("%s has several bundle files: %s; choose one with --jsbundle NAME", src.Path, strings.Join(list, ", "))
}

// configMapRef reads a JSBundle's spec.rawFrom.configMapKeyRef.
func configMapRef(o manifest.Object) (reference, bool) {
	ref, ok := mapAt(o.Content, "spec", "rawFrom", "configMapKeyRef")
	if !ok {
		return reference{}, false
	}
	r := reference{jsbundle: o.Name}
	r.name, _ = ref["name"].(string)
	r.namespace, _ = ref["namespace"].(string)
	r.key, _ = ref["key"].(string)
	return r, true
}

// locateFile finds the ConfigMap a reference names among the rendered
// objects and the file of its chart that its key holds.
func locateFile(src *source.Source, locator *manifest.Locator, objects []manifest.Object, ref reference, releaseNamespace string) (Target, error) {
	t := Target{JSBundle: ref.jsbundle, ConfigMap: ref.name, Namespace: ref.namespace, Key: ref.key}
	var cm *manifest.Object
	for i, o := range objects {
		ns := o.Namespace
		if ns == "" {
			ns = releaseNamespace
		}
		if o.APIVersion == "v1" && o.Kind == "ConfigMap" && o.Name == ref.name && ns == ref.namespace {
			cm = &objects[i]
			break
		}
	}
	if cm == nil {
		return t, fmt.Errorf("JSBundle %s reads ConfigMap %s/%s, which the chart does not create", ref.jsbundle, ref.namespace, ref.name)
	}
	loc := locator.Locate(cm.File)
	data, _ := mapAt(cm.Content, "data")
	content, ok := data[ref.key].(string)
	if !ok {
		return t, fmt.Errorf("JSBundle %s reads key %q of ConfigMap %s (%s), which has no such key", ref.jsbundle, ref.key, ref.name, loc.File)
	}
	if loc.Inner != "" {
		return t, fmt.Errorf("the ConfigMap %s of JSBundle %s comes from the chart archive %s; unpack it into charts/ to replace its bundle", ref.name, ref.jsbundle, loc.File)
	}
	chartDir := locator.Locate(chartOf(cm.File)).File
	if chartDir != "" {
		chartDir += "/"
	}
	var matches []string
	for _, f := range src.Files() {
		if strings.HasPrefix(f.Name, chartDir) && !strings.HasPrefix(f.Name, chartDir+"templates/") &&
			!strings.HasPrefix(f.Name[len(chartDir):], "charts/") && bytes.Equal(f.Data, []byte(content)) {
			matches = append(matches, f.Name)
		}
	}
	sort.Strings(matches)
	switch len(matches) {
	case 0:
		dir := strings.TrimSuffix(chartDir, "/")
		return t, fmt.Errorf("key %q of ConfigMap %s (%s) holds no file of %s: to keep the bundle as a file, move it to %s and write the key as %s",
			ref.key, ref.name, loc.File, orRoot(dir), path.Join(dir, "files", ref.key), fmt.Sprintf(`{{ .Files.Get "files/%s" | toJson }}`, ref.key))
	case 1:
		t.File = matches[0]
		return t, nil
	}
	return t, fmt.Errorf("key %q of ConfigMap %s holds the content of several files (%s); make them differ", ref.key, ref.name, strings.Join(matches, ", "))
}

// chartOf returns the Helm chart path of the chart a template belongs to:
// "ext/charts/frontend" for "ext/charts/frontend/templates/bundle.yaml".
func chartOf(template string) string {
	top, rest, _ := strings.Cut(template, "/")
	chart := top
	for {
		sub, ok := strings.CutPrefix(rest, "charts/")
		if !ok {
			return chart
		}
		name, after, ok := strings.Cut(sub, "/")
		if !ok {
			return chart
		}
		chart += "/charts/" + name
		rest = after
	}
}

// orRoot names a chart directory in messages.
func orRoot(dir string) string {
	if dir == "" {
		return "the extension's chart"
	}
	return dir
}

// listOrNone joins names, or says "none".
func listOrNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// mapAt returns the mapping at a path of nested mappings.
func mapAt(m map[string]any, keys ...string) (map[string]any, bool) {
	for _, k := range keys {
		next, ok := m[k].(map[string]any)
		if !ok {
			return nil, false
		}
		m = next
	}
	return m, true
}
