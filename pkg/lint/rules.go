package lint

import (
	"github.com/ksbuilder/ksbuilder/pkg/diag"
	"github.com/ksbuilder/ksbuilder/pkg/extension"
	"github.com/ksbuilder/ksbuilder/pkg/packager"
)

// Group is the part of an extension a rule looks at.
type Group string

const (
	// GroupMetadata rules check extension.yaml and the package layout.
	GroupMetadata Group = "metadata"
	// GroupPermissions rules check permissions.yaml against the chart.
	GroupPermissions Group = "permissions"
	// GroupChart rules check the chart and the manifests it renders.
	GroupChart Group = "chart"
)

// Rule is one check of the linter. Findings carry its ID in their Code.
type Rule struct {
	ID string `json:"id"`
	// Severity is the highest severity the rule reports; some rules report
	// a lower one for milder cases (see Description).
	Severity    diag.Severity `json:"severity"`
	Group       Group         `json:"group"`
	Description string        `json:"description"`
	// Source says where the rule comes from: the KubeSphere controller, Helm,
	// the KubeSphere developer guide, the console.
	Source string `json:"source"`
}

// Rule IDs of the checks that only the linter runs. The metadata checks
// shared with "ksbuilder package" keep the codes of pkg/extension and
// pkg/packager.
const (
	RuleHelmLint             = "helm-lint"
	RuleRender               = "render"
	RuleImageRegistry        = "image-registry"
	RuleNodeSelector         = "node-selector"
	RuleManagedLabel         = "managed-label"
	RuleImageUnused          = "image-unused"
	RuleImageUndeclared      = "image-undeclared"
	RuleSubchartTags         = "subchart-tags"
	RuleCRDUpgrade           = "crd-upgrade"
	RuleChartYAMLIgnored     = "chart-yaml-ignored"
	RuleReadme               = "readme"
	RuleDependencyRepository = "dependency-repository"
	RulePermissionsWildcard  = "permissions-wildcard"
	RulePermissionsSensitive = "permissions-sensitive"
	RulePermissionsDelete    = "permissions-delete"
	RulePermissionsMissing   = "permissions-missing"
	RulePermissionsAPIGroup  = "permissions-api-group"
)

// Where rules come from.
const (
	srcCtrl     = "KubeSphere InstallPlan controller"
	srcExecutor = "KubeSphere helm executor job"
	srcHelm     = "Helm"
	srcDoc      = "KubeSphere extension developer guide"
	srcCRD      = "KubeSphere ExtensionVersion CRD"
	srcKsb      = "ksbuilder"
	srcUI       = "KubeSphere console"
	srcK8s      = "Kubernetes API"
)

