// Package manifest renders Helm charts with the Helm SDK and reads the
// rendered Kubernetes objects back, for the scaffolder, the linter and
// "ksbuilder template".
package manifest

import (
	"fmt"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
)

// RenderOptions describe the release a chart is rendered for.
type RenderOptions struct {
	ReleaseName string
	Namespace   string
	// Values are the user-supplied values, merged over the chart's defaults.
	Values map[string]any
	// Upgrade renders as an upgrade rather than a first install.
	Upgrade bool
	// Capabilities are the cluster's, as the templates see them; nil is
	// Helm's defaults ("helm template").
	Capabilities *chartutil.Capabilities
}

// Render renders every template of the chart and its enabled subcharts,
// applying tags and conditions from the values as Helm install does. The
// result maps template paths ("<chart>/charts/<sub>/templates/x.yaml") to
// their rendered text; partials and empty output are left out. The chart is
// not modified, so it can be rendered again with other values.
func Render(c *chart.Chart, opts RenderOptions) (map[string]string, error) {
	r, err := RenderRelease(c, opts)
	if err != nil {
		return nil, err
	}
	return r.Templates, nil
}

// Release is everything Helm would install for one release.
type Release struct {
	// Templates maps template paths to their rendered text, as Render.
	Templates map[string]string
	// CRDs maps the paths of the files under crds/ of the chart and its
	// enabled subcharts ("<chart>/charts/<sub>/crds/x.yaml") to their content.
	// Helm installs them before the templates and never upgrades them.
	CRDs map[string]string

	parseOnce sync.Once
	objects   []Object
	bad       []*DocumentError
}

// Objects is ParseObjects of the templates, parsed on the first call only:
// the release's users share one parse. Templates must not change after
// the first call.
func (r *Release) Objects() ([]Object, []*DocumentError) {
	r.parseOnce.Do(func() { r.objects, r.bad = ParseObjects(r.Templates) })
	return r.objects, r.bad
}

// RenderRelease renders the chart like Render and also collects the CRD
// files of the enabled charts.
func RenderRelease(c *chart.Chart, opts RenderOptions) (*Release, error) {
	p, err := Prepare(c, opts)
	if err != nil {
		return nil, err
	}
	return p.Render(opts.Capabilities)
}

// Prepared is a release whose dependencies (tags, conditions, imports) and
// values are processed, to render for clusters of several versions.
type Prepared struct {
	chart *chart.Chart
	// top is what the templates see, the capabilities left to Render.
	top chartutil.Values
}

// Prepare processes a chart's dependencies and values for a release, as
// RenderRelease does before it renders. The chart is not modified. Values
// that the chart's values.schema.json (or a subchart's) refuses are a
// *SchemaError.
func Prepare(c *chart.Chart, opts RenderOptions) (*Prepared, error) {
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
	top, err := chartutil.ToRenderValuesWithSchemaValidation(c, vals, rel, nil, true)
	if err != nil {
		return nil, err
	}
	// Validated here rather than by ToRenderValues, so that a refusal is a
	// *SchemaError that says which value and why.
	coalesced, _ := top["Values"].(chartutil.Values)
	if err := validateRenderValues(c, coalesced); err != nil {
		return nil, err
	}
	return &Prepared{chart: c, top: top}, nil
}

// Render renders the prepared release as a cluster with caps would install
// it; nil means Helm's defaults, as "helm template". It can be called
// again: each render gets its own copy of the values, which templates may
// change (set, unset).
func (p *Prepared) Render(caps *chartutil.Capabilities) (*Release, error) {
	if caps == nil {
		caps = chartutil.DefaultCapabilities
	}
	top := make(chartutil.Values, len(p.top))
	for k, v := range p.top {
		top[k] = v
	}
	top["Capabilities"] = caps.Copy()
	if vals, ok := p.top["Values"].(chartutil.Values); ok {
		top["Values"] = chartutil.Values(CopyValues(vals))
	}
	out, err := engine.Render(p.chart, top)
	if err != nil {
		return nil, err
	}
	for name, text := range out {
		if strings.TrimSpace(text) == "" || strings.HasPrefix(path.Base(name), "_") {
			delete(out, name)
		}
	}
	crds := map[string]string{}
	for _, crd := range p.chart.CRDObjects() {
		crds[filepath.ToSlash(crd.Filename)] = string(crd.File.Data)
	}
	return &Release{Templates: out, CRDs: crds}, nil
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
	// Text is the document as rendered.
	Text string
}

