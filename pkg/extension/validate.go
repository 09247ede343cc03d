package extension

import (
	"fmt"
	"net/mail"
	"net/url"
	"path"
	"regexp"
	"strings"
	"sync"

	"github.com/Masterminds/semver/v3"

	"github.com/ksbuilder/ksbuilder/pkg/diag"
)

// Diagnostic codes of the metadata checks. They double as lint rule IDs.
const (
	CodeRequired             = "required"
	CodeNameFormat           = "name-format"
	CodeNameLength           = "name-length"
	CodeVersionFormat        = "version-format"
	CodeLocaleCode           = "locale-code"
	CodeLocaleEmpty          = "locale-empty"
	CodeLocaleMissingEn      = "locale-missing-en"
	CodeCategoryUnknown      = "category-unknown"
	CodeInstallationMode     = "installation-mode"
	CodeConstraintFormat     = "constraint-format"
	CodeConstraintPrerelease = "constraint-prerelease"
	CodeExternalDependency   = "external-dependency"
	CodeNamespaceFormat      = "namespace-format"
	CodeMaintainer           = "maintainer"
	CodeURLFormat            = "url-format"
	CodeDependency           = "dependency"
	CodeIconFile             = "icon-file"
	CodeScreenshotFile       = "screenshot-file"
	CodeStaticDir            = "static-dir"
)

// Name length limits. KubeSphere derives object names from the extension name;
// the tightest is the executor job "helm-uninstall-<name>[-agent]-xxxxxx",
// which must fit the 63-character job-name label.
const (
	// RecommendedNameLength is the limit the KubeSphere docs give.
	RecommendedNameLength = 32
	// MaxNameLengthHostOnly fits "helm-uninstall-<name>-xxxxxx" in 63.
	MaxNameLengthHostOnly = 41
	// MaxNameLengthMulticluster fits "helm-uninstall-<name>-agent-xxxxxx" in 63.
	MaxNameLengthMulticluster = 35
	// MaxVersionLength is the limit of KubeSphere's version check.
	MaxVersionLength = 63
)

var (
	dnsLabelRe   = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`) })
	aliasRe      = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-zA-Z0-9_-]+$`) })
	constraintRe = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`(>=|<=|!=|=>|=<|>|<|=|~|\^)?\s*v?(\d+(?:\.(?:\d+|[xX*]))*)(-[0-9A-Za-z.-]+)?`)
	})
)

// ValidateName checks an extension name: a DNS-1123 label of at most
// maxLength characters. It is used at entry by "create".
func ValidateName(name string, maxLength int) error {
	if name == "" {
		return fmt.Errorf("the name must not be empty")
	}
	if !dnsLabelRe().MatchString(name) {
		return fmt.Errorf("%q is not a valid name: use lower-case letters, digits and '-', starting and ending with a letter or digit", name)
	}
	if len(name) > maxLength {
		return fmt.Errorf("%q is %d characters long; the limit is %d", name, len(name), maxLength)
	}
	return nil
}

// validator accumulates diagnostics for one extension.
type validator struct {
	ext   *Extension
	diags diag.List
}

func (v *validator) add(sev diag.Severity, code, field, hint, format string, args ...any) {
	line, col := v.ext.Position(field)
	v.diags.Add(diag.Diagnostic{
		Severity: sev, Code: code, File: MetadataFile, Line: line, Column: col,
		Field: field, Message: fmt.Sprintf(format, args...), Hint: hint,
	})
}

func (v *validator) required(field string, empty bool) bool {
	if empty {
		v.add(diag.Error, CodeRequired, field, "", "required field is missing or empty")
	}
	return !empty
}

// Validate runs the semantic checks of extension.yaml that need no other
// file: required fields, name and version formats, language codes, category,
// installation mode, version constraints, dependencies, URLs, the images list
// and the executor-hook-image annotations.
func (e *Extension) Validate() diag.List {
	v := &validator{ext: e}
	v.required("apiVersion", strings.TrimSpace(e.APIVersion) == "")
	v.name()
	v.version()
	v.locales("displayName", e.DisplayName)
	v.locales("description", e.Description)
	v.category()
	v.provider()
	v.required("icon", strings.TrimSpace(e.Icon) == "")
	v.installationMode()
	v.constraint("kubeVersion", e.KubeVersion, "Kubernetes builds such as v1.29.6-gke.1")
	v.constraint("ksVersion", e.KSVersion, "KubeSphere builds such as v4.1.3-beta.1")
	v.externalDependencies()
	v.namespace()
	v.maintainers()
	v.urls()
	v.dependencies()
	v.images()
	v.hookImages()
	v.diags.Sort()
	return v.diags
}

