package extension

import (
	"bytes"
	"fmt"
	"reflect"

	"gopkg.in/yaml.v3"

	"github.com/ksbuilder/ksbuilder/pkg/diag"
)

// Diagnostic codes of permissions.yaml parsing.
const (
	CodePermissionsKind = "permissions-kind"
	CodePermissionsRule = "permissions-rule"
)

// Permissions is permissions.yaml: the RBAC rules KubeSphere grants to the
// helm executor that installs the extension. Rules of ClusterRole documents
// go into a ClusterRole, rules of Role documents into a Role in the target
// namespace.
type Permissions struct {
	Documents []PermissionDocument
}

// PermissionDocument is one YAML document of permissions.yaml.
type PermissionDocument struct {
	APIVersion string       `yaml:"apiVersion"`
	Kind       string       `yaml:"kind"`
	Metadata   any          `yaml:"metadata"`
	Rules      []PolicyRule `yaml:"rules"`

	// Index is the 0-based position of the document in the file.
	Index int `yaml:"-"`
	// Line and Column locate the document.
	Line, Column int `yaml:"-"`

	positions map[string]*yaml.Node
}

// PolicyRule is an RBAC rule with Kubernetes' field names.
type PolicyRule struct {
	Verbs           []string `yaml:"verbs"`
	APIGroups       []string `yaml:"apiGroups"`
	Resources       []string `yaml:"resources"`
	ResourceNames   []string `yaml:"resourceNames"`
	NonResourceURLs []string `yaml:"nonResourceURLs"`
}

// Position returns the line and column of a field path inside the document,
// such as "rules[1].verbs[0]".
func (d *PermissionDocument) Position(path string) (int, int) {
	return lookupPosition(d.positions, path)
}

// ClusterRules returns the rules of every ClusterRole document.
func (p *Permissions) ClusterRules() []PolicyRule { return p.rules("ClusterRole") }

// NamespaceRules returns the rules of every Role document.
func (p *Permissions) NamespaceRules() []PolicyRule { return p.rules("Role") }

func (p *Permissions) rules(kind string) []PolicyRule {
	var out []PolicyRule
	for _, d := range p.Documents {
		if d.Kind == kind {
			out = append(out, d.Rules...)
		}
	}
	return out
}

// ParsePermissions decodes permissions.yaml. A syntax error is an error:
// KubeSphere stops reading the file silently at the first bad document, so
// later rules would be lost. Every document must be a ClusterRole or Role
// with at least one rule, and every rule needs verbs and either resources
// (with apiGroups) or nonResourceURLs.
func ParsePermissions(data []byte) (*Permissions, diag.List) {
	p := &Permissions{}
	docs, syntaxErr := parseDocuments(PermissionsFile, bytes.TrimPrefix(data, utf8BOM))
	var diags diag.List
	if syntaxErr != nil {
		syntaxErr.Hint = "KubeSphere ignores everything from the first invalid document on"
		diags.Add(*syntaxErr)
	}
	for i, doc := range docs {
		root := content(doc)
		if isNull(root) {
			continue
		}
		d := newDecoder(PermissionsFile)
		pd := PermissionDocument{Index: i, Line: root.Line, Column: root.Column, positions: d.positions}
		d.positions[""] = root
		d.decode(root, reflect.ValueOf(&pd).Elem(), "")
		diags = append(diags, d.diags...)
		diags = append(diags, pd.check()...)
		p.Documents = append(p.Documents, pd)
	}
	diags.Sort()
	return p, diags
}

func (d *PermissionDocument) check() diag.List {
	var out diag.List
	add := func(field, hint, format string, args ...any) {
		line, col := d.Position(field)
		out.Add(diag.Diagnostic{Severity: diag.Error, Code: CodePermissionsRule, File: PermissionsFile,
			Line: line, Column: col, Field: field, Message: fmt.Sprintf(format, args...), Hint: hint})
	}
	switch d.Kind {
	case "ClusterRole", "Role":
	case "":
		line, col := d.Position("kind")
		out.Add(diag.Diagnostic{Severity: diag.Error, Code: CodePermissionsKind, File: PermissionsFile,
			Line: line, Column: col, Field: "kind", Message: fmt.Sprintf("document %d has no kind", d.Index+1),
			Hint: "set kind: ClusterRole or kind: Role"})
		return out
	default:
		line, col := d.Position("kind")
		out.Add(diag.Diagnostic{Severity: diag.Error, Code: CodePermissionsKind, File: PermissionsFile,
			Line: line, Column: col, Field: "kind",
			Message: fmt.Sprintf("%q is not supported; KubeSphere only reads ClusterRole and Role documents", d.Kind),
			Hint:    "use kind: ClusterRole or kind: Role"})
		return out
	}
	if len(d.Rules) == 0 {
		add("rules", "list the permissions the installer needs", "a %s without rules grants nothing", d.Kind)
	}
	for i, r := range d.Rules {
		f := fmt.Sprintf("rules[%d]", i)
		if len(r.Verbs) == 0 {
			add(f+".verbs", "e.g. verbs: [get, list, watch]", "a rule needs at least one verb")
		}
		switch {
		case len(r.NonResourceURLs) > 0 && d.Kind == "Role":
			add(f+".nonResourceURLs", "move the rule to a ClusterRole document", "nonResourceURLs are only valid in a ClusterRole")
		case len(r.NonResourceURLs) > 0:
		case len(r.Resources) == 0:
			add(f+".resources", "e.g. resources: [configmaps]", "a rule needs resources (or nonResourceURLs)")
		case len(r.APIGroups) == 0:
			add(f+".apiGroups", `use "" for the core group, e.g. apiGroups: [""]`, "a rule with resources needs apiGroups")
		}
	}
	return out
}

// DefaultRoleAPIGroups are the API groups on which KubeSphere's helm
// executor Role always allows every verb on every resource in the
// extension's namespace, whatever permissions.yaml says.
var DefaultRoleAPIGroups = []string{"", "apps", "batch", "policy", "networking.k8s.io", "autoscaling", "metrics.k8s.io"}
