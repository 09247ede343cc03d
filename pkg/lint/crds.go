package lint

import (
	"fmt"
	"path"

	"github.com/ksbuilder/ksbuilder/pkg/diag"
	"github.com/ksbuilder/ksbuilder/pkg/extension"
	"github.com/ksbuilder/ksbuilder/pkg/manifest"
)

// crdUpgrade points out crds/ directories when no hook image is set to
// upgrade them: Helm creates the CRDs there on install and never touches
// them again, so new CRD versions never reach upgraded clusters.
func (l *linter) crdUpgrade() {
	for _, key := range []string{extension.HookImageAnnotation, extension.HookImageAnnotation + "/upgrade"} {
		if l.ext.Annotations[key] != "" {
			return
		}
	}
	seen := map[manifest.Location]bool{}
	for _, r := range l.releases {
		for _, o := range r.crds {
			loc := l.loc.Locate(path.Dir(o.File))
			if seen[loc] {
				continue
			}
			seen[loc] = true
			l.add(loc.Diagnostic(diag.Info, RuleCRDUpgrade, "",
				"Helm creates the CRDs of this directory on install but never upgrades them",
				fmt.Sprintf("render CRDs from templates/, or set the annotation %s/upgrade to an image that applies them, such as kubesphere/ks-extension-upgrade (KubeSphere 4.2 or later)", extension.HookImageAnnotation)))
		}
	}
}