func (v *validator) name() {
	e := v.ext
	if !v.required("name", e.Name == "") {
		return
	}
	if !dnsLabelRe().MatchString(e.Name) {
		v.add(diag.Error, CodeNameFormat, "name",
			"use a DNS-1123 label: lower-case letters, digits and '-', starting and ending with a letter or digit",
			"%q is not a valid extension name", e.Name)
		return
	}
	limit := MaxNameLengthHostOnly
	if e.Mode() == Multicluster {
		limit = MaxNameLengthMulticluster
	}
	switch {
	case len(e.Name) > limit:
		v.add(diag.Error, CodeNameLength, "name", "shorten the name",
			"%q is %d characters; with installationMode %s KubeSphere's executor job names only fit names of up to %d characters",
			e.Name, len(e.Name), e.Mode(), limit)
	case len(e.Name) > RecommendedNameLength:
		v.add(diag.Warning, CodeNameLength, "name", "the KubeSphere docs recommend at most 32 characters",
			"%q is %d characters long", e.Name, len(e.Name))
	}
}

func (v *validator) version() {
	e := v.ext
	if !v.required("version", e.Version == "") {
		return
	}
	ver, err := semver.StrictNewVersion(e.Version)
	if err != nil {
		v.add(diag.Error, CodeVersionFormat, "version", "write MAJOR.MINOR.PATCH, e.g. 1.0.0, without a leading v",
			"%q is not a semantic version", e.Version)
		return
	}
	switch {
	case ver.Metadata() != "":
		v.add(diag.Error, CodeVersionFormat, "version", "drop the +"+ver.Metadata()+" suffix",
			"%q has build metadata; '+' is not allowed because the version is part of Kubernetes object names", e.Version)
	case strings.ToLower(e.Version) != e.Version:
		v.add(diag.Error, CodeVersionFormat, "version", "use lower case",
			"%q has upper-case letters; the version is part of Kubernetes object names", e.Version)
	case len(e.Version) > MaxVersionLength:
		v.add(diag.Error, CodeVersionFormat, "version", "",
			"%q is %d characters; KubeSphere ignores versions longer than %d", e.Version, len(e.Version), MaxVersionLength)
	}
}

func (v *validator) locales(field string, l Locales) {
	if !v.required(field, len(l) == 0) {
		return
	}
	for _, lang := range sortedKeys(l) {
		f := field + "." + lang
		if !IsLanguageCode(lang) {
			v.add(diag.Error, CodeLocaleCode, f, languageHint(lang),
				"%q is not an ISO 639-1 language code", lang)
		}
		if strings.TrimSpace(l[lang]) == "" {
			v.add(diag.Error, CodeLocaleEmpty, f, "", "text must not be empty")
		}
	}
	if _, ok := l["en"]; !ok {
		v.add(diag.Warning, CodeLocaleMissingEn, field, "add an en entry",
			"no English (en) text; the console falls back to en when the user's language is missing")
	}
}

// languageHint suggests the ISO 639-1 code for common mistakes like zh-CN.
func languageHint(lang string) string {
	parts := strings.FieldsFunc(lang, func(r rune) bool { return r == '-' || r == '_' })
	if len(parts) > 0 {
		if base := strings.ToLower(parts[0]); base != lang && IsLanguageCode(base) {
			return fmt.Sprintf("use %q", base)
		}
	}
	return "use a two-letter lower-case code such as en or zh"
}

func (v *validator) category() {
	e := v.ext
	if !v.required("category", strings.TrimSpace(e.Category) == "") {
		return
	}
	if _, ok := LookupCategory(e.Category); !ok {
		v.add(diag.Warning, CodeCategoryUnknown, "category", "run ksbuilder category to list them",
			"%q is not one of the %d built-in categories; the console shows the extension uncategorised",
			e.Category, len(Categories))
	}
}

func (v *validator) provider() {
	e := v.ext
	if !v.required("provider", len(e.Provider) == 0) {
		return
	}
	for _, lang := range sortedKeys(e.Provider) {
		f := "provider." + lang
		if !IsLanguageCode(lang) {
			v.add(diag.Error, CodeLocaleCode, f, languageHint(lang), "%q is not an ISO 639-1 language code", lang)
		}
		p := e.Provider[lang]
		if strings.TrimSpace(p.Name) == "" {
			v.add(diag.Error, CodeRequired, f+".name", "", "required field is missing or empty")
		}
		v.email(f+".email", p.Email)
		v.url(f+".url", p.URL, diag.Warning)
	}
}

