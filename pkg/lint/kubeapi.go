package lint

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/Masterminds/semver/v3"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionsv1beta1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1beta1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer/json"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"

	"github.com/ksbuilder/ksbuilder/pkg/diag"
	"github.com/ksbuilder/ksbuilder/pkg/manifest"
	"github.com/ksbuilder/ksbuilder/pkg/suggest"
)

// DefaultKubeVersion is the range of Kubernetes versions KubeSphere 4.x
// runs on, assumed when extension.yaml sets no kubeVersion.
const DefaultKubeVersion = ">=1.19.0-0"

// Rule IDs of the checks against the Kubernetes API.
const (
	RuleK8sSchema        = "k8s-schema"
	RuleK8sAPIRemoved    = "k8s-api-removed"
	RuleK8sAPIDeprecated = "k8s-api-deprecated"
)

// kubeScheme knows the built-in kinds of Kubernetes (client-go's scheme)
// and CustomResourceDefinitions. Built on first use.
var kubeScheme = sync.OnceValue(func() *runtime.Scheme {
	s := runtime.NewScheme()
	// AddToScheme only fails on conflicting registrations, which these
	// generated packages do not have.
	_ = clientgoscheme.AddToScheme(s)
	_ = apiextensionsv1.AddToScheme(s)
	_ = apiextensionsv1beta1.AddToScheme(s)
	return s
})

// strictDecoder decodes YAML into the scheme's typed objects, reporting
// unknown and duplicate fields.
var strictDecoder = sync.OnceValue(func() runtime.Decoder {
	s := kubeScheme()
	return json.NewSerializerWithOptions(json.DefaultMetaFactory, s, s, json.SerializerOptions{Yaml: true, Strict: true})
})

// apiLifecycle is when a version of a built-in kind was deprecated and
// removed; 0 means never.
type apiLifecycle struct {
	deprecated, removed int // minor versions of Kubernetes 1.x
	replacement         string
}

// retiredAPIs lists removed APIs whose Go types are gone from k8s.io/api,
// so they carry no APILifecycle methods. Keyed by "group/version Kind".
var retiredAPIs = map[string]apiLifecycle{
	"extensions/v1beta1 PodSecurityPolicy":                  {11, 16, "Pod Security Admission"},
	"policy/v1beta1 PodSecurityPolicy":                      {21, 25, "Pod Security Admission"},
	"autoscaling/v2beta1 HorizontalPodAutoscaler":           {22, 25, "autoscaling/v2 HorizontalPodAutoscaler"},
	"autoscaling/v2beta2 HorizontalPodAutoscaler":           {23, 26, "autoscaling/v2 HorizontalPodAutoscaler"},
	"batch/v2alpha1 CronJob":                                {8, 21, "batch/v1 CronJob"},
	"apiregistration.k8s.io/v1beta1 APIService":             {19, 22, "apiregistration.k8s.io/v1 APIService"},
	"scheduling.k8s.io/v1alpha1 PriorityClass":              {14, 17, "scheduling.k8s.io/v1 PriorityClass"},
	"rbac.authorization.k8s.io/v1alpha1 ClusterRole":        {17, 22, "rbac.authorization.k8s.io/v1 ClusterRole"},
	"rbac.authorization.k8s.io/v1alpha1 ClusterRoleBinding": {17, 22, "rbac.authorization.k8s.io/v1 ClusterRoleBinding"},
	"rbac.authorization.k8s.io/v1alpha1 Role":               {17, 22, "rbac.authorization.k8s.io/v1 Role"},
	"rbac.authorization.k8s.io/v1alpha1 RoleBinding":        {17, 22, "rbac.authorization.k8s.io/v1 RoleBinding"},
}

// lifecycleOf returns when the API of an object was deprecated and
// removed, from the APILifecycle methods k8s.io/api generates on the types
// (what kubectl's deprecation warnings use) or from retiredAPIs.
func lifecycleOf(gvk schema.GroupVersionKind) (apiLifecycle, bool) {
	if lc, ok := retiredAPIs[gvk.GroupVersion().String()+" "+gvk.Kind]; ok {
		return lc, true
	}
	obj, err := kubeScheme().New(gvk)
	if err != nil {
		return apiLifecycle{}, false
	}
	var lc apiLifecycle
	if o, ok := obj.(interface{ APILifecycleDeprecated() (int, int) }); ok {
		if major, minor := o.APILifecycleDeprecated(); major == 1 {
			lc.deprecated = minor
		}
	}
	if o, ok := obj.(interface{ APILifecycleRemoved() (int, int) }); ok {
		if major, minor := o.APILifecycleRemoved(); major == 1 {
			lc.removed = minor
		}
	}
	if o, ok := obj.(interface {
		APILifecycleReplacement() schema.GroupVersionKind
	}); ok {
		if r := o.APILifecycleReplacement(); !r.Empty() {
			lc.replacement = r.GroupVersion().String() + " " + r.Kind
		}
	}
	return lc, lc.deprecated > 0 || lc.removed > 0
}

