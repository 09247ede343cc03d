package create

import (
	"bytes"
	"fmt"
	"os"
	"sort"

	"helm.sh/helm/v3/pkg/chart/loader"

	"github.com/ksbuilder/ksbuilder/pkg/extension"
	"github.com/ksbuilder/ksbuilder/pkg/manifest"
)

// wrappedChart is an existing Helm chart packaged as a subchart.
type wrappedChart struct {
	chartName   string
	fileName    string
	archive     []byte
	images      []string
	serviceName string
	servicePort int
	notes       []string
}

// ChartName returns the name of the chart in a Helm chart archive, to offer
// as the extension name.
func ChartName(archive string) (string, error) {
	data, err := os.ReadFile(archive)
	if err != nil {
		return "", err
	}
	c, err := loader.LoadArchive(bytes.NewReader(data))
	if err != nil {
		return "", fmt.Errorf("%s: not a Helm chart archive: %w", archive, err)
	}
	return c.Name(), nil
}

// loadWrapped reads a chart archive and renders it as it would be installed
// inside the extension (release = extension name), to find the images it
// runs and the Service the console entry should point at.
func loadWrapped(archive, extName string) (*wrappedChart, error) {
	data, err := os.ReadFile(archive)
	if err != nil {
		return nil, fmt.Errorf("--from: %w", err)
	}
	c, err := loader.LoadArchive(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("--from: %s is not a Helm chart archive: %w", archive, err)
	}
	if c.Name() == "entry" {
		return nil, fmt.Errorf("--from: the chart is named %q, which the generated console entry subchart uses; rename the chart", c.Name())
	}
	w := &wrappedChart{
		chartName:   c.Name(),
		fileName:    fmt.Sprintf("%s-%s.tgz", c.Name(), c.Metadata.Version),
		archive:     data,
		serviceName: extName,
		servicePort: 80,
	}
	rendered, err := manifest.Render(c, manifest.RenderOptions{ReleaseName: extName, Namespace: "extension-" + extName})
	if err != nil {
		w.notes = append(w.notes, fmt.Sprintf("the chart does not render with its default values (%v); fill images in extension.yaml and ingress.service in charts/entry/values.yaml yourself", err))
		return w, nil
	}
	objects, err := manifest.Objects(rendered)
	if err != nil {
		return nil, fmt.Errorf("--from: %w", err)
	}
	images := map[string]bool{}
	foundService := false
	for _, o := range objects {
		for _, ctr := range o.Containers() {
			if ctr.Image != "" {
				images[ctr.Image] = true
			}
		}
		if o.Kind == "Service" && !foundService && o.Name != "" {
			if port, ok := firstPort(o); ok {
				w.serviceName, w.servicePort, foundService = o.Name, port, true
			}
		}
	}
	for img := range images {
		w.images = append(w.images, img)
	}
	sort.Strings(w.images)
	if !foundService {
		w.notes = append(w.notes, "the chart renders no Service; set ingress.service in charts/entry/values.yaml to the address of the application")
	}
	w.notes = append(w.notes, fmt.Sprintf("the chart's cluster-scoped objects need ClusterRole rules in %s; ksbuilder lint lists the missing ones", extension.PermissionsFile))
	return w, nil
}

func firstPort(o manifest.Object) (int, bool) {
	spec, _ := o.Content["spec"].(map[string]any)
	ports, _ := spec["ports"].([]any)
	if len(ports) == 0 {
		return 0, false
	}
	p, _ := ports[0].(map[string]any)
	switch v := p["port"].(type) {
	case int:
		return v, true
	case float64:
		return int(v), true
	}
	return 0, false
}