// Objects splits rendered templates into objects. Only .yaml, .yml and
// .json templates are read (NOTES.txt is skipped). Documents that are empty
// or hold only comments are skipped; a document that is not a YAML mapping is
// an error naming the template.
func Objects(rendered map[string]string) ([]Object, error) {
	objs, errs := ParseObjects(rendered)
	if len(errs) > 0 {
		return nil, errs[0]
	}
	return objs, nil
}

// DocumentError is a rendered document that cannot be read as an object.
type DocumentError struct {
	// File is the template the document came from.
	File string
	// Index is the 0-based position of the document in the file.
	Index int
	Err   error
}

func (e *DocumentError) Error() string {
	return fmt.Sprintf("%s: document %d is not valid YAML: %v", e.File, e.Index+1, e.Err)
}

func (e *DocumentError) Unwrap() error { return e.Err }

// ParseObjects is Objects that goes on past bad documents: it returns every
// object it could read, in file and document order, and one error per
// document that is not a YAML mapping. Documents are split as Helm splits
// them when it installs, so "---" inside an indented block scalar stays in
// its document.
func ParseObjects(rendered map[string]string) ([]Object, []*DocumentError) {
	files := make([]string, 0, len(rendered))
	for f := range rendered {
		if IsManifestFile(f) {
			files = append(files, f)
		}
	}
	sort.Strings(files)
	var (
		out  []Object
		errs []*DocumentError
	)
	for _, f := range files {
		for i, doc := range splitDocuments(rendered[f]) {
			var content map[string]any
			if err := yaml.Unmarshal([]byte(doc), &content); err != nil {
				errs = append(errs, &DocumentError{File: f, Index: i, Err: err})
				continue
			}
			if len(content) == 0 {
				continue
			}
			out = append(out, newObject(f, i, content, doc))
		}
	}
	return out, errs
}

// splitDocuments splits a rendered template into its YAML documents
// exactly as Helm's releaseutil.SplitManifests does when it installs (its
// documents in order; FuzzSplitDocuments compares the two), without its
// regular expression, (?:^|\s*\n)---\s*, which costs a large chart's
// render more than the render itself: a separator is "---" at the start of
// the text, or after a line break, with the white space around it (so
// "---" inside an indented block scalar is not one, and "---x" is).
func splitDocuments(text string) []string {
	s := strings.TrimSpace(text)
	var pieces []string
	begin, from := 0, 0 // the current piece, where the next search starts
	if strings.HasPrefix(s, "---") {
		begin = skipRegexpSpace(s, 3)
		pieces = append(pieces, "")
		from = begin
	}
	for {
		i := strings.Index(s[from:], "\n---")
		if i < 0 {
			break
		}
		i += from
		// The match starts at the white space before the line break, as far
		// back as the previous match's end (leftmost match).
		start := i
		for start > from && isRegexpSpace(s[start-1]) {
			start--
		}
		pieces = append(pieces, s[begin:start])
		begin = skipRegexpSpace(s, i+4)
		from = begin
	}
	pieces = append(pieces, s[begin:])
	docs := make([]string, 0, len(pieces))
	for _, p := range pieces {
		if p != "" { // Helm tests before it trims
			docs = append(docs, strings.TrimSpace(p))
		}
	}
	return docs
}

// isRegexpSpace reports whether b is white space as \s is in Go's regular
// expressions: [\t\n\f\r ].
func isRegexpSpace(b byte) bool {
	return b == ' ' || b == '\t' || b == '\n' || b == '\f' || b == '\r'
}

