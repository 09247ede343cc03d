package lint

import (
	"fmt"

	"sigs.k8s.io/yaml"
	"slices"
	"strings"

	"github.com/ksbuilder/ksbuilder/pkg/diag"
	"github.com/ksbuilder/ksbuilder/pkg/extension"
	"github.com/ksbuilder/ksbuilder/pkg/manifest"
	"github.com/ksbuilder/ksbuilder/pkg/source"
)

// metadataDiagnostic builds a finding at a field of extension.yaml.
func (l *linter) metadataDiagnostic(sev diag.Severity, rule, field, hint, format string, args ...any) diag.Diagnostic {
	line, col := l.ext.Position(field)
	return diag.Diagnostic{Severity: sev, Code: rule, File: extension.MetadataFile, Line: line, Column: col,
		Field: field, Message: fmt.Sprintf(format, args...), Hint: hint}
}

// packageRules checks the package layout around extension.yaml: a stray
// Chart.yaml, the READMEs and remote dependencies.
func (l *linter) packageRules() {
	l.chartYAML()
	l.readmes()
	for i, d := range l.ext.Dependencies {
		repo := strings.TrimSpace(d.Repository)
		if repo == "" || strings.HasPrefix(repo, "file://") {
			continue
		}
		l.add(l.metadataDiagnostic(diag.Info, RuleDependencyRepository, fmt.Sprintf("dependencies[%d].repository", i),
			"keep the subchart under charts/ and leave repository empty",
			"%q comes from a remote repository; the KubeSphere guide asks for local subcharts, so installs never depend on the network", repo))
	}
}

// chartYAML looks at a Chart.yaml at the root. In a directory it is
// ignored, as ksbuilder generates it; in a package it must agree with
// extension.yaml, or KubeSphere and ksbuilder see different versions.
func (l *linter) chartYAML() {
	data, ok := l.src.Read("Chart.yaml")
	if !ok {
		return
	}
	if l.src.Kind != source.Archive {
		l.add(diag.Diagnostic{Severity: diag.Warning, Code: RuleChartYAMLIgnored, File: "Chart.yaml",
			Message: "ksbuilder generates Chart.yaml from extension.yaml, so this file is ignored",
			Hint:    "move what it declares (dependencies, annotations, kubeVersion) into extension.yaml and delete it"})
		return
	}
	var md struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	}
	if err := yaml.Unmarshal(data, &md); err != nil {
		return // Helm's linter reports it
	}
	if md.Name != l.ext.Name || md.Version != l.ext.Version {
		l.add(diag.Diagnostic{Severity: diag.Warning, Code: RuleChartYAMLIgnored, File: "Chart.yaml",
			Message: fmt.Sprintf("the package's Chart.yaml is %s %s but extension.yaml is %s %s; ksbuilder repackages from extension.yaml", md.Name, md.Version, l.ext.Name, l.ext.Version),
			Hint:    "package the extension again with ksbuilder package"})
	}
}

// readmes wants README.md, and README_<lang>.md for every other language of
// displayName: the console and KubeSphere Cloud show them per language.
func (l *linter) readmes() {
	if !l.src.HasFile("README.md") {
		l.add(diag.Diagnostic{Severity: diag.Info, Code: RuleReadme, File: "README.md",
			Message: "not found; the console shows it on the extension's page", Hint: "describe what the extension does and how to configure it"})
	}
	for _, lang := range sortedKeys(l.ext.DisplayName) {
		if lang == "en" || !extension.IsLanguageCode(lang) {
			continue
		}
		name := "README_" + lang + ".md"
		if !l.src.HasFile(name) {
			l.add(diag.Diagnostic{Severity: diag.Info, Code: RuleReadme, File: name,
				Message: fmt.Sprintf("not found; displayName has %q, so the console shows README.md to those readers", lang),
				Hint:    "translate README.md"})
		}
	}
}

// subchartTags checks the extension/agent tags the installer switches on.
// Multicluster: every subchart (declared or not) needs exactly one of them,
// else it renders in the host release and in every agent release. HostOnly:
// a subchart tagged only agent is never installed.
func (l *linter) subchartTags() {
	if !l.modeKnown {
		return // which tags are right depends on the mode
	}
	multi := l.ext.Mode() == extension.Multicluster
	declared := map[string]bool{}
	for i, d := range l.ext.Dependencies {
		declared[d.Name] = true
		ext, agent := slices.Contains(d.Tags, manifest.TagExtension), slices.Contains(d.Tags, manifest.TagAgent)
		field := fmt.Sprintf("dependencies[%d].tags", i)
		switch {
		case multi && !ext && !agent:
			l.add(l.metadataDiagnostic(diag.Warning, RuleSubchartTags, field,
				"tag it extension (host only, e.g. the console UI) or agent (every placed cluster)",
				"subchart %q has neither the extension nor the agent tag, so it is installed on the host and again with every agent", d.Name))
		case multi && ext && agent:
			l.add(l.metadataDiagnostic(diag.Warning, RuleSubchartTags, field, "keep one of the two tags",
				"subchart %q is tagged both extension and agent, so it is installed on the host and again with every agent", d.Name))
		case !multi && agent && !ext:
			l.add(l.metadataDiagnostic(diag.Warning, RuleSubchartTags, field,
				"tag it extension, or set installationMode: Multicluster",
				"subchart %q is tagged agent only, which a HostOnly extension never installs", d.Name))
		}
	}
	if !multi {
		return
	}
	for _, sub := range l.chart.Dependencies() {
		if declared[sub.Name()] {
			continue
		}
		loc := l.loc.Locate(l.chart.Name() + "/charts/" + sub.Name())
		l.add(loc.Diagnostic(diag.Warning, RuleSubchartTags, "",
			fmt.Sprintf("subchart %q is not declared in extension.yaml dependencies, so it has no tag and is installed on the host and again with every agent", sub.Name()),
			"declare it under dependencies with tags: [extension] or [agent]"))
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