// maxMinor bounds the Kubernetes 1.x versions tried against kubeVersion.
const maxMinor = 99

// kubeRange is the Kubernetes versions an extension allows.
type kubeRange struct {
	constraint string
	// allowed holds, for each minor version of Kubernetes 1.x up to
	// maxMinor, whether the range allows its first or a late patch.
	allowed []bool
}

// kubeVersions returns the Kubernetes versions extension.yaml's kubeVersion
// allows, or DefaultKubeVersion's when it sets none or an invalid one
// (reported by constraint-format).
func (l *linter) kubeVersions() kubeRange {
	s := strings.TrimSpace(l.ext.KubeVersion)
	c, err := semver.NewConstraint(s)
	if s == "" || err != nil {
		s = DefaultKubeVersion
		c, _ = semver.NewConstraint(DefaultKubeVersion)
	}
	k := kubeRange{constraint: s, allowed: make([]bool, maxMinor+1)}
	for m := range k.allowed {
		k.allowed[m] = c.Check(semver.New(1, uint64(m), 0, "", "")) || c.Check(semver.New(1, uint64(m), 99, "", ""))
	}
	return k
}

// allowsFrom returns the first minor version from minor on that the range
// allows, or 0 for none.
func (k kubeRange) allowsFrom(minor int) int {
	for m := max(minor, 0); m <= maxMinor; m++ {
		if k.allowed[m] {
			return m
		}
	}
	return 0
}

// allows reports whether the range allows a minor version (its first or a
// late patch).
func (k kubeRange) allows(minor int) bool {
	return k.allowsFrom(minor) == minor
}

// newestAllowed returns the newest minor version up to newestKubeMinor the
// range allows, or 0 for none.
func (k kubeRange) newestAllowed() int {
	for m := newestKubeMinor(); m > 0; m-- {
		if k.allows(m) {
			return m
		}
	}
	return 0
}

// kubeAPIRules checks every object the releases install against the
// Kubernetes API: objects of built-in kinds decode strictly, and each
// Kubernetes version kubeVersion allows serves the apiVersions the releases
// install on a cluster of that version.
func (l *linter) kubeAPIRules() {
	kr := l.kubeVersions()
	var versioned *versions
	if readers, observed := capabilityReaders(l.chart); len(readers) > 0 {
		versioned = &versions{chart: versionedChart(l.chart, readers), readers: readers, observed: observed}
	}
	for _, r := range l.releases {
		for _, o := range r.installed() {
			gv, err := schema.ParseGroupVersion(o.APIVersion)
			if err != nil || o.Kind == "" || !kubeScheme().Recognizes(gv.WithKind(o.Kind)) {
				continue // not an object (Helm's install reports it), or no Go type
			}
			l.strictDecode(o, l.templateSource(o))
		}
		l.apiLifecycleRules(r, kr, versioned)
	}
}

// versions is what a release is rendered again from for each Kubernetes
// version: the templates whose output may differ between versions.
type versions struct {
	chart *chart.Chart
	// readers are the chart paths of those templates.
	readers map[string]bool
	// observed is what the chart can see of the served APIs.
	observed apiObservation
}

// apiChanges returns the minor versions between oldest and newest the
// range allows at which the served APIs change as far as a chart observing
// o can see: an API it asks about appears or goes away. A template gated
// on such an API may use, from one of those versions to the next, an API
// no other render holds.
func apiChanges(o apiObservation, kr kubeRange, oldest, newest int) []int {
	var out []int
	prev := servedAPIs(oldest)
	for m := oldest + 1; m < newest; m++ {
		if !kr.allows(m) {
			continue
		}
		if served := servedAPIs(m); o.sees(prev, served) {
			out = append(out, m)
			prev = served
		}
	}
	return out
}

