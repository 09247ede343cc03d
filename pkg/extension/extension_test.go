package extension

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/ksbuilder/ksbuilder/internal/testutil/golden"
	"github.com/ksbuilder/ksbuilder/pkg/diag"
)

// files is a FileSet for tests.
type files map[string]bool

func (f files) HasFile(name string) bool { return f[name] }
func (f files) HasDir(dir string) bool {
	for n := range f {
		if strings.HasPrefix(n, dir+"/") {
			return true
		}
	}
	return false
}

// Read returns a small valid image of the file's type.
func (f files) Read(name string) ([]byte, bool) {
	if !f[name] {
		return nil, false
	}
	if strings.HasSuffix(name, ".png") {
		return []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), true
	}
	return []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`), true
}

var validFiles = files{"static/icon.svg": true, "static/shot.png": true, "icon.svg": true}

func readValid(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("testdata/valid.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// check runs every check on extension.yaml text and renders the diagnostics.
func check(t *testing.T, text string, fs FileSet) (*Extension, diag.List) {
	t.Helper()
	return Check([]byte(text), fs)
}

func render(diags diag.List) string {
	var b strings.Builder
	for _, d := range diags {
		fmt.Fprintf(&b, "%s: %s\n", d.Severity, d.Error())
	}
	return b.String()
}

func TestValidExtension(t *testing.T) {
	ext, diags := check(t, readValid(t), validFiles)
	if len(diags) != 0 {
		t.Fatalf("want no diagnostics, got:\n%s", render(diags))
	}
	if ext.Name != "hello" || ext.Version != "0.1.0" || ext.Mode() != Multicluster {
		t.Errorf("decoded %q %q %q", ext.Name, ext.Version, ext.Mode())
	}
	if !ext.ExternalDependencies[0].IsRequired() {
		t.Error("externalDependencies[0].required should be true")
	}
	if got := ext.TargetNamespace(); got != "hello-system" {
		t.Errorf("TargetNamespace() = %q", got)
	}
	if line, col := ext.Position("provider.en.url"); line != 26 || col != 10 {
		t.Errorf("Position(provider.en.url) = %d:%d, want 26:10", line, col)
	}
	if line, col := ext.Position("dependencies[1].tags[0]"); line != 35 || col != 12 {
		t.Errorf("Position(dependencies[1].tags[0]) = %d:%d, want 35:12", line, col)
	}
	// An absent field points at its closest present parent.
	if line, col := ext.Position("maintainers[0].nickname"); line != 19 || col != 5 {
		t.Errorf("Position(maintainers[0].nickname) = %d:%d, want 19:5", line, col)
	}
}

// TestDiagnostics pins every message (golden files) for one broken variant
// of the valid extension per case.
func TestDiagnostics(t *testing.T) {
	tests := []struct {
		name    string
		replace [][2]string // old, new applied to valid.yaml
		text    string      // used instead of valid.yaml when set
		files   FileSet
	}{
		{name: "syntax-error", text: "name: hello\nversion: [0.1.0\n"},
		{name: "syntax-error-scanner", text: "name: hello\nversion: a: b\n"},
		{name: "empty-file", text: "# nothing here\n"},
		{name: "not-a-mapping", text: "- name: hello\n"},
		{name: "missing-required", text: "name: hello\n"},
		{name: "bad-name", replace: [][2]string{{"name: hello", "name: Hello_World"}}},
		{name: "long-name-multicluster", replace: [][2]string{{"name: hello", "name: a-very-long-extension-name-for-agents"}}},
		{name: "long-name-warning", replace: [][2]string{{"name: hello", "name: a-thirty-three-character-name-xyz"}, {"installationMode: Multicluster", "installationMode: HostOnly"}}},
		{name: "bad-version", replace: [][2]string{{"version: 0.1.0", "version: v1.0"}}},
		{name: "version-build-metadata", replace: [][2]string{{"version: 0.1.0", "version: 1.0.0+build.1"}}},
		{name: "version-uppercase", replace: [][2]string{{"version: 0.1.0", "version: 1.0.0-RC1"}}},
		{name: "bad-locales", replace: [][2]string{{"  en: Hello\n  zh: 你好", "  zh-CN: 你好\n  xx: ''"}}},
		{name: "unknown-category", replace: [][2]string{{"category: dev-tools", "category: monitoring"}}},
		{name: "bad-installation-mode", replace: [][2]string{{"installationMode: Multicluster", "installationMode: multicluster"}}},
		{name: "bad-constraints", replace: [][2]string{{`kubeVersion: ">=1.19.0-0"`, `kubeVersion: ">=1.19.0"`}, {`ksVersion: ">=4.1.0-0"`, `ksVersion: "not a constraint"`}}},
		{name: "bad-external-dependencies", replace: [][2]string{{"  - name: gateway\n    type: extension\n    version: \">=1.0.0-0\"\n    required: true", "  - name: hello\n    version: \">=1.0.0-0\"\n    required: true\n  - name: gateway\n    type: chart\n  - name: gateway\n    version: latest\n    required: yes"}}},
		{name: "bad-namespace", replace: [][2]string{{"namespace: hello-system", "namespace: Hello.System"}}},
		{name: "bad-urls-and-maintainers", replace: [][2]string{{"  - name: Jane\n    email: jane@example.com", "  - email: not-an-email"}, {"  - https://github.com/example/hello", "  - github.com/example/hello"}, {"home: https://example.com", "home: example.com"}}},
		{name: "duplicate-dependencies", replace: [][2]string{{"  - name: backend\n", "  - name: frontend\n"}}},
		{name: "unknown-and-duplicate-keys", replace: [][2]string{{"installationMode: Multicluster", "installationmode: Multicluster\nicon: ./static/icon.svg\nfoo: bar"}}},
		{name: "wrong-types", replace: [][2]string{{"displayName:\n  en: Hello\n  zh: 你好", "displayName: Hello"}, {"keywords: [demo]", "keywords: demo"}, {"    required: true", "    required: maybe"}}},
		{name: "missing-files", replace: [][2]string{{"icon: ./static/icon.svg", "icon: ./static/missing.svg"}, {"  - ./static/shot.png", "  - ../outside.png\n  - /abs/shot.png"}}, files: files{"static/other.txt": true}},
		{name: "icon-at-root-not-static", replace: [][2]string{{"icon: ./static/icon.svg", "icon: ./static/favicon.svg"}}, files: files{"favicon.svg": true, "static/shot.png": true}},
		{name: "icon-outside-static-dir", replace: [][2]string{{"icon: ./static/icon.svg", "icon: icon.svg"}}},
		{name: "static-dir-missing", replace: [][2]string{{"staticFileDirectory: static", "staticFileDirectory: assets"}}},
		{name: "static-dir-root", replace: [][2]string{{"staticFileDirectory: static", "staticFileDirectory: ."}}},
		{name: "remote-icon", replace: [][2]string{{"icon: ./static/icon.svg", "icon: https://example.com/icon.svg"}, {"  - ./static/shot.png", "  - data:image/png;base64,AAAA"}}, files: files{"static/readme.txt": true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := tt.text
			if text == "" {
				text = readValid(t)
				for _, r := range tt.replace {
					if !strings.Contains(text, r[0]) {
						t.Fatalf("valid.yaml does not contain %q", r[0])
					}
					text = strings.Replace(text, r[0], r[1], 1)
				}
			}
			fs := tt.files
			if fs == nil {
				fs = validFiles
			}
			_, diags := check(t, text, fs)
			golden.AssertString(t, render(diags), filepath.Join("testdata", "diagnostics", tt.name+".txt"))
		})
	}
}

func TestChartMetadata(t *testing.T) {
	ext, diags := Parse([]byte(readValid(t)))
	if diags.HasErrors() {
		t.Fatal(diags.Err())
	}
	out, err := MarshalChartYAML(ext.ChartMetadata(DataURI("static/icon.svg", []byte("<svg/>"))))
	if err != nil {
		t.Fatal(err)
	}
	golden.Assert(t, out, "testdata/Chart.yaml.golden")
}

func TestChartDescriptionFallback(t *testing.T) {
	tests := []struct {
		locales Locales
		want    string
	}{
		{Locales{"en": "English", "zh": "中文"}, "English"},
		{Locales{"zh": "中文", "de": "Deutsch"}, "中文"},
		{Locales{"fr": "Français", "de": "Deutsch"}, "Deutsch"},
		{Locales{"en": "", "de": "Deutsch"}, "Deutsch"},
		{nil, ""},
	}
	for _, tt := range tests {
		ext := &Extension{Name: "x", Version: "1.0.0", Description: tt.locales}
		if got := ext.ChartMetadata("").Description; got != tt.want {
			t.Errorf("Description for %v = %q, want %q", tt.locales, got, tt.want)
		}
	}
}

func TestDataURI(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"icon.svg", []byte("<svg/>"), "data:image/svg+xml;base64,PHN2Zy8+"},
		{"ICON.PNG", []byte{0x89, 'P', 'N', 'G'}, "data:image/png;base64,iVBORw=="},
		{"logo.ico", []byte{0, 0, 1, 0}, "data:image/x-icon;base64,AAABAA=="},
		{"logo", []byte("\x89PNG\r\n\x1a\n"), "data:image/png;base64,iVBORw0KGgo="},
	}
	for _, tt := range tests {
		if got := DataURI(tt.name, tt.data); got != tt.want {
			t.Errorf("DataURI(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestLocalPath(t *testing.T) {
	tests := []struct {
		in, want string
		wantErr  bool
	}{
		{"./static/icon.svg", "static/icon.svg", false},
		{"static//icon.svg", "static/icon.svg", false},
		{`static\icon.svg`, "static/icon.svg", false},
		{"a/../icon.svg", "icon.svg", false},
		{"../icon.svg", "", true},
		{"/etc/passwd", "", true},
		{`C:\icon.svg`, "", true},
		{".", "", true},
		{"", "", true},
	}
	for _, tt := range tests {
		got, err := LocalPath(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("LocalPath(%q) = %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
	for ref, want := range map[string]bool{"./a.svg": true, "https://x/a.svg": false, "HTTP://x": false, "data:image/png;base64,": false} {
		if IsLocal(ref) != want {
			t.Errorf("IsLocal(%q) = %v", ref, !want)
		}
	}
}

func TestValidateName(t *testing.T) {
	for name, ok := range map[string]bool{
		"hello": true, "hello-world": true, "a1": true, "": false, "Hello": false, "-a": false, "a-": false,
		"a.b": false, "a_b": false, "../x": false, strings.Repeat("a", 32): true, strings.Repeat("a", 33): false,
	} {
		if err := ValidateName(name, 32); (err == nil) != ok {
			t.Errorf("ValidateName(%q) = %v, want ok=%v", name, err, ok)
		}
	}
}

func TestLanguageCodes(t *testing.T) {
	for code, ok := range map[string]bool{"en": true, "zh": true, "zu": true, "aa": true, "bh": true,
		"EN": false, "e": false, "eng": false, "n ": false, "zh-CN": false, "xx": false, " e": false} {
		if IsLanguageCode(code) != ok {
			t.Errorf("IsLanguageCode(%q) = %v", code, !ok)
		}
	}
}

func TestPermissions(t *testing.T) {
	tests := []struct{ name, text string }{
		{"valid", "kind: ClusterRole\nrules:\n  - apiGroups: [extensions.kubesphere.io]\n    resources: [jsbundles]\n    verbs: [get, create]\n---\nkind: Role\nrules:\n  - apiGroups: ['']\n    resources: [configmaps]\n    verbs: ['*']\n"},
		{"bad-kind-and-rules", "kind: RoleBinding\n---\nkind: ClusterRole\n---\nrules: []\n---\nkind: Role\nrules:\n  - verbs: []\n    resources: [pods]\n  - verbs: [get]\n    nonResourceURLs: [/healthz]\n  - verbs: [get]\n"},
		{"syntax-error", "kind: ClusterRole\nrules:\n  - verbs: [get\n---\nkind: Role\n"},
		{"unknown-field", "kind: ClusterRole\nrule:\n  - verbs: [get]\nrules:\n  - verbs: [get]\n    nonResourceURLs: [/metrics]\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, diags := ParsePermissions([]byte(tt.text))
			var b strings.Builder
			fmt.Fprintf(&b, "cluster rules: %d, namespace rules: %d\n", len(p.ClusterRules()), len(p.NamespaceRules()))
			b.WriteString(render(diags))
			golden.AssertString(t, b.String(), filepath.Join("testdata", "permissions", tt.name+".txt"))
		})
	}
}

func TestCategories(t *testing.T) {
	if len(Categories) != 11 {
		t.Fatalf("want the 11 built-in categories, got %d", len(Categories))
	}
	if c, ok := LookupCategory("integration-delivery"); !ok || c.DisplayName != "CI / CD" {
		t.Errorf("LookupCategory(integration-delivery) = %+v, %v", c, ok)
	}
	if _, ok := LookupCategory("other"); ok {
		t.Error("other is not a built-in category")
	}
}

// FuzzParse feeds arbitrary bytes to the decoder and the checks: they must
// never panic, and every diagnostic must name extension.yaml.
func FuzzParse(f *testing.F) {
	valid, _ := os.ReadFile("testdata/valid.yaml")
	f.Add(valid)
	f.Add([]byte("name: [a, b]\nversion: {x: 1}\n"))
	f.Add([]byte("a: &x [*x]\n"))
	f.Add([]byte("---\n---\nname: x\n"))
	f.Add([]byte("provider:\n  en: [1]\nexternalDependencies: [{required: 1}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ext, diags := Parse(data)
		diags = append(diags, ext.Validate()...)
		diags = append(diags, ext.ValidateFiles(validFiles)...)
		for _, d := range diags {
			if d.File != MetadataFile {
				t.Fatalf("diagnostic without file: %+v", d)
			}
		}
		ParsePermissions(data)
	})
}

// TestMarshalChartYAMLLongIcon checks the fast path for data-URI icons
// against plain marshalling.
func TestMarshalChartYAMLLongIcon(t *testing.T) {
	data := make([]byte, 200*1024)
	for i := range data {
		data[i] = byte(i * 31)
	}
	for _, icon := range []string{
		DataURI("icon.png", data),
		DataURI("icon.svg", []byte("<svg/>")),
		"data:image/png;base64,a b", // not base64: marshalled normally
		"https://example.com/i.png", // a URL: marshalled normally
		"data:text/plain; charset=utf-8;base64,QQ==",
	} {
		md := (&Extension{Name: "x", Version: "1.0.0", Home: "https://example.com", Keywords: []string{"k"}}).ChartMetadata(icon)
		fast, err := MarshalChartYAML(md)
		if err != nil {
			t.Fatal(err)
		}
		slow, err := yaml.Marshal(md)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(fast, slow) {
			t.Errorf("icon %.40q: fast path differs from yaml.Marshal", icon)
		}
	}
}
