package dev

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/ksbuilder/ksbuilder/pkg/cluster"
	"github.com/ksbuilder/ksbuilder/pkg/values"
)

func writeFile(t *testing.T, p, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestFilter(t *testing.T) {
	root := t.TempDir()
	writeFile(t, filepath.Join(root, ".helmignore"), "*.bak\nnode_modules/\ndocs/\n")
	outside := filepath.Join(t.TempDir(), "values-dev.yaml")
	inside := filepath.Join(root, "ci", "values-ci.yaml")
	f, err := newFilter(root, []string{outside, inside})
	if err != nil {
		t.Fatal(err)
	}
	// Per-cluster values files: one in a directory .helmignore ignores.
	clusterFile := filepath.Join(root, "docs", "member1.yaml")
	f.clusterFiles[clusterFile] = []string{"member1"}
	f.clusterFiles[outside] = []string{"host"}
	tests := []struct {
		path   string
		want   change
		ignore bool
	}{
		{path: "charts/backend/templates/deployment.yaml", want: change{Name: "charts/backend/templates/deployment.yaml"}},
		{path: "extension.yaml", want: change{Name: "extension.yaml"}},
		{path: ".helmignore", want: change{Name: ".helmignore"}},
		{path: "values.yaml", want: change{Name: "values.yaml", Values: true}},
		{path: "charts/backend/values.yaml", want: change{Name: "charts/backend/values.yaml"}},
		{path: "ci/values-ci.yaml", want: change{Name: "ci/values-ci.yaml", Values: true}},
		{path: outside, want: change{Name: outside, Values: true, Clusters: []string{"host"}}},
		{path: "docs/member1.yaml", want: change{Name: "docs/member1.yaml", Values: true, Clusters: []string{"member1"}}},
		// Editors' temporary files.
		{path: "charts/backend/templates/.deployment.yaml.swp", ignore: true},
		{path: "values.yaml.swx", ignore: true},
		{path: "values.yaml~", ignore: true},
		{path: "charts/4913", ignore: true},
		{path: ".#extension.yaml", ignore: true},
		{path: "#extension.yaml#", ignore: true},
		{path: "values.yaml___jb_tmp___", ignore: true},
		// .helmignore and the built-in rules.
		{path: "notes.bak", ignore: true},
		{path: "node_modules/x/index.js", ignore: true},
		{path: "docs/README.md", ignore: true},
		{path: ".git/HEAD", ignore: true},
		{path: "hello-0.1.0.tgz", ignore: true},
		{path: "templates/.hidden.yaml", ignore: true},
		// Outside the directory.
		{path: filepath.Join(filepath.Dir(root), "elsewhere.yaml"), ignore: true},
		{path: root, ignore: true},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			p := tt.path
			if !filepath.IsAbs(p) {
				p = filepath.Join(root, filepath.FromSlash(p))
			}
			got, ok := f.match(p)
			if ok == tt.ignore {
				t.Fatalf("match(%s) = %+v, %v; want ignored %v", tt.path, got, ok, tt.ignore)
			}
			if ok && !reflect.DeepEqual(got, tt.want) {
				t.Errorf("match(%s) = %+v, want %+v", tt.path, got, tt.want)
			}
		})
	}
	if !f.skipDir(filepath.Join(root, "node_modules")) || !f.skipDir(filepath.Join(root, ".git")) || f.skipDir(filepath.Join(root, "charts")) {
		t.Error("skipDir does not follow the ignore rules")
	}
}

func TestFilterReload(t *testing.T) {
	root := t.TempDir()
	writeFile(t, filepath.Join(root, ".helmignore"), "docs/\n")
	f, err := newFilter(root, nil)
	if err != nil {
		t.Fatal(err)
	}
	doc := filepath.Join(root, "docs", "a.md")
	if _, ok := f.match(doc); ok {
		t.Fatal("docs/ is ignored at first")
	}
	writeFile(t, filepath.Join(root, ".helmignore"), "*.bak\n")
	if err := f.reload(); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.match(doc); !ok {
		t.Error("docs/ is still ignored after .helmignore changed")
	}
	writeFile(t, filepath.Join(root, ".helmignore"), "[\n")
	if err := f.reload(); err == nil {
		t.Error("a bad .helmignore is not reported")
	}
}

