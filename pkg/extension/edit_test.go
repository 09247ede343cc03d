package extension

import (
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestEditMetadata(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		edit    MetadataEdit
		want    string
		wantErr string
	}{
		{
			name: "keeps comments, order and quoting",
			in: "\ufeff# top comment\n" +
				"name: hello # trailing\n" +
				"version: 0.1.0\n" +
				"# static files are uploaded by push\n" +
				"staticFileDirectory: static\n" +
				"icon: \"./static/icon.svg\"\n" +
				"screenshots:\n" +
				"  - https://example.com/remote.png\n" +
				"  - ./static/a.png # first local\n" +
				"  - 'static/b.png'\n" +
				"zeta: last\n",
			edit: MetadataEdit{
				Icon:        "https://cdn.example.com/u/hello/0.1.0/icon.svg",
				Screenshots: map[int]string{1: "https://cdn.example.com/u/hello/0.1.0/a.png", 2: "https://cdn.example.com/u/hello/0.1.0/b.png"},
				Remove:      []string{"staticFileDirectory"},
			},
			want: "# top comment\n" +
				"name: hello # trailing\n" +
				"version: 0.1.0\n" +
				"# static files are uploaded by push\n" +
				"icon: \"https://cdn.example.com/u/hello/0.1.0/icon.svg\"\n" +
				"screenshots:\n" +
				"  - https://example.com/remote.png\n" +
				"  - https://cdn.example.com/u/hello/0.1.0/a.png # first local\n" +
				"  - 'https://cdn.example.com/u/hello/0.1.0/b.png'\n" +
				"zeta: last\n",
		},
		{
			name: "removing the last key drops its comment",
			in:   "name: a\n# gone\nstaticFileDirectory: static\n",
			edit: MetadataEdit{Remove: []string{"staticFileDirectory", "absent"}},
			want: "name: a\n",
		},
		{
			name: "a value that needs quoting gets it",
			in:   "icon: x.png\n",
			edit: MetadataEdit{Icon: "https://x/a: b.png"},
			want: "icon: 'https://x/a: b.png'\n",
		},
		{
			name: "an anchored icon keeps its other uses valid",
			in:   "icon: &ico ./static/icon.svg\nscreenshots:\n  - *ico # same\n  - ./static/a.png\ndescription: *ico\n",
			edit: MetadataEdit{Icon: "https://cdn/icon.svg", Screenshots: map[int]string{0: "https://cdn/icon.svg", 1: "https://cdn/a.png"}},
			want: "icon: https://cdn/icon.svg\nscreenshots:\n  - https://cdn/icon.svg # same\n  - https://cdn/a.png\ndescription: ./static/icon.svg\n",
		},
		{
			name: "an icon that is an alias leaves the anchor alone",
			in:   "description: &ico ./static/icon.svg\nicon: *ico\n",
			edit: MetadataEdit{Icon: "https://cdn/icon.svg"},
			want: "description: &ico ./static/icon.svg\nicon: https://cdn/icon.svg\n",
		},
		{
			name: "an aliased screenshot list is copied",
			in:   "x: &shots\n  - &a ./static/a.png\nscreenshots: *shots\ny: *a\n",
			edit: MetadataEdit{Screenshots: map[int]string{0: "https://cdn/a.png"}},
			want: "x: &shots\n  - &a ./static/a.png\nscreenshots:\n  - https://cdn/a.png\ny: *a\n",
		},
		{name: "no icon", in: "name: a\n", edit: MetadataEdit{Icon: "https://x"}, wantErr: "no icon to replace"},
		{name: "screenshot out of range", in: "screenshots: [a]\n", edit: MetadataEdit{Screenshots: map[int]string{1: "x"}}, wantErr: "no screenshots[1]"},
		{name: "screenshots not a list", in: "screenshots: a\n", edit: MetadataEdit{Screenshots: map[int]string{0: "x"}}, wantErr: "screenshots is not a list"},
		{name: "not a mapping", in: "- a\n", wantErr: "not a mapping"},
		{name: "bad YAML", in: "a: [\n", wantErr: "extension.yaml: yaml:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := EditMetadata([]byte(tt.in), tt.edit)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Fatalf("got:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

// FuzzEditMetadata: whatever extension.yaml holds (anchors, aliases,
// comments, several documents), a successful edit gives a document that
// reads as the original with the icon and the first screenshot replaced.
func FuzzEditMetadata(f *testing.F) {
	for _, s := range []string{
		"icon: &ico ./static/icon.svg\nscreenshots:\n  - *ico\nannotations: {a: *ico}\n",
		"description: &d ./x.png\nicon: *d\nscreenshots: [*d, b]\n",
		"x: &s [&a a, b]\nscreenshots: *s\ny: *a\nicon: *a\n",
		"base: &b {k: v}\nicon: i\nscreenshots: [s]\nother: {<<: *b}\n",
		"# c\nicon: 'i' # c\nscreenshots:\n- s # c\n---\nsecond: doc\n",
	} {
		f.Add(s)
	}
	const icon, shot = "https://cdn.example.com/icon.svg", "https://cdn.example.com/a.png"
	f.Fuzz(func(t *testing.T, in string) {
		var want map[string]any
		if yaml.Unmarshal([]byte(in), &want) != nil || want == nil {
			return
		}
		edit := MetadataEdit{Icon: icon, Screenshots: map[int]string{0: shot}}
		out, err := EditMetadata([]byte(in), edit)
		if err != nil {
			return
		}
		var got map[string]any
		if err := yaml.Unmarshal(out, &got); err != nil {
			t.Fatalf("the edited document does not read: %v\n%s", err, out)
		}
		want["icon"] = icon
		shots, ok := want["screenshots"].([]any)
		if !ok || len(shots) == 0 {
			t.Fatalf("edited screenshots that are not a list: %#v", want["screenshots"])
		}
		want["screenshots"] = append([]any{shot}, shots[1:]...)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("edited document:\n%s\nreads as %#v\nwant %#v", out, got, want)
		}
	})
}