// objectsAt returns the objects a cluster of Kubernetes 1.minor receives
// from a release: those of the templates that read .Capabilities rendered
// again for that version from p (versionedChart prepared for the release),
// the others as rendered. False when the render fails.
func objectsAt(r *release, v *versions, p *manifest.Prepared, minor int) ([]manifest.Object, bool) {
	if v == nil {
		return r.installed(), true
	}
	if p == nil {
		return nil, false
	}
	again, ok := renderAgain(p, v.readers, kubeCapabilities(minor))
	if !ok {
		return nil, false
	}
	out := append([]manifest.Object(nil), r.crds...)
	for _, o := range r.objects {
		if !o.IsTestHook() && !v.readers[o.File] {
			out = append(out, o)
		}
	}
	for _, o := range again {
		if !o.IsTestHook() {
			out = append(out, o)
		}
	}
	return out, true
}

// apiLifecycleRules checks the apiVersions of a release against the
// Kubernetes versions kubeVersion allows. A template may choose its
// apiVersion from .Capabilities (.Capabilities.APIVersions.Has,
// semverCompare on .Capabilities.KubeVersion), so the release is rendered
// as clusters of several versions would install it: the oldest and the
// newest allowed, those at which the served APIs change as far as the
// chart can see (apiChanges), and the first allowed version at which
// an API some render uses is deprecated or no longer served. An object is reported at
// the first of those versions whose render holds it with an API that
// version has deprecated or removed. Only the templates that read
// .Capabilities are rendered again (objectsAt); a chart without any is not.
func (l *linter) apiLifecycleRules(r *release, kr kubeRange, v *versions) {
	// Tags, conditions, imports and values do not depend on the version:
	// they are processed once.
	var prepared *manifest.Prepared
	if v != nil {
		opts := r.opts
		opts.Values = manifest.CopyValues(r.opts.Values)
		prepared, _ = manifest.Prepare(v.chart, opts) // nil: the first render reported why
	}
	rendered := map[int][]manifest.Object{}
	oldest, newest := kr.allowsFrom(0), kr.newestAllowed()
	pending := []int{oldest, newest}
	if v != nil && oldest > 0 {
		pending = append(pending, apiChanges(v.observed.withValues(r.opts.Values), kr, oldest, newest)...)
	}
	for len(pending) > 0 {
		minor := pending[0]
		pending = pending[1:]
		if _, done := rendered[minor]; done {
			continue
		}
		if l.ctx.Err() != nil {
			return
		}
		objects, ok := objectsAt(r, v, prepared, minor)
		rendered[minor] = objects
		if !ok {
			continue
		}
		for _, o := range rendered[minor] {
			gvk, ok := objectGVK(o)
			if !ok {
				continue
			}
			lc, _ := lifecycleOf(gvk)
			for _, boundary := range []int{lc.deprecated, lc.removed} {
				if boundary == 0 {
					continue
				}
				if m := kr.allowsFrom(boundary); m > 0 {
					pending = append(pending, m)
				}
			}
		}
	}
	minors := make([]int, 0, len(rendered))
	for m := range rendered {
		minors = append(minors, m)
	}
	sort.Ints(minors)
	// An API removed at some allowed version is an error only; the
	// deprecation of an API no allowed version removes a warning.
	found := map[apiUse]diag.Diagnostic{}
	var order []apiUse
	for _, minor := range minors {
		for _, o := range rendered[minor] {
			gvk, ok := objectGVK(o)
			if !ok {
				continue
			}
			d, ok := l.apiLifecycle(o, gvk, kr, minor)
			if !ok {
				continue
			}
			use := apiUse{o.File, o.APIVersion, o.Kind, o.DisplayName()}
			prev, seen := found[use]
			if !seen {
				order = append(order, use)
			}
			if !seen || d.Severity < prev.Severity {
				found[use] = d
			}
		}
	}
	for _, use := range order {
		l.add(found[use])
	}
}

// objectGVK returns the group, version and kind of an object, false when
// it has none (Helm's install reports such documents).
func objectGVK(o manifest.Object) (schema.GroupVersionKind, bool) {
	gv, err := schema.ParseGroupVersion(o.APIVersion)
	if err != nil || o.Kind == "" {
		return schema.GroupVersionKind{}, false
	}
	return gv.WithKind(o.Kind), true
}

// apiUse is one object's use of an API, the same in every render.
type apiUse struct {
	file, apiVersion, kind, name string
}

