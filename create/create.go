// Package create scaffolds a new extension from the embedded templates.
// Everything is rendered in memory first and then written in one step, so a
// failure never leaves a half-written project, and nothing is ever written
// outside the target directory.
package create

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/mail"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"text/template"
	"unicode"

	"gopkg.in/yaml.v3"

	"github.com/ksbuilder/ksbuilder/pkg/bundle"
	"github.com/ksbuilder/ksbuilder/pkg/extension"
	"github.com/ksbuilder/ksbuilder/pkg/suggest"
	"github.com/ksbuilder/ksbuilder/templates"
)

// Type is the kind of project to scaffold.
type Type string

const (
	// Full has a frontend subchart (console UI, tag extension) and a backend
	// subchart (API, tag agent), and installs in Multicluster mode.
	Full Type = "full"
	// Frontend has only the console UI subchart.
	Frontend Type = "frontend"
	// Backend has only the API subchart, tagged agent (Multicluster).
	Backend Type = "backend"
	// App publishes the Helm chart given with From in the KubeSphere App
	// Store: a subchart "base" with an Application, an ApplicationVersion
	// and the chart in the App Store's ConfigMap (upstream's createapp).
	App Type = "app"
)

// Types lists the types offered by create, in prompt order.
var Types = []Type{Full, Frontend, Backend, App}

// TypeDescriptions explain each type in prompts and --help.
var TypeDescriptions = map[Type]string{
	Full:     "console UI and API (frontend + backend subcharts)",
	Frontend: "console UI only (frontend subchart)",
	Backend:  "API only (backend subchart)",
	App:      "a Helm chart published in the App Store (needs --from)",
}

// Entry modes for a wrapped chart.
const (
	EntryIframe = "iframe"
	EntryLink   = "link"
)

// Options are the answers needed to scaffold an extension.
type Options struct {
	Name     string
	Category string
	Author   string
	Email    string
	URL      string
	Type     Type
	// From is a Helm chart archive to wrap instead of the frontend/backend
	// templates; Entry says whether the console embeds it or links to it.
	// With Type App, From is the chart to publish in the App Store and
	// Entry is not used.
	From  string
	Entry string
	// Dir is the directory to create; it defaults to ./<name>.
	Dir string
	// Force allows writing into a non-empty directory (existing files with
	// the same names are replaced; others are kept).
	Force bool
	// FrontendDist is a console UI bundle built by the console's extension
	// tooling (extensions/NAME/dist/index.js) to ship instead of the
	// hand-written one; types full and frontend only.
	FrontendDist string
}

// MaxNameLength is the name limit at entry (the KubeSphere docs' limit).
const MaxNameLength = extension.RecommendedNameLength

// ValidateName checks an extension name as typed by the user. When the name
// is invalid but a valid one is close ("Hello_World"), the error suggests it.
func ValidateName(name string) error {
	err := extension.ValidateName(name, MaxNameLength)
	if err == nil {
		return nil
	}
	if s := SuggestName(name); s != "" && s != name && extension.ValidateName(s, MaxNameLength) == nil {
		return fmt.Errorf("%w (did you mean %q?)", err, s)
	}
	return err
}

// SuggestName turns a name into the closest valid one: lower case, with
// '_', '.', spaces and other characters as '-', runs of '-' as one, no '-'
// at either end. It returns "" when nothing is left.
func SuggestName(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
			continue
		}
		dash = true
	}
	return b.String()
}

// CheckCategory accepts a built-in category, or a custom one (KubeSphere
// takes any category; "ksbuilder lint" warns about it), but refuses a name
// so close to a built-in category that it is likely a typo, suggesting it.
// custom reports a custom category.
func CheckCategory(category string) (custom bool, err error) {
	category = strings.TrimSpace(category)
	if category == "" {
		return false, errors.New("must not be empty")
	}
	if _, ok := extension.LookupCategory(category); ok {
		return false, nil
	}
	if strings.ContainsFunc(category, unicode.IsControl) {
		return false, fmt.Errorf("%q holds control characters", category)
	}
	if s := closestCategory(category); s != "" {
		return false, fmt.Errorf("%q is not a built-in category; did you mean %q? (ksbuilder category lists them)", category, s)
	}
	return true, nil
}

