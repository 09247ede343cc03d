package extension

import (
	"strings"
	"testing"
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
