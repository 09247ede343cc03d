package create

import (
	"bytes"
	"fmt"
	"os"
	"slices"
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
	// clusterRules and roleRules are the permissions.yaml rules the
	// chart's objects need beyond KubeSphere's default Role.
	clusterRules, roleRules []permissionRule
	notes                   []string
}

// permissionRule grants Verbs (every verb Helm uses when empty) on
// resources of one API group.
type permissionRule struct {
	Group     string
	Resources []string
	Verbs     []string
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
	// KubeSphere's installer passes global.imageRegistry and
	// global.nodeSelector; charts written for it read them unguarded.
	vals := map[string]any{"global": map[string]any{"imageRegistry": "", "nodeSelector": map[string]any{}}}
	release, err := manifest.RenderRelease(c, manifest.RenderOptions{ReleaseName: extName, Namespace: "extension-" + extName, Values: vals})
	if err != nil {
		w.notes = append(w.notes, fmt.Sprintf("the chart does not render with its default values (%v); fill images in extension.yaml, ingress.service in charts/entry/values.yaml and %s yourself", err, extension.PermissionsFile))
		return w, nil
	}
	objects, err := manifest.Objects(release.Templates)
	if err != nil {
		return nil, fmt.Errorf("--from: %w", err)
	}
	crds, err := manifest.Objects(release.CRDs)
	if err != nil {
		return nil, fmt.Errorf("--from: %w", err)
	}
	images := map[string]bool{}
	foundService := false
	for _, o := range objects {
		for _, ctr := range o.Containers() {
			if ctr.Image == "" {
				continue
			}
			if _, err := extension.ParseImageRef(ctr.Image); err != nil {
				w.notes = append(w.notes, fmt.Sprintf("%s renders the image %q, which is not a valid reference with the default values; list the image it runs in extension.yaml yourself", o.File, ctr.Image))
				continue
			}
			images[ctr.Image] = true
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
	w.clusterRules, w.roleRules = permissionsFor(append(crds, objects...), "extension-"+extName)
	if n := len(w.clusterRules) + len(w.roleRules); n > 0 {
		w.notes = append(w.notes, fmt.Sprintf("%s grants what the chart creates with its default values (%d API groups beyond KubeSphere's default Role); review it, and narrow it where you can", extension.PermissionsFile, n))
	}
	return w, nil
}

// permissionsFor works out the rules Helm needs to install, upgrade and
// uninstall objects into namespace, as "ksbuilder lint" checks them:
// cluster-scoped objects and objects of other namespaces need ClusterRole
// rules; objects of the namespace need Role rules unless KubeSphere's
// default Role covers their API group. Kinds that CRDs of the chart define
// take the CRD's scope; unknown kinds are taken as namespaced.
func permissionsFor(objects []manifest.Object, namespace string) (cluster, role []permissionRule) {
	defined := map[string]manifest.Resource{}
	for _, o := range objects {
		if kind, res, ok := manifest.CRDResource(o); ok {
			defined[res.Group+"/"+kind] = res
		}
	}
	clusterSet, roleSet := map[string]map[string]bool{}, map[string]map[string]bool{}
	add := func(set map[string]map[string]bool, group, resource string) {
		if set[group] == nil {
			set[group] = map[string]bool{}
		}
		set[group][resource] = true
	}
	for _, o := range objects {
		if o.Kind == "" {
			continue
		}
		group := o.Group()
		res, ok := manifest.LookupKind(group, o.Kind)
		if !ok {
			if res, ok = defined[group+"/"+o.Kind]; !ok {
				res = manifest.Resource{Group: group, Resource: manifest.GuessResource(group, o.Kind), Namespaced: true}
			}
		}
		switch {
		case !res.Namespaced || (o.Namespace != "" && o.Namespace != namespace):
			add(clusterSet, res.Group, res.Resource)
		case !slices.Contains(extension.DefaultRoleAPIGroups, res.Group):
			add(roleSet, res.Group, res.Resource)
		}
	}
	return sortedRules(clusterSet), sortedRules(roleSet)
}

// sortedRules turns group -> resources into rules sorted by group.
func sortedRules(set map[string]map[string]bool) []permissionRule {
	var rules []permissionRule
	for group, resources := range set {
		r := permissionRule{Group: group}
		for res := range resources {
			r.Resources = append(r.Resources, res)
		}
		sort.Strings(r.Resources)
		rules = append(rules, r)
	}
	sort.Slice(rules, func(i, j int) bool { return rules[i].Group < rules[j].Group })
	return rules
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
