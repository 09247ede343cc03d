package extensions

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/ksbuilder/ksbuilder/pkg/kubesphere"
)

// This file holds KubeSphere's admission rules between objects of these
// kinds: two JSBundles with one link, two APIServices for one group and
// version, ReverseProxies whose matchers overlap, ExtensionEntries that
// share an entry name or link. The webhooks apply them cluster-wide, to
// objects of any extension; "install" checks a chart against the
// cluster's objects with them, and lint can check the objects of one
// package against each other.

// Objects are objects of the four kinds, such as those one extension
// renders or those on a cluster.
type Objects struct {
	JSBundles        []JSBundle
	APIServices      []APIService
	ReverseProxies   []ReverseProxy
	ExtensionEntries []ExtensionEntry
}

// Len counts the objects.
func (o *Objects) Len() int {
	return len(o.JSBundles) + len(o.APIServices) + len(o.ReverseProxies) + len(o.ExtensionEntries)
}

// DefaultBundleLink is the link KubeSphere's mutating webhook gives a
// JSBundle of an extension that names none.
func DefaultBundleLink(extension string) string {
	return BundlePathPrefix + extension + "/index.js"
}

// BundleLink is the link a JSBundle is served at: status.link, else the
// default of the extension named by its kubesphere.io/extension-ref label
// (or extension, when it has none); "" when neither names one.
func BundleLink(b *JSBundle, extension string) string {
	if b.Status.Link != "" {
		return b.Status.Link
	}
	if ref := b.Labels[kubesphere.LabelExtensionRef]; ref != "" {
		extension = ref
	}
	if extension == "" {
		return ""
	}
	return DefaultBundleLink(extension)
}

// BundleLinksConflict reports whether two JSBundle links are the same
// (KubeSphere refuses the second bundle).
func BundleLinksConflict(a, b string) bool { return a != "" && a == b }

// APIServicesConflict reports whether two APIServices serve the same group
// and version (KubeSphere refuses the second).
func APIServicesConflict(a, b *APIServiceSpec) bool {
	return a.Group == b.Group && a.Version == b.Version
}

// ProxyMatchersOverlap reports whether two ReverseProxy matchers can match
// the same request, as KubeSphere's webhook judges it: the methods are
// equal or either is "*", and the paths are equal or one falls under the
// other's prefix (a path ending in "*").
func ProxyMatchersOverlap(a, b Matcher) bool {
	if a.Method != b.Method && a.Method != MethodAny && b.Method != MethodAny {
		return false
	}
	return a.Path == b.Path || underPrefix(a.Path, b.Path) || underPrefix(b.Path, a.Path)
}

// underPrefix reports whether path falls under pattern's wildcard prefix.
func underPrefix(path, pattern string) bool {
	prefix, ok := strings.CutSuffix(pattern, "*")
	return ok && strings.HasPrefix(path, prefix)
}

// EntryKey is one entry of an ExtensionEntry as the webhook identifies
// it: its name and, when it has a string one, its link.
type EntryKey struct {
	Name string
	Link string
}

// EntryKeys reads the name and link of each entry; an entry without a
// string name is left out (the webhook refuses it on its own).
func EntryKeys(e *ExtensionEntry) []EntryKey {
	var out []EntryKey
	for _, raw := range e.Spec.Entries {
		var fields map[string]any
		data := raw.Raw
		if data == nil && raw.Object != nil {
			data, _ = json.Marshal(raw.Object)
		}
		if json.Unmarshal(data, &fields) != nil {
			continue
		}
		name, ok := fields["name"].(string)
		if !ok {
			continue
		}
		link, _ := fields["link"].(string)
		out = append(out, EntryKey{Name: name, Link: link})
	}
	return out
}

// EntriesConflict says what two ExtensionEntries share that KubeSphere
// refuses (an entry name, or a link), one phrase each; nil when nothing.
func EntriesConflict(a, b *ExtensionEntry) []string {
	theirs := EntryKeys(b)
	var out []string
	for _, ka := range EntryKeys(a) {
		for _, kb := range theirs {
			if ka.Name == kb.Name {
				out = append(out, fmt.Sprintf("entry name %q", ka.Name))
			}
			if ka.Link != "" && ka.Link == kb.Link {
				out = append(out, fmt.Sprintf("entry link %q", ka.Link))
			}
		}
	}
	return out
}

// Conflict is an object that KubeSphere's webhooks would refuse because of
// another object.
type Conflict struct {
	// Kind and Name are the refused object.
	Kind string
	Name string
	// Other is the object it clashes with (of the same kind), and
	// OtherExtension the extension that object belongs to ("" when it has
	// no kubesphere.io/extension-ref label).
	Other          string
	OtherExtension string
	// What is what they share, e.g. `link "/dist/hello/index.js"`.
	What string
}

func (c Conflict) String() string {
	owner := "no extension"
	if c.OtherExtension != "" {
		owner = "extension " + c.OtherExtension
	}
	return fmt.Sprintf("%s %s: %s is already used by %s %s of %s", c.Kind, c.Name, c.What, c.Kind, c.Other, owner)
}

