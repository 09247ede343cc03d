package extension

import (
	"encoding/base64"
	"net/http"
	"path"
	"strings"

	"helm.sh/helm/v3/pkg/chart"
	"sigs.k8s.io/yaml"
)

// ChartMetadata converts the extension into the metadata of the Chart.yaml
// that the packager generates, with the same mapping as upstream ksbuilder:
// apiVersion v2; name, version, keywords, sources, kubeVersion, home,
// dependencies, maintainers and annotations copied; the description taken
// from the "en" text. icon is the value to store: a URL or a data URI.
//
// One deliberate difference: without an "en" description, upstream leaves
// the chart description empty; we fall back to zh, then any language.
func (e *Extension) ChartMetadata(icon string) *chart.Metadata {
	md := &chart.Metadata{
		APIVersion:  chart.APIVersionV2,
		Name:        e.Name,
		Version:     e.Version,
		Description: e.Description.Default(),
		Home:        e.Home,
		Sources:     e.Sources,
		Keywords:    e.Keywords,
		KubeVersion: e.KubeVersion,
		Icon:        icon,
		Annotations: e.Annotations,
	}
	for _, m := range e.Maintainers {
		md.Maintainers = append(md.Maintainers, &chart.Maintainer{Name: m.Name, Email: m.Email, URL: m.URL})
	}
	for _, d := range e.Dependencies {
		md.Dependencies = append(md.Dependencies, &chart.Dependency{
			Name:         d.Name,
			Version:      d.Version,
			Repository:   d.Repository,
			Condition:    d.Condition,
			Tags:         d.Tags,
			Enabled:      d.Enabled,
			ImportValues: d.ImportValues,
			Alias:        d.Alias,
		})
	}
	return md
}

// MarshalChartYAML renders chart metadata the way Helm writes Chart.yaml
// into a package: through its JSON field names, keys sorted.
func MarshalChartYAML(md *chart.Metadata) ([]byte, error) {
	return yaml.Marshal(md)
}

// imageTypes fixes the MIME type of common icon formats, so the data URI
// does not depend on the machine's MIME tables.
var imageTypes = map[string]string{
	".svg":  "image/svg+xml",
	".png":  "image/png",
	".jpg":  "image/jpeg",
	".jpeg": "image/jpeg",
	".gif":  "image/gif",
	".webp": "image/webp",
	".ico":  "image/x-icon",
	".avif": "image/avif",
	".bmp":  "image/bmp",
}

// DataURI encodes a file as "data:<mime>;base64,<data>". The MIME type comes
// from the file extension, or from the content when the extension is unknown.
func DataURI(name string, data []byte) string {
	mime, ok := imageTypes[strings.ToLower(path.Ext(name))]
	if !ok {
		mime = http.DetectContentType(data)
	}
	return "data:" + mime + ";base64," + base64.StdEncoding.EncodeToString(data)
}