// closestCategory returns the built-in category whose name or display name
// is within two edits of s (ignoring case, spaces and '/'), or "".
func closestCategory(s string) string {
	squash := strings.NewReplacer(" ", "", "/", "", "-", "")
	byKey := map[string]string{}
	keys := make([]string, 0, 2*len(extension.Categories))
	for _, c := range extension.Categories {
		for _, k := range []string{squash.Replace(c.Name), squash.Replace(c.DisplayName)} {
			k = strings.ToLower(k)
			if _, ok := byKey[k]; !ok {
				byKey[k] = c.Name
				keys = append(keys, k)
			}
		}
	}
	return byKey[suggest.Closest(strings.ToLower(squash.Replace(s)), keys, 2)]
}

// ValidateEmail accepts an empty string or one e-mail address.
func ValidateEmail(s string) error {
	if s == "" {
		return nil
	}
	if a, err := mail.ParseAddress(s); err != nil || a.Name != "" {
		return fmt.Errorf("%q is not an e-mail address", s)
	}
	return nil
}

// ValidateURL accepts an empty string or an absolute http(s) URL.
func ValidateURL(s string) error {
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an http(s) URL", s)
	}
	return nil
}

// Validate checks all options. Errors name the flag to fix.
func (o *Options) Validate() error {
	if err := ValidateName(o.Name); err != nil {
		return fmt.Errorf("--name: %w", err)
	}
	if _, err := CheckCategory(o.Category); err != nil {
		return fmt.Errorf("--category: %w", err)
	}
	if strings.TrimSpace(o.Author) == "" {
		return errors.New("--author: must not be empty")
	}
	if err := ValidateEmail(o.Email); err != nil {
		return fmt.Errorf("--email: %w", err)
	}
	if err := ValidateURL(o.URL); err != nil {
		return fmt.Errorf("--url: %w", err)
	}
	switch {
	case o.Type == App:
		if o.From == "" {
			return errors.New("--from: --type app publishes an existing Helm chart in the App Store; give its archive with --from CHART.tgz")
		}
	case o.From == "":
		if _, ok := TypeDescriptions[o.Type]; !ok {
			return fmt.Errorf("--type: %q is not a project type (one of: %s)", o.Type, typeList())
		}
	case o.Type != "":
		return fmt.Errorf("--type: %q cannot wrap a chart; with --from, give no --type (a console entry) or --type app (the App Store)", o.Type)
	case o.Entry != EntryIframe && o.Entry != EntryLink:
		return fmt.Errorf("--entry: %q is not an entry mode (iframe or link)", o.Entry)
	}
	if o.FrontendDist != "" && (o.From != "" || o.Type == Backend || o.Type == App) {
		return errors.New("--frontend-dist: only a project with a console UI takes a bundle (--type full or frontend)")
	}
	return nil
}

// typeList returns the project types as "full, frontend, backend, app".
func typeList() string {
	names := make([]string, len(Types))
	for i, t := range Types {
		names[i] = string(t)
	}
	return strings.Join(names, ", ")
}

// TargetDir returns the directory the project is written to.
func (o *Options) TargetDir() string {
	if o.Dir != "" {
		return o.Dir
	}
	return o.Name
}

// Result describes what Create wrote.
type Result struct {
	// Dir is the project directory.
	Dir string
	// Files are the written files, slash-separated and relative to Dir.
	Files []string
	// Notes are things the user should know (e.g. values to fill in).
	Notes []string
}

// subchart is a dependency entry of the generated extension.yaml.
type subchart struct {
	Name string
	Tag  string
	// Workload is set for a subchart that runs pods, whose replicas and
	// resources values.yaml sets.
	Workload bool
}

