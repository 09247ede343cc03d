package lint

import (
	"github.com/ksbuilder/ksbuilder/pkg/diag"
	"github.com/ksbuilder/ksbuilder/pkg/extension"
	"github.com/ksbuilder/ksbuilder/pkg/manifest"
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
	// Reason says why the rule has its severity, by the policy of
	// docs/lint.md: an error when KubeSphere refuses the package, the
	// install or upgrade fails, or the extension breaks in a default
	// install; a warning when it works but misbehaves in some installs; an
	// info for style.
	Reason string `json:"reason"`
}

// Rule IDs of the checks that only the linter runs. The metadata checks
// shared with "ksbuilder package" keep the codes of pkg/extension and
// pkg/packager.
const (
	RuleHelmLint             = "helm-lint"
	RuleRender               = "render"
	RuleValuesSchema         = manifest.CodeValuesSchema
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
	srcWebhook  = "KubeSphere admission webhooks"
	srcKSAPI    = "ks-apiserver"
	srcAppStore = "KubeSphere App Store (openpitrix)"
)

// registry lists every rule, grouped, in the order --list-rules shows them.
var registry = []Rule{
	// extension.yaml and the package
	{packager.CodeMissingMetadata, diag.Error, GroupMetadata, "extension.yaml exists at the root of the extension", srcKsb,
		"without extension.yaml there is no package: nothing can be built or installed"},
	{extension.CodeYAMLSyntax, diag.Error, GroupMetadata, "extension.yaml and permissions.yaml are valid YAML; extension.yaml holds one document", srcKsb,
		"KubeSphere cannot read an extension.yaml that does not parse; a syntax error in permissions.yaml silently drops the rest of it, so the install runs short of permissions"},
	{extension.CodeFieldType, diag.Error, GroupMetadata, "every field has the right type (string, list, mapping, boolean)", srcCRD,
		"the ExtensionVersion CRD rejects a field of the wrong type, so the extension is never created"},
	{extension.CodeUnknownField, diag.Warning, GroupMetadata, "no unknown fields (typos are ignored silently by KubeSphere)", srcKsb,
		"KubeSphere ignores the field: the extension installs, without what the field was meant to do"},
	{extension.CodeDuplicateKey, diag.Warning, GroupMetadata, "no key appears twice in a mapping", srcKsb,
		"the last value wins: the extension installs, perhaps not with the value meant"},
	{extension.CodeRequired, diag.Error, GroupMetadata, "required fields are present: apiVersion, name, version, displayName, description, category, provider, icon; externalDependencies name, version and required", srcCRD,
		"the ExtensionVersion CRD requires these fields; ksbuilder package refuses the package without them"},
	{extension.CodeNameFormat, diag.Error, GroupMetadata, "name is a DNS-1123 label", srcCtrl,
		"the controller never creates an Extension whose name is not a DNS label"},
	{extension.CodeNameLength, diag.Error, GroupMetadata, "name fits the executor job names (41 characters, 35 for Multicluster); a warning above 32", srcCtrl,
		"longer names make the executor's Job names invalid, so installs fail; above 32 characters it works but breaks the guide's limit (warning)"},
	{extension.CodeVersionFormat, diag.Error, GroupMetadata, "version is strict semver without build metadata, lower case, at most 63 characters (a DNS-1123 subdomain)", srcCtrl,
		"such a version is left out of Extension.status.versions, so it can never be installed"},
	{extension.CodeLocaleCode, diag.Error, GroupMetadata, "language keys of displayName, description and provider are ISO 639-1 codes", srcDoc,
		"ksbuilder package refuses keys that are not ISO 639-1 codes, so no package is built (the console shows texts only under codes it knows)"},
	{extension.CodeLocaleEmpty, diag.Error, GroupMetadata, "localized texts are not empty", srcUI,
		"ksbuilder package refuses it: the console would list the extension with an empty name or description"},
	{extension.CodeLocaleMissingEn, diag.Warning, GroupMetadata, "displayName and description have an en entry, the console's fallback", srcDoc,
		"the console falls back to en: users of other languages see no text, everything else works"},
	{extension.CodeCategoryUnknown, diag.Warning, GroupMetadata, "category is one of the built-in categories", srcUI,
		"the extension installs; the console shows it uncategorised"},
	{extension.CodeInstallationMode, diag.Error, GroupMetadata, "installationMode is HostOnly or Multicluster", srcCRD,
		"the ExtensionVersion CRD's enum rejects any other value"},
	{extension.CodeConstraintFormat, diag.Error, GroupMetadata, "kubeVersion, ksVersion and dependency versions are semver constraints", srcCtrl,
		"the controller cannot parse the constraint, so the version is never recommended and cannot be installed from the marketplace"},
	{extension.CodeConstraintPrerelease, diag.Warning, GroupMetadata, "lower bounds of version constraints end in -0, so pre-release builds match", srcCtrl,
		"works on released Kubernetes and KubeSphere versions; clusters running pre-release builds (e.g. GKE's) are refused"},
	{extension.CodeExternalDependency, diag.Error, GroupMetadata, "externalDependencies name other extensions once each, with type extension", srcCRD,
		"the ExtensionVersion CRD requires name, version and required; a dependency on itself can never be met"},
	{extension.CodeNamespaceFormat, diag.Error, GroupMetadata, "namespace is a DNS-1123 label", srcCtrl,
		"the installer cannot create the namespace, so the install fails"},
	{extension.CodeMaintainer, diag.Error, GroupMetadata, "maintainers have names; a warning for malformed e-mail addresses", srcHelm,
		"Helm refuses a chart whose maintainer has no name, so the package cannot be built; a malformed e-mail address only shows wrong (warning)"},
	{extension.CodeURLFormat, diag.Error, GroupMetadata, "sources are http(s) URLs; a warning for home, docs and provider URLs", srcHelm,
		"ksbuilder package refuses sources that are not URLs, as Helm's linter does; a bad home, docs or provider URL only makes a broken link in the console (warning)"},
	{extension.CodeDependency, diag.Error, GroupMetadata, "dependencies have names and unique, valid aliases", srcHelm,
		"Helm refuses a chart whose dependencies have no name or clashing aliases, so the install fails"},
	{extension.CodeIconFile, diag.Error, GroupMetadata, "a local icon exists inside the package", srcKsb,
		"KubeSphere refuses the package when the icon it names does not exist"},
	{extension.CodeScreenshotFile, diag.Error, GroupMetadata, "local screenshots exist inside the package", srcKsb,
		"ksbuilder package and push refuse a screenshot that does not exist, so the package cannot be built or published"},
	{extension.CodeStaticDir, diag.Error, GroupMetadata, "staticFileDirectory exists; a warning for icons and screenshots outside it", srcDoc,
		"push deletes the directory and uploads the icon and screenshots from it: a directory that does not exist breaks both; icons and screenshots outside it are only left in the package (warning)"},
	{extension.CodeImageReference, diag.Error, GroupMetadata, "images entries are valid image references (as container runtimes parse them: no surrounding spaces, a digest of the right length), listed once", srcKsb,
		"ksbuilder package refuses image references container runtimes cannot parse; the images list feeds the mirroring of offline installs; a repeated entry is only noise (warning)"},
	{extension.CodeHookImage, diag.Error, GroupMetadata, "executor-hook-image annotations name an executor action and hold an image reference", srcExecutor,
		"the executor runs its install, upgrade or uninstall Job with this image: a bad reference fails that action"},
	{RuleChartYAMLIgnored, diag.Warning, GroupMetadata, "no Chart.yaml at the root of a directory (it is generated from extension.yaml); in a package, Chart.yaml agrees with extension.yaml", srcKsb,
		"the package's Chart.yaml is generated from extension.yaml, so a hand-written one is ignored; in a package, a disagreeing Chart.yaml misleads Helm and the console"},
	{RuleReadme, diag.Info, GroupMetadata, "README.md exists, and README_<lang>.md for every other language of displayName", srcUI,
		"style: the console shows the README, the extension works without it"},
	{RuleDependencyRepository, diag.Info, GroupMetadata, "dependencies are local subcharts rather than remote repositories", srcDoc,
		"style: the guide prefers local subcharts; remote ones are fetched when packaging"},
	{packager.CodeMissingPermissions, diag.Warning, GroupMetadata, "permissions.yaml exists at the root", srcCtrl,
		"the installer then runs Helm with KubeSphere's default Role only; permissions-missing reports the objects that would fail"},
	{packager.CodePackageSize, diag.Error, GroupMetadata, "the package fits in 1 MiB; a warning above 900 KiB", srcCtrl,
		"the cluster package (staticFileDirectory included) is stored in a ConfigMap of at most 1 MiB; above 900 KiB it still works (warning). push checks the marketplace's own limit without staticFileDirectory"},

	// permissions.yaml
	{extension.CodePermissionsKind, diag.Error, GroupPermissions, "every document of permissions.yaml is a ClusterRole or a Role", srcCtrl,
		"the controller reads only ClusterRole and Role documents: the rules of any other are lost"},
	{extension.CodePermissionsRule, diag.Error, GroupPermissions, "every rule has verbs and resources with apiGroups, or nonResourceURLs in a ClusterRole", srcCtrl,
		"the API server refuses a Role or ClusterRole with such a rule, so the install fails"},
	{RulePermissionsAPIGroup, diag.Warning, GroupPermissions, "apiGroups entries look like API groups, not resources", srcDoc,
		"the entry grants nothing; if the chart needs it, permissions-missing reports the failure"},
	{RulePermissionsWildcard, diag.Warning, GroupPermissions, "no '*' in verbs, resources or apiGroups beyond what KubeSphere grants anyway", srcDoc,
		"works, but grants more than the chart needs; the marketplace review asks for narrower rules"},
	{RulePermissionsSensitive, diag.Warning, GroupPermissions, "sensitive resources and verbs (secrets, role bindings, webhook configurations, escalate, bind, impersonate) are requested only with a reason", srcDoc,
		"works, but the marketplace review asks for a reason"},
	{RulePermissionsDelete, diag.Warning, GroupPermissions, "delete is granted only on resources the chart creates", srcDoc,
		"works, but grants more than the chart needs"},
	{RulePermissionsMissing, diag.Error, GroupPermissions, "every object the chart renders is covered: cluster-scoped and other-namespace objects by ClusterRole rules, the rest by Role rules or KubeSphere's default Role", srcCtrl,
		"Helm runs as the installer's service account: without get or create the install fails; without patch only upgrades that change the object fail, without delete the uninstall (warnings)"},

	// the chart and its rendered manifests
	{packager.CodeChart, diag.Error, GroupChart, "the chart loads with Helm", srcHelm,
		"Helm cannot load the chart, so the install fails"},
	{packager.CodeDependencyMissing, diag.Error, GroupChart, "every dependency has a subchart under charts/ (by Chart.yaml name)", srcHelm,
		"Helm refuses a chart whose dependency is missing from charts/, so the install fails"},
	{RuleHelmLint, diag.Error, GroupChart, "Helm's own linter passes on the chart and every subchart (Helm's severities)", srcHelm,
		"Helm's own severities: its errors are charts Helm refuses or renders wrongly"},
	{RuleRender, diag.Error, GroupChart, "the host and agent releases render with the installer's values, into valid YAML", srcExecutor,
		"the executor's helm install fails on a template that does not render"},
	{RuleValuesSchema, diag.Error, GroupChart, "values.schema.json, the chart's and each subchart's, is valid JSON and passes its draft's meta-schema, and the values of each release (values.yaml, the values given, the installer's overrides) pass it", srcHelm,
		"Helm validates the values against every schema before it renders: a schema it cannot compile fails every install, a refused value every install with these values"},
	{RuleSubchartTags, diag.Warning, GroupChart, "Multicluster: every subchart is tagged extension or agent; HostOnly: no subchart is tagged only agent", srcCtrl,
		"an untagged subchart of a Multicluster extension is installed on the host and again with every agent; an agent-only subchart of a HostOnly extension is never installed; both work, not as meant"},
	{RuleImageRegistry, diag.Warning, GroupChart, "global.imageRegistry reaches every container and init container image", srcDoc,
		"only installs whose ks-core sets extension.imageRegistry (a mirror, an air-gapped registry) set global.imageRegistry; a default install pulls the image from where the chart names it"},
	{RuleNodeSelector, diag.Warning, GroupChart, "global.nodeSelector reaches every pod spec (DaemonSets included)", srcDoc,
		"only installs that set a node selector for extensions set global.nodeSelector; a default install schedules the pods anywhere"},
	{RuleManagedLabel, diag.Error, GroupChart, `no rendered ConfigMap or Job carries kubesphere.io/managed: "true" (the controller deletes them)`, srcCtrl,
		"the controller deletes such ConfigMaps and Jobs after every install and upgrade, in a default install too"},
	{RuleImageUnused, diag.Warning, GroupChart, "every image listed in extension.yaml appears in the rendered manifests", srcKsb,
		"works; offline installs mirror an image nobody runs"},
	{RuleImageUndeclared, diag.Warning, GroupChart, "every container image the chart renders is listed in extension.yaml images", srcKsb,
		"works online; offline installs and mirrors leave the image out, so its pods cannot pull it"},
	{RuleK8sSchema, diag.Error, GroupChart, "rendered objects of built-in kinds decode strictly against the Kubernetes API: a field of the wrong type is an error, an unknown field a warning", srcK8s,
		"the API server rejects an object with a field of the wrong type, so the install fails; an unknown field is dropped with a warning from Kubernetes 1.25 on (warning)"},
	{RuleK8sAPIRemoved, diag.Error, GroupChart, "no object that a cluster of a Kubernetes version kubeVersion allows (>= 1.19 when unset) receives, rendered with that version's .Capabilities, uses an API version it no longer serves", srcK8s,
		"on a cluster without the API the install fails, and kubeVersion says the extension supports such clusters"},
	{RuleK8sAPIDeprecated, diag.Warning, GroupChart, "no object that a cluster of a Kubernetes version kubeVersion allows receives uses an API version it has deprecated", srcK8s,
		"works today; a later Kubernetes removes the API"},
	{RuleCRDUpgrade, diag.Info, GroupChart, "CRDs under crds/ come with an upgrade hook image, since Helm never upgrades them", srcHelm,
		"advice: matters only when a later version changes the CRDs"},

	// KubeSphere's extension kinds
	{RuleKSSchema, diag.Error, GroupChart, "JSBundle, APIService, ReverseProxy, ExtensionEntry (extensions.kubesphere.io) and RoleTemplate (iam.kubesphere.io) decode strictly into their types: a field of the wrong type or a missing required field is an error, an unknown field a warning", srcCRD + "s of these kinds",
		"the CRD's schema refuses a field of the wrong type or a missing required field, so the install fails; an unknown field is pruned, so the setting is silently lost (warning)"},
	{RuleJSBundleLink, diag.Error, GroupChart, "a JSBundle's status.link starts with /dist/<extension name>, and no two bundles of the package have one link (KubeSphere's default /dist/<name>/index.js when unset)", srcWebhook,
		"the validating webhook refuses such a bundle inside the executor's Helm job, so the install fails"},
	{RuleJSBundleRef, diag.Error, GroupChart, "a JSBundle's configMapKeyRef or secretKeyRef names a ConfigMap or Secret the chart creates (a warning when it does not), with that key", srcKSAPI,
		"a key missing from the chart's own object leaves the console without the bundle in every install; an object the chart does not create may still come from elsewhere (a Job, an operator, the user), so that is a warning"},
	{RuleAPIServiceConflict, diag.Error, GroupChart, "no two APIServices of the package serve one group and version", srcWebhook,
		"the validating webhook refuses the second one, so the install fails"},
	{RuleReverseProxyConflict, diag.Error, GroupChart, "no two ReverseProxies of the package have overlapping matchers (the same method or '*', and the same path or one under the other's '*' prefix)", srcWebhook,
		"the validating webhook refuses the second one, so the install fails"},
	{RuleReverseProxyPath, diag.Warning, GroupChart, "a ReverseProxy's matcher path is under /proxy (unless the proxy is handed to ks-console)", srcKSAPI,
		"the webhook accepts it and the install succeeds, but ks-apiserver hands only /proxy paths to ReverseProxies: the route is dead, nothing else breaks"},
	{RuleExtensionEntryNames, diag.Error, GroupChart, "every ExtensionEntry entry is a mapping with a string name; names and links are unique within the package", srcWebhook,
		"the validating webhook refuses such an ExtensionEntry, so the install fails"},
	{RuleEndpoint, diag.Error, GroupChart, "an APIService, a ReverseProxy upstream and a JSBundle's rawFrom set one of url or service (or a key reference); a JSBundle sets raw or rawFrom; a warning when several are set", srcKSAPI,
		"with none, ks-apiserver has nowhere to send the requests or no bundle to serve, in every install; with several it uses one and ignores the rest (warning)"},
	{RuleServicePort, diag.Error, GroupChart, "a service endpoint, or a url naming a Service of the chart (http://NAME.NAMESPACE.svc[:PORT]), reaches a port the Service has (443 for a service without port, 80 or 443 for a url without one); a warning when a service endpoint's port says it speaks plain HTTP", srcKSAPI,
		"ks-apiserver dials https://NAME.NAMESPACE.svc:PORT for a service, or the url: on a port the Service lacks every request fails, in every install; a port named http is probably plain HTTP, which HTTPS cannot reach (warning)"},
	{RuleMenuParent, diag.Warning, GroupChart, "no menu (ExtensionEntry entry, bundle menu) under the parents topbar or project when ksVersion allows KubeSphere 4.2 or later", srcUI,
		"the install works; KubeSphere 4.2 no longer shows those parents, so the menu is missing there"},
	{RuleBundleExport, diag.Warning, GroupChart, "no bundle registers through globals.context.registerExtension without a default export when ksVersion allows KubeSphere 4.1 or later", srcUI,
		"the install works; from 4.1 on the console loads the module's default export, so the UI does not show there"},
	{RuleRoleTemplateScope, diag.Warning, GroupChart, "every RoleTemplate has an iam.kubesphere.io/scope label of global, workspace, cluster or namespace", srcUI,
		"the install works; the console offers a template without a known scope in no role"},
	{RuleRoleTemplateAnnotations, diag.Warning, GroupChart, "a RoleTemplate's iam.kubesphere.io/dependencies is a JSON list of strings and iam.kubesphere.io/role-template-rules a JSON object", srcUI,
		"the install works; KubeSphere cannot read the annotation, so the template's dependencies or rule keys are lost"},
	{RuleRoleTemplateDependencies, diag.Warning, GroupChart, "RoleTemplate dependencies name RoleTemplates of the package; an info for names close to none of them (they may be KubeSphere's own)", srcUI,
		"the install works; a misspelt dependency leaves the permission short (warning when the name is close to a template of the package); KubeSphere's own templates are valid dependencies lint cannot list (info)"},
	{RuleMenuAuthKey, diag.Warning, GroupChart, "when the package's RoleTemplates declare rule keys, every menu's authKey (ExtensionEntry entries, bundle menus) is one of them; an info for keys close to none (they may be KubeSphere's own)", srcUI,
		"the install works; a misspelt authKey shows or hides the menu by the wrong permission (warning when it is close to a key of the package); KubeSphere's own keys are valid and lint cannot list them (info)"},
	{RuleAppChart, diag.Error, GroupChart, "every ApplicationVersion (application.kubesphere.io) has its chart: a ConfigMap of the same name in extension-openpitrix whose binaryData.BinaryKey is a Helm chart archive; a warning when its versionName is not the chart's version or its app-id label names no Application of the package", srcAppStore,
		"without the chart the App Store offers a version that cannot be installed, in every install; a wrong version or application misleads users but installs (warning)"},
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
