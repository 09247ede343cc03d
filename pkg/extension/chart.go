package extension

import (
	"bytes"
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
//
// A data-URI icon (often over 100 KB) is written into the result after
// marshalling a short placeholder in its place: the YAML encoder is slow on
// long scalars and writes this one unchanged anyway, as a plain scalar on
// one line, since base64 holds no space, quote or colon.
func MarshalChartYAML(md *chart.Metadata) ([]byte, error) {
	if !isPlainDataURI(md.Icon) {
		return yaml.Marshal(md)
	}
	light := *md
	light.Icon = iconPlaceholder
	out, err := yaml.Marshal(&light)
	if err != nil {
		return nil, err
	}
	line := []byte("\nicon: " + iconPlaceholder + "\n")
	if bytes.Count(out, line) != 1 {
		return yaml.Marshal(md)
	}
	return bytes.Replace(out, line, []byte("\nicon: "+md.Icon+"\n"), 1), nil
}

const iconPlaceholder = "ksbuilder-icon-placeholder"

// isPlainDataURI reports whether s is "data:<type>;base64,<data>" with only
// characters a YAML plain scalar takes as they are.
func isPlainDataURI(s string) bool {
	rest, ok := strings.CutPrefix(s, "data:")
	if !ok {
		return false
	}
	mime, data, ok := strings.Cut(rest, ";base64,")
	if !ok || mime == "" {
		return false
	}
	for _, r := range mime {
		if !isAlnum(r) && !strings.ContainsRune("+-./", r) {
			return false
		}
	}
	for _, r := range data {
		if !isAlnum(r) && !strings.ContainsRune("+/=", r) {
			return false
		}
	}
	return true
}

func isAlnum(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
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