// newestKubeMinor is the newest Kubernetes 1.x version k8s.io/api knows:
// the latest version in which one of its APIs was introduced.
var newestKubeMinor = sync.OnceValue(func() int {
	newest := 0
	for gvk := range kubeScheme().AllKnownTypes() {
		if m, ok := introducedIn(gvk); ok && m > newest {
			newest = m
		}
	}
	return newest
})

// introducedIn returns the minor version of Kubernetes 1.x that first
// served an API, from the lifecycle methods k8s.io/api generates; false
// for types without them (list options and the like, never served).
func introducedIn(gvk schema.GroupVersionKind) (int, bool) {
	obj, err := kubeScheme().New(gvk)
	if err != nil {
		return 0, false
	}
	o, ok := obj.(interface{ APILifecycleIntroduced() (int, int) })
	if !ok {
		return 0, false
	}
	major, minor := o.APILifecycleIntroduced()
	return minor, major == 1
}

// kubeCapabilities returns what Helm sees of a cluster of Kubernetes
// 1.minor: its version, and its APIVersions as discovery lists them, each
// served group/version and group/version/Kind.
func kubeCapabilities(minor int) *chartutil.Capabilities {
	caps := chartutil.DefaultCapabilities.Copy()
	caps.KubeVersion = chartutil.KubeVersion{Version: fmt.Sprintf("v1.%d.0", minor), Major: "1", Minor: strconv.Itoa(minor)}
	caps.APIVersions = servedAPIs(minor)
	return caps
}

// servedAPIsCache holds servedAPIs' answers by minor version.
var servedAPIsCache sync.Map

// servedAPIs returns the group/versions and group/version/Kinds a cluster
// of Kubernetes 1.minor serves: the built-in APIs introduced by then and
// not yet removed, the retired ones included. The result is shared: it
// must not be changed.
func servedAPIs(minor int) chartutil.VersionSet {
	if vs, ok := servedAPIsCache.Load(minor); ok {
		return vs.(chartutil.VersionSet)
	}
	vs := listServedAPIs(minor)
	servedAPIsCache.Store(minor, vs)
	return vs
}

// listServedAPIs computes servedAPIs.
func listServedAPIs(minor int) chartutil.VersionSet {
	set := map[string]bool{}
	add := func(gv, kind string) {
		set[gv] = true
		set[gv+"/"+kind] = true
	}
	for gvk := range kubeScheme().AllKnownTypes() {
		from, ok := introducedIn(gvk)
		if !ok || from > minor {
			continue
		}
		if lc, _ := lifecycleOf(gvk); lc.removed > 0 && lc.removed <= minor {
			continue
		}
		add(gvk.GroupVersion().String(), gvk.Kind)
	}
	for api, lc := range retiredAPIs {
		if minor < lc.removed {
			gv, kind, _ := strings.Cut(api, " ")
			add(gv, kind)
		}
	}
	out := make(chartutil.VersionSet, 0, len(set))
	for api := range set {
		out = append(out, api)
	}
	sort.Strings(out)
	return out
}

// templateSource is the template an object was rendered from, for finding
// the line of a field in it.
type templateSource struct {
	loc  manifest.Location
	text []byte
}

func (l *linter) templateSource(o manifest.Object) templateSource {
	ts := templateSource{loc: l.loc.Locate(o.File)}
	if ts.loc.Inner == "" {
		ts.text, _ = l.src.Read(ts.loc.File)
	}
	return ts
}

// diagnostic builds a finding at the template, on the line of key when
// exactly one line of the template holds that key (with value, when value
// is not "").
func (ts templateSource) diagnostic(sev diag.Severity, rule, field, key, value, msg, hint string) diag.Diagnostic {
	d := ts.loc.Diagnostic(sev, rule, field, msg, hint)
	if key == "" || ts.text == nil {
		return d
	}
	pat := `^(\s*(?:-\s+)?)["']?` + regexp.QuoteMeta(key) + `["']?\s*:`
	if value != "" {
		pat += `\s*["']?` + regexp.QuoteMeta(value) + `["']?\s*(?:#.*)?$`
	}
	re := regexp.MustCompile(pat)
	line, col := 0, 0
	for i, text := range strings.Split(string(ts.text), "\n") {
		m := re.FindStringSubmatchIndex(strings.TrimRight(text, "\r"))
		if m == nil {
			continue
		}
		if line != 0 {
			return d // more than one: no line rather than a wrong one
		}
		line, col = i+1, m[3]+1
	}
	d.Line, d.Column = line, col
	return d
}

