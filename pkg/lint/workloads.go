package lint

import (
	"fmt"
	"strings"

	"github.com/ksbuilder/ksbuilder/pkg/diag"
	"github.com/ksbuilder/ksbuilder/pkg/manifest"
)

// ManagedLabel is the label KubeSphere puts on its executor Jobs and
// ConfigMaps; after each install it deletes the Jobs and ConfigMaps of the
// extension's namespace that carry it, except the current executor's.
const ManagedLabel = "kubesphere.io/managed"

// workloadRules checks every installed object of every release: images
// under global.imageRegistry, pod specs under global.nodeSelector, and no
// ConfigMap or Job the controller's cleanup would delete.
func (l *linter) workloadRules() {
	for _, r := range l.releases {
		for _, o := range r.objects {
			if o.IsTestHook() {
				continue
			}
			loc := l.loc.Locate(o.File)
			l.managedLabel(r, o, loc)
			if spec := o.PodSpec(); spec != nil {
				l.imageRegistry(o, loc)
				l.nodeSelector(o, spec, loc)
			}
		}
	}
}

func describe(o manifest.Object) string {
	return fmt.Sprintf("%s %q", o.Kind, o.DisplayName())
}

func describeContainer(c manifest.Container) string {
	if c.Init {
		return fmt.Sprintf("init container %q", c.Name)
	}
	return fmt.Sprintf("container %q", c.Name)
}

func (l *linter) imageRegistry(o manifest.Object, loc manifest.Location) {
	for _, c := range o.Containers() {
		if c.Image == "" || strings.Contains(c.Image, l.marker) {
			continue
		}
		l.add(loc.Diagnostic(diag.Warning, RuleImageRegistry, c.Field+".image",
			fmt.Sprintf("%s: %s runs %q whatever global.imageRegistry says", describe(o), describeContainer(c), c.Image),
			`prefix the image with the registry, e.g. {{ .Values.global.imageRegistry | default .Values.image.registry }}/{{ .Values.image.repository }}`))
	}
}

func (l *linter) nodeSelector(o manifest.Object, spec map[string]any, loc manifest.Location) {
	sel, _ := spec["nodeSelector"].(map[string]any)
	if v, _ := sel["kubernetes.io/os"].(string); v == l.marker {
		return
	}
	l.add(loc.Diagnostic(diag.Warning, RuleNodeSelector, o.PodSpecField()+".nodeSelector",
		fmt.Sprintf("%s: the pod spec does not take global.nodeSelector", describe(o)),
		"merge .Values.global.nodeSelector into the pod's nodeSelector, e.g. nodeSelector: {{ merge (.Values.nodeSelector | default dict) (.Values.global.nodeSelector | default dict) | toYaml | nindent 8 }}"))
}

func (l *linter) managedLabel(r *release, o manifest.Object, loc manifest.Location) {
	isTarget := (o.Kind == "ConfigMap" && o.Group() == "") || (o.Kind == "Job" && o.Group() == "batch")
	if !isTarget || (o.Namespace != "" && o.Namespace != r.namespace) {
		return
	}
	if o.Labels()[ManagedLabel] != "true" {
		return
	}
	l.add(loc.Diagnostic(diag.Error, RuleManagedLabel, "metadata.labels."+ManagedLabel,
		fmt.Sprintf(`%s carries %s: "true", so KubeSphere deletes it after every install and upgrade, taking it for an old executor object`, describe(o), ManagedLabel),
		"remove the label; KubeSphere adds kubesphere.io/extension-ref to every object itself"))
}
