package lint

import (
	"fmt"
	"path"
	"strings"

	"github.com/ksbuilder/ksbuilder/pkg/diag"
	"github.com/ksbuilder/ksbuilder/pkg/extension"
	"github.com/ksbuilder/ksbuilder/pkg/manifest"
)

// image is a parsed image reference.
type image struct {
	ref extension.ImageRef
	// valid is false for a listed image that does not parse (reported by
	// the image-reference rule).
	valid bool
	// anyRegistry is set for images rendered under the marker registry:
	// their real registry is whatever KubeSphere configures.
	anyRegistry bool
}

// sameImage compares two images by repository path, tag and digest, and by
// registry unless one of them takes it from global.imageRegistry.
func sameImage(a, b image) bool {
	if a.ref.Path != b.ref.Path || a.ref.Tag != b.ref.Tag {
		return false
	}
	if a.ref.Digest != "" && b.ref.Digest != "" && a.ref.Digest != b.ref.Digest {
		return false
	}
	return a.anyRegistry || b.anyRegistry || a.ref.Domain == b.ref.Domain
}

// parseRendered parses a container image from the marker render.
func (l *linter) parseRendered(ref string) (image, bool) {
	rest, under := strings.CutPrefix(ref, l.marker+"/")
	r, err := extension.ParseImageRef(rest)
	if err != nil {
		return image{}, false
	}
	return image{ref: r, valid: true, anyRegistry: under}, true
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
		loc manifest.Location
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
				uses = append(uses, use{img: img, ref: strings.TrimPrefix(c.Image, l.marker+"/"), loc: l.loc.Locate(o.File), obj: o, c: c})
			}
		}
	}
	for _, ref := range l.ext.Images {
		r, err := extension.ParseImageRef(ref)
		listed = append(listed, image{ref: r, valid: err == nil})
	}

	for i, img := range listed {
		if !l.rendered() || !img.valid || l.imageRendered(img, rendered, texts) {
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
			if img.valid && sameImage(img, u.img) {
				declared = true
				break
			}
		}
		key := u.loc.File + "\x00" + u.loc.Inner + "\x00" + u.ref
		if declared || reported[key] {
			continue
		}
		reported[key] = true
		shown := u.ref
		if u.img.anyRegistry {
			shown = "<global.imageRegistry>/" + u.ref
		}
		l.add(u.loc.Diagnostic(diag.Warning, RuleImageUndeclared, u.c.Field+".image",
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
	p, tag := img.ref.Path, img.ref.Tag
	full := []string{img.ref.String(), img.ref.Familiar()}
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
