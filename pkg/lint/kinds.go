package lint

import (
	"fmt"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer/json"

	"github.com/ksbuilder/ksbuilder/pkg/diag"
	"github.com/ksbuilder/ksbuilder/pkg/kubesphere/application"
	"github.com/ksbuilder/ksbuilder/pkg/kubesphere/extensions"
	"github.com/ksbuilder/ksbuilder/pkg/kubesphere/iam"
	"github.com/ksbuilder/ksbuilder/pkg/manifest"
	"github.com/ksbuilder/ksbuilder/pkg/suggest"
)

// Rule IDs of the checks of KubeSphere's extension kinds (JSBundle,
// APIService, ReverseProxy, ExtensionEntry, RoleTemplate).
const (
	RuleKSSchema                 = "ks-schema"
	RuleJSBundleLink             = "jsbundle-link"
	RuleJSBundleRef              = "jsbundle-ref"
	RuleAPIServiceConflict       = "apiservice-conflict"
	RuleReverseProxyConflict     = "reverseproxy-conflict"
	RuleReverseProxyPath         = "reverseproxy-path"
	RuleExtensionEntryNames      = "extensionentry-names"
	RuleEndpoint                 = "ks-endpoint"
	RuleServicePort              = "ks-service-port"
	RuleMenuParent               = "menu-parent"
	RuleBundleExport             = "jsbundle-export"
	RuleRoleTemplateScope        = "roletemplate-scope"
	RuleRoleTemplateAnnotations  = "roletemplate-annotations"
	RuleRoleTemplateDependencies = "roletemplate-dependencies"
	RuleMenuAuthKey              = "menu-authkey"
)

// ksScheme knows our types of KubeSphere's extension kinds. Built on first
// use.
var ksScheme = sync.OnceValue(func() *runtime.Scheme {
	s := runtime.NewScheme()
	// AddToScheme only fails on conflicting registrations; these have none.
	_ = extensions.AddToScheme(s)
	_ = iam.AddToScheme(s)
	_ = application.AddToScheme(s)
	return s
})

// ksDecoder decodes YAML into our types strictly, reporting unknown and
// duplicate fields.
var ksDecoder = sync.OnceValue(func() runtime.Decoder {
	s := ksScheme()
	return json.NewSerializerWithOptions(json.DefaultMetaFactory, s, s, json.SerializerOptions{Yaml: true, Strict: true})
})

// kindObject is a rendered object of one of KubeSphere's kinds, decoded
// into our type. Objects that do not decode are reported by ks-schema and
// left out of the other rules.
type kindObject[T any] struct {
	o   manifest.Object
	src objectSource
	v   *T
}

// describe names the object for messages.
func (k kindObject[T]) describe() string { return describe(k.o) }

// releaseKinds holds the objects of one release the kind rules look at.
type releaseKinds struct {
	r         *release
	bundles   []kindObject[extensions.JSBundle]
	apis      []kindObject[extensions.APIService]
	proxies   []kindObject[extensions.ReverseProxy]
	entries   []kindObject[extensions.ExtensionEntry]
	templates []kindObject[iam.RoleTemplate]
	apps      []kindObject[application.Application]
	versions  []kindObject[application.ApplicationVersion]
	// services, configMaps and secrets are the chart's objects of these
	// kinds, by "namespace/name" (the release namespace when unset).
	services   map[string]manifest.Object
	configMaps map[string]manifest.Object
	secrets    map[string]manifest.Object
	// authKeys are the authKeys of the menus of the entries and bundles.
	authKeys []authKeyUse
	// docs places each object among the objects of its template: its
	// ordinal and their number, by "file#index".
	docs map[string][2]int
}

// objectSource is the part of an object's template that renders it: the
// whole template, or its document when the template's documents (split
// at "---" lines) match the objects it rendered one to one, so a key is
// looked up in the object's own document.
type objectSource struct {
	templateSource
	// offset is the number of template lines before the document.
	offset int
	// own is true when text renders this object alone: the template
	// renders one object, or text is its document.
	own bool
}

// diagnostic is templateSource.diagnostic with the document's line offset.
// A value the template computes ("link: /dist/{{ .Release.Name }}/x.js")
// is not found as written: then the key alone places the finding, when one
// line of the object's document holds it.
func (s objectSource) diagnostic(sev diag.Severity, rule, field, key, value, msg, hint string) diag.Diagnostic {
	d := s.templateSource.diagnostic(sev, rule, field, key, value, msg, hint)
	if d.Line == 0 && value != "" && s.own {
		d = s.templateSource.diagnostic(sev, rule, field, key, "", msg, hint)
	}
	if d.Line > 0 {
		d.Line += s.offset
	}
	return d
}

