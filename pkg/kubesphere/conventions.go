package kubesphere

// Labels KubeSphere reads or writes.
const (
	// LabelExtensionRef names the extension an object belongs to.
	LabelExtensionRef = "kubesphere.io/extension-ref"
	// LabelCategory names an extension's category.
	LabelCategory = "kubesphere.io/category"
	// LabelRepositoryRef names the Repository an object was synced from.
	LabelRepositoryRef = "kubesphere.io/repository-ref"
	// LabelManaged marks objects KubeSphere may clean up.
	LabelManaged = "kubesphere.io/managed"
)

// Annotations KubeSphere reads or writes.
const (
	// AnnotationForceDelete on an InstallPlan makes its deletion run an
	// in-process "helm uninstall" without hooks; the way out of
	// UninstallFailed.
	AnnotationForceDelete = "kubesphere.io/force-delete"
	// AnnotationExecutorAction on an executor Job: install, upgrade or
	// uninstall.
	AnnotationExecutorAction = "executor.kubesphere.io/action"
	// AnnotationExecutorConfigHash on an executor Job: the hash of its values.
	AnnotationExecutorConfigHash = "executor.kubesphere.io/config-hash"
)

// FinalizerInstallPlan is the finalizer KubeSphere adds to an InstallPlan
// once its ExtensionVersion exists.
const FinalizerInstallPlan = "kubesphere.io/installplan-protection"

// Installation modes of an ExtensionVersion.
const (
	HostOnly     = "HostOnly"
	Multicluster = "Multicluster"
)

// UpgradeStrategyManual is the only upgrade strategy clients should send.
const UpgradeStrategyManual = "Manual"

// States of an installation (InstallationStatus.State). The empty state
// means the controller has not acted yet.
const (
	StatePreparing       = "Preparing"
	StateInstalling      = "Installing"
	StateInstallFailed   = "InstallFailed"
	StateInstalled       = "Installed"
	StateUpgrading       = "Upgrading"
	StateUpgradeFailed   = "UpgradeFailed"
	StateUninstalling    = "Uninstalling"
	StateUninstallFailed = "UninstallFailed"
	StateUninstalled     = "Uninstalled"
)

// Condition types and reasons the InstallPlan controller sets.
const (
	ConditionInitialized = "Initialized"
	ConditionInstalled   = "Installed"
	ConditionUpgraded    = "Upgraded"
	ConditionUninstalled = "Uninstalled"

	ReasonInitialized       = "Initialized"
	ReasonInstallSuccessful = "InstallSuccessful"
	ReasonInstallFailed     = "InstallFailed"
	ReasonUpgradeSuccessful = "UpgradeSuccessful"
	ReasonUpgradeFailed     = "UpgradeFailed"
	ReasonUninstallFailed   = "UninstallFailed"
)

// SystemNamespace is where locally published charts are stored.
const SystemNamespace = "kubesphere-system"

// ChartKey is the ConfigMap binaryData key holding a published chart.
const ChartKey = "chart.tgz"

// ExtensionVersionName is the name an ExtensionVersion must have:
// "<extension>-<version>".
func ExtensionVersionName(extension, version string) string {
	return extension + "-" + version
}

// ChartConfigMapName is the ConfigMap a locally published version's chart is
// stored in: "extension-<extension>-<version>-chart".
func ChartConfigMapName(extension, version string) string {
	return "extension-" + ExtensionVersionName(extension, version) + "-chart"
}

// DefaultTargetNamespace is where an extension is installed when its version
// names no namespace: "extension-<extension>".
func DefaultTargetNamespace(extension string) string {
	return "extension-" + extension
}

// AgentReleaseName is the Helm release of the agent on scheduled clusters.
func AgentReleaseName(extension string) string {
	return extension + "-agent"
}

// TargetNamespace returns the namespace this version installs into.
func (v *ExtensionVersion) TargetNamespace(extension string) string {
	if v.Spec.Namespace != "" {
		return v.Spec.Namespace
	}
	return DefaultTargetNamespace(extension)
}

// Mode returns the installation mode, HostOnly when unset.
func (v *ExtensionVersion) Mode() string {
	if v.Spec.InstallationMode == "" {
		return HostOnly
	}
	return v.Spec.InstallationMode
}