// data is what the templates see.
type data struct {
	Name, DisplayName, Description, DescriptionZh string
	Category, Author, Email, URL                  string
	Mode                                          extension.InstallationMode
	Subcharts                                     []subchart
	Images                                        []string
	ClusterResources                              []string
	// ClusterRules and RoleRules are more permissions.yaml rules (create
	// --from: what the wrapped chart creates).
	ClusterRules, RoleRules []permissionRule
	Entry, ServiceName      string
	ServicePort             int
	// Bundle is set when the project has the console UI subchart;
	// Workload when a subchart runs pods.
	Bundle, Workload bool
	// App is the App Store application of type App.
	App *storeApp
}

// LocaleKey returns the key of a console translation of the extension:
// "HELLO_WORLD_TITLE" for hello-world and "TITLE".
func (d data) LocaleKey(suffix string) string {
	return strings.ToUpper(strings.ReplaceAll(d.Name, "-", "_")) + "_" + suffix
}

// Render produces the project files in memory, keyed by slash path.
func Render(o Options) (map[string][]byte, []string, error) {
	if err := o.Validate(); err != nil {
		return nil, nil, err
	}
	d := data{
		Name: o.Name, DisplayName: displayName(o.Name),
		Category: o.Category, Author: strings.TrimSpace(o.Author), Email: o.Email, URL: o.URL,
		Mode: extension.HostOnly,
	}
	d.Description = d.DisplayName + " extension for KubeSphere"
	d.DescriptionZh = d.DisplayName + " 扩展组件"
	trees := []string{"base"}
	files := map[string][]byte{}
	var notes []string
	if custom, _ := CheckCategory(o.Category); custom {
		notes = append(notes, fmt.Sprintf("%q is a custom category: KubeSphere accepts it, but the console groups the extension under it alone, and ksbuilder lint warns about it (ksbuilder category lists the built-in ones)", o.Category))
	}
	if o.Type == App {
		app, archive, err := loadStoreApp(o.From, o.Name)
		if err != nil {
			return nil, nil, err
		}
		trees = append(trees, "app")
		d.App = app
		d.Subcharts = []subchart{{Name: "base", Tag: "extension"}}
		d.Images = []string{StoreJobImage}
		d.ClusterRules = storeClusterRules
		d.Workload = true
		files[path.Join("charts/base/files", app.File)] = archive
	} else if o.From != "" {
		wrapped, err := loadWrapped(o.From, o.Name)
		if err != nil {
			return nil, nil, err
		}
		trees = append(trees, "entry")
		d.Subcharts = []subchart{{Name: wrapped.chartName, Tag: "extension"}, {Name: "entry", Tag: "extension"}}
		d.Images = wrapped.images
		d.ClusterResources = []string{"jsbundles"}
		d.ClusterRules, d.RoleRules = wrapped.clusterRules, wrapped.roleRules
		d.Entry, d.ServiceName, d.ServicePort = o.Entry, wrapped.serviceName, wrapped.servicePort
		files["charts/"+wrapped.fileName] = wrapped.archive
		notes = append(notes, wrapped.notes...)
	} else {
		if o.Type == Full || o.Type == Frontend {
			trees = append(trees, "frontend")
			d.Subcharts = append(d.Subcharts, subchart{Name: "frontend", Tag: "extension"})
			d.ClusterResources = append(d.ClusterResources, "jsbundles")
			d.Bundle = true
		}
		if o.Type == Full || o.Type == Backend {
			trees = append(trees, "backend")
			d.Subcharts = append(d.Subcharts, subchart{Name: "backend", Tag: "agent", Workload: true})
			d.Images = append(d.Images, fmt.Sprintf("docker.io/kubespheredev/%s-backend:0.1.0", o.Name))
			d.ClusterResources = append(d.ClusterResources, "apiservices")
			d.Mode = extension.Multicluster
			d.Workload = true
		}
	}
	for _, tree := range trees {
		if err := renderTree(tree, d, files); err != nil {
			return nil, nil, err
		}
	}
	if o.FrontendDist != "" {
		built, warnings, err := bundle.ReadFile(o.FrontendDist)
		if err != nil {
			return nil, nil, fmt.Errorf("--frontend-dist: %w", err)
		}
		files[BundleFile] = built
		notes = append(notes, warnings...)
	}
	return files, notes, nil
}