// diagnosticNth builds a finding on the n-th of total lines of the
// object's document that hold key with value (an entry's name that several
// entries repeat), or with no line when the document does not hold exactly
// total of them.
func (s objectSource) diagnosticNth(sev diag.Severity, rule, field, key, value string, n, total int, msg, hint string) diag.Diagnostic {
	d := s.templateSource.diagnostic(sev, rule, field, "", "", msg, hint)
	if !s.own || s.text == nil {
		return d
	}
	var lines, cols []int
	for i, line := range strings.Split(string(s.text), "\n") {
		one := templateSource{loc: s.loc, text: []byte(line)}.diagnostic(sev, rule, field, key, value, msg, hint)
		if one.Line == 1 {
			lines, cols = append(lines, i+1), append(cols, one.Column)
		}
	}
	if len(lines) == total && n >= 1 && n <= total {
		d.Line, d.Column = s.offset+lines[n-1], cols[n-1]
	}
	return d
}

// diagnosticAt builds a finding on the first line of the object's document
// that re matches (a bundle's JavaScript written in the template), or at
// the template when none does.
func (s objectSource) diagnosticAt(sev diag.Severity, rule string, re *regexp.Regexp, msg, hint string) diag.Diagnostic {
	d := s.templateSource.diagnostic(sev, rule, "", "", "", msg, hint)
	if s.text == nil {
		return d
	}
	for i, line := range strings.Split(string(s.text), "\n") {
		if m := re.FindStringIndex(line); m != nil {
			d.Line, d.Column = s.offset+i+1, m[0]+1
			break
		}
	}
	return d
}

// source returns the template part that rendered an object of the release.
func (k *releaseKinds) source(l *linter, o manifest.Object) objectSource {
	s := objectSource{templateSource: l.templateSource(o)}
	place, ok := k.docs[fmt.Sprintf("%s#%d", o.File, o.Index)]
	if !ok || s.text == nil {
		return s
	}
	if place[1] == 1 {
		s.own = true
		return s
	}
	docs := templateDocuments(string(s.text))
	if len(docs) != place[1] {
		return s
	}
	s.text = []byte(docs[place[0]].text)
	s.offset = docs[place[0]].offset
	s.own = true
	return s
}

// templateDocument is a document of a template: its text and the number
// of lines before it.
type templateDocument struct {
	text   string
	offset int
}

// templateDocuments splits a template at its "---" lines, leaving out the
// parts with nothing but blank lines and comments.
func templateDocuments(text string) []templateDocument {
	var (
		out   []templateDocument
		cur   []string
		start int
	)
	flush := func() {
		for _, line := range cur {
			if t := strings.TrimSpace(line); t != "" && !strings.HasPrefix(t, "#") {
				out = append(out, templateDocument{strings.Join(cur, "\n"), start})
				break
			}
		}
	}
	for i, line := range strings.Split(text, "\n") {
		if strings.TrimRight(line, " \t\r") == "---" {
			flush()
			cur, start = nil, i+1
			continue
		}
		cur = append(cur, line)
	}
	flush()
	return out
}

// kindRules checks the objects of KubeSphere's kinds each release renders:
// they decode into our types, pass the admission webhooks' rules within
// the package, and agree with the chart's Services, ConfigMaps and
// Secrets and with the KubeSphere versions ksVersion allows.
func (l *linter) kindRules() {
	ks := l.ksVersions()
	for _, r := range l.releases {
		k := l.collectKinds(r)
		l.bundleRules(k, ks)
		l.apiServiceRules(k)
		l.reverseProxyRules(k)
		l.entryRules(k, ks)
		l.roleTemplateRules(k)
		l.appRules(k)
	}
}