func (v *validator) installationMode() {
	m := v.ext.InstallationMode
	if m == "" || m == HostOnly || m == Multicluster {
		return
	}
	hint := "use HostOnly or Multicluster"
	for _, want := range []InstallationMode{HostOnly, Multicluster} {
		if strings.EqualFold(string(m), string(want)) {
			hint = fmt.Sprintf("values are case-sensitive: write %s", want)
		}
	}
	v.add(diag.Error, CodeInstallationMode, "installationMode", hint, "%q is not a valid installation mode", m)
}

// constraint checks a Masterminds semver constraint and warns about lower
// bounds without a pre-release suffix, which never match pre-release builds
// such as Kubernetes v1.29.6-gke.1 or KubeSphere dev builds.
func (v *validator) constraint(field, c, prereleaseExample string) {
	if strings.TrimSpace(c) == "" {
		return
	}
	if _, err := semver.NewConstraint(c); err != nil {
		v.add(diag.Error, CodeConstraintFormat, field, `write a constraint such as ">=1.19.0-0"`,
			"%q is not a valid version constraint: %v", c, err)
		return
	}
	if fixed, ok := withPrereleaseFloor(c); ok {
		v.add(diag.Warning, CodeConstraintPrerelease, field, fmt.Sprintf("write %q", fixed),
			"%q never matches pre-release versions, e.g. %s", c, prereleaseExample)
	}
}

// withPrereleaseFloor adds "-0" to lower bounds that lack a pre-release part
// and reports whether anything changed.
func withPrereleaseFloor(c string) (string, bool) {
	changed := false
	out := constraintRe().ReplaceAllStringFunc(c, func(term string) string {
		m := constraintRe().FindStringSubmatch(term)
		op, pre := m[1], m[3]
		if pre != "" || strings.ContainsAny(m[2], "xX*") {
			return term
		}
		switch op {
		case ">=", "=>", ">", "~", "^":
			changed = true
			return term + "-0"
		}
		return term
	})
	return out, changed
}

func (v *validator) externalDependencies() {
	e := v.ext
	seen := map[string]bool{}
	for i, d := range e.ExternalDependencies {
		f := fmt.Sprintf("externalDependencies[%d]", i)
		switch {
		case d.Name == "":
			v.add(diag.Error, CodeRequired, f+".name", "", "required field is missing or empty")
		case d.Name == e.Name:
			v.add(diag.Error, CodeExternalDependency, f+".name", "remove this entry",
				"the extension cannot depend on itself")
		case !dnsLabelRe().MatchString(d.Name):
			v.add(diag.Error, CodeExternalDependency, f+".name", "use the other extension's name from its extension.yaml",
				"%q is not a valid extension name", d.Name)
		case seen[d.Name]:
			v.add(diag.Error, CodeExternalDependency, f+".name", "keep one entry per extension",
				"%q is listed more than once", d.Name)
		}
		seen[d.Name] = true
		if d.Type != "" && d.Type != "extension" {
			v.add(diag.Error, CodeExternalDependency, f+".type", `use "extension" or leave it out`,
				"%q is not a supported dependency type", d.Type)
		}
		if d.Version == "" {
			v.add(diag.Error, CodeRequired, f+".version", `e.g. ">=1.0.0-0"`, "required field is missing or empty")
		} else {
			v.constraint(f+".version", d.Version, "pre-releases of "+d.Name)
		}
		if d.Required == nil {
			v.add(diag.Error, CodeRequired, f+".required", "set required: true or required: false",
				"required field is missing")
		}
	}
}

func (v *validator) namespace() {
	ns := v.ext.Namespace
	if ns != "" && (!dnsLabelRe().MatchString(ns) || len(ns) > 63) {
		v.add(diag.Error, CodeNamespaceFormat, "namespace",
			"use at most 63 lower-case letters, digits and '-'", "%q is not a valid namespace name", ns)
	}
}

func (v *validator) maintainers() {
	for i, m := range v.ext.Maintainers {
		f := fmt.Sprintf("maintainers[%d]", i)
		if strings.TrimSpace(m.Name) == "" {
			v.add(diag.Error, CodeMaintainer, f+".name", "", "each maintainer needs a name")
		}
		v.email(f+".email", m.Email)
		v.url(f+".url", m.URL, diag.Warning)
	}
}

func (v *validator) email(field, addr string) {
	if addr == "" {
		return
	}
	if _, err := mail.ParseAddress(addr); err != nil {
		v.add(diag.Warning, CodeMaintainer, field, "", "%q is not a valid e-mail address", addr)
	}
}

func (v *validator) url(field, raw string, sev diag.Severity) {
	if raw == "" {
		return
	}
	u, err := url.ParseRequestURI(raw)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		v.add(sev, CodeURLFormat, field, "use an absolute http(s) URL", "%q is not a valid URL", raw)
	}
}

