package extensions

import (
	"reflect"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

func TestProxyMatchersOverlap(t *testing.T) {
	for _, tc := range []struct {
		a, b Matcher
		want bool
	}{
		{Matcher{Method: "GET", Path: "/proxy/a"}, Matcher{Method: "GET", Path: "/proxy/a"}, true},
		{Matcher{Method: "GET", Path: "/proxy/a"}, Matcher{Method: "POST", Path: "/proxy/a"}, false},
		{Matcher{Method: "*", Path: "/proxy/a"}, Matcher{Method: "POST", Path: "/proxy/a"}, true},
		{Matcher{Method: "GET", Path: "/proxy/a"}, Matcher{Method: "*", Path: "/proxy/a"}, true},
		{Matcher{Method: "*", Path: "/proxy/a/*"}, Matcher{Method: "GET", Path: "/proxy/a/b"}, true},
		{Matcher{Method: "GET", Path: "/proxy/a/b"}, Matcher{Method: "*", Path: "/proxy/a/*"}, true},
		{Matcher{Method: "*", Path: "/proxy/a/*"}, Matcher{Method: "*", Path: "/proxy/ab"}, false},
		{Matcher{Method: "*", Path: "/proxy/a*"}, Matcher{Method: "*", Path: "/proxy/ab"}, true},
		{Matcher{Method: "*", Path: "/proxy/a/*"}, Matcher{Method: "*", Path: "/proxy/a/b/*"}, true},
		{Matcher{Method: "*", Path: "/proxy/grafana/*"}, Matcher{Method: "*", Path: "/proxy/loki/*"}, false},
		{Matcher{Method: "GET", Path: "/proxy/a/*"}, Matcher{Method: "PUT", Path: "/proxy/a/b"}, false},
	} {
		if got := ProxyMatchersOverlap(tc.a, tc.b); got != tc.want {
			t.Errorf("ProxyMatchersOverlap(%v, %v) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestBundleLink(t *testing.T) {
	labelled := func(ext, link string) *JSBundle {
		b := &JSBundle{}
		if ext != "" {
			b.Labels = map[string]string{"kubesphere.io/extension-ref": ext}
		}
		b.Status.Link = link
		return b
	}
	for _, tc := range []struct {
		b         *JSBundle
		extension string
		want      string
	}{
		{labelled("", ""), "hello", "/dist/hello/index.js"},
		{labelled("", "/dist/hello/v2.js"), "hello", "/dist/hello/v2.js"},
		{labelled("other", ""), "hello", "/dist/other/index.js"},
		{labelled("", ""), "", ""},
	} {
		if got := BundleLink(tc.b, tc.extension); got != tc.want {
			t.Errorf("BundleLink(%+v, %q) = %q, want %q", tc.b, tc.extension, got, tc.want)
		}
	}
	if BundleLinksConflict("", "") {
		t.Error("two empty links conflict")
	}
	if !BundleLinksConflict("/dist/a/index.js", "/dist/a/index.js") || BundleLinksConflict("/dist/a/index.js", "/dist/b/index.js") {
		t.Error("BundleLinksConflict compares links wrongly")
	}
}

func TestAPIServicesConflict(t *testing.T) {
	a := &APIServiceSpec{Group: "hello.kubesphere.io", Version: "v1alpha1"}
	for _, tc := range []struct {
		b    APIServiceSpec
		want bool
	}{
		{APIServiceSpec{Group: "hello.kubesphere.io", Version: "v1alpha1"}, true},
		{APIServiceSpec{Group: "hello.kubesphere.io", Version: "v1alpha2"}, false},
		{APIServiceSpec{Group: "other.kubesphere.io", Version: "v1alpha1"}, false},
	} {
		if got := APIServicesConflict(a, &tc.b); got != tc.want {
			t.Errorf("APIServicesConflict(%v, %v) = %v, want %v", a, tc.b, got, tc.want)
		}
	}
}

func entry(name string, entries ...string) ExtensionEntry {
	e := ExtensionEntry{ObjectMeta: metav1.ObjectMeta{Name: name}}
	for _, raw := range entries {
		e.Spec.Entries = append(e.Spec.Entries, runtime.RawExtension{Raw: []byte(raw)})
	}
	return e
}

func TestEntriesConflict(t *testing.T) {
	a := entry("a", `{"name": "hello", "link": "/hello"}`, `{"name": 3}`, `{"name": "other"}`)
	for _, tc := range []struct {
		b    ExtensionEntry
		want []string
	}{
		{entry("b", `{"name": "hello"}`), []string{`entry name "hello"`}},
		{entry("b", `{"name": "bye", "link": "/hello"}`), []string{`entry link "/hello"`}},
		{entry("b", `{"name": "bye", "link": "/bye"}`, `{"name": 3}`), nil},
		{entry("b", `{"name": "other"}`, `{"name": "x", "link": "/hello"}`), []string{`entry link "/hello"`, `entry name "other"`}},
	} {
		if got := EntriesConflict(&a, &tc.b); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("EntriesConflict with %s = %q, want %q", tc.b.Spec.Entries, got, tc.want)
		}
	}
	if got := EntryKeys(&a); !reflect.DeepEqual(got, []EntryKey{{"hello", "/hello"}, {"other", ""}}) {
		t.Errorf("EntryKeys = %v", got)
	}
}

// manifest is a rendered object of the kinds, as a chart writes it.
func manifest(kind, name string, fields map[string]any) map[string]any {
	out := map[string]any{"apiVersion": "extensions.kubesphere.io/v1alpha1", "kind": kind, "metadata": map[string]any{"name": name}}
	for k, v := range fields {
		out[k] = v
	}
	return out
}

func TestConflicts(t *testing.T) {
	ours := &Objects{}
	for _, m := range []map[string]any{
		manifest("JSBundle", "hello", nil),
		manifest("APIService", "v1alpha1.hello", map[string]any{"spec": map[string]any{"group": "hello.io", "version": "v1alpha1", "url": "http://x"}}),
		manifest("ReverseProxy", "hello", map[string]any{"spec": map[string]any{"matcher": map[string]any{"method": "*", "path": "/proxy/hello/*"}, "upstream": map[string]any{"url": "http://x"}}}),
		manifest("ExtensionEntry", "hello", map[string]any{"spec": map[string]any{"entries": []any{map[string]any{"name": "hello", "link": "/hello"}}}}),
		{"apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService", "metadata": map[string]any{"name": "v1.metrics"}},
		{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "x"}},
	} {
		if _, err := ours.Add(m); err != nil {
			t.Fatal(err)
		}
	}
	if ours.Len() != 4 {
		t.Fatalf("Add kept %d objects, want the 4 of extensions.kubesphere.io", ours.Len())
	}
	if _, err := (&Objects{}).Add(manifest("JSBundle", "bad", map[string]any{"spec": "text"})); err == nil {
		t.Error("Add decoded a JSBundle whose spec is a string")
	}

	label := func(ext string) map[string]any { return map[string]any{"kubesphere.io/extension-ref": ext} }
	cluster := &Objects{}
	for _, m := range []map[string]any{
		// Another extension's bundle with our default link.
		{"apiVersion": "extensions.kubesphere.io/v1alpha1", "kind": "JSBundle", "metadata": map[string]any{"name": "squatter", "labels": label("other")}, "status": map[string]any{"link": "/dist/hello/index.js"}},
		// Its default link differs.
		{"apiVersion": "extensions.kubesphere.io/v1alpha1", "kind": "JSBundle", "metadata": map[string]any{"name": "other", "labels": label("other")}},
		// Our own, from the installed version.
		{"apiVersion": "extensions.kubesphere.io/v1alpha1", "kind": "APIService", "metadata": map[string]any{"name": "v1alpha1.hello", "labels": label("hello")}, "spec": map[string]any{"group": "hello.io", "version": "v1alpha1"}},
		{"apiVersion": "extensions.kubesphere.io/v1alpha1", "kind": "APIService", "metadata": map[string]any{"name": "stolen", "labels": label("other")}, "spec": map[string]any{"group": "hello.io", "version": "v1alpha1"}},
		{"apiVersion": "extensions.kubesphere.io/v1alpha1", "kind": "ReverseProxy", "metadata": map[string]any{"name": "wide", "labels": label("other")}, "spec": map[string]any{"matcher": map[string]any{"method": "GET", "path": "/proxy/*"}}},
		{"apiVersion": "extensions.kubesphere.io/v1alpha1", "kind": "ExtensionEntry", "metadata": map[string]any{"name": "menu"}, "spec": map[string]any{"entries": []any{map[string]any{"name": "x", "link": "/hello"}}}},
	} {
		if _, err := cluster.Add(m); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for _, c := range Conflicts(ours, "hello", cluster.Without("hello")) {
		got = append(got, c.String())
	}
	want := []string{
		`JSBundle hello: link "/dist/hello/index.js" is already used by JSBundle squatter of extension other`,
		`APIService v1alpha1.hello: group/version hello.io/v1alpha1 (/kapis/hello.io/v1alpha1) is already used by APIService stolen of extension other`,
		`ReverseProxy hello: matcher * /proxy/hello/* (overlaps GET /proxy/*) is already used by ReverseProxy wide of extension other`,
		`ExtensionEntry hello: entry link "/hello" is already used by ExtensionEntry menu of no extension`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("Conflicts:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	own := &Objects{APIServices: cluster.APIServices[:1]}
	if c := Conflicts(ours, "hello", own.Without("hello")); len(c) != 0 {
		t.Errorf("conflicts with the extension's own objects: %v", c)
	}
}

// The overlap is symmetric, and a matcher overlaps itself.
func FuzzProxyMatchersOverlap(f *testing.F) {
	f.Add("GET", "/proxy/a/*", "*", "/proxy/a/b")
	f.Add("POST", "/proxy/a", "GET", "/proxy/a")
	f.Add("*", "*", "PUT", "")
	f.Fuzz(func(t *testing.T, m1, p1, m2, p2 string) {
		a, b := Matcher{Method: m1, Path: p1}, Matcher{Method: m2, Path: p2}
		if ProxyMatchersOverlap(a, b) != ProxyMatchersOverlap(b, a) {
			t.Errorf("overlap of %v and %v is not symmetric", a, b)
		}
		if !ProxyMatchersOverlap(a, a) {
			t.Errorf("%v does not overlap itself", a)
		}
	})
}

// Any entries decode without panicking, and an ExtensionEntry clashes with
// itself on every entry it names.
func FuzzEntryKeys(f *testing.F) {
	f.Add(`{"name": "a", "link": "/a"}`)
	f.Add(`{"name": 1}`)
	f.Add(`[1, 2]`)
	f.Add(`null`)
	f.Fuzz(func(t *testing.T, raw string) {
		e := entry("e", raw)
		keys := EntryKeys(&e)
		if len(keys) > 0 && len(EntriesConflict(&e, &e)) < len(keys) {
			t.Errorf("%s: entries %v do not clash with themselves", raw, keys)
		}
	})
}