// registry lists every rule, grouped, in the order --list-rules shows them.
var registry = []Rule{
	// extension.yaml and the package
	{packager.CodeMissingMetadata, diag.Error, GroupMetadata, "extension.yaml exists at the root of the extension", srcKsb},
	{extension.CodeYAMLSyntax, diag.Error, GroupMetadata, "extension.yaml and permissions.yaml are valid YAML; extension.yaml holds one document", srcKsb},
	{extension.CodeFieldType, diag.Error, GroupMetadata, "every field has the right type (string, list, mapping, boolean)", srcCRD},
	{extension.CodeUnknownField, diag.Warning, GroupMetadata, "no unknown fields (typos are ignored silently by KubeSphere)", srcKsb},
	{extension.CodeDuplicateKey, diag.Warning, GroupMetadata, "no key appears twice in a mapping", srcKsb},
	{extension.CodeRequired, diag.Error, GroupMetadata, "required fields are present: apiVersion, name, version, displayName, description, category, provider, icon; externalDependencies name, version and required", srcCRD},
	{extension.CodeNameFormat, diag.Error, GroupMetadata, "name is a DNS-1123 label", srcCtrl},
	{extension.CodeNameLength, diag.Error, GroupMetadata, "name fits the executor job names (41 characters, 35 for Multicluster); a warning above 32", srcCtrl},
	{extension.CodeVersionFormat, diag.Error, GroupMetadata, "version is strict semver without build metadata, lower case, at most 63 characters (a DNS-1123 subdomain)", srcCtrl},
	{extension.CodeLocaleCode, diag.Error, GroupMetadata, "language keys of displayName, description and provider are ISO 639-1 codes", srcDoc},
	{extension.CodeLocaleEmpty, diag.Error, GroupMetadata, "localized texts are not empty", srcUI},
	{extension.CodeLocaleMissingEn, diag.Warning, GroupMetadata, "displayName and description have an en entry, the console's fallback", srcDoc},
	{extension.CodeCategoryUnknown, diag.Warning, GroupMetadata, "category is one of the built-in categories", srcUI},
	{extension.CodeInstallationMode, diag.Error, GroupMetadata, "installationMode is HostOnly or Multicluster", srcCRD},
	{extension.CodeConstraintFormat, diag.Error, GroupMetadata, "kubeVersion, ksVersion and dependency versions are semver constraints", srcCtrl},
	{extension.CodeConstraintPrerelease, diag.Warning, GroupMetadata, "lower bounds of version constraints end in -0, so pre-release builds match", srcCtrl},
	{extension.CodeExternalDependency, diag.Error, GroupMetadata, "externalDependencies name other extensions once each, with type extension", srcCRD},
	{extension.CodeNamespaceFormat, diag.Error, GroupMetadata, "namespace is a DNS-1123 label", srcCtrl},
	{extension.CodeMaintainer, diag.Error, GroupMetadata, "maintainers have names; a warning for malformed e-mail addresses", srcHelm},
	{extension.CodeURLFormat, diag.Error, GroupMetadata, "sources are http(s) URLs; a warning for home, docs and provider URLs", srcHelm},
	{extension.CodeDependency, diag.Error, GroupMetadata, "dependencies have names and unique, valid aliases", srcHelm},
	{extension.CodeIconFile, diag.Error, GroupMetadata, "a local icon exists inside the package", srcKsb},
	{extension.CodeScreenshotFile, diag.Error, GroupMetadata, "local screenshots exist inside the package", srcKsb},
	{extension.CodeStaticDir, diag.Error, GroupMetadata, "staticFileDirectory exists; a warning for icons and screenshots outside it", srcDoc},
	{extension.CodeImageReference, diag.Error, GroupMetadata, "images entries are valid image references (as container runtimes parse them: no surrounding spaces, a digest of the right length), listed once", srcKsb},
	{extension.CodeHookImage, diag.Error, GroupMetadata, "executor-hook-image annotations name an executor action and hold an image reference", srcExecutor},
	{RuleChartYAMLIgnored, diag.Warning, GroupMetadata, "no Chart.yaml at the root of a directory (it is generated from extension.yaml); in a package, Chart.yaml agrees with extension.yaml", srcKsb},
	{RuleReadme, diag.Info, GroupMetadata, "README.md exists, and README_<lang>.md for every other language of displayName", srcUI},
	{RuleDependencyRepository, diag.Info, GroupMetadata, "dependencies are local subcharts rather than remote repositories", srcDoc},
	{packager.CodeMissingPermissions, diag.Warning, GroupMetadata, "permissions.yaml exists at the root", srcCtrl},
	{packager.CodePackageSize, diag.Error, GroupMetadata, "the package fits in 1 MiB; a warning above 900 KiB", srcCtrl},

	// permissions.yaml
	{extension.CodePermissionsKind, diag.Error, GroupPermissions, "every document of permissions.yaml is a ClusterRole or a Role", srcCtrl},
	{extension.CodePermissionsRule, diag.Error, GroupPermissions, "every rule has verbs and resources with apiGroups, or nonResourceURLs in a ClusterRole", srcCtrl},
	{RulePermissionsAPIGroup, diag.Warning, GroupPermissions, "apiGroups entries look like API groups, not resources", srcDoc},
	{RulePermissionsWildcard, diag.Warning, GroupPermissions, "no '*' in verbs, resources or apiGroups beyond what KubeSphere grants anyway", srcDoc},
	{RulePermissionsSensitive, diag.Warning, GroupPermissions, "sensitive resources and verbs (secrets, role bindings, webhook configurations, escalate, bind, impersonate) are requested only with a reason", srcDoc},
	{RulePermissionsDelete, diag.Warning, GroupPermissions, "delete is granted only on resources the chart creates", srcDoc},
	{RulePermissionsMissing, diag.Error, GroupPermissions, "every object the chart renders is covered: cluster-scoped and other-namespace objects by ClusterRole rules, the rest by Role rules or KubeSphere's default Role", srcCtrl},

	// the chart and its rendered manifests
	{packager.CodeChart, diag.Error, GroupChart, "the chart loads with Helm", srcHelm},
	{packager.CodeDependencyMissing, diag.Error, GroupChart, "every dependency has a subchart under charts/ (by Chart.yaml name)", srcHelm},
	{RuleHelmLint, diag.Error, GroupChart, "Helm's own linter passes on the chart and every subchart (Helm's severities)", srcHelm},
	{RuleRender, diag.Error, GroupChart, "the host and agent releases render with the installer's values, into valid YAML", srcExecutor},
	{RuleSubchartTags, diag.Warning, GroupChart, "Multicluster: every subchart is tagged extension or agent; HostOnly: no subchart is tagged only agent", srcCtrl},
	{RuleImageRegistry, diag.Error, GroupChart, "global.imageRegistry reaches every container and init container image", srcDoc},
	{RuleNodeSelector, diag.Error, GroupChart, "global.nodeSelector reaches every pod spec (DaemonSets included)", srcDoc},
	{RuleManagedLabel, diag.Error, GroupChart, `no rendered ConfigMap or Job carries kubesphere.io/managed: "true" (the controller deletes them)`, srcCtrl},
	{RuleImageUnused, diag.Warning, GroupChart, "every image listed in extension.yaml appears in the rendered manifests", srcKsb},
	{RuleImageUndeclared, diag.Warning, GroupChart, "every container image the chart renders is listed in extension.yaml images", srcKsb},
	{RuleK8sSchema, diag.Error, GroupChart, "rendered objects of built-in kinds decode strictly against the Kubernetes API: a field of the wrong type is an error, an unknown field a warning", srcK8s},
	{RuleK8sAPIRemoved, diag.Error, GroupChart, "no rendered object uses an API version removed in a Kubernetes version kubeVersion allows (>= 1.19 when unset)", srcK8s},
	{RuleK8sAPIDeprecated, diag.Warning, GroupChart, "no rendered object uses an API version deprecated in a Kubernetes version kubeVersion allows", srcK8s},
	{RuleCRDUpgrade, diag.Info, GroupChart, "CRDs under crds/ come with an upgrade hook image, since Helm never upgrades them", srcHelm},
}

// Rules returns every rule in --list-rules order.
func Rules() []Rule {
	return append([]Rule(nil), registry...)
}

// LookupRule finds a rule by ID.
func LookupRule(id string) (Rule, bool) {
	for _, r := range registry {
		if r.ID == id {
			return r, true
		}
	}
	return Rule{}, false
}
