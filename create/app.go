package create

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"os"
	"strings"

	"helm.sh/helm/v3/pkg/chart/loader"
)

// storeApp is what the App Store templates (type App) need to know of the
// published chart.
type storeApp struct {
	// Name is the Application's name; VersionName the ApplicationVersion's
	// and its chart ConfigMap's.
	Name, VersionName string
	// ChartName, Version, Home, Description come from the chart's metadata;
	// Maintainer is its first maintainer, or "admin".
	ChartName, Version, Home, Description, Maintainer string
	// File is the archive's name under charts/base/files/.
	File string
}

// StoreJobImage is the image of the Job that marks a published application
// active (type App).
const StoreJobImage = "docker.io/kubesphere/kubectl:v1.27.4"

// storeClusterRules are the permissions.yaml rules of type App: the
// Application and ApplicationVersion (cluster-scoped), the chart ConfigMap in
// the App Store's namespace, and the Job's ClusterRole and binding. The status
// subresources are granted so that the executor may grant them to the Job.
var storeClusterRules = []permissionRule{
	{Group: "application.kubesphere.io", Resources: []string{"applications", "applicationversions"}},
	{Group: "application.kubesphere.io", Resources: []string{"applications/status", "applicationversions/status"}, Verbs: []string{"get", "patch"}},
	{Group: "", Resources: []string{"configmaps"}},
	{Group: "rbac.authorization.k8s.io", Resources: []string{"clusterrolebindings", "clusterroles"}},
}

// maxLabelValue is the longest label value Kubernetes takes; the
// Application's name is one (application.kubesphere.io/app-id).
const maxLabelValue = 63

// loadStoreApp reads the chart archive to publish and names its
// Application and ApplicationVersion. Upstream appends five random letters
// to each; here they come from a digest, so the scaffold is reproducible:
// the Application's from the extension and chart names (it stays the same
// when the chart is replaced by a newer one), the version's from the
// archive's bytes (a new chart is a new version).
func loadStoreApp(archive, extName string) (*storeApp, []byte, error) {
	data, err := os.ReadFile(archive)
	if err != nil {
		return nil, nil, fmt.Errorf("--from: %w", err)
	}
	c, err := loader.LoadArchive(bytes.NewReader(data))
	if err != nil {
		return nil, nil, fmt.Errorf("--from: %s is not a Helm chart archive: %w", archive, err)
	}
	md := c.Metadata
	base := SuggestName(md.Name)
	if base == "" {
		base = "app"
	}
	suffix := "-" + letters(extName+"/"+md.Name)
	if len(base)+len(suffix) > maxLabelValue {
		base = strings.TrimRight(base[:maxLabelValue-len(suffix)], "-")
	}
	a := &storeApp{
		Name:        base + suffix,
		ChartName:   md.Name,
		Version:     md.Version,
		Home:        md.Home,
		Description: md.Description,
		Maintainer:  "admin",
		File:        fmt.Sprintf("%s-%s.tgz", md.Name, md.Version),
	}
	if len(md.Maintainers) > 0 && md.Maintainers[0] != nil && strings.TrimSpace(md.Maintainers[0].Name) != "" {
		a.Maintainer = md.Maintainers[0].Name
	}
	appVersion := md.AppVersion
	if appVersion == "" {
		appVersion = md.Version
	}
	version := SuggestName(appVersion)
	if version == "" {
		version = "0"
	}
	a.VersionName = a.Name + "-" + version + "-" + letters(string(data))
	return a, data, nil
}

// letters returns five lower-case letters derived from s.
func letters(s string) string {
	sum := sha256.Sum256([]byte(s))
	b := make([]byte, 5)
	for i := range b {
		b[i] = 'a' + sum[i]%26
	}
	return string(b)
}
