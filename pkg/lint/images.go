package lint

import (
	"fmt"
	"path"
	"strings"

	"github.com/distribution/reference"

	"github.com/ksbuilder/ksbuilder/pkg/diag"
	"github.com/ksbuilder/ksbuilder/pkg/manifest"
)

// image is a parsed image reference.
type image struct {
	named reference.Named
	// anyRegistry is set for images rendered under the marker registry:
	// their real registry is whatever KubeSphere configures.
	anyRegistry bool
}

func (i image) tag() string {
	if t, ok := i.named.(reference.Tagged); ok {
		return t.Tag()
	}
	return ""
}

func (i image) digest() string {
	if d, ok := i.named.(reference.Digested); ok {
		return d.Digest().String()
	}
	return ""
}

// sameImage compares two images by repository path, tag and digest, and by
// registry unless one of them takes it from global.imageRegistry.
func sameImage(a, b image) bool {
	if reference.Path(a.named) != reference.Path(b.named) || a.tag() != b.tag() {
		return false
	}
	if a.digest() != "" && b.digest() != "" && a.digest() != b.digest() {
		return false
	}
	return a.anyRegistry || b.anyRegistry || reference.Domain(a.named) == reference.Domain(b.named)
}

// parseRendered parses a container image from the marker render.
func (l *linter) parseRendered(ref string) (image, bool) {
	rest, under := strings.CutPrefix(ref, l.marker+"/")
	named, err := reference.ParseNormalizedNamed(rest)
	if err != nil {
		return image{}, false
	}
	return image{named: named, anyRegistry: under}, true
}

// imageRules compares extension.yaml's images with the rendered manifests:
// every listed image appears in them, and every container image is listed.
func (l *linter) imageRules() {
	var (
		listed   []image
		rendered []image
		texts    []string
	)
	type use struct {
		img image
		ref string
		loc location
		obj manifest.Object
		c   manifest.Container
	}
	var uses []use
	for _, r := range l.releases {
		for _, o := range r.objects {
			texts = append(texts, o.Text)
			if o.IsTestHook() {
				continue
			}
			for _, c := range o.Containers() {
				img, ok := l.parseRendered(c.Image)
				if !ok {
					continue
				}
				rendered = append(rendered, img)
				uses = append(uses, use{img: img, ref: strings.TrimPrefix(c.Image, l.marker+"/"), loc: l.loc.locate(o.File), obj: o, c: c})
			}
		}
	}
	for _, ref := range l.ext.Images {
		named, err := reference.ParseNormalizedNamed(strings.TrimSpace(ref))
		if err != nil {
			listed = append(listed, image{}) // reported by image-reference
			continue
		}
		listed = append(listed, image{named: named})
	}

	for i, img := range listed {
		if !l.rendered() || img.named == nil || l.imageRendered(img, rendered, texts) {
			continue
		}
		l.add(l.metadataDiagnostic(diag.Warning, RuleImageUnused, fmt.Sprintf("images[%d]", i),
			"remove it, or fix the tag to match the chart's values",
			"%q does not appear in the rendered manifests", l.ext.Images[i]))
	}

	reported := map[string]bool{}
	for _, u := range uses {
		declared := false
		for _, img := range listed {
			if img.named != nil && sameImage(img, u.img) {
				declared = true
				break
			}
		}
		key := u.loc.file + "\x00" + u.loc.inner + "\x00" + u.ref
		if declared || reported[key] {
			continue
		}
		reported[key] = true
		shown := u.ref
		if u.img.anyRegistry {
			shown = "<global.imageRegistry>/" + u.ref
		}
		l.add(u.loc.diagnostic(diag.Warning, RuleImageUndeclared, u.c.Field+".image",
			fmt.Sprintf("%s: %s runs %s, which extension.yaml images does not list", describe(u.obj), describeContainer(u.c), shown),
			"add it to images, so mirrors and offline installs include it"))
	}
}

// imageRendered reports whether a listed image is used: as a container
// image, anywhere in a rendered document in full, or as its name and tag in
// the same document (operators often take images in parts).
func (l *linter) imageRendered(img image, rendered []image, texts []string) bool {
	for _, r := range rendered {
		if sameImage(img, r) {
			return true
		}
	}
	p, tag := reference.Path(img.named), img.tag()
	full := []string{img.named.String(), reference.FamiliarString(img.named)}
	if tag != "" {
		full = append(full, p+":"+tag)
	}
	for _, t := range texts {
		for _, f := range full {
			if strings.Contains(t, f) {
				return true
			}
		}
		if tag != "" && strings.Contains(t, path.Base(p)) && strings.Contains(t, tag) {
			return true
		}
	}
	return false
}