// apiLifecycle returns the finding about an object that a cluster of
// Kubernetes 1.minor, an allowed version, receives with an API it no
// longer serves (an error) or has deprecated (a warning); false for none.
func (l *linter) apiLifecycle(o manifest.Object, gvk schema.GroupVersionKind, kr kubeRange, minor int) (diag.Diagnostic, bool) {
	lc, ok := lifecycleOf(gvk)
	if !ok {
		return diag.Diagnostic{}, false
	}
	src := l.templateSource(o)
	api := fmt.Sprintf("%s %s", o.APIVersion, o.Kind)
	replace := "use a served API version"
	if lc.replacement != "" {
		replace = "use " + lc.replacement
	}
	switch {
	case lc.removed > 0 && minor >= lc.removed:
		return src.diagnostic(diag.Error, RuleK8sAPIRemoved, "apiVersion", "apiVersion", o.APIVersion,
			fmt.Sprintf("%s %q: %s is not served from Kubernetes 1.%d on, and kubeVersion %q allows 1.%d",
				o.Kind, o.DisplayName(), api, lc.removed, kr.constraint, minor),
			replace+", or narrow kubeVersion in extension.yaml to the versions that serve it"), true
	case lc.deprecated > 0 && minor >= lc.deprecated:
		removal := ""
		if lc.removed > 0 {
			removal = fmt.Sprintf(" (removed in 1.%d)", lc.removed)
		}
		return src.diagnostic(diag.Warning, RuleK8sAPIDeprecated, "apiVersion", "apiVersion", o.APIVersion,
			fmt.Sprintf("%s %q: %s is deprecated from Kubernetes 1.%d on%s, and kubeVersion %q allows 1.%d",
				o.Kind, o.DisplayName(), api, lc.deprecated, removal, kr.constraint, minor),
			replace), true
	}
	return diag.Diagnostic{}, false
}

// typeErrorRe reads the field and types out of the decoder's type errors:
// "json: cannot unmarshal string into Go struct field
// ServicePort.spec.ports.port of type int32".
var typeErrorRe = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`cannot unmarshal (\S+) into Go struct field [^.\s]+\.(\S+) of type (\S+)`)
})

// strictFieldRe reads a strict decoding error: `unknown field "spec.x"`,
// `duplicate field "replicas"`.
var strictFieldRe = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^(unknown|duplicate) field "(.*)"$`)
})

// duplicateKeyRe reads the YAML parser's duplicate key errors: `line 7: key
// "k" already set in map`. They name the key only.
var duplicateKeyRe = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`key "(.*)" already set in map`)
})

// strictDecode decodes an object of a built-in kind as the API server
// does: fields of the wrong type fail the install; unknown and duplicate
// fields are dropped with a warning by API servers with server-side field
// validation (1.25 on), and fail Helm's client-side validation before.
func (l *linter) strictDecode(o manifest.Object, src templateSource) {
	obj, _, err := strictDecoder().Decode([]byte(o.Text), nil, nil)
	if err == nil {
		return
	}
	what := fmt.Sprintf("%s %q", o.Kind, o.DisplayName())
	if strict, ok := runtime.AsStrictDecodingError(err); ok {
		for _, e := range strict.Errors() {
			m := strictFieldRe().FindStringSubmatch(e.Error())
			if m == nil {
				if k := duplicateKeyRe().FindStringSubmatch(e.Error()); k != nil {
					m = []string{"", "duplicate", k[1]}
				}
			}
			if m == nil {
				l.add(src.diagnostic(diag.Warning, RuleK8sSchema, "", "", "", what+": "+e.Error(), ""))
				continue
			}
			field := m[2]
			key := lastKey(field)
			if m[1] == "unknown" {
				parent := strings.ToLower(o.Kind)
				if i := strings.LastIndex(field, "."); i >= 0 {
					parent += "." + indexRe().ReplaceAllString(field[:i], "")
				}
				hint := "check the spelling and the indentation against kubectl explain " + parent
				if s := suggest.Closest(key, knownFields(obj, field), 2); s != "" {
					hint = fmt.Sprintf("did you mean %q? See kubectl explain %s", s, parent)
				}
				l.add(src.diagnostic(diag.Warning, RuleK8sSchema, field, key, "",
					fmt.Sprintf("%s: unknown field %s of %s %s; Kubernetes drops it (before 1.25 Helm refuses the object)", what, field, o.APIVersion, o.Kind),
					hint))
			} else {
				l.add(src.diagnostic(diag.Warning, RuleK8sSchema, field, key, "",
					fmt.Sprintf("%s: field %s is set twice; Kubernetes keeps the last one", what, field),
					"remove one of them"))
			}
		}
		return
	}
	var field, msg, hint string
	if m := typeErrorRe().FindStringSubmatch(err.Error()); m != nil {
		field = m[2]
		got, want := jsonKind(m[1]), jsonType(m[3])
		msg = fmt.Sprintf("%s: field %s holds %s where %s %s wants %s; the API server refuses the object",
			what, field, got, o.APIVersion, o.Kind, want)
		hint = typeHint(got, want)
	} else {
		msg = fmt.Sprintf("%s does not decode as %s %s: %v", what, o.APIVersion, o.Kind, trimDecodeError(err))
		hint = "run ksbuilder template to see the rendered object"
	}
	l.add(src.diagnostic(diag.Error, RuleK8sSchema, field, lastKey(field), "", msg, hint))
}

