// Package manifest renders Helm charts with the Helm SDK and reads the
// rendered Kubernetes objects back, for the scaffolder, the linter and
// "ksbuilder template".
package manifest

import (
	"fmt"
	"path"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"helm.sh/helm/v3/pkg/releaseutil"
)

// RenderOptions describe the release a chart is rendered for.
type RenderOptions struct {
	ReleaseName string
	Namespace   string
	// Values are the user-supplied values, merged over the chart's defaults.
	Values map[string]any
	// Upgrade renders as an upgrade rather than a first install.
	Upgrade bool
}

// Render renders every template of the chart and its enabled subcharts,
// applying tags and conditions from the values as Helm install does. The
// result maps template paths ("<chart>/charts/<sub>/templates/x.yaml") to
// their rendered text; partials and empty output are left out. The chart is
// not modified, so it can be rendered again with other values.
func Render(c *chart.Chart, opts RenderOptions) (map[string]string, error) {
	vals := opts.Values
	if vals == nil {
		vals = map[string]any{}
	}
	c = cloneChart(c)
	if err := chartutil.ProcessDependenciesWithMerge(c, vals); err != nil {
		return nil, err
	}
	rel := chartutil.ReleaseOptions{
		Name: opts.ReleaseName, Namespace: opts.Namespace,
		IsInstall: !opts.Upgrade, IsUpgrade: opts.Upgrade, Revision: 1,
	}
	top, err := chartutil.ToRenderValues(c, vals, rel, chartutil.DefaultCapabilities.Copy())
	if err != nil {
		return nil, err
	}
	out, err := engine.Render(c, top)
	if err != nil {
		return nil, err
	}
	for name, text := range out {
		if strings.TrimSpace(text) == "" || strings.HasPrefix(path.Base(name), "_") {
			delete(out, name)
		}
	}
	return out, nil
}

// cloneChart copies what Helm's dependency processing mutates: the
// dependency list and the Enabled flags in the metadata, recursively.
func cloneChart(c *chart.Chart) *chart.Chart {
	out := *c
	if c.Metadata != nil {
		md := *c.Metadata
		md.Dependencies = make([]*chart.Dependency, len(c.Metadata.Dependencies))
		for i, d := range c.Metadata.Dependencies {
			dc := *d
			md.Dependencies[i] = &dc
		}
		out.Metadata = &md
	}
	deps := make([]*chart.Chart, 0, len(c.Dependencies()))
	for _, d := range c.Dependencies() {
		deps = append(deps, cloneChart(d))
	}
	out.SetDependencies(deps...)
	return &out
}

// Object is one Kubernetes object from a rendered template.
type Object struct {
	// File is the template the object came from.
	File string
	// Index is the position of the document in the file.
	Index      int
	APIVersion string
	Kind       string
	Name       string
	// GenerateName is set instead of Name by some charts.
	GenerateName string
	Namespace    string
	// Content is the whole object.
	Content map[string]any
}

// Objects splits rendered templates into objects. Only .yaml, .yml and
// .json templates are read (NOTES.txt is skipped). Documents that are empty
// or hold only comments are skipped; a document that is not valid YAML is an
// error naming the template.
func Objects(rendered map[string]string) ([]Object, error) {
	files := make([]string, 0, len(rendered))
	for f := range rendered {
		switch strings.ToLower(path.Ext(f)) {
		case ".yaml", ".yml", ".json":
			files = append(files, f)
		}
	}
	sort.Strings(files)
	var out []Object
	for _, f := range files {
		docs := releaseutil.SplitManifests(rendered[f])
		keys := make([]string, 0, len(docs))
		for k := range docs {
			keys = append(keys, k)
		}
		sort.Sort(releaseutil.BySplitManifestsOrder(keys))
		for i, k := range keys {
			var content map[string]any
			if err := yaml.Unmarshal([]byte(docs[k]), &content); err != nil {
				return nil, fmt.Errorf("%s: document %d is not valid YAML: %w", f, i+1, err)
			}
			if len(content) == 0 {
				continue
			}
			out = append(out, newObject(f, i, content))
		}
	}
	return out, nil
}

func newObject(file string, index int, content map[string]any) Object {
	o := Object{File: file, Index: index, Content: content}
	o.APIVersion, _ = content["apiVersion"].(string)
	o.Kind, _ = content["kind"].(string)
	if md, ok := content["metadata"].(map[string]any); ok {
		o.Name, _ = md["name"].(string)
		o.GenerateName, _ = md["generateName"].(string)
		o.Namespace, _ = md["namespace"].(string)
	}
	return o
}

// Group returns the API group of the object ("" for the core group).
func (o Object) Group() string {
	g, _, ok := strings.Cut(o.APIVersion, "/")
	if !ok {
		return ""
	}
	return g
}

// PodSpec returns the pod spec of a workload (Pod, Deployment, StatefulSet,
// DaemonSet, ReplicaSet, ReplicationController, Job, CronJob), or nil for
// other kinds or when the object has none.
func (o Object) PodSpec() map[string]any {
	switch o.Kind {
	case "Pod":
		return mapAt(o.Content, "spec")
	case "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job":
		return mapAt(o.Content, "spec", "template", "spec")
	case "CronJob":
		return mapAt(o.Content, "spec", "jobTemplate", "spec", "template", "spec")
	}
	return nil
}

// IsWorkload reports whether the kind runs pods.
func (o Object) IsWorkload() bool {
	switch o.Kind {
	case "Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job", "CronJob":
		return true
	}
	return false
}

// Container is a container or init container of a pod spec.
type Container struct {
	Name  string
	Image string
	Init  bool
}

// Containers lists the containers and init containers of a workload.
func (o Object) Containers() []Container {
	spec := o.PodSpec()
	if spec == nil {
		return nil
	}
	var out []Container
	for _, field := range []string{"initContainers", "containers"} {
		list, _ := spec[field].([]any)
		for _, item := range list {
			m, ok := item.(map[string]any)
			if !ok {
				continue
			}
			c := Container{Init: field == "initContainers"}
			c.Name, _ = m["name"].(string)
			c.Image, _ = m["image"].(string)
			out = append(out, c)
		}
	}
	return out
}

func mapAt(m map[string]any, keys ...string) map[string]any {
	cur := m
	for _, k := range keys {
		next, ok := cur[k].(map[string]any)
		if !ok {
			return nil
		}
		cur = next
	}
	return cur
}