// BundleFile is where the scaffold keeps the console UI bundle, which
// charts/frontend/templates/bundle.yaml puts into the JSBundle's ConfigMap.
const BundleFile = "charts/frontend/files/index.js"

// renderTree renders one embedded tree into files.
func renderTree(tree string, d data, files map[string][]byte) error {
	return fs.WalkDir(templates.FS, tree, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		content, err := templates.FS.ReadFile(p)
		if err != nil {
			return err
		}
		rel := strings.TrimPrefix(p, tree+"/")
		if strings.HasSuffix(rel, ".tmpl") {
			rel = strings.TrimSuffix(rel, ".tmpl")
			t, err := template.New(p).Delims("[[", "]]").Option("missingkey=error").Funcs(template.FuncMap{"yq": yamlQuote, "js": jsQuote, "first": firstSubchart}).Parse(string(content))
			if err != nil {
				return fmt.Errorf("template %s: %w", p, err)
			}
			var buf bytes.Buffer
			if err := t.Execute(&buf, d); err != nil {
				return fmt.Errorf("template %s: %w", p, err)
			}
			content = buf.Bytes()
		}
		files[rel] = content
		return nil
	})
}

// yamlQuote renders s as a double-quoted YAML scalar, so user input can never
// change the document's structure.
func yamlQuote(s string) (string, error) {
	n := &yaml.Node{Kind: yaml.ScalarNode, Style: yaml.DoubleQuotedStyle, Value: s}
	b, err := yaml.Marshal(n)
	if err != nil {
		return "", err
	}
	return strings.TrimSuffix(string(b), "\n"), nil
}

// jsQuote renders s as a JavaScript string literal (JSON's, which escapes
// everything that could end the string or the script).
func jsQuote(s string) (string, error) {
	b, err := json.Marshal(s)
	return string(b), err
}

// firstSubchart returns the name of the first dependency.
func firstSubchart(s []subchart) string { return s[0].Name }

// displayName turns "hello-world" into "Hello World".
func displayName(name string) string {
	words := strings.FieldsFunc(name, func(r rune) bool { return r == '-' })
	for i, w := range words {
		r := []rune(w)
		r[0] = unicode.ToUpper(r[0])
		words[i] = string(r)
	}
	return strings.Join(words, " ")
}

// Create renders the project and writes it to o.TargetDir(). The directory
// may be missing, or empty but for dot-files (.git, .gitignore, .idea...),
// which are left alone; a directory with other entries is refused unless
// o.Force is set. The directory itself is never removed or renamed.
// Everything is rendered in memory and every target is checked before the
// first write. It watches ctx while it writes: once ctx is cancelled no
// other file is written. On a failed write or a cancelled ctx, what was
// written is undone (files and directories it made are removed, files it
// replaced get their content back), so the error leaves the directory as
// it was.
func Create(ctx context.Context, o Options) (*Result, error) {
	files, notes, err := Render(o)
	if err != nil {
		return nil, err
	}
	dir := o.TargetDir()
	res := &Result{Dir: dir, Notes: notes}
	if note, keep := keptGitignore(dir); keep {
		delete(files, gitignore)
		if note != "" {
			res.Notes = append(res.Notes, note)
		}
	}
	for name := range files {
		res.Files = append(res.Files, name)
	}
	sort.Strings(res.Files)

	empty, err := isEmptyDir(dir)
	if err != nil {
		return nil, err
	}
	if !o.Force {
		if !empty {
			shown := dir
			if filepath.Clean(dir) == "." {
				if abs, err := filepath.Abs(dir); err == nil {
					shown = abs
				}
			}
			return nil, &ExistsError{Dir: shown}
		}
		// A dot-file of the project (.helmignore) may already be there.
		for _, name := range res.Files {
			p := filepath.Join(dir, filepath.FromSlash(name))
			if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("%s already exists (move it away, or use --force to replace it)", p)
			}
		}
	}
	w := &writer{root: dir, ctx: ctx}
	if err := w.writeAll(files); err != nil {
		w.rollback()
		return nil, err
	}
	return res, nil
}