// collectKinds decodes the release's objects of KubeSphere's kinds,
// reporting what does not decode, and indexes the objects they refer to.
func (l *linter) collectKinds(r *release) *releaseKinds {
	k := &releaseKinds{r: r, services: map[string]manifest.Object{}, configMaps: map[string]manifest.Object{}, secrets: map[string]manifest.Object{},
		docs: map[string][2]int{}}
	installed := r.installed()
	perFile := map[string][]string{}
	for _, o := range installed {
		perFile[o.File] = append(perFile[o.File], fmt.Sprintf("%s#%d", o.File, o.Index))
	}
	for _, ids := range perFile {
		for i, id := range ids {
			k.docs[id] = [2]int{i, len(ids)}
		}
	}
	for _, o := range installed {
		if o.Group() == "" {
			ns := o.Namespace
			if ns == "" {
				ns = r.namespace
			}
			switch o.Kind {
			case "Service":
				k.services[ns+"/"+o.Name] = o
			case "ConfigMap":
				k.configMaps[ns+"/"+o.Name] = o
			case "Secret":
				k.secrets[ns+"/"+o.Name] = o
			}
			continue
		}
		gv, err := schema.ParseGroupVersion(o.APIVersion)
		if err != nil || !ksScheme().Recognizes(gv.WithKind(o.Kind)) {
			// Kubernetes' apiregistration.k8s.io APIService, and other
			// versions of these groups, are not KubeSphere's kinds.
			continue
		}
		src := k.source(l, o)
		obj := l.ksDecode(o, src)
		switch v := obj.(type) {
		case *extensions.JSBundle:
			k.bundles = append(k.bundles, kindObject[extensions.JSBundle]{o, src, v})
		case *extensions.APIService:
			k.apis = append(k.apis, kindObject[extensions.APIService]{o, src, v})
		case *extensions.ReverseProxy:
			k.proxies = append(k.proxies, kindObject[extensions.ReverseProxy]{o, src, v})
		case *extensions.ExtensionEntry:
			k.entries = append(k.entries, kindObject[extensions.ExtensionEntry]{o, src, v})
		case *iam.RoleTemplate:
			k.templates = append(k.templates, kindObject[iam.RoleTemplate]{o, src, v})
		case *application.Application:
			k.apps = append(k.apps, kindObject[application.Application]{o, src, v})
		case *application.ApplicationVersion:
			k.versions = append(k.versions, kindObject[application.ApplicationVersion]{o, src, v})
		}
	}
	return k
}

// ksDecode decodes an object of KubeSphere's kinds strictly into our type,
// as the CRD's structural schema treats it: a field of the wrong type or a
// required field left out is refused (an error), an unknown field is
// pruned (a warning). It returns the object when it decoded, unknown
// fields aside, and nil otherwise.
func (l *linter) ksDecode(o manifest.Object, src objectSource) runtime.Object {
	what := describe(o)
	obj, _, err := ksDecoder().Decode([]byte(o.Text), nil, nil)
	strict, isStrict := runtime.AsStrictDecodingError(err)
	switch {
	case err == nil:
	case isStrict:
		for _, e := range strict.Errors() {
			m := strictFieldRe().FindStringSubmatch(e.Error())
			if m == nil || m[1] != "unknown" {
				continue // a key set twice is already a render error
			}
			field := m[2]
			key := lastKey(field)
			parent := strings.ToLower(o.Kind)
			if i := strings.LastIndex(field, "."); i >= 0 {
				parent += "." + indexRe().ReplaceAllString(field[:i], "")
			}
			hint := "check the spelling and the indentation against kubectl explain " + parent + " on a KubeSphere cluster"
			if s := suggest.Closest(key, knownFields(obj, field), 2); s != "" {
				hint = fmt.Sprintf("did you mean %q?", s)
			}
			l.add(src.diagnostic(diag.Warning, RuleKSSchema, field, key, "",
				fmt.Sprintf("%s: unknown field %s of %s %s; the API server prunes it, so the setting is lost", what, field, o.APIVersion, o.Kind),
				hint))
		}
	default:
		var field, msg, hint string
		if m := typeErrorRe().FindStringSubmatch(err.Error()); m != nil {
			field = m[2]
			got, want := jsonKind(m[1]), jsonType(m[3])
			msg = fmt.Sprintf("%s: field %s holds %s where %s %s wants %s; the CRD's schema refuses the object, so the install fails",
				what, field, got, o.APIVersion, o.Kind, want)
			hint = typeHint(got, want)
		} else {
			msg = fmt.Sprintf("%s does not decode as %s %s, so the install fails: %v", what, o.APIVersion, o.Kind, trimDecodeError(err))
			hint = "run ksbuilder template to see the rendered object"
		}
		l.add(src.diagnostic(diag.Error, RuleKSSchema, field, lastKey(field), "", msg, hint))
		obj = nil
	}
	if obj == nil {
		return nil
	}
	missing := missingFields(reflect.TypeOf(obj), o.Content, "")
	for _, field := range missing {
		parent := "metadata"
		if i := strings.LastIndex(field, "."); i >= 0 {
			parent = lastKey(field[:i])
		}
		l.add(src.diagnostic(diag.Error, RuleKSSchema, field, parent, "",
			fmt.Sprintf("%s: required field %s is missing; the CRD's schema refuses the object, so the install fails", what, field),
			"set it; see docs/lint.md#kubespheres-extension-kinds for the kind's fields"))
	}
	if len(missing) > 0 {
		return nil
	}
	return obj
}

