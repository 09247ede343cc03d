package lint

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/ksbuilder/ksbuilder/pkg/diag"
	"github.com/ksbuilder/ksbuilder/pkg/kubesphere/iam"
	"github.com/ksbuilder/ksbuilder/pkg/manifest"
	"github.com/ksbuilder/ksbuilder/pkg/suggest"
)

// authKeyUse is a menu's authKey, where it is written.
type authKeyUse struct {
	o     manifest.Object
	src   objectSource
	field string
	what  string
	key   string
}

// roleTemplateRules checks the RoleTemplates: a known scope, annotations
// that parse, dependencies on templates of the package, and menus whose
// authKey names a rule key of the package's templates.
func (l *linter) roleTemplateRules(k *releaseKinds) {
	names := make([]string, 0, len(k.templates))
	for _, t := range k.templates {
		names = append(names, t.o.Name)
	}
	ruleKeys := map[string]bool{}
	for _, t := range k.templates {
		l.roleTemplateScope(t)
		ann := t.o.Annotations()
		if raw, ok := ann[iam.AnnotationRoleTemplateRules]; ok {
			var rules map[string]any
			if err := json.Unmarshal([]byte(raw), &rules); err != nil || rules == nil {
				l.annotationError(t, iam.AnnotationRoleTemplateRules, `a JSON object of rule keys to levels, e.g. '{"credentials": "view"}'`, err)
			}
			for key := range rules {
				ruleKeys[key] = true
			}
		}
		raw, ok := ann[iam.AnnotationDependencies]
		if !ok {
			continue
		}
		var deps []string
		if err := json.Unmarshal([]byte(raw), &deps); err != nil {
			l.annotationError(t, iam.AnnotationDependencies, `a JSON list of RoleTemplate names, e.g. '["demo-view"]'`, err)
			continue
		}
		for _, dep := range deps {
			if slices.Contains(names, dep) {
				continue
			}
			field := "metadata.annotations." + iam.AnnotationDependencies
			if s := suggest.Closest(dep, names, 2); s != "" {
				l.add(t.src.diagnostic(diag.Warning, RuleRoleTemplateDependencies, field, iam.AnnotationDependencies, "",
					fmt.Sprintf("%s depends on RoleTemplate %q, which the package does not create", t.describe(), dep),
					fmt.Sprintf("did you mean %q?", s)))
				continue
			}
			l.add(t.src.diagnostic(diag.Info, RuleRoleTemplateDependencies, field, iam.AnnotationDependencies, "",
				fmt.Sprintf("%s depends on RoleTemplate %q, which the package does not create; fine if it is one of KubeSphere's own", t.describe(), dep),
				"check the name against kubectl get roletemplates on a KubeSphere cluster"))
		}
	}
	if len(ruleKeys) == 0 {
		// Menus may use KubeSphere's own rule keys; only a package that
		// declares keys of its own shows which it meant.
		return
	}
	keys := make([]string, 0, len(ruleKeys))
	for key := range ruleKeys {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	for _, use := range k.authKeys {
		if ruleKeys[use.key] {
			continue
		}
		if s := suggest.Closest(use.key, keys, 2); s != "" {
			l.add(use.src.diagnostic(diag.Warning, RuleMenuAuthKey, use.field, "authKey", use.key,
				fmt.Sprintf("%s: %s has authKey %q, which no role-template-rules annotation of the package declares, so the menu is shown by rules it does not have", describe(use.o), use.what, use.key),
				fmt.Sprintf("did you mean %q?", s)))
			continue
		}
		l.add(use.src.diagnostic(diag.Info, RuleMenuAuthKey, use.field, "authKey", use.key,
			fmt.Sprintf("%s: %s has authKey %q, which no role-template-rules annotation of the package declares (%s); fine if it is one of KubeSphere's own",
				describe(use.o), use.what, use.key, strings.Join(keys, ", ")),
			"use a rule key of the package's RoleTemplates"))
	}
}

// roleTemplateScope checks the scope label of a RoleTemplate.
func (l *linter) roleTemplateScope(t kindObject[iam.RoleTemplate]) {
	field := "metadata.labels." + iam.LabelScope
	scope, ok := t.o.Labels()[iam.LabelScope]
	switch {
	case !ok:
		l.add(t.src.diagnostic(diag.Warning, RuleRoleTemplateScope, field, "metadata", "",
			fmt.Sprintf("%s has no %s label, so the console offers it in no role", t.describe(), iam.LabelScope),
			fmt.Sprintf("label it %s: one of %s", iam.LabelScope, strings.Join(iam.Scopes, ", "))))
	case !slices.Contains(iam.Scopes, scope):
		hint := "use one of " + strings.Join(iam.Scopes, ", ")
		if s := suggest.Closest(scope, iam.Scopes, 2); s != "" {
			hint = fmt.Sprintf("did you mean %q? The scopes are %s", s, strings.Join(iam.Scopes, ", "))
		}
		l.add(t.src.diagnostic(diag.Warning, RuleRoleTemplateScope, field, iam.LabelScope, scope,
			fmt.Sprintf("%s: scope %q is not one KubeSphere knows, so the console offers the template in no role", t.describe(), scope),
			hint))
	}
}

// annotationError reports an annotation of a RoleTemplate that does not
// parse.
func (l *linter) annotationError(t kindObject[iam.RoleTemplate], key, want string, err error) {
	why := "is null"
	if err != nil {
		why = "does not parse: " + err.Error()
	}
	l.add(t.src.diagnostic(diag.Warning, RuleRoleTemplateAnnotations, "metadata.annotations."+key, key, "",
		fmt.Sprintf("%s: annotation %s %s; KubeSphere cannot read it, so the template's rules or dependencies are lost", t.describe(), key, why),
		"write "+want))
}