// gitignore is the scaffold's .gitignore, which keeps built packages out of
// version control.
const gitignore = ".gitignore"

// keptGitignore reports whether dir already has a .gitignore, which Create
// keeps (even with Force: it is the user's version-control setup), and
// returns a note when that file does not ignore packages.
func keptGitignore(dir string) (note string, keep bool) {
	data, err := os.ReadFile(filepath.Join(dir, gitignore))
	if err != nil {
		return "", false
	}
	for _, line := range strings.Split(string(data), "\n") {
		if line = strings.TrimSpace(line); line == "*.tgz" || line == "/*.tgz" {
			return "", true
		}
	}
	return fmt.Sprintf("kept the existing %s; add *.tgz to it to keep built packages out of version control", filepath.Join(dir, gitignore)), true
}

// ExistsError is returned when the target directory is not empty.
type ExistsError struct {
	// Dir is the directory as given, or its absolute path for ".".
	Dir string
}

func (e *ExistsError) Error() string {
	return fmt.Sprintf("%s already exists and is not empty (use --force to write into it, or --dir to choose another directory)", e.Dir)
}

// isEmptyDir reports whether dir is missing or a directory that holds only
// dot-files.
func isEmptyDir(dir string) (bool, error) {
	fi, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	if !fi.IsDir() {
		return false, fmt.Errorf("%s exists and is not a directory", dir)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false, err
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), ".") {
			return false, nil
		}
	}
	return true, nil
}

// writer writes the project and remembers what it created and replaced,
// so a failure can undo exactly that.
type writer struct {
	root string
	// ctx stops the writing between two files.
	ctx context.Context
	// created lists the files and directories made, in order.
	created []string
	// replaced lists the files replaced (with --force), with their
	// previous content.
	replaced []replacedFile
}

// replacedFile is a file the writer replaced, and what it held before:
// a regular file's content and mode, or a symbolic link's target.
type replacedFile struct {
	path string
	data []byte
	mode fs.FileMode
	link string
}

// restore puts the file back as it was.
func (r replacedFile) restore() error {
	if r.link == "" {
		return replaceFile(r.path, r.data, r.mode)
	}
	if err := os.Remove(r.path); err != nil {
		return err
	}
	return os.Symlink(r.link, r.path)
}

// writeAll creates the root (and missing parents) and writes every file.
func (w *writer) writeAll(files map[string][]byte) error {
	if err := w.ctx.Err(); err != nil {
		return err
	}
	if err := w.mkdirAll(w.root); err != nil {
		return err
	}
	return w.writeFiles(files)
}

// mkdirAll creates dir and its missing parents, remembering each.
func (w *writer) mkdirAll(dir string) error {
	fi, err := os.Stat(dir)
	if err == nil {
		if !fi.IsDir() {
			return fmt.Errorf("%s exists and is not a directory", dir)
		}
		return nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if parent := filepath.Dir(dir); parent != dir {
		if err := w.mkdirAll(parent); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		return err
	}
	w.created = append(w.created, dir)
	return nil
}

// rollback puts back the files the writer replaced and removes what it
// created, newest first. Directories are only removed when empty, so
// nothing of the user's goes.
func (w *writer) rollback() {
	for i := len(w.replaced) - 1; i >= 0; i-- {
		_ = w.replaced[i].restore()
	}
	for i := len(w.created) - 1; i >= 0; i-- {
		os.Remove(w.created[i])
	}
}

// writeFiles writes files under the root. A new file is created
// exclusively; an existing one (with --force) is replaced through a
// temporary file renamed over it, so a symbolic link in the way is replaced
// rather than followed.
func (w *writer) writeFiles(files map[string][]byte) error {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := w.ctx.Err(); err != nil {
			return err
		}
		if !safeRelPath(name) {
			return fmt.Errorf("refusing to write %q outside %s", name, w.root)
		}
		target := filepath.Join(w.root, filepath.FromSlash(name))
		if err := w.mkdirInside(path.Dir(name)); err != nil {
			return err
		}
		if fi, err := os.Lstat(target); err == nil {
			if err := w.replace(target, fi, files[name]); err != nil {
				return err
			}
			continue
		}
		if err := w.createFile(target, files[name]); err != nil {
			return err
		}
	}
	return nil
}