// missingFields returns the paths of the required fields (JSON names
// without omitempty or omitzero, as controller-gen makes them required in
// the CRD) that a decoded value lacks, following the Go type t.
func missingFields(t reflect.Type, v any, path string) []string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(reflect.TypeFor[interface{ UnmarshalJSON([]byte) error }]()) {
		return nil // its own format (times, raw extensions)
	}
	var out []string
	switch t.Kind() {
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" || !f.IsExported() {
				continue
			}
			if name == "" {
				if opts == "inline" || f.Anonymous {
					out = append(out, missingFields(f.Type, v, path)...)
				}
				continue
			}
			p := name
			if path != "" {
				p = path + "." + name
			}
			val, present := m[name]
			if !present || val == nil {
				if !strings.Contains(","+opts+",", ",omitempty,") && !strings.Contains(","+opts+",", ",omitzero,") {
					out = append(out, p)
				}
				continue
			}
			out = append(out, missingFields(f.Type, val, p)...)
		}
	case reflect.Slice:
		items, ok := v.([]any)
		if !ok || t.Elem().Kind() == reflect.Uint8 {
			return nil
		}
		for i, item := range items {
			out = append(out, missingFields(t.Elem(), item, fmt.Sprintf("%s[%d]", path, i))...)
		}
	}
	return out
}

// describeAt names an object of another template for messages.
func (l *linter) describeAt(o manifest.Object) string {
	return fmt.Sprintf("%s (%s)", describe(o), l.loc.Locate(o.File).File)
}

// defaultBundleLink is the link KubeSphere gives a JSBundle without one.
func (l *linter) defaultBundleLink() string {
	return extensions.BundlePathPrefix + l.ext.Name + "/index.js"
}

// bundleRules checks the JSBundles: their link, their source and the
// bundle text they serve.
func (l *linter) bundleRules(k *releaseKinds, ks ksRange) {
	prefix := extensions.BundlePathPrefix + l.ext.Name
	links := map[string]kindObject[extensions.JSBundle]{}
	for _, b := range k.bundles {
		link := b.v.Status.Link
		if link != "" && !strings.HasPrefix(link, prefix) {
			l.add(b.src.diagnostic(diag.Error, RuleJSBundleLink, "status.link", "link", link,
				fmt.Sprintf("%s: status.link %q does not start with %s; KubeSphere's admission webhook refuses the bundle, so the install fails", b.describe(), link, prefix),
				fmt.Sprintf("set status.link to %s, or leave it out and KubeSphere sets that", l.defaultBundleLink())))
		}
		effective := link
		if effective == "" {
			effective = l.defaultBundleLink()
		}
		if first, dup := links[effective]; dup {
			how := ""
			if link == "" {
				how = " (KubeSphere's default for a bundle without status.link)"
			}
			l.add(b.src.diagnostic(diag.Error, RuleJSBundleLink, "status.link", "link", link,
				fmt.Sprintf("%s: link %s%s is also the link of %s; KubeSphere's admission webhook refuses a second bundle with a link, so the install fails",
					b.describe(), effective, how, l.describeAt(first.o)),
				fmt.Sprintf("give each bundle its own status.link under %s/, e.g. %s/%s.js", prefix, prefix, b.o.Name)))
		} else {
			links[effective] = b
		}
		l.bundleSource(k, b)
		if text, holder, ok := l.bundleText(k, b); ok {
			l.bundleVersionRules(k, holder, text, ks)
		}
	}
}