// Conflicts lists the objects of ours (the objects extension renders)
// that clash with objects of theirs, in the order of ours. Default bundle
// links are derived from extension for ours and from the extension-ref
// label for theirs.
func Conflicts(ours *Objects, extension string, theirs *Objects) []Conflict {
	var out []Conflict
	owner := func(labels map[string]string) string { return labels[kubesphere.LabelExtensionRef] }
	for i := range ours.JSBundles {
		a := &ours.JSBundles[i]
		link := BundleLink(a, extension)
		for j := range theirs.JSBundles {
			b := &theirs.JSBundles[j]
			if BundleLinksConflict(link, BundleLink(b, "")) {
				out = append(out, Conflict{Kind: KindJSBundle, Name: a.Name, Other: b.Name, OtherExtension: owner(b.Labels), What: fmt.Sprintf("link %q", link)})
			}
		}
	}
	for i := range ours.APIServices {
		a := &ours.APIServices[i]
		for j := range theirs.APIServices {
			b := &theirs.APIServices[j]
			if APIServicesConflict(&a.Spec, &b.Spec) {
				out = append(out, Conflict{Kind: KindAPIService, Name: a.Name, Other: b.Name, OtherExtension: owner(b.Labels),
					What: fmt.Sprintf("group/version %s/%s (/kapis/%s/%s)", a.Spec.Group, a.Spec.Version, a.Spec.Group, a.Spec.Version)})
			}
		}
	}
	for i := range ours.ReverseProxies {
		a := &ours.ReverseProxies[i]
		for j := range theirs.ReverseProxies {
			b := &theirs.ReverseProxies[j]
			if ProxyMatchersOverlap(a.Spec.Matcher, b.Spec.Matcher) {
				out = append(out, Conflict{Kind: KindReverseProxy, Name: a.Name, Other: b.Name, OtherExtension: owner(b.Labels),
					What: fmt.Sprintf("matcher %s %s (overlaps %s %s)", a.Spec.Matcher.Method, a.Spec.Matcher.Path, b.Spec.Matcher.Method, b.Spec.Matcher.Path)})
			}
		}
	}
	for i := range ours.ExtensionEntries {
		a := &ours.ExtensionEntries[i]
		for j := range theirs.ExtensionEntries {
			b := &theirs.ExtensionEntries[j]
			if shared := EntriesConflict(a, b); len(shared) > 0 {
				out = append(out, Conflict{Kind: KindExtensionEntry, Name: a.Name, Other: b.Name, OtherExtension: owner(b.Labels), What: strings.Join(shared, ", ")})
			}
		}
	}
	return out
}

// Add adds an object, given as decoded YAML or JSON (a rendered manifest),
// when it is one of the four kinds (extensions.kubesphere.io/v1alpha1);
// it reports whether it was. An object of these kinds that does not decode
// is an error.
func (o *Objects) Add(content map[string]any) (bool, error) {
	if content["apiVersion"] != GroupVersion.String() {
		return false, nil
	}
	kind, _ := content["kind"].(string)
	var into any
	switch kind {
	case KindJSBundle:
		into = &JSBundle{}
	case KindAPIService:
		into = &APIService{}
	case KindReverseProxy:
		into = &ReverseProxy{}
	case KindExtensionEntry:
		into = &ExtensionEntry{}
	default:
		return false, nil
	}
	data, err := json.Marshal(content)
	if err != nil {
		return false, err
	}
	if err := json.Unmarshal(data, into); err != nil {
		return false, fmt.Errorf("%s: %w", kind, err)
	}
	switch v := into.(type) {
	case *JSBundle:
		o.JSBundles = append(o.JSBundles, *v)
	case *APIService:
		o.APIServices = append(o.APIServices, *v)
	case *ReverseProxy:
		o.ReverseProxies = append(o.ReverseProxies, *v)
	case *ExtensionEntry:
		o.ExtensionEntries = append(o.ExtensionEntries, *v)
	}
	return true, nil
}

// Without returns the objects whose kubesphere.io/extension-ref label is
// not extension: on a cluster, the objects of other extensions (an
// extension's own objects are upgraded, not refused).
func (o *Objects) Without(extension string) *Objects {
	other := func(labels map[string]string) bool { return labels[kubesphere.LabelExtensionRef] != extension }
	out := &Objects{}
	for _, x := range o.JSBundles {
		if other(x.Labels) {
			out.JSBundles = append(out.JSBundles, x)
		}
	}
	for _, x := range o.APIServices {
		if other(x.Labels) {
			out.APIServices = append(out.APIServices, x)
		}
	}
	for _, x := range o.ReverseProxies {
		if other(x.Labels) {
			out.ReverseProxies = append(out.ReverseProxies, x)
		}
	}
	for _, x := range o.ExtensionEntries {
		if other(x.Labels) {
			out.ExtensionEntries = append(out.ExtensionEntries, x)
		}
	}
	return out
}
