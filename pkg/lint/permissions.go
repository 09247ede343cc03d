package lint

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/ksbuilder/ksbuilder/pkg/diag"
	"github.com/ksbuilder/ksbuilder/pkg/extension"
	"github.com/ksbuilder/ksbuilder/pkg/manifest"
)

// dotlessGroups are the API groups whose names have no dot.
var dotlessGroups = []string{"apps", "batch", "policy", "autoscaling", "extensions"}

// sensitiveResources are the resources the KubeSphere guide asks a reason
// for, by API group.
var sensitiveResources = []manifest.Resource{
	{Group: "", Resource: "secrets"},
	{Group: "rbac.authorization.k8s.io", Resource: "rolebindings"},
	{Group: "rbac.authorization.k8s.io", Resource: "clusterrolebindings"},
	{Group: "admissionregistration.k8s.io", Resource: "mutatingwebhookconfigurations"},
	{Group: "admissionregistration.k8s.io", Resource: "validatingwebhookconfigurations"},
}

// sensitiveVerbs let the holder grant or assume more than it has.
var sensitiveVerbs = []string{"escalate", "bind", "impersonate"}

// installVerbs are what Helm needs on every object it installs (it looks an
// object up before creating it); upgradeVerbs what upgrades and uninstalls
// need on the objects of templates/ (Helm never touches crds/ again).
var (
	installVerbs = []string{"get", "create"}
	upgradeVerbs = []string{"patch", "delete"}
)

// permissionRules checks permissions.yaml: its rules on their own, and,
// when every release rendered, against the objects the chart creates.
func (l *linter) permissionRules() {
	perms := &extension.Permissions{}
	// With a syntax error KubeSphere ignores the documents from there
	// on; the rules checked against the chart wait until it is fixed.
	broken := false
	if data, ok := l.src.Read(extension.PermissionsFile); ok {
		var diags diag.List
		perms, diags = extension.ParsePermissions(data) // its diagnostics came with packager.Validate
		broken = hasError(diags, extension.CodeYAMLSyntax)
	}
	complete := l.rendered() && !broken
	var objs []resolvedObject
	if complete {
		objs = l.resolveObjects()
	}
	rendered := map[string]bool{}
	renderedGroups := map[string]bool{}
	for _, o := range objs {
		rendered[o.res.Group+"/"+o.res.Resource] = true
		renderedGroups[o.res.Group] = true
	}
	for _, doc := range perms.Documents {
		if doc.Kind != "ClusterRole" && doc.Kind != "Role" {
			continue
		}
		for i, rule := range doc.Rules {
			f := fmt.Sprintf("rules[%d]", i)
			l.apiGroups(&doc, f, rule)
			groups := rule.APIGroups
			if doc.Kind == "Role" {
				// The default Role already grants everything in these.
				groups = slices.DeleteFunc(slices.Clone(groups), func(g string) bool { return slices.Contains(extension.DefaultRoleAPIGroups, g) })
				if len(groups) == 0 {
					continue
				}
			}
			l.wildcards(&doc, f, rule)
			l.sensitive(&doc, f, rule, groups)
			if complete {
				l.unneededDelete(&doc, f, rule, groups, rendered, renderedGroups)
			}
		}
	}
	if complete {
		l.coverage(perms, objs)
	}
}

// permissionDiagnostic builds a finding at a field of a permissions.yaml
// document.
func permissionDiagnostic(doc *extension.PermissionDocument, sev diag.Severity, rule, field, hint, format string, args ...any) diag.Diagnostic {
	line, col := doc.Position(field)
	return diag.Diagnostic{Severity: sev, Code: rule, File: extension.PermissionsFile, Line: line, Column: col,
		Field: fmt.Sprintf("%s[%d].%s", doc.Kind, doc.Index, field), Message: fmt.Sprintf(format, args...), Hint: hint}
}

// isAPIGroup reports whether a name can be an API group: apart from the
// core group and a few built-in ones, group names contain a dot.
func isAPIGroup(g string) bool {
	return g == "" || g == "*" || strings.Contains(g, ".") || slices.Contains(dotlessGroups, g)
}