// bundleSource checks where a JSBundle's JavaScript comes from: raw or
// rawFrom, one source in rawFrom, and key references to objects the chart
// creates.
func (l *linter) bundleSource(k *releaseKinds, b kindObject[extensions.JSBundle]) {
	spec := b.v.Spec
	from := spec.RawFrom
	if len(spec.Raw) == 0 && from == nil {
		l.add(b.src.diagnostic(diag.Error, RuleEndpoint, "spec", "spec", "",
			fmt.Sprintf("%s has neither spec.raw nor spec.rawFrom, so the console gets no bundle", b.describe()),
			"set spec.rawFrom.configMapKeyRef to a ConfigMap of the chart holding the bundle, or spec.rawFrom.url to where it is served"))
		return
	}
	if len(spec.Raw) > 0 {
		if from != nil {
			l.add(b.src.diagnostic(diag.Warning, RuleEndpoint, "spec.rawFrom", "rawFrom", "",
				fmt.Sprintf("%s sets both spec.raw and spec.rawFrom; KubeSphere serves spec.raw and ignores rawFrom", b.describe()),
				"remove the one you do not mean"))
		}
		return
	}
	var set []string
	if from.URL != "" {
		set = append(set, "url")
	}
	if from.Service != nil {
		set = append(set, "service")
	}
	if from.ConfigMapKeyRef != nil {
		set = append(set, "configMapKeyRef")
	}
	if from.SecretKeyRef != nil {
		set = append(set, "secretKeyRef")
	}
	switch {
	case len(set) == 0:
		l.add(b.src.diagnostic(diag.Error, RuleEndpoint, "spec.rawFrom", "rawFrom", "",
			fmt.Sprintf("%s: spec.rawFrom sets none of url, service, configMapKeyRef and secretKeyRef, so the console gets no bundle", b.describe()),
			"set exactly one of them"))
		return
	case len(set) > 1:
		l.add(b.src.diagnostic(diag.Warning, RuleEndpoint, "spec.rawFrom", "rawFrom", "",
			fmt.Sprintf("%s: spec.rawFrom sets %s; KubeSphere serves one of them and ignores the others", b.describe(), strings.Join(set, " and ")),
			"keep exactly one of them"))
	}
	if ref := from.ConfigMapKeyRef; ref != nil {
		l.keyRef(k, b, "ConfigMap", "spec.rawFrom.configMapKeyRef", ref, k.configMaps)
	}
	if ref := from.SecretKeyRef; ref != nil {
		l.keyRef(k, b, "Secret", "spec.rawFrom.secretKeyRef", ref, k.secrets)
	}
	if from.ConfigMapKeyRef == nil && from.SecretKeyRef == nil {
		switch {
		case from.Service != nil:
			l.servicePort(k, b.o, b.src, "spec.rawFrom.service", from.Service)
		case from.URL != "":
			l.urlPort(k, b.o, b.src, "spec.rawFrom.url", from.URL)
		}
	}
}

// keyRef checks that a JSBundle's ConfigMap or Secret key is one the chart
// creates.
func (l *linter) keyRef(k *releaseKinds, b kindObject[extensions.JSBundle], kind, field string, ref *extensions.KeyRef, objs map[string]manifest.Object) {
	o, ok := objs[ref.Namespace+"/"+ref.Name]
	if !ok {
		where := ""
		if ref.Namespace != k.r.namespace {
			where = fmt.Sprintf(" (the release's namespace is %s)", k.r.namespace)
		}
		l.add(b.src.diagnostic(diag.Warning, RuleJSBundleRef, field+".name", "name", ref.Name,
			fmt.Sprintf("%s reads its bundle from %s %s/%s%s, which the chart does not create; until something else creates it, the console gets no bundle",
				b.describe(), kind, ref.Namespace, ref.Name, where),
			fmt.Sprintf("create the %s in the chart, with the bundle under key %q, or fix name and namespace (namespace: {{ .Release.Namespace }})", kind, ref.Key)))
		return
	}
	if _, ok := objectKey(o, ref.Key); !ok {
		l.add(b.src.diagnostic(diag.Error, RuleJSBundleRef, field+".key", "key", ref.Key,
			fmt.Sprintf("%s reads key %q of %s, which has no such key (it has %s), so the console gets no bundle",
				b.describe(), ref.Key, l.describeAt(o), keyList(o)),
			"use the key the bundle is stored under"))
	}
}

// objectKey returns the text of a key of a ConfigMap (data, binaryData) or
// Secret (stringData, data base64-decoded).
func objectKey(o manifest.Object, key string) (string, bool) {
	for _, field := range []string{"data", "binaryData", "stringData"} {
		m, _ := o.Content[field].(map[string]any)
		v, ok := m[key]
		if !ok {
			continue
		}
		s, _ := v.(string)
		if (o.Kind == "Secret" && field == "data") || field == "binaryData" {
			s = decodeBase64(s)
		}
		return s, true
	}
	return "", false
}

