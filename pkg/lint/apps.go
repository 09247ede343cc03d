package lint

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"slices"

	"helm.sh/helm/v3/pkg/chart/loader"

	"github.com/ksbuilder/ksbuilder/pkg/diag"
	"github.com/ksbuilder/ksbuilder/pkg/kubesphere/application"
	"github.com/ksbuilder/ksbuilder/pkg/suggest"
)

// RuleAppChart checks the App Store objects an extension publishes
// (create --type app): every ApplicationVersion has its chart.
const RuleAppChart = "app-chart"

// appRules checks the release's ApplicationVersions: the App Store reads a
// version's chart from the ConfigMap of the same name in its namespace
// (binaryData.BinaryKey), so that ConfigMap must be in the package and hold
// a Helm chart archive of the version's versionName; the version's app-id
// label names an Application of the package.
func (l *linter) appRules(k *releaseKinds) {
	var apps []string
	for _, a := range k.apps {
		apps = append(apps, a.o.Name)
	}
	for _, v := range k.versions {
		if id, ok := v.o.Labels()[application.LabelAppID]; ok && !slices.Contains(apps, id) && len(apps) > 0 {
			hint := "set it to the name of the Application the version belongs to"
			if s := suggest.Closest(id, apps, 2); s != "" {
				hint = fmt.Sprintf("did you mean %q?", s)
			}
			l.add(v.src.diagnostic(diag.Warning, RuleAppChart, "metadata.labels."+application.LabelAppID, application.LabelAppID, id,
				fmt.Sprintf("%s belongs to Application %q, which the package does not create: the App Store lists the version under no application of the package", v.describe(), id), hint))
		}
		cm, ok := k.configMaps[application.StoreNamespace+"/"+v.o.Name]
		if !ok {
			l.add(v.src.diagnostic(diag.Error, RuleAppChart, "metadata.name", "name", v.o.Name,
				fmt.Sprintf("%s has no chart: the App Store reads it from the ConfigMap %s/%s, which the package does not create", v.describe(), application.StoreNamespace, v.o.Name),
				fmt.Sprintf(`add that ConfigMap, with the chart archive in binaryData.%s: {{ .Files.Get "files/CHART.tgz" | b64enc }}`, application.ChartKey)))
			continue
		}
		src := k.source(l, cm)
		field := "binaryData." + application.ChartKey
		data, _ := cm.Content["binaryData"].(map[string]any)
		encoded, _ := data[application.ChartKey].(string)
		archive, err := base64.StdEncoding.DecodeString(encoded)
		if encoded == "" || err != nil || len(archive) == 0 {
			l.add(src.diagnostic(diag.Error, RuleAppChart, field, application.ChartKey, "",
				fmt.Sprintf("%s, the chart of %s, holds no chart archive: the file the template reads is not in the package", describe(cm), v.describe()),
				"put the chart archive under the subchart's files/, read it with that path in .Files.Get, and keep it out of .helmignore"))
			continue
		}
		c, err := loader.LoadArchive(bytes.NewReader(archive))
		if err != nil {
			l.add(src.diagnostic(diag.Error, RuleAppChart, field, application.ChartKey, "",
				fmt.Sprintf("%s, the chart of %s, is not a Helm chart archive: %v", describe(cm), v.describe(), err),
				"read a chart archive (helm package) into it"))
			continue
		}
		if c.Metadata.Version != v.v.Spec.VersionName {
			l.add(v.src.diagnostic(diag.Warning, RuleAppChart, "spec.versionName", "versionName", v.v.Spec.VersionName,
				fmt.Sprintf("%s says version %q, but its chart (%s) is %s %s: the App Store shows the wrong version", v.describe(), v.v.Spec.VersionName, describe(cm), c.Name(), c.Metadata.Version),
				fmt.Sprintf("set versionName to %q", c.Metadata.Version)))
		}
	}
}