// apiGroups flags apiGroups entries that cannot be API groups.
func (l *linter) apiGroups(doc *extension.PermissionDocument, f string, rule extension.PolicyRule) {
	for j, g := range rule.APIGroups {
		if isAPIGroup(g) {
			continue
		}
		hint := `API groups are "" (core) or names such as apps or rbac.authorization.k8s.io`
		if r, ok := manifest.LookupResource(g); ok {
			hint = fmt.Sprintf("%q is a resource of %s: list it under resources", g, groupName(r.Group))
		}
		l.add(permissionDiagnostic(doc, diag.Warning, RulePermissionsAPIGroup, fmt.Sprintf("%s.apiGroups[%d]", f, j), hint,
			"%q is not an API group, so the rule grants nothing for it", g))
	}
}

func groupName(g string) string {
	if g == "" {
		return `the core group ""`
	}
	return g
}

// wildcards flags '*' in a rule's verbs, resources and apiGroups, once per
// rule, at the first of those fields that has it.
func (l *linter) wildcards(doc *extension.PermissionDocument, f string, rule extension.PolicyRule) {
	var parts []string
	field := ""
	for _, w := range []struct {
		name string
		list []string
		what string
	}{
		{"apiGroups", rule.APIGroups, "every API group"},
		{"resources", rule.Resources, "every resource of its groups, including ones added later"},
		{"verbs", rule.Verbs, "every verb, including escalate, bind and impersonate where they apply"},
	} {
		if slices.Contains(w.list, "*") {
			parts = append(parts, w.what)
			if field == "" {
				field = f + "." + w.name
			}
		}
	}
	if len(parts) == 0 {
		return
	}
	l.add(permissionDiagnostic(doc, diag.Warning, RulePermissionsWildcard, field,
		"list what the chart needs; where the objects have fixed names, narrow the rule with resourceNames",
		`"*" grants %s`, strings.Join(parts, "; ")))
}

// sensitive flags secrets, role bindings and webhook configurations named
// in the rule, and the verbs that escalate privileges.
func (l *linter) sensitive(doc *extension.PermissionDocument, f string, rule extension.PolicyRule, groups []string) {
	var found []string
	for _, s := range sensitiveResources {
		if slices.Contains(rule.Resources, s.Resource) && (slices.Contains(groups, s.Group) || slices.Contains(groups, "*")) {
			found = append(found, s.Resource)
		}
	}
	field := f + ".resources"
	for _, v := range sensitiveVerbs {
		if slices.Contains(rule.Verbs, v) {
			found = append(found, "the "+v+" verb")
			field = f + ".verbs"
		}
	}
	if len(found) == 0 {
		return
	}
	l.add(permissionDiagnostic(doc, diag.Warning, RulePermissionsSensitive, field,
		"keep it only if the chart needs it, narrowed with resourceNames where possible, and give the reason when submitting",
		"grants %s, which the KubeSphere guide asks a clear reason for", strings.Join(found, ", ")))
}

// unneededDelete flags delete granted on resources the chart does not
// create: Helm deletes only the objects of its own release.
func (l *linter) unneededDelete(doc *extension.PermissionDocument, f string, rule extension.PolicyRule, groups []string, rendered, renderedGroups map[string]bool) {
	if !slices.Contains(rule.Verbs, "delete") && !slices.Contains(rule.Verbs, "deletecollection") && !slices.Contains(rule.Verbs, "*") {
		return
	}
	var unneeded []string
	for _, g := range groups {
		if !isAPIGroup(g) {
			continue // reported by permissions-api-group
		}
		for _, r := range rule.Resources {
			switch {
			case strings.Contains(r, "/"):
				continue // subresources are not deleted
			case r == "*" && g == "*":
				continue // reported as a wildcard
			case r == "*":
				if !renderedGroups[g] {
					unneeded = append(unneeded, "every resource of "+groupName(g))
				}
			case g == "*":
				if !renderedAnyGroup(rendered, r) {
					unneeded = append(unneeded, r)
				}
			case !rendered[g+"/"+r]:
				unneeded = append(unneeded, qualified(g, r))
			}
		}
	}
	if len(unneeded) == 0 {
		return
	}
	l.add(permissionDiagnostic(doc, diag.Warning, RulePermissionsDelete, f+".verbs",
		"drop delete, deletecollection and '*' from this rule, or move these resources to a read-only rule",
		"grants delete on %s, which the chart does not create; Helm deletes only the objects of its own release", strings.Join(unneeded, ", ")))
}