// skipRegexpSpace returns the index of the first byte at or after i that is
// not \s white space.
func skipRegexpSpace(s string, i int) int {
	for i < len(s) && isRegexpSpace(s[i]) {
		i++
	}
	return i
}

// IsManifestFile reports whether a template or chart file holds Kubernetes
// objects (.yaml, .yml or .json), as opposed to NOTES.txt or partials.
func IsManifestFile(name string) bool {
	switch strings.ToLower(path.Ext(name)) {
	case ".yaml", ".yml", ".json":
		return true
	}
	return false
}

func newObject(file string, index int, content map[string]any, text string) Object {
	o := Object{File: file, Index: index, Content: content, Text: text}
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

// DisplayName returns the name of the object for messages: its name, else
// its generateName followed by "*", else "(unnamed)".
func (o Object) DisplayName() string {
	switch {
	case o.Name != "":
		return o.Name
	case o.GenerateName != "":
		return o.GenerateName + "*"
	}
	return "(unnamed)"
}

// Labels returns the string-valued labels of the object.
func (o Object) Labels() map[string]string { return o.stringMap("labels") }

// Annotations returns the string-valued annotations of the object.
func (o Object) Annotations() map[string]string { return o.stringMap("annotations") }

func (o Object) stringMap(field string) map[string]string {
	out := map[string]string{}
	m, _ := mapAt(o.Content, "metadata")[field].(map[string]any)
	for k, v := range m {
		if s, ok := v.(string); ok {
			out[k] = s
		}
	}
	return out
}

// IsTestHook reports whether the object is a Helm test ("helm.sh/hook:
// test"), which "helm install" and "helm upgrade" never create.
func (o Object) IsTestHook() bool {
	for _, h := range strings.Split(o.Annotations()["helm.sh/hook"], ",") {
		switch strings.TrimSpace(h) {
		case "test", "test-success", "test-failure":
			return true
		}
	}
	return false
}

// podSpecPath returns the field path of the pod spec of a workload kind, or
// nil for other kinds.
func podSpecPath(kind string) []string {
	switch kind {
	case "Pod":
		return []string{"spec"}
	case "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job":
		return []string{"spec", "template", "spec"}
	case "CronJob":
		return []string{"spec", "jobTemplate", "spec", "template", "spec"}
	}
	return nil
}

// PodSpec returns the pod spec of a workload (Pod, Deployment, StatefulSet,
// DaemonSet, ReplicaSet, ReplicationController, Job, CronJob), or nil for
// other kinds or when the object has none.
func (o Object) PodSpec() map[string]any {
	keys := podSpecPath(o.Kind)
	if keys == nil {
		return nil
	}
	return mapAt(o.Content, keys...)
}

// PodSpecField returns the field path of the pod spec of a workload kind,
// such as "spec.template.spec", or "" for other kinds.
func (o Object) PodSpecField() string {
	return strings.Join(podSpecPath(o.Kind), ".")
}

// IsWorkload reports whether the kind runs pods.
func (o Object) IsWorkload() bool {
	return podSpecPath(o.Kind) != nil
}

// Container is a container or init container of a pod spec.
type Container struct {
	Name  string
	Image string
	Init  bool
	// Field is the path of the container in the object, such as
	// "spec.template.spec.initContainers[0]".
	Field string
}

// Containers lists the init containers and containers of a workload.
// Entries that are not mappings are skipped; a missing or non-string name or
// image is left empty.
func (o Object) Containers() []Container {
	spec := o.PodSpec()
	if spec == nil {
		return nil
	}
	var out []Container
	for _, field := range []string{"initContainers", "containers"} {
		list, _ := spec[field].([]any)
		for i, item := range list {
			m, ok := item.(map[string]any)
			if !ok {
				continue
			}
			c := Container{Init: field == "initContainers", Field: fmt.Sprintf("%s.%s[%d]", o.PodSpecField(), field, i)}
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