// safeRelPath accepts clean relative slash paths that stay inside the root.
func safeRelPath(name string) bool {
	return name != "" && !path.IsAbs(name) && path.Clean(name) == name && name != ".." && !strings.HasPrefix(name, "../")
}

// mkdirInside creates dir (slash path) under the root, refusing to descend
// through a symbolic link, which could lead outside the root.
func (w *writer) mkdirInside(dir string) error {
	if dir == "." {
		return nil
	}
	cur := w.root
	for _, part := range strings.Split(dir, "/") {
		cur = filepath.Join(cur, part)
		fi, err := os.Lstat(cur)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			if err := os.Mkdir(cur, 0o755); err != nil {
				return err
			}
			w.created = append(w.created, cur)
		case err != nil:
			return err
		case fi.Mode()&fs.ModeSymlink != 0:
			return fmt.Errorf("refusing to write through symbolic link %s", cur)
		case !fi.IsDir():
			return fmt.Errorf("%s exists and is not a directory", cur)
		}
	}
	return nil
}

// createFile writes a new file, failing if one appeared in the meantime.
func (w *writer) createFile(target string, content []byte) error {
	f, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	w.created = append(w.created, target)
	_, werr := f.Write(content)
	if err := errors.Join(werr, f.Close(), os.Chmod(target, 0o644)); err != nil {
		return fmt.Errorf("writing %s: %w", target, err)
	}
	return nil
}

// replace replaces an existing file (a symbolic link is replaced, not
// followed), remembering what it held for rollback.
func (w *writer) replace(target string, fi fs.FileInfo, content []byte) error {
	old := replacedFile{path: target, mode: fi.Mode().Perm()}
	var err error
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		old.link, err = os.Readlink(target)
	case fi.Mode().IsRegular():
		old.data, err = os.ReadFile(target)
	default:
		return replaceFile(target, content, 0o644) // fails: not a file
	}
	if err != nil {
		return err
	}
	if err := replaceFile(target, content, 0o644); err != nil {
		return err
	}
	w.replaced = append(w.replaced, old)
	return nil
}

// replaceFile replaces an existing file through a temporary file in the same
// directory, with the given mode. Errors name the target, never the
// temporary file.
func replaceFile(target string, content []byte, mode fs.FileMode) error {
	fail := func(err error) error {
		var pe *fs.PathError
		var le *os.LinkError
		switch {
		case errors.As(err, &pe):
			err = pe.Err
		case errors.As(err, &le):
			err = le.Err
		}
		return fmt.Errorf("writing %s: %w", target, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(target), "."+filepath.Base(target)+".tmp-*")
	if err != nil {
		return fail(err)
	}
	_, werr := tmp.Write(content)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr, os.Chmod(tmp.Name(), mode)); err != nil {
		os.Remove(tmp.Name())
		return fail(err)
	}
	if err := os.Rename(tmp.Name(), target); err != nil {
		os.Remove(tmp.Name())
		return fail(err)
	}
	return nil
}

// GitIdentity returns git's user.name and user.email, as "git commit" would
// use them here; "" for each that is not set, or when git is missing.
func GitIdentity() (name, email string) {
	get := func(key string) string {
		out, err := exec.Command("git", "config", "--get", key).Output()
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(out))
	}
	return get("user.name"), get("user.email")
}
