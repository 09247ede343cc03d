package extension

import (
	"encoding/base64"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ksbuilder/ksbuilder/pkg/diag"
)

// TestMetadataSizeLimits checks that extension.yaml and permissions.yaml
// over 1.5 MiB, or with a mapping of more than MaxMappingKeys keys (whose
// decoding is quadratic), are refused before they are decoded.
func TestMetadataSizeLimits(t *testing.T) {
	big := "name: x\ndescription:\n  en: " + strings.Repeat("x", MaxMetadataFileSize) + "\n"
	var manyKeys strings.Builder
	manyKeys.WriteString("name: x\nannotations:\n")
	for i := 0; i <= MaxMappingKeys; i++ {
		fmt.Fprintf(&manyKeys, "  k%d: v\n", i)
	}
	var manyPermKeys strings.Builder
	manyPermKeys.WriteString("kind: ClusterRole\nmetadata:\n  name: x\n  annotations:\n")
	for i := 0; i <= MaxMappingKeys; i++ {
		fmt.Fprintf(&manyPermKeys, "    k%d: v\n", i)
	}
	tests := []struct {
		name, file, text, want string
		line                   int
	}{
		{"large extension.yaml", MetadataFile, big, "the file is 1.5 MiB, over the limit of 1.5 MiB", 0},
		{"large permissions.yaml", PermissionsFile, big, "the file is 1.5 MiB, over the limit of 1.5 MiB", 0},
		{"annotations of extension.yaml", MetadataFile, manyKeys.String(), "a mapping of 1001 keys, over the limit of 1000", 3},
		{"annotations of permissions.yaml", PermissionsFile, manyPermKeys.String(), "a mapping of 1001 keys, over the limit of 1000", 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var diags diag.List
			if tt.file == MetadataFile {
				_, diags = Parse([]byte(tt.text))
			} else {
				_, diags = ParsePermissions([]byte(tt.text))
			}
			if len(diags) != 1 || diags[0].Severity != diag.Error || diags[0].File != tt.file || diags[0].Message != tt.want || diags[0].Line != tt.line {
				t.Fatalf("diagnostics = %+v, want one error %q at line %d", diags, tt.want, tt.line)
			}
		})
	}
}

func TestIconType(t *testing.T) {
	const svgNS = `xmlns="http://www.w3.org/2000/svg"`
	good := map[string]string{
		"png":             "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
		"jpeg":            "\xff\xd8\xff\xe0\x00\x10JFIF\x00",
		"gif":             "GIF89a\x01\x00\x01\x00",
		"svg":             `<svg ` + svgNS + `><path d="M0 0h1v1z"/></svg>`,
		"svg with prolog": "\ufeff<?xml version=\"1.0\"?>\n<!-- made by hand -->\n<!DOCTYPE svg PUBLIC \"-//W3C//DTD SVG 1.1//EN\" \"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd\">\n<svg " + svgNS + "/>",
		"svg with link":   `<svg ` + svgNS + ` xmlns:xlink="http://www.w3.org/1999/xlink"><a xlink:href="https://kubesphere.io"><text>x</text></a></svg>`,
	}
	for name, data := range good {
		if _, err := IconType([]byte(data)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	bad := map[string]string{
		"html":                 "<!DOCTYPE html><html><body><script>alert(1)</script></body></html>",
		"text":                 "hello",
		"script element":       `<svg ` + svgNS + `><script>alert(1)</script></svg>`,
		"event handler":        `<svg ` + svgNS + ` onload="alert(1)"/>`,
		"nested event handler": `<svg ` + svgNS + `><g><rect onClick="alert(1)"/></g></svg>`,
		"javascript URL":       `<svg ` + svgNS + `><a href=" Java&#x09;Script:alert(1)"><text>x</text></a></svg>`,
		"foreignObject":        `<svg ` + svgNS + `><foreignObject><iframe xmlns="http://www.w3.org/1999/xhtml" src="https://evil"/></foreignObject></svg>`,
		"animated href":        `<svg ` + svgNS + `><a><set attributeName="href" to="javascript:alert(1)"/></a></svg>`,
		"entity declaration":   `<!DOCTYPE svg [<!ENTITY x "y">]><svg ` + svgNS + `/>`,
		"malformed":            `<svg ` + svgNS + `><g></svg>`,
		"zip":                  "PK\x03\x04",
	}
	for name, data := range bad {
		if mime, err := IconType([]byte(data)); err == nil {
			t.Errorf("%s: accepted as %s", name, mime)
		} else if strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error on several lines: %q", name, err)
		}
	}
}

// TestIconContentChecked checks that validation reads the icon's content:
// a local file and an inline data URI alike.
func TestIconContentChecked(t *testing.T) {
	html := "<html><script>alert(1)</script></html>"
	for _, icon := range []string{"./static/icon.svg", "data:text/html;base64," + base64.StdEncoding.EncodeToString([]byte(html)),
		"data:image/png;base64," + base64.StdEncoding.EncodeToString([]byte(html))} {
		fs := contentFiles{"extension.yaml": "", "static/icon.svg": `<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>`}
		text := strings.Replace(readValid(t), "icon: ./static/icon.svg", "icon: "+icon, 1)
		_, diags := check(t, text, fs)
		var found bool
		for _, d := range diags {
			found = found || d.Code == CodeIconFile && d.Severity == diag.Error && d.Field == "icon"
		}
		if !found {
			t.Errorf("icon %.40s: no icon-file error in %v", icon, diags)
		}
	}
}

// contentFiles is a FileSet with contents.
type contentFiles map[string]string

func (f contentFiles) HasFile(name string) bool { _, ok := f[name]; return ok }
func (f contentFiles) HasDir(dir string) bool {
	for n := range f {
		if strings.HasPrefix(n, dir+"/") {
			return true
		}
	}
	return false
}
func (f contentFiles) Read(name string) ([]byte, bool) { d, ok := f[name]; return []byte(d), ok }

// TestCorpusIconsPass checks every icon and screenshot image of the corpus
// against IconType.
func TestCorpusIconsPass(t *testing.T) {
	n := 0
	err := filepath.WalkDir("../../testdata/corpus", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		switch strings.ToLower(filepath.Ext(p)) {
		case ".svg", ".png", ".jpg", ".jpeg", ".gif", ".webp", ".ico":
		default:
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		n++
		if _, err := IconType(data); err != nil {
			t.Errorf("%s: %v", p, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 9 {
		t.Errorf("only %d images found in the corpus", n)
	}
}