// keyList names the keys of a ConfigMap or Secret for messages.
func keyList(o manifest.Object) string {
	var keys []string
	for _, field := range []string{"data", "binaryData", "stringData"} {
		m, _ := o.Content[field].(map[string]any)
		for k := range m {
			keys = append(keys, strconv.Quote(k))
		}
	}
	if len(keys) == 0 {
		return "none"
	}
	sort.Strings(keys)
	return strings.Join(keys, ", ")
}

// endpoint checks that an Endpoint sets exactly one of url and service,
// and that a service is reached on a port its Service has.
func (l *linter) endpoint(k *releaseKinds, o manifest.Object, src objectSource, field string, e extensions.Endpoint) {
	at := func(sub string) string {
		if field == "spec" {
			return "spec." + sub
		}
		return field + "." + sub
	}
	switch {
	case e.URL == "" && e.Service == nil:
		l.add(src.diagnostic(diag.Error, RuleEndpoint, field, lastKey(field), "",
			fmt.Sprintf("%s: %s sets neither url nor service, so KubeSphere has nowhere to send the requests", describe(o), field),
			"set url (http://NAME.NAMESPACE.svc:PORT) or service {name, namespace, port}"))
	case e.URL != "" && e.Service != nil:
		l.add(src.diagnostic(diag.Warning, RuleEndpoint, field, "url", "",
			fmt.Sprintf("%s: %s sets both url and service; KubeSphere uses one of them and ignores the other", describe(o), field),
			"keep exactly one of them"))
	case e.Service != nil:
		l.servicePort(k, o, src, at("service"), e.Service)
	default:
		l.urlPort(k, o, src, at("url"), e.URL)
	}
}

// urlPort checks that a url naming a Service of the chart
// (scheme://NAME.NAMESPACE.svc[.cluster.local][:PORT]/...) goes to a port
// the Service has: the URL's, else 80 for http and 443 for https.
func (l *linter) urlPort(k *releaseKinds, o manifest.Object, src objectSource, field, raw string) {
	u, err := url.Parse(raw)
	if err != nil {
		return
	}
	host := strings.TrimSuffix(u.Hostname(), ".cluster.local")
	name, rest, _ := strings.Cut(host, ".")
	ns, svc, _ := strings.Cut(rest, ".")
	if svc != "svc" {
		return
	}
	service, ok := k.services[ns+"/"+name]
	if !ok {
		return
	}
	var port int64
	switch {
	case u.Port() != "":
		port, _ = strconv.ParseInt(u.Port(), 10, 64)
	case u.Scheme == "http":
		port = 80
	case u.Scheme == "https":
		port = 443
	default:
		return
	}
	ports := servicePorts(service)
	if slices.ContainsFunc(ports, func(p servicePortInfo) bool { return p.port == port }) {
		return
	}
	var list []string
	for _, p := range ports {
		list = append(list, strconv.FormatInt(p.port, 10))
	}
	how := ""
	if u.Port() == "" {
		how = fmt.Sprintf(" (the URL names no port: %s means %d)", u.Scheme, port)
	}
	l.add(src.diagnostic(diag.Error, RuleServicePort, field, lastKey(field), "",
		fmt.Sprintf("%s: %s %s goes to port %d%s of %s, which has ports %s, so every request fails",
			describe(o), field, raw, port, how, l.describeAt(service), strings.Join(list, ", ")),
		fmt.Sprintf("name the Service's port in the URL, e.g. %s://%s:%s%s", u.Scheme, u.Hostname(), firstOr(list, "PORT"), u.EscapedPath())))
}

// firstOr returns the first element of a list, or def when it is empty.
func firstOr(list []string, def string) string {
	if len(list) == 0 {
		return def
	}
	return list[0]
}

