package values

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestMerge(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	base := write("base.yaml", "a:\n  b: 1\n  c: 2\nlist: [1, 2]\n")
	over := write("over.yaml", "a:\n  c: 3\nlist: [9]\n")
	note := write("note.txt", "hello\n")

	tests := []struct {
		name  string
		opts  Options
		stdin string
		want  map[string]any
	}{
		{"nothing", Options{}, "", map[string]any{}},
		{"later files win, maps merge", Options{ValueFiles: []string{base, over}}, "",
			map[string]any{"a": map[string]any{"b": float64(1), "c": float64(3)}, "list": []any{float64(9)}}},
		{"stdin", Options{ValueFiles: []string{"-"}}, "x: hello\n", map[string]any{"x": "hello"}},
		{"--set over files", Options{ValueFiles: []string{base}, Values: []string{"a.b=5,d=true"}}, "",
			map[string]any{"a": map[string]any{"b": int64(5), "c": float64(2)}, "d": true, "list": []any{float64(1), float64(2)}}},
		{"--set-string keeps strings", Options{StringValues: []string{"v=true"}}, "", map[string]any{"v": "true"}},
		{"--set-json", Options{JSONValues: []string{`j={"k":[1]}`}}, "", map[string]any{"j": map[string]any{"k": []any{float64(1)}}}},
		{"--set-file", Options{FileValues: []string{"n=" + note}}, "", map[string]any{"n": "hello\n"}},
		{"--set-literal", Options{LiteralValues: []string{"l=a,b=c"}}, "", map[string]any{"l": "a,b=c"}},
		{"--set beats --set-json", Options{JSONValues: []string{"k=1"}, Values: []string{"k=2"}}, "", map[string]any{"k": int64(2)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.opts.Merge(strings.NewReader(tt.stdin))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
			if tt.opts.Empty() != (tt.name == "nothing") {
				t.Errorf("Empty() = %v", tt.opts.Empty())
			}
		})
	}
}

func TestMergeErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("- a list\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		opts Options
		want string
	}{
		{Options{ValueFiles: []string{filepath.Join(dir, "missing.yaml")}}, "missing.yaml: no such file"},
		{Options{ValueFiles: []string{bad}}, "bad.yaml is not a YAML map of values"},
		{Options{ValueFiles: []string{"https://example.com/v.yaml"}}, "only local files are supported"},
		{Options{Values: []string{"novalue"}}, "--set novalue:"},
		{Options{JSONValues: []string{"k={"}}, "--set-json k={:"},
	}
	for _, tt := range tests {
		_, err := tt.opts.Merge(strings.NewReader(""))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: got %v, want an error containing %q", tt.opts, err, tt.want)
		}
	}
}

// FuzzMerge feeds random values flags and a values file on stdin to Merge:
// an error or a map, never a panic.
func FuzzMerge(f *testing.F) {
	f.Add("a.b=1,c={x,y}", `a={"b":[1,{"c":null}]}`, "s=01", "l=a,b=c", "a:\n  b: 2\n")
	f.Add("a[0].b=1", `x=[1,2`, "a\\,b=c", "=", "- not a map\n")
	f.Add("a[65537]=1", `a.b={"deep":{"er":1}}`, "a[1]=x", "k=v", "a: &x [*x]\n")
	f.Fuzz(func(t *testing.T, set, setJSON, setString, literal, file string) {
		opts := Options{ValueFiles: []string{"-"}, Values: []string{set}, JSONValues: []string{setJSON}, StringValues: []string{setString}, LiteralValues: []string{literal}}
		got, err := opts.Merge(strings.NewReader(file))
		if err == nil && got == nil {
			t.Fatal("no values and no error")
		}
	})
}

// TestMergeSources: each value is traced to the last flag that gave it;
// stdin and --set-file's files are read once.
func TestMergeSources(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "prod.yaml")
	if err := os.WriteFile(file, []byte("a:\n  b: 1\n  c: 2\nlist: [x]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	opts := Options{
		ValueFiles:   []string{file, "-"},
		Values:       []string{"a.c=3,n=1", "items[1]=y"},
		StringValues: []string{"s=010"},
		FileValues:   []string{"motd=-"},
		JSONValues:   []string{`j={"k":[1]}`},
	}
	vals, source, err := opts.MergeSources(strings.NewReader("from: stdin\n"))
	if err != nil {
		t.Fatal(err)
	}
	if vals["motd"] != "" || vals["from"] != "stdin" {
		t.Errorf("stdin read once, by the first reader: %v", vals)
	}
	for path, want := range map[string]string{
		"a/b":     "-f " + file,
		"a/c":     "--set a.c=3,n=1",
		"n":       "--set a.c=3,n=1",
		"list/0":  "-f " + file,
		"items/1": "--set items[1]=y",
		"items/0": "",
		"from":    "-f -",
		"s":       "--set-string s=010",
		"motd":    "--set-file motd=-",
		"j/k/0":   `--set-json j={"k":[1]}`,
		"a":       "--set a.c=3,n=1",
		"none":    "",
		"":        "",
	} {
		var p []string
		if path != "" {
			p = strings.Split(path, "/")
		}
		if got := source(p); got != want {
			t.Errorf("source(%q) = %q, want %q", path, got, want)
		}
	}
}
