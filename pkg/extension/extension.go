// Package extension models a KubeSphere extension's metadata: extension.yaml
// and permissions.yaml. It parses them with yaml.v3, keeping the position of
// every field so each problem is reported as "extension.yaml:LINE:COL field:
// problem", validates them, and converts the metadata into the Chart.yaml
// that the packager writes.
package extension

import (
	"gopkg.in/yaml.v3"
)

// MetadataFile is the name of the metadata file at the extension root.
const MetadataFile = "extension.yaml"

// PermissionsFile is the name of the RBAC request file at the extension root.
const PermissionsFile = "permissions.yaml"

// InstallationMode says where the extension's subcharts are installed.
type InstallationMode string

const (
	// HostOnly installs the extension on the host cluster only (the default).
	HostOnly InstallationMode = "HostOnly"
	// Multicluster installs subcharts tagged "agent" in every selected cluster.
	Multicluster InstallationMode = "Multicluster"
)

// Extension is the content of extension.yaml.
type Extension struct {
	APIVersion           string               `yaml:"apiVersion" json:"apiVersion"`
	Name                 string               `yaml:"name" json:"name"`
	Version              string               `yaml:"version" json:"version"`
	DisplayName          Locales              `yaml:"displayName" json:"displayName,omitempty"`
	Description          Locales              `yaml:"description" json:"description,omitempty"`
	Category             string               `yaml:"category" json:"category,omitempty"`
	Keywords             []string             `yaml:"keywords" json:"keywords,omitempty"`
	Home                 string               `yaml:"home" json:"home,omitempty"`
	Docs                 string               `yaml:"docs" json:"docs,omitempty"`
	Sources              []string             `yaml:"sources" json:"sources,omitempty"`
	KubeVersion          string               `yaml:"kubeVersion" json:"kubeVersion,omitempty"`
	KSVersion            string               `yaml:"ksVersion" json:"ksVersion,omitempty"`
	Maintainers          []Maintainer         `yaml:"maintainers" json:"maintainers,omitempty"`
	Provider             map[string]Provider  `yaml:"provider" json:"provider,omitempty"`
	StaticFileDirectory  string               `yaml:"staticFileDirectory" json:"staticFileDirectory,omitempty"`
	Icon                 string               `yaml:"icon" json:"icon,omitempty"`
	Screenshots          []string             `yaml:"screenshots" json:"screenshots,omitempty"`
	Dependencies         []Dependency         `yaml:"dependencies" json:"dependencies,omitempty"`
	InstallationMode     InstallationMode     `yaml:"installationMode" json:"installationMode,omitempty"`
	Namespace            string               `yaml:"namespace" json:"namespace,omitempty"`
	Images               []string             `yaml:"images" json:"images,omitempty"`
	ExternalDependencies []ExternalDependency `yaml:"externalDependencies" json:"externalDependencies,omitempty"`
	Annotations          map[string]string    `yaml:"annotations" json:"annotations,omitempty"`

	// positions maps a field path ("provider.en.url", "images[2]") to the
	// YAML node that held its value.
	positions map[string]*yaml.Node
}

// Locales maps an ISO 639-1 language code to text.
type Locales map[string]string

// Default returns the text for "en", else "zh", else the first language in
// alphabetical order, else "".
func (l Locales) Default() string {
	for _, lang := range []string{"en", "zh"} {
		if v, ok := l[lang]; ok && v != "" {
			return v
		}
	}
	for _, lang := range sortedKeys(l) {
		if l[lang] != "" {
			return l[lang]
		}
	}
	return ""
}

// Maintainer is a person responsible for the extension (Chart.yaml maintainers).
type Maintainer struct {
	Name  string `yaml:"name" json:"name,omitempty"`
	Email string `yaml:"email" json:"email,omitempty"`
	URL   string `yaml:"url" json:"url,omitempty"`
}

// Provider is the organisation that publishes the extension, per language.
type Provider struct {
	Name  string `yaml:"name" json:"name,omitempty"`
	Email string `yaml:"email" json:"email,omitempty"`
	URL   string `yaml:"url" json:"url,omitempty"`
}

// Dependency is a subchart reference with Helm's Chart.yaml syntax.
type Dependency struct {
	Name         string   `yaml:"name" json:"name"`
	Version      string   `yaml:"version" json:"version,omitempty"`
	Repository   string   `yaml:"repository" json:"repository"`
	Condition    string   `yaml:"condition" json:"condition,omitempty"`
	Tags         []string `yaml:"tags" json:"tags,omitempty"`
	Enabled      bool     `yaml:"enabled" json:"enabled,omitempty"`
	ImportValues []any    `yaml:"import-values" json:"import-values,omitempty"`
	Alias        string   `yaml:"alias" json:"alias,omitempty"`
}

// ExternalDependency is another extension that must (or may) be installed.
type ExternalDependency struct {
	Name string `yaml:"name" json:"name"`
	// Type is "extension" by convention; empty means the same.
	Type string `yaml:"type" json:"type,omitempty"`
	// Version is a semver constraint such as ">= 1.0.0-0".
	Version string `yaml:"version" json:"version"`
	// Required is a pointer so that a missing field can be reported.
	Required *bool `yaml:"required" json:"required"`
}

// IsRequired reports whether the dependency must be installed first.
func (d ExternalDependency) IsRequired() bool { return d.Required != nil && *d.Required }

// Mode returns the installation mode, defaulting to HostOnly.
func (e *Extension) Mode() InstallationMode {
	if e.InstallationMode == "" {
		return HostOnly
	}
	return e.InstallationMode
}

// TargetNamespace returns the namespace KubeSphere installs the extension
// into: spec.namespace, or "extension-<name>".
func (e *Extension) TargetNamespace() string {
	if e.Namespace != "" {
		return e.Namespace
	}
	return "extension-" + e.Name
}

// Position returns the line and column of the value of a field path such as
// "version", "provider.en.url" or "externalDependencies[1].version". For a
// field that is absent it returns the position of its closest present parent
// (ultimately the document start), so every diagnostic has a place to point.
func (e *Extension) Position(path string) (line, column int) {
	return lookupPosition(e.positions, path)
}