// servicePort checks that a service Endpoint reaches its Service of the
// chart on a port the Service has, knowing KubeSphere goes to port 443
// over HTTPS when none is set.
func (l *linter) servicePort(k *releaseKinds, o manifest.Object, src objectSource, field string, ref *extensions.ServiceReference) {
	svc, ok := k.services[ref.Namespace+"/"+ref.Name]
	if !ok {
		return // not the chart's: it may exist elsewhere
	}
	port := int64(extensions.DefaultServicePort)
	if ref.Port != nil {
		port = int64(*ref.Port)
	}
	ports := servicePorts(svc)
	var list []string
	for _, p := range ports {
		list = append(list, strconv.FormatInt(p.port, 10))
	}
	plainURL := fmt.Sprintf("url: http://%s.%s.svc:%s", ref.Name, ref.Namespace, firstOr(list, "PORT"))
	i := slices.IndexFunc(ports, func(p servicePortInfo) bool { return p.port == port })
	if i < 0 {
		if ref.Port == nil {
			l.add(src.diagnostic(diag.Error, RuleServicePort, field+".port", "service", "",
				fmt.Sprintf("%s: %s has no port, so KubeSphere goes to https://%s.%s.svc:443, and %s has no port 443 (ports %s)",
					describe(o), field, ref.Name, ref.Namespace, l.describeAt(svc), strings.Join(list, ", ")),
				fmt.Sprintf("for a plain-HTTP backend use %s instead of service; for HTTPS set %s.port", plainURL, field)))
		} else {
			l.add(src.diagnostic(diag.Error, RuleServicePort, field+".port", "port", "",
				fmt.Sprintf("%s: %s.port %d is not a port of %s (ports %s), so every request fails",
					describe(o), field, port, l.describeAt(svc), strings.Join(list, ", ")),
				"use one of the Service's ports"))
		}
		return
	}
	if p := ports[i]; p.plainHTTP() {
		l.add(src.diagnostic(diag.Warning, RuleServicePort, field+".port", "port", "",
			fmt.Sprintf("%s: %s reaches port %d of %s, which says it speaks plain HTTP (name %q), but KubeSphere talks HTTPS to a service endpoint",
				describe(o), field, port, l.describeAt(svc), p.name),
			fmt.Sprintf("use url: http://%s.%s.svc:%d instead of service", ref.Name, ref.Namespace, port)))
	}
}

// servicePortInfo is a port of a Service.
type servicePortInfo struct {
	port        int64
	name, proto string
}

// plainHTTP reports whether the port says it serves plain HTTP, by its
// name or appProtocol.
func (p servicePortInfo) plainHTTP() bool {
	return p.name == "http" || strings.HasPrefix(p.name, "http-") || p.proto == "http"
}

// servicePorts reads spec.ports of a rendered Service.
func servicePorts(svc manifest.Object) []servicePortInfo {
	spec, _ := svc.Content["spec"].(map[string]any)
	list, _ := spec["ports"].([]any)
	var out []servicePortInfo
	for _, item := range list {
		m, _ := item.(map[string]any)
		n, ok := toInt(m["port"])
		if !ok {
			continue
		}
		name, _ := m["name"].(string)
		proto, _ := m["appProtocol"].(string)
		out = append(out, servicePortInfo{n, name, strings.ToLower(proto)})
	}
	return out
}

// toInt reads a number of a YAML document.
func toInt(v any) (int64, bool) {
	switch n := v.(type) {
	case int:
		return int64(n), true
	case int64:
		return n, true
	case float64:
		return int64(n), n == float64(int64(n))
	case string:
		i, err := strconv.ParseInt(n, 10, 64)
		return i, err == nil
	}
	return 0, false
}

// apiServiceRules checks the APIServices: their endpoints, and no group
// and version served twice.
func (l *linter) apiServiceRules(k *releaseKinds) {
	seen := map[string]kindObject[extensions.APIService]{}
	for _, a := range k.apis {
		l.endpoint(k, a.o, a.src, "spec", a.v.Spec.Endpoint)
		gv := a.v.Spec.Group + "/" + a.v.Spec.Version
		if first, dup := seen[gv]; dup {
			l.add(a.src.diagnostic(diag.Error, RuleAPIServiceConflict, "spec.group", "group", a.v.Spec.Group,
				fmt.Sprintf("%s serves /kapis/%s, as %s does; KubeSphere's admission webhook refuses a second APIService of a group and version, so the install fails",
					a.describe(), gv, l.describeAt(first.o)),
				"serve each group and version from one APIService"))
			continue
		}
		seen[gv] = a
	}
}

// reverseProxyRules checks the ReverseProxies: their upstreams, their
// paths, and no two matching the same requests.
func (l *linter) reverseProxyRules(k *releaseKinds) {
	for i, p := range k.proxies {
		l.endpoint(k, p.o, p.src, "spec.upstream", p.v.Spec.Upstream)
		m := p.v.Spec.Matcher
		if !strings.HasPrefix(m.Path, extensions.ProxyPathPrefix) && p.o.Labels()[extensions.LabelReverseProxyTarget] != "ks-console" {
			l.add(p.src.diagnostic(diag.Warning, RuleReverseProxyPath, "spec.matcher.path", "path", m.Path,
				fmt.Sprintf("%s matches path %q, outside %s: ks-apiserver hands only paths under %s to ReverseProxies, so no request reaches it",
					p.describe(), m.Path, extensions.ProxyPathPrefix, extensions.ProxyPathPrefix),
				fmt.Sprintf("match a path under %s/, e.g. %s/%s/*", extensions.ProxyPathPrefix, extensions.ProxyPathPrefix, l.ext.Name)))
		}
		for _, q := range k.proxies[:i] {
			if matchersOverlap(m, q.v.Spec.Matcher) {
				l.add(p.src.diagnostic(diag.Error, RuleReverseProxyConflict, "spec.matcher", "path", m.Path,
					fmt.Sprintf("%s matches %s %s, which overlaps %s %s of %s; KubeSphere's admission webhook refuses it, so the install fails",
						p.describe(), m.Method, m.Path, q.v.Spec.Matcher.Method, q.v.Spec.Matcher.Path, l.describeAt(q.o)),
					"give the proxies disjoint paths, or merge them into one"))
				break
			}
		}
	}
}