func TestBatchValuesOnly(t *testing.T) {
	values := change{Name: "values.yaml", Values: true}
	other := change{Name: "values-dev.yaml", Values: true}
	tmpl := change{Name: "charts/a/templates/x.yaml"}
	tests := []struct {
		b    batch
		want bool
	}{
		{batch{values}, true},
		{batch{values, other}, true},
		{batch{values, tmpl}, false},
		{batch{tmpl}, false},
		{nil, false},
	}
	for _, tt := range tests {
		if got := tt.b.valuesOnly(); got != tt.want {
			t.Errorf("%v.valuesOnly() = %v, want %v", tt.b.names(), got, tt.want)
		}
	}
	// A per-cluster values file is a values change for its clusters.
	b := batch{{Name: "m2.yaml", Values: true, Clusters: []string{"member2"}}, values, {Name: "both.yaml", Values: true, Clusters: []string{"member2", "member1"}}}
	if !b.valuesOnly() || !slices.Equal(b.clusters(), []string{"member1", "member2"}) {
		t.Errorf("valuesOnly %v, clusters %v; want true, [member1 member2]", b.valuesOnly(), b.clusters())
	}
}

// TestDebounce checks that changes arriving within the quiet period of
// each other make one batch, without duplicates, and that the batch comes
// only once the clock has passed the quiet period after the last change.
func TestDebounce(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	clk := clocktesting.NewFakeClock(time.Now())
	in := make(chan change)
	out := make(chan batch)
	done := make(chan struct{})
	go func() {
		defer close(done)
		debounce(ctx, clk, 200*time.Millisecond, in, out)
	}()
	got := make(chan batch, 10)
	go func() {
		for b := range out {
			got <- b
		}
	}()
	send := func(name string) {
		// Sending the same name twice returns only once the first was
		// handled: the timer is armed for it.
		for range 2 {
			select {
			case in <- change{Name: name}:
			case <-ctx.Done():
				t.Fatal("debounce stopped reading")
			}
		}
	}
	send("a")
	clk.Step(150 * time.Millisecond)
	send("b")
	clk.Step(150 * time.Millisecond) // 300ms after a, 150ms after b
	send("c")
	clk.Step(199 * time.Millisecond)
	send("a")
	clk.Step(200 * time.Millisecond)
	var b batch
	select {
	case b = <-got:
	case <-ctx.Done():
		t.Fatal("no batch")
	}
	if names := b.names(); !slices.Equal(names, []string{"a", "b", "c"}) {
		t.Errorf("first batch %v, want a, b and c together", names)
	}

	send("d")
	clk.Step(200 * time.Millisecond)
	select {
	case b = <-got:
	case <-ctx.Done():
		t.Fatal("no second batch")
	}
	if names := b.names(); !slices.Equal(names, []string{"d"}) {
		t.Errorf("second batch %v, want d", names)
	}

	// Closing the input sends what is pending and ends.
	send("e")
	close(in)
	select {
	case b = <-got:
	case <-ctx.Done():
		t.Fatal("the pending change was dropped")
	}
	if names := b.names(); !slices.Equal(names, []string{"e"}) {
		t.Errorf("last batch %v, want e", names)
	}
	<-done
}

