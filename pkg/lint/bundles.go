package lint

import (
	"encoding/base64"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/Masterminds/semver/v3"

	"github.com/ksbuilder/ksbuilder/pkg/diag"
	"github.com/ksbuilder/ksbuilder/pkg/kubesphere/extensions"
	"github.com/ksbuilder/ksbuilder/pkg/manifest"
)

// ksRange is the KubeSphere versions extension.yaml's ksVersion allows.
type ksRange struct {
	constraint string
	// c is nil when ksVersion is unset (every version) or invalid (no
	// version: constraint-format reports it, and the version rules wait).
	c       *semver.Constraints
	invalid bool
}

// ksVersions reads ksVersion.
func (l *linter) ksVersions() ksRange {
	s := strings.TrimSpace(l.ext.KSVersion)
	if s == "" {
		return ksRange{}
	}
	c, err := semver.NewConstraint(s)
	if err != nil {
		return ksRange{constraint: s, invalid: true}
	}
	return ksRange{constraint: s, c: c}
}

// allowsFrom returns the first KubeSphere 4.x version from 4.minor on (or
// a later major version) that the range allows, as "4.2", or "" for none.
// It tries the first and a late patch of each minor version.
func (k ksRange) allowsFrom(minor int) string {
	if k.invalid {
		return ""
	}
	if k.c == nil {
		return fmt.Sprintf("4.%d", minor)
	}
	for m := minor; m <= maxMinor; m++ {
		for _, v := range []string{fmt.Sprintf("4.%d.0", m), fmt.Sprintf("4.%d.99", m)} {
			if k.c.Check(semver.MustParse(v)) {
				return fmt.Sprintf("4.%d", m)
			}
		}
	}
	for major := 5; major <= 9; major++ {
		for _, v := range []string{fmt.Sprintf("%d.0.0", major), fmt.Sprintf("%d.99.0", major)} {
			if k.c.Check(semver.MustParse(v)) {
				return fmt.Sprintf("%d.0", major)
			}
		}
	}
	return ""
}

// allows says which ksVersion allows a version, for messages.
func (k ksRange) allows(version string) string {
	if k.c == nil {
		return "no ksVersion limits the KubeSphere version, so " + version + " is allowed"
	}
	return fmt.Sprintf("ksVersion %q allows %s", k.constraint, version)
}

// removedParents are the menu parents KubeSphere 4.2 no longer shows.
var removedParents = []string{"topbar", "project"}

// menuParent flags a menu parent KubeSphere 4.2 no longer shows when
// ksVersion allows 4.2.
func (l *linter) menuParent(o manifest.Object, src objectSource, field, what, parent string, ks ksRange) {
	v := ks.allowsFrom(2)
	if v == "" || !slices.Contains(removedParents, parent) {
		return
	}
	l.add(src.diagnostic(diag.Warning, RuleMenuParent, field, "parent", parent,
		fmt.Sprintf("%s: %s has parent %q, %s", describe(o), what, parent, parentGone(ks, v)), parentHint))
}

// parentGone says why a menu parent is a problem.
func parentGone(ks ksRange, v string) string {
	return fmt.Sprintf("which KubeSphere 4.2 no longer shows, and %s: the menu is missing there", ks.allows(v))
}

// parentHint is how to keep a menu KubeSphere 4.2 would hide.
const parentHint = `move it under another parent (global, toolbox, cluster, workspace, platformSettings), or bound ksVersion below 4.2 ("<4.2.0-0")`

// bundleText returns the JavaScript a JSBundle serves when the chart holds
// it (spec.raw, or a key of a ConfigMap or Secret of the chart), with the
// object it is written in.
func (l *linter) bundleText(k *releaseKinds, b kindObject[extensions.JSBundle]) (string, bundleHolder, bool) {
	if len(b.v.Spec.Raw) > 0 {
		return string(b.v.Spec.Raw), bundleHolder{b.o, b.src}, true
	}
	from := b.v.Spec.RawFrom
	if from == nil {
		return "", bundleHolder{}, false
	}
	var (
		o  manifest.Object
		ok bool
		id string
	)
	switch {
	case from.ConfigMapKeyRef != nil:
		o, ok = k.configMaps[from.ConfigMapKeyRef.Namespace+"/"+from.ConfigMapKeyRef.Name]
		id = from.ConfigMapKeyRef.Key
	case from.SecretKeyRef != nil:
		o, ok = k.secrets[from.SecretKeyRef.Namespace+"/"+from.SecretKeyRef.Name]
		id = from.SecretKeyRef.Key
	}
	if !ok {
		return "", bundleHolder{}, false
	}
	text, ok := objectKey(o, id)
	return text, bundleHolder{o, k.source(l, o)}, ok
}

// bundleHolder is the object a bundle's text is written in.
type bundleHolder struct {
	o   manifest.Object
	src objectSource
}

// Patterns read in a bundle's JavaScript, minified or not.
var (
	bundleParentRe  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\bparent\s*:\s*["'](topbar|project)["']`) })
	bundleAuthKeyRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\bauthKey\s*:\s*["']([^"'\n]+)["']`) })
	registerCallRe  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\bregisterExtension\s*\(`) })
	defaultExportRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\(\s*["']default["']\s*,|\bexport\s+default\b`) })
)

// bundleVersionRules reads a bundle's JavaScript: its menus' parents
// against 4.2, and how it registers against 4.1. The authKeys of its menus
// are collected for menu-authkey.
func (l *linter) bundleVersionRules(k *releaseKinds, h bundleHolder, text string, ks ksRange) {
	if v := ks.allowsFrom(2); v != "" {
		for _, m := range bundleParentRe().FindAllStringSubmatch(text, -1) {
			l.add(h.src.diagnosticAt(diag.Warning, RuleMenuParent, regexp.MustCompile(regexp.QuoteMeta(m[0])),
				fmt.Sprintf("%s: a menu of the bundle has parent %q, %s", describe(h.o), m[1], parentGone(ks, v)), parentHint))
		}
	}
	for _, m := range bundleAuthKeyRe().FindAllStringSubmatch(text, -1) {
		k.authKeys = append(k.authKeys, authKeyUse{h.o, h.src, "", "a menu of the bundle", m[1]})
	}
	v := ks.allowsFrom(1)
	if v == "" || !registerCallRe().MatchString(text) || defaultExportRe().MatchString(text) {
		return
	}
	l.add(h.src.diagnosticAt(diag.Warning, RuleBundleExport, registerCallRe(),
		fmt.Sprintf("%s: the bundle calls globals.context.registerExtension, the KubeSphere 4.0 way; from 4.1 on the console reads the module's default export, and %s: the UI does not show there",
			describe(h.o), ks.allows(v)),
		`export {routes, menus, locales} as the module's default (in System.register: _export("default", {...}); the console's yarn build:ext does it), or bound ksVersion below 4.1 ("<4.1.0-0")`))
}

// decodeBase64 decodes a Secret's or binaryData's value, "" when it is not
// base64.
func decodeBase64(s string) string {
	b, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		return ""
	}
	return string(b)
}
