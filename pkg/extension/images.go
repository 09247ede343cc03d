package extension

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ksbuilder/ksbuilder/pkg/diag"
)

// Diagnostic codes of the image checks.
const (
	CodeImageReference = "image-reference"
	CodeHookImage      = "hook-image"
)

// HookImageAnnotation is the annotation (copied to the ExtensionVersion)
// that sets the image of the init container KubeSphere runs before every
// executor job; HookImageAnnotation + "/install", "/upgrade" or
// "/uninstall" overrides it for one action.
const HookImageAnnotation = "executor-hook-image.kubesphere.io"

// HookActions are the suffixes of the per-action hook-image annotations.
var HookActions = []string{"install", "upgrade", "uninstall"}

// images checks the images list: each entry a valid reference, listed once.
func (v *validator) images() {
	seen := map[string]int{}
	for i, img := range v.ext.Images {
		field := fmt.Sprintf("images[%d]", i)
		ref, err := ParseImageRef(img)
		canonical := ref.String()
		if err != nil {
			v.add(diag.Error, CodeImageReference, field, "write registry/repository:tag, e.g. docker.io/library/nginx:1.27",
				"%q is not a valid image reference: %v", img, err)
			continue
		}
		if first, dup := seen[canonical]; dup {
			v.add(diag.Warning, CodeImageReference, field, "remove the duplicate",
				"%q is already listed as images[%d]", img, first)
			continue
		}
		seen[canonical] = i
	}
}

// hookImages checks the executor-hook-image annotations: known keys only,
// and each value an image reference.
func (v *validator) hookImages() {
	for _, key := range sortedKeys(v.ext.Annotations) {
		if key != HookImageAnnotation && !strings.HasPrefix(key, HookImageAnnotation+"/") {
			continue
		}
		field := "annotations." + key
		if action, ok := strings.CutPrefix(key, HookImageAnnotation+"/"); ok && !slices.Contains(HookActions, action) {
			v.add(diag.Warning, CodeHookImage, field,
				fmt.Sprintf("use %s or %s/{%s}", HookImageAnnotation, HookImageAnnotation, strings.Join(HookActions, ",")),
				"KubeSphere ignores this annotation: %q is not an executor action", action)
			continue
		}
		value := v.ext.Annotations[key]
		if strings.TrimSpace(value) == "" {
			v.add(diag.Error, CodeHookImage, field, "set an image such as kubesphere/ks-extension-upgrade:v0.3.2, or remove the annotation",
				"the hook image must not be empty")
			continue
		}
		if _, err := ParseImageRef(value); err != nil {
			v.add(diag.Error, CodeHookImage, field, "write registry/repository:tag",
				"%q is not a valid image reference: %v", value, err)
		}
	}
}