func renderedAnyGroup(rendered map[string]bool, resource string) bool {
	for k := range rendered {
		if strings.HasSuffix(k, "/"+resource) {
			return true
		}
	}
	return false
}

// qualified writes a resource kubectl-style: "secrets", "clusterroles.rbac.authorization.k8s.io".
func qualified(group, resource string) string {
	if group == "" {
		return resource
	}
	return resource + "." + group
}

// resolvedObject is an installed object with its RBAC resource.
type resolvedObject struct {
	obj manifest.Object
	res manifest.Resource
	// guessed is set when the kind is neither well known nor defined by a
	// CRD of the chart, so the resource name and scope are guesses.
	guessed bool
	// crd is set for objects of crds/, which Helm creates once.
	crd       bool
	namespace string
}

// resolveObjects lists the objects every release installs, with their
// resources; CRDs of the chart teach the kinds they define.
func (l *linter) resolveObjects() []resolvedObject {
	defined := map[string]manifest.Resource{}
	for _, r := range l.releases {
		for _, o := range r.installed() {
			if kind, res, ok := manifest.CRDResource(o); ok {
				defined[res.Group+"/"+kind] = res
			}
		}
	}
	var out []resolvedObject
	for _, r := range l.releases {
		crds := len(r.crds)
		for i, o := range r.installed() {
			ro := resolvedObject{obj: o, crd: i < crds, namespace: o.Namespace}
			if ro.namespace == "" {
				ro.namespace = r.namespace
			}
			group := o.Group()
			if res, ok := manifest.LookupKind(group, o.Kind); ok {
				ro.res = res
			} else if res, ok := defined[group+"/"+o.Kind]; ok {
				ro.res = res
			} else if o.Kind != "" {
				ro.res = manifest.Resource{Group: group, Resource: manifest.GuessResource(group, o.Kind), Namespaced: true}
				ro.guessed = true
			} else {
				continue
			}
			if !ro.res.Namespaced {
				ro.namespace = ""
			}
			out = append(out, ro)
		}
	}
	return out
}

// allows reports whether one of the rules allows a verb on an object.
// Rules limited by resourceNames never allow create, as Kubernetes checks
// create before the object has a name.
func allows(rules []extension.PolicyRule, group, resource, verb, name string) bool {
	for _, r := range rules {
		if !slices.Contains(r.APIGroups, group) && !slices.Contains(r.APIGroups, "*") {
			continue
		}
		if !slices.Contains(r.Resources, resource) && !slices.Contains(r.Resources, "*") {
			continue
		}
		if !slices.Contains(r.Verbs, verb) && !slices.Contains(r.Verbs, "*") {
			continue
		}
		if len(r.ResourceNames) > 0 && (verb == "create" || !slices.Contains(r.ResourceNames, name)) {
			continue
		}
		return true
	}
	return false
}

// coverageGap collects the objects of one resource and scope whose verbs
// the rules do not allow.
type coverageGap struct {
	res       manifest.Resource
	namespace string // "" for cluster-scoped objects
	inTarget  bool
	guessed   bool
	install   []string // missing install verbs
	upgrade   []string // missing upgrade verbs
	objects   []resolvedObject
}