// matchersOverlap reports whether two matchers select a request in common
// as the admission webhook judges it: the same method or either "*", and
// the same path or one under the other's "*" prefix.
func matchersOverlap(a, b extensions.Matcher) bool {
	if a.Method != b.Method && a.Method != extensions.MethodAny && b.Method != extensions.MethodAny {
		return false
	}
	under := func(p string, w extensions.Matcher) bool {
		prefix, ok := strings.CutSuffix(w.Path, "*")
		return ok && strings.HasPrefix(p, prefix)
	}
	return a.Path == b.Path || under(a.Path, b) || under(b.Path, a)
}

// entryRules checks the ExtensionEntries: every entry has a string name,
// and names and links are unique within the package.
func (l *linter) entryRules(k *releaseKinds, ks ksRange) {
	names := map[string]kindObject[extensions.ExtensionEntry]{}
	links := map[string]kindObject[extensions.ExtensionEntry]{}
	for _, e := range k.entries {
		spec, _ := e.o.Content["spec"].(map[string]any)
		list, _ := spec["entries"].([]any)
		// How often each name and link appears in this object, in all
		// and so far, to place a repeat on its own line.
		total, seen := map[string]int{}, map[string]int{}
		for _, item := range list {
			entry, _ := item.(map[string]any)
			for _, key := range []string{"name", "link"} {
				if v, ok := entry[key].(string); ok && v != "" {
					total[key+"="+v]++
				}
			}
		}
		for i, item := range list {
			field := fmt.Sprintf("spec.entries[%d]", i)
			entry, ok := item.(map[string]any)
			name, isString := entry["name"].(string)
			if !ok || !isString || name == "" {
				what := "has no name"
				if !ok {
					what = "is not a mapping"
				} else if entry["name"] != nil && !isString {
					what = "has a name that is not a string"
				}
				l.add(e.src.diagnostic(diag.Error, RuleExtensionEntryNames, field+".name", "entries", "",
					fmt.Sprintf("%s: entry %d %s; KubeSphere's admission webhook refuses the object, so the install fails", e.describe(), i, what),
					`give every entry a unique string name, e.g. name: "my-menu"`))
				continue
			}
			seen["name="+name]++
			if first, dup := names[name]; dup {
				l.add(e.src.diagnosticNth(diag.Error, RuleExtensionEntryNames, field+".name", "name", name, seen["name="+name], total["name="+name],
					fmt.Sprintf("%s: entry name %q is also an entry of %s; KubeSphere's admission webhook refuses duplicate entry names, so the install fails",
						e.describe(), name, l.describeAt(first.o)),
					"give every entry its own name"))
			} else {
				names[name] = e
			}
			if link, _ := entry["link"].(string); link != "" {
				seen["link="+link]++
				if first, dup := links[link]; dup {
					l.add(e.src.diagnosticNth(diag.Error, RuleExtensionEntryNames, field+".link", "link", link, seen["link="+link], total["link="+link],
						fmt.Sprintf("%s: entry %q links to %s, as an entry of %s does; KubeSphere's admission webhook refuses duplicate links, so the install fails",
							e.describe(), name, link, l.describeAt(first.o)),
						"give every entry its own link"))
				} else {
					links[link] = e
				}
			}
			if key, _ := entry["authKey"].(string); key != "" {
				k.authKeys = append(k.authKeys, authKeyUse{e.o, e.src, field + ".authKey", fmt.Sprintf("entry %q", name), key})
			}
			if parent, _ := entry["parent"].(string); parent != "" {
				l.menuParent(e.o, e.src, field+".parent", fmt.Sprintf("entry %q", name), parent, ks)
			}
		}
	}
}