func (v *validator) urls() {
	e := v.ext
	v.url("home", e.Home, diag.Warning)
	v.url("docs", e.Docs, diag.Warning)
	for i, s := range e.Sources {
		v.url(fmt.Sprintf("sources[%d]", i), s, diag.Error)
	}
}

func (v *validator) dependencies() {
	seen := map[string]bool{}
	for i, d := range v.ext.Dependencies {
		f := fmt.Sprintf("dependencies[%d]", i)
		if d.Name == "" {
			v.add(diag.Error, CodeRequired, f+".name", "", "required field is missing or empty")
			continue
		}
		if d.Alias != "" && !aliasRe().MatchString(d.Alias) {
			v.add(diag.Error, CodeDependency, f+".alias", "use letters, digits, '_' and '-'",
				"%q is not a valid alias", d.Alias)
		}
		key := d.Name
		if d.Alias != "" {
			key = d.Alias
		}
		if seen[key] {
			v.add(diag.Error, CodeDependency, f, "give each use of the same chart its own alias",
				"more than one dependency is named %q", key)
		}
		seen[key] = true
	}
}

// FileSet is the view of the package's files that validation needs.
type FileSet interface {
	// HasFile reports whether a file exists at the slash-separated path.
	HasFile(name string) bool
	// HasDir reports whether any file lies under the slash-separated directory.
	HasDir(name string) bool
	// Read returns the content of the file at the slash-separated path.
	Read(name string) ([]byte, bool)
}

// IsLocal reports whether an icon or screenshot reference names a file in
// the package rather than a URL or an inline data URI.
func IsLocal(ref string) bool {
	lower := strings.ToLower(ref)
	return !strings.HasPrefix(lower, "http://") && !strings.HasPrefix(lower, "https://") && !strings.HasPrefix(lower, "data:")
}

// LocalPath cleans a local reference such as "./static/icon.svg" into a
// package path ("static/icon.svg"). It fails for absolute paths and paths
// that leave the package.
func LocalPath(ref string) (string, error) {
	p := strings.ReplaceAll(strings.TrimSpace(ref), `\`, "/")
	if p == "" {
		return "", fmt.Errorf("empty path")
	}
	if strings.HasPrefix(p, "/") || (len(p) > 1 && p[1] == ':') {
		return "", fmt.Errorf("%q is an absolute path; use a path relative to the extension root", ref)
	}
	clean := path.Clean(p)
	if clean == ".." || strings.HasPrefix(clean, "../") {
		return "", fmt.Errorf("%q points outside the extension directory", ref)
	}
	if clean == "." {
		return "", fmt.Errorf("%q names the extension directory itself", ref)
	}
	return clean, nil
}

// ValidateFiles checks the references from extension.yaml to files in the
// package: the icon, the screenshots and staticFileDirectory.
func (e *Extension) ValidateFiles(files FileSet) diag.List {
	v := &validator{ext: e}
	static := ""
	if e.StaticFileDirectory != "" {
		dir, err := LocalPath(e.StaticFileDirectory)
		switch {
		case err != nil:
			v.add(diag.Error, CodeStaticDir, "staticFileDirectory", "name a directory inside the extension, e.g. static", "%v", err)
		case !files.HasDir(dir):
			v.add(diag.Error, CodeStaticDir, "staticFileDirectory", "create it or remove the field",
				"directory %q does not exist in the package", dir)
		default:
			static = dir
		}
	}
	v.localFile("icon", e.Icon, CodeIconFile, files, static)
	v.checkIcon(e.Icon, files)
	for i, s := range e.Screenshots {
		v.localFile(fmt.Sprintf("screenshots[%d]", i), s, CodeScreenshotFile, files, static)
	}
	v.diags.Sort()
	return v.diags
}

func (v *validator) localFile(field, ref, code string, files FileSet, static string) {
	if strings.TrimSpace(ref) == "" || !IsLocal(ref) {
		return
	}
	p, err := LocalPath(ref)
	if err != nil {
		v.add(diag.Error, code, field, "", "%v", err)
		return
	}
	if !files.HasFile(p) {
		hint := "paths are relative to the directory that holds extension.yaml"
		if base := path.Base(p); base != p && files.HasFile(base) {
			hint = fmt.Sprintf("the file exists at ./%s; fix the path", base)
		}
		v.add(diag.Error, code, field, hint, "file %q does not exist in the package", p)
		return
	}
	if static != "" && !strings.HasPrefix(p, static+"/") {
		v.add(diag.Warning, CodeStaticDir, field, "move it under "+static+"/",
			"%q is outside staticFileDirectory %q, so ksbuilder push uploads it and still ships it in the package", p, static)
	}
}