// coverage checks that the executor's permissions let Helm install,
// upgrade and uninstall every object: cluster-scoped objects and objects in
// other namespaces need ClusterRole rules; objects in the extension's
// namespace may also use the Role rules and the default Role.
func (l *linter) coverage(perms *extension.Permissions, objs []resolvedObject) {
	target := l.ext.TargetNamespace()
	cluster := perms.ClusterRules()
	local := append(slices.Clone(cluster), perms.NamespaceRules()...)
	local = append(local, extension.PolicyRule{Verbs: []string{"*"}, APIGroups: extension.DefaultRoleAPIGroups, Resources: []string{"*"}})
	gaps := map[string]*coverageGap{}
	var order []string
	for _, o := range objs {
		rules := cluster
		inTarget := o.res.Namespaced && o.namespace == target
		if inTarget {
			rules = local
		}
		name := o.obj.Name
		var install, upgrade []string
		for _, v := range installVerbs {
			if !allows(rules, o.res.Group, o.res.Resource, v, name) {
				install = append(install, v)
			}
		}
		if !o.crd {
			for _, v := range upgradeVerbs {
				if !allows(rules, o.res.Group, o.res.Resource, v, name) {
					upgrade = append(upgrade, v)
				}
			}
		}
		if len(install)+len(upgrade) == 0 {
			continue
		}
		key := o.res.Group + "/" + o.res.Resource + "/" + o.namespace
		g, ok := gaps[key]
		if !ok {
			g = &coverageGap{res: o.res, namespace: o.namespace, inTarget: inTarget, guessed: o.guessed}
			gaps[key] = g
			order = append(order, key)
		}
		g.install = union(g.install, install)
		g.upgrade = union(g.upgrade, upgrade)
		g.objects = append(g.objects, o)
	}
	sort.Strings(order)
	for _, key := range order {
		l.coverageFinding(perms, gaps[key])
	}
}

func (l *linter) coverageFinding(perms *extension.Permissions, g *coverageGap) {
	first := g.objects[0]
	what := fmt.Sprintf("%s (%s)", describe(first.obj), displayLocation(l.loc.Locate(first.obj.File)))
	if n := len(g.objects) - 1; n > 0 {
		what += fmt.Sprintf(" and %d more", n)
	}
	var where, by string
	switch {
	case g.namespace == "":
		where, by = "", "no ClusterRole rule"
	case g.inTarget:
		where, by = " in the extension's namespace", "no Role or ClusterRole rule, nor KubeSphere's default Role,"
	default:
		where, by = fmt.Sprintf(" in namespace %q, outside the extension's namespace,", g.namespace), "no ClusterRole rule"
	}
	sev, verbs, consequence := diag.Error, g.install, "the install fails"
	if len(g.install) == 0 {
		sev, verbs = diag.Warning, g.upgrade
		switch {
		case len(verbs) == 2:
			consequence = "upgrades that change them and uninstalls fail"
		case verbs[0] == "patch":
			consequence = "upgrades that change them fail"
		default:
			consequence = "uninstalls fail"
		}
	}
	msg := fmt.Sprintf("the chart creates %s%s but %s allows %s on %s, so %s",
		what, where, by, strings.Join(verbs, ", "), qualified(g.res.Group, g.res.Resource), consequence)
	if g.guessed {
		sev = diag.Warning
		msg += fmt.Sprintf(" (%s is not a kind ksbuilder knows: the resource name is a guess)", first.obj.Kind)
	}
	kind := "ClusterRole"
	if g.inTarget {
		kind = "Role"
	}
	line, col := 0, 0
	for _, d := range perms.Documents {
		if d.Kind == kind {
			line, col = d.Line, d.Column
			break
		}
	}
	hint := fmt.Sprintf(`add to a %s document: {apiGroups: [%q], resources: [%q], verbs: [get, list, watch, create, update, patch, delete]}`,
		kind, g.res.Group, g.res.Resource)
	l.add(diag.Diagnostic{Severity: sev, Code: RulePermissionsMissing, File: extension.PermissionsFile, Line: line, Column: col,
		Message: msg, Hint: hint})
}

func union(a, b []string) []string {
	for _, x := range b {
		if !slices.Contains(a, x) {
			a = append(a, x)
		}
	}
	return a
}

// displayLocation renders a location for a message.
func displayLocation(loc manifest.Location) string {
	if loc.Inner != "" {
		return loc.File + ": " + loc.Inner
	}
	return loc.File
}
