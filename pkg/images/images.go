// Package images lists the container images that installing an extension
// pulls: those of the rendered host and agent releases, the images listed
// in extension.yaml and the executor hook images of its annotations.
package images

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"helm.sh/helm/v3/pkg/chart"

	"github.com/ksbuilder/ksbuilder/pkg/extension"
	"github.com/ksbuilder/ksbuilder/pkg/manifest"
)

// Origins of an image.
const (
	OriginHost       = "host"
	OriginAgent      = "agent"
	OriginList       = "extension.yaml"
	OriginAnnotation = "annotation"
)

// extensionFile is where listed and hook images are written.
const extensionFile = "extension.yaml"

// Source is one place an image comes from.
type Source struct {
	// Origin is OriginHost or OriginAgent (a rendered manifest), OriginList
	// (extension.yaml images) or OriginAnnotation (an executor hook image).
	Origin string `json:"origin"`
	// File is the template ("hello/templates/deployment.yaml") or
	// "extension.yaml".
	File string `json:"file"`
	// Object is "Kind/name" of a rendered object.
	Object string `json:"object,omitempty"`
	// Container is the container's name in a rendered object.
	Container string `json:"container,omitempty"`
	// Field is the field of extension.yaml ("images[0]",
	// "annotations.<key>") or of the object.
	Field string `json:"field,omitempty"`
	// Written is the reference as written there ("nginx"), which may be a
	// short form of the image's.
	Written string `json:"written"`
}

// Image is one image with where it comes from.
type Image struct {
	// Image is the normalised reference, as container runtimes read it:
	// with its registry, library/ for a Docker Hub official image, and
	// the tag latest when neither tag nor digest is written
	// ("docker.io/library/nginx:latest"). A reference that does not parse
	// is kept as written.
	Image   string   `json:"image"`
	Sources []Source `json:"sources"`
}

// Normalize returns the reference as container runtimes read it
// ("nginx" → "docker.io/library/nginx:latest"), so the forms of one image
// compare equal.
func Normalize(ref string) (string, error) {
	r, err := extension.ParseImageRef(ref)
	if err != nil {
		return "", err
	}
	if r.Tag == "" && r.Digest == "" {
		r.Tag = "latest"
	}
	return r.String(), nil
}

// List renders the host release and, for a Multicluster extension, the
// agent release with values as KubeSphere's installer would, and returns
// every image, deduplicated by normalised reference ("nginx" and
// "docker.io/library/nginx:latest" are one image) and sorted.
func List(ext *extension.Extension, c *chart.Chart, values map[string]any) ([]Image, error) {
	found := map[string][]Source{}
	add := func(img string, s Source) {
		img = strings.TrimSpace(img)
		if img == "" {
			return
		}
		s.Written = img
		if n, err := Normalize(img); err == nil {
			img = n
		}
		found[img] = append(found[img], s)
	}
	sides := []manifest.Side{manifest.Host}
	origins := []string{OriginHost}
	if ext.Mode() == extension.Multicluster {
		sides = append(sides, manifest.Agent)
		origins = append(origins, OriginAgent)
	}
	for i, side := range sides {
		m, err := manifest.InstallerManifests(ext, c, side, manifest.CopyValues(values), manifest.ManifestOptions{})
		if err != nil {
			return nil, fmt.Errorf("rendering the %s release: %w", side, err)
		}
		rendered := map[string]string{}
		for _, d := range m.Documents {
			rendered[d.Source] += "\n---\n" + d.Content
		}
		objects, err := manifest.Objects(rendered)
		if err != nil {
			return nil, fmt.Errorf("the %s release: %w", side, err)
		}
		for _, o := range objects {
			for _, ctr := range o.Containers() {
				add(ctr.Image, Source{Origin: origins[i], File: o.File, Object: o.Kind + "/" + o.Name, Container: ctr.Name, Field: ctr.Field})
			}
		}
	}
	for i, img := range ext.Images {
		add(img, Source{Origin: OriginList, File: extensionFile, Field: fmt.Sprintf("images[%d]", i)})
	}
	keys := make([]string, 0, len(ext.Annotations))
	for k := range ext.Annotations {
		if k == extension.HookImageAnnotation || strings.HasPrefix(k, extension.HookImageAnnotation+"/") {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		add(ext.Annotations[k], Source{Origin: OriginAnnotation, File: extensionFile, Field: "annotations." + k})
	}

	out := make([]Image, 0, len(found))
	for img, sources := range found {
		out = append(out, Image{Image: img, Sources: sources})
	}
	slices.SortFunc(out, func(a, b Image) int { return cmp.Compare(a.Image, b.Image) })
	return out, nil
}