func TestValuesOverlay(t *testing.T) {
	published := map[string]any{
		"backend":  map[string]any{"replicaCount": float64(1), "resources": map[string]any{}, "image": "a:1"},
		"frontend": map[string]any{"enabled": true},
		"gone":     "x",
		"list":     []any{"a"},
	}
	tests := []struct {
		name   string
		edited map[string]any
		want   map[string]any
	}{
		{"unchanged", published, map[string]any{}},
		{"changed leaf", map[string]any{
			"backend":  map[string]any{"replicaCount": float64(3), "resources": map[string]any{}, "image": "a:1"},
			"frontend": map[string]any{"enabled": true}, "gone": "x", "list": []any{"a"},
		}, map[string]any{"backend": map[string]any{"replicaCount": float64(3)}}},
		{"added, removed, list replaced", map[string]any{
			"backend":  map[string]any{"replicaCount": float64(1), "resources": map[string]any{}},
			"frontend": map[string]any{"enabled": true}, "list": []any{"a", "b"}, "new": map[string]any{"k": "v"},
		}, map[string]any{
			"backend": map[string]any{"image": nil}, "gone": nil, "list": []any{"a", "b"}, "new": map[string]any{"k": "v"},
		}},
		{"map replaced by a scalar", map[string]any{
			"backend": "off", "frontend": map[string]any{"enabled": true}, "gone": "x", "list": []any{"a"},
		}, map[string]any{"backend": "off"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := valuesOverlay(published, tt.edited); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

// TestFSWatcher checks the file system source: files written, files in a
// directory created later, and nothing from an ignored directory.
func TestFSWatcher(t *testing.T) {
	root := t.TempDir()
	writeFile(t, filepath.Join(root, ".helmignore"), "node_modules/\n")
	writeFile(t, filepath.Join(root, "node_modules", "x.js"), "old")
	outsideDir := t.TempDir()
	outside := filepath.Join(outsideDir, "values-dev.yaml")
	writeFile(t, outside, "a: 1\n")
	f, err := newFilter(root, []string{outside})
	if err != nil {
		t.Fatal(err)
	}
	w, err := NewFSWatcher(root, []string{outside}, f.skipDir)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	awaitPath := func(path string) []string { t.Helper(); return watchedEvents(ctx, t, w, path) }

	values := filepath.Join(root, "values.yaml")
	writeFile(t, values, "a: 1\n")
	awaitPath(values)

	// The file in the ignored directory comes before the sentinel, so its
	// event would come first: events arrive in order.
	writeFile(t, filepath.Join(root, "node_modules", "x.js"), "new")
	sentinel := filepath.Join(root, "sentinel")
	writeFile(t, sentinel, "")
	for _, p := range awaitPath(sentinel) {
		if filepath.Base(filepath.Dir(p)) == "node_modules" {
			t.Errorf("an ignored directory is watched: %s", p)
		}
	}

	// A new directory is watched, and what is already in it reported.
	nested := filepath.Join(root, "charts", "new", "templates", "cm.yaml")
	writeFile(t, nested, "kind: ConfigMap\n")
	awaitPath(nested)
	again := filepath.Join(root, "charts", "new", "templates", "cm2.yaml")
	writeFile(t, again, "kind: ConfigMap\n")
	awaitPath(again)

	writeFile(t, outside, "a: 2\n")
	awaitPath(outside)

	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	for range w.Events() {
	}
}

// watchedEvents reads the events of w up to path and returns the ones
// before it.
func watchedEvents(ctx context.Context, t *testing.T, w *FSWatcher, path string) []string {
	t.Helper()
	var seen []string
	for {
		select {
		case p := <-w.Events():
			if p == path {
				return seen
			}
			seen = append(seen, p)
		case err := <-w.Errors():
			t.Fatal(err)
		case <-ctx.Done():
			t.Fatalf("no event for %s; saw %v", path, seen)
		}
	}
}

// TestSetFileWatched checks that the files of --set-file are watched,
// outside the directory and inside an ignored one, and that a change to
// one is a change of values.
func TestSetFileWatched(t *testing.T) {
	root := t.TempDir()
	writeFile(t, filepath.Join(root, ".helmignore"), "secrets/\n")
	outside := filepath.Join(t.TempDir(), "cert.pem")
	writeFile(t, outside, "one\n")
	inside := filepath.Join(root, "secrets", "token")
	writeFile(t, inside, "one\n")
	paths, err := setFilePaths([]string{"tls.cert=" + outside + ",token=" + inside})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(paths, []string{outside, inside}) {
		t.Fatalf("set-file paths %v", paths)
	}
	f, err := newFilter(root, paths)
	if err != nil {
		t.Fatal(err)
	}
	w, err := NewFSWatcher(root, paths, f.skipDir)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, p := range []string{outside, inside} {
		writeFile(t, p, "two\n")
		watchedEvents(ctx, t, w, p)
		c, ok := f.match(p)
		if !ok || !c.Values {
			t.Errorf("match(%s) = %+v, %v; want a change of values", p, c, ok)
		}
	}
	// Other files of the ignored directory still do not count.
	if c, ok := f.match(filepath.Join(root, "secrets", "other")); ok {
		t.Errorf("an ignored file matches: %+v", c)
	}
}

func TestSetFileStdinRefused(t *testing.T) {
	if _, err := setFilePaths([]string{"a=-"}); err == nil {
		t.Error("--set-file a=- is accepted")
	}
}

// TestHelmignoreEditRescans checks that after .helmignore changes, a
// directory it no longer ignores is watched, one it now ignores is not,
// and a batch read before the change keeps only what is not ignored now.
func TestHelmignoreEditRescans(t *testing.T) {
	root := t.TempDir()
	writeFile(t, filepath.Join(root, ".helmignore"), "gen/\n")
	writeFile(t, filepath.Join(root, "gen", "sub", "old.yaml"), "a: 1\n")
	writeFile(t, filepath.Join(root, "docs", "a.md"), "old\n")
	f, err := newFilter(root, nil)
	if err != nil {
		t.Fatal(err)
	}
	w, err := NewFSWatcher(root, nil, f.skipDir)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	writeFile(t, filepath.Join(root, ".helmignore"), "docs/\n")
	watchedEvents(ctx, t, w, filepath.Join(root, ".helmignore"))
	before := batch{{Name: ".helmignore"}, {Name: "docs/a.md"}, {Name: "templates/cm.yaml"}}
	if err := f.reload(); err != nil {
		t.Fatal(err)
	}
	if err := w.Rescan(); err != nil {
		t.Fatal(err)
	}
	if got, want := f.rematch(before).names(), []string{".helmignore", "templates/cm.yaml"}; !slices.Equal(got, want) {
		t.Errorf("batch after the reload %v, want %v", got, want)
	}

	// gen/ and gen/sub/ are watched now; docs/ is not: its event, written
	// first, would come before the sentinel's.
	writeFile(t, filepath.Join(root, "docs", "a.md"), "new\n")
	for _, p := range []string{filepath.Join(root, "gen", "new.yaml"), filepath.Join(root, "gen", "sub", "old.yaml")} {
		writeFile(t, p, "a: 2\n")
		for _, seen := range watchedEvents(ctx, t, w, p) {
			if filepath.Base(filepath.Dir(seen)) == "docs" {
				t.Errorf("a newly ignored directory is still watched: %s", seen)
			}
		}
		if _, ok := f.match(p); !ok {
			t.Errorf("%s does not match after gen/ stopped being ignored", p)
		}
	}
}

// A PATH that is missing or is a file is named before the cluster is
// tried (the kubeconfig given does not exist either).
func TestPathCheckedBeforeCluster(t *testing.T) {
	dir := t.TempDir()
	archive := filepath.Join(dir, "hello-0.1.0.tgz")
	if err := os.WriteFile(archive, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	noKubeconfig := cluster.ConnectOptions{Kubeconfig: filepath.Join(dir, "missing-kubeconfig")}
	for path, want := range map[string]string{
		filepath.Join(dir, "nope"): filepath.Join(dir, "nope") + ": no such file or directory",
		archive:                    archive + ": not a directory: dev watches an extension's directory (a .tgz cannot change)",
	} {
		_, err := newSession(Options{Dir: path, Target: cluster.Target{Connect: noKubeconfig}})
		if err == nil || err.Error() != want {
			t.Errorf("newSession(%s) = %v, want %q", path, err, want)
		}
	}
}

// The --frontend bundle file is a change of its own kind, inside the
// extension (even in an ignored directory) or outside it; a batch of it
// alone is a bundle update.
func TestFilterFrontend(t *testing.T) {
	root := t.TempDir()
	writeFile(t, filepath.Join(root, ".helmignore"), "dist/\n")
	for _, tc := range []struct {
		frontend string
		want     change
	}{
		{filepath.Join(t.TempDir(), "extensions", "hello", "dist", "index.js"), change{Frontend: true}},
		{filepath.Join(root, "dist", "index.js"), change{Name: "dist/index.js", Frontend: true}},
	} {
		f, err := newFilter(root, nil)
		if err != nil {
			t.Fatal(err)
		}
		f.frontend = tc.frontend
		if tc.want.Name == "" {
			tc.want.Name = tc.frontend
		}
		got, ok := f.match(tc.frontend)
		if !ok || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("match(%s) = %+v, %v; want %+v", tc.frontend, got, ok, tc.want)
		}
		if _, ok := f.match(filepath.Join(root, "dist", "other.js")); ok {
			t.Errorf("another file of the ignored directory matched")
		}
		b := batch{got}
		if !b.frontendOnly() || !b.hasFrontend() || b.valuesOnly() {
			t.Errorf("batch %+v: frontendOnly %v, hasFrontend %v, valuesOnly %v", b, b.frontendOnly(), b.hasFrontend(), b.valuesOnly())
		}
		b = append(b, change{Name: "values.yaml", Values: true})
		if b.frontendOnly() || !b.hasFrontend() || b.valuesOnly() {
			t.Errorf("batch %+v: frontendOnly %v, hasFrontend %v, valuesOnly %v", b, b.frontendOnly(), b.hasFrontend(), b.valuesOnly())
		}
	}
}

// The per-cluster values files are made absolute in a copy, mapped to
// their clusters, and stdin is refused.
func TestAbsClusterValues(t *testing.T) {
	in := map[string]values.Options{"member1": {ValueFiles: []string{"m.yaml", "shared.yaml"}}, "host": {ValueFiles: []string{"shared.yaml"}, Values: []string{"a=1"}}}
	out, files, err := absClusterValues(in)
	if err != nil {
		t.Fatal(err)
	}
	shared, _ := filepath.Abs("shared.yaml")
	if !slices.Equal(files[shared], []string{"host", "member1"}) || len(files) != 2 {
		t.Errorf("files %v", files)
	}
	if got := out["host"]; !slices.Equal(got.ValueFiles, []string{shared}) || !slices.Equal(got.Values, []string{"a=1"}) {
		t.Errorf("host options %+v", got)
	}
	if in["member1"].ValueFiles[0] != "m.yaml" {
		t.Errorf("the caller's options were changed: %+v", in)
	}
	if _, _, err := absClusterValues(map[string]values.Options{"host": {ValueFiles: []string{"-"}}}); err == nil || !strings.Contains(err.Error(), "--cluster-values host=-") {
		t.Errorf("stdin: %v", err)
	}
}