// typeHint tells how to give a field the type the API wants.
func typeHint(got, want string) string {
	switch {
	case want == "a string":
		return "quote the value: YAML reads numbers, yes/no and on/off unquoted as other types; in templates use | quote"
	case got == "a string" && (want == "a number" || want == "a boolean"):
		return "remove the quotes around the value; in templates drop | quote, or convert with | int"
	}
	return "give " + want + " there; check the indentation against kubectl explain"
}

// indexRe matches the list indexes of a field path.
var indexRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\[\d+\]`) })

// knownFields returns the JSON field names the API type of obj has next to
// the last key of a field path ("spec.ports[0].tragetPort": those of a
// ServicePort), or nil when the path cannot be followed.
func knownFields(obj runtime.Object, field string) []string {
	if obj == nil {
		return nil
	}
	t := reflect.TypeOf(obj)
	keys := strings.Split(indexRe().ReplaceAllString(field, ""), ".")
	for i, k := range keys {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct {
			return nil
		}
		fields := jsonFields(t)
		if i == len(keys)-1 {
			names := make([]string, 0, len(fields))
			for n := range fields {
				names = append(names, n)
			}
			sort.Strings(names)
			return names
		}
		next, ok := fields[k]
		if !ok {
			return nil
		}
		t = next
	}
	return nil
}

// jsonFields maps the JSON names of a struct's fields to their types,
// inlined structs (TypeMeta) flattened.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case name == "-" || !f.IsExported():
		case name == "" && (opts == "inline" || f.Anonymous) && f.Type.Kind() == reflect.Struct:
			for n, ft := range jsonFields(f.Type) {
				out[n] = ft
			}
		case name != "":
			out[name] = f.Type
		}
	}
	return out
}

// lastKey returns the last key of a field path, without list indexes.
func lastKey(field string) string {
	k := field[strings.LastIndex(field, ".")+1:]
	if i := strings.Index(k, "["); i >= 0 {
		k = k[:i]
	}
	return k
}

// jsonType names a Go type of the API as the YAML type it takes.
func jsonType(goType string) string {
	switch {
	case goType == "string":
		return "a string"
	case goType == "bool":
		return "a boolean"
	case strings.HasPrefix(goType, "int"), strings.HasPrefix(goType, "uint"), strings.HasPrefix(goType, "float"):
		return "a number"
	case strings.HasPrefix(goType, "[]"):
		return "a list"
	case strings.HasPrefix(goType, "map["):
		return "a mapping"
	}
	return "a mapping"
}

// jsonKind names a JSON value kind of the decoder's errors as YAML's.
func jsonKind(kind string) string {
	switch kind {
	case "object":
		return "a mapping"
	case "array":
		return "a list"
	case "bool":
		return "a boolean"
	case "number", "string":
		return "a " + kind
	}
	return kind
}

// trimDecodeError drops the serializer's wrapping from an error message.
func trimDecodeError(err error) string {
	for u := errors.Unwrap(err); u != nil; u = errors.Unwrap(u) {
		err = u
	}
	return strings.TrimPrefix(err.Error(), "error unmarshaling JSON: while decoding JSON: ")
}
