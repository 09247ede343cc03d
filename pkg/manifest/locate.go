package manifest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"helm.sh/helm/v3/pkg/chart"
	"sigs.k8s.io/yaml"

	"github.com/ksbuilder/ksbuilder/pkg/diag"
	"github.com/ksbuilder/ksbuilder/pkg/source"
)

// origin is where a chart of the dependency tree lives in the extension.
type origin struct {
	// file is the chart's directory ("" for the extension root,
	// "charts/backend"), or the archive that holds it ("charts/x-1.0.tgz").
	file string
	// inArchive is set when file is an archive; inner is then the chart's
	// directory inside it ("x/", "x/charts/sub/").
	inArchive bool
	inner     string
}

// Locator maps Helm's chart paths ("ext/charts/backend/templates/a.yaml",
// as in rendered template names and Helm's errors) back to the extension's
// files.
type Locator struct {
	// chart is the extension's chart, the root of the tree.
	chart *chart.Chart
	// prefixes maps "ext/", "ext/charts/backend/", ... to their origins.
	prefixes map[string]origin
	// keys are the prefixes, longest first.
	keys []string
}

// NewLocator walks the chart's dependencies alongside the source's charts/
// directories and archives. Aliased dependencies get a prefix per alias.
func NewLocator(src *source.Source, c *chart.Chart) *Locator {
	l := &Locator{chart: c, prefixes: map[string]origin{}}
	root := c.Name() + "/"
	l.prefixes[root] = origin{}
	l.walk(src, c, root, origin{})
	for k := range l.prefixes {
		l.keys = append(l.keys, k)
	}
	sort.Slice(l.keys, func(i, j int) bool {
		if len(l.keys[i]) != len(l.keys[j]) {
			return len(l.keys[i]) > len(l.keys[j])
		}
		return l.keys[i] < l.keys[j]
	})
	return l
}

func (l *Locator) walk(src *source.Source, c *chart.Chart, prefix string, at origin) {
	var subdirs map[string]origin
	if !at.inArchive {
		subdirs = subchartOrigins(src, at.file)
	}
	for _, sub := range c.Dependencies() {
		o, ok := subdirs[sub.Name()]
		if at.inArchive || !ok {
			// Inside an archive Helm's packages keep subcharts as
			// directories; a nested archive is reported as its parent.
			o = at
			if at.inArchive {
				o.inner = at.inner + "charts/" + sub.Name() + "/"
			}
		}
		names := []string{sub.Name()}
		if c.Metadata != nil {
			for _, d := range c.Metadata.Dependencies {
				if d.Name == sub.Name() && d.Alias != "" {
					names = append(names, d.Alias)
				}
			}
		}
		for _, n := range names {
			p := prefix + "charts/" + n + "/"
			if _, seen := l.prefixes[p]; seen {
				continue
			}
			l.prefixes[p] = o
			l.walk(src, sub, p, o)
		}
	}
}

// subchartOrigins finds the subcharts under dir/charts of a source: each
// directory with a Chart.yaml, by the name in it, and each .tgz archive, by
// its top directory, which Helm names after the chart.
func subchartOrigins(src *source.Source, dir string) map[string]origin {
	base := path.Join(dir, "charts") + "/"
	out := map[string]origin{}
	for _, name := range src.Names() {
		rest, ok := strings.CutPrefix(name, base)
		if !ok {
			continue
		}
		switch {
		case strings.Count(rest, "/") == 1 && path.Base(rest) == "Chart.yaml":
			data, _ := src.Read(name)
			var md struct {
				Name string `json:"name"`
			}
			if yaml.Unmarshal(data, &md) == nil && md.Name != "" {
				out[md.Name] = origin{file: base + path.Dir(rest)}
			}
		case !strings.Contains(rest, "/") && (strings.HasSuffix(rest, ".tgz") || strings.HasSuffix(rest, ".tar.gz")):
			data, _ := src.Read(name)
			if top := archiveTopDir(data); top != "" {
				out[top] = origin{file: name, inArchive: true, inner: top + "/"}
			}
		}
	}
	return out
}

// archiveTopDir returns the first path element of the first entry of a
// gzip-compressed tar, or "" when it cannot be read.
func archiveTopDir(data []byte) string {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return ""
	}
	defer zr.Close()
	h, err := tar.NewReader(zr).Next()
	if err != nil {
		return ""
	}
	top, _, _ := strings.Cut(strings.TrimPrefix(h.Name, "./"), "/")
	return top
}

// Location is a place in the extension's files.
type Location struct {
	// File is the path relative to the extension root.
	File string
	// Inner is the path inside File when File is an archive.
	Inner string
}

// Locate maps a Helm chart path to the extension's files. The generated
// Chart.yaml of the top chart maps to extension.yaml.
func (l *Locator) Locate(chartPath string) Location {
	for _, k := range l.keys {
		rest, ok := strings.CutPrefix(chartPath, k)
		if !ok {
			if chartPath+"/" != k {
				continue
			}
			rest = ""
		}
		o := l.prefixes[k]
		if o.inArchive {
			return Location{File: o.file, Inner: o.inner + rest}
		}
		if o.file == "" && rest == "Chart.yaml" {
			return Location{File: "extension.yaml"}
		}
		return Location{File: path.Join(o.file, rest)}
	}
	return Location{File: chartPath}
}

// Diagnostic builds a finding at a location. For a file inside an archive
// the inner path leads the message.
func (loc Location) Diagnostic(sev diag.Severity, code, field, msg, hint string) diag.Diagnostic {
	if loc.Inner != "" {
		msg = loc.Inner + ": " + msg
	}
	return diag.Diagnostic{Severity: sev, Code: code, File: loc.File, Field: field, Message: msg, Hint: hint}
}

// templatePositionRe finds the first template position in Helm's render
// errors: "template: ext/charts/x/templates/a.yaml:12:3: executing ...",
// "parse error at (ext/templates/a.yaml:5): ...", "execution error at
// (ext/templates/a.yaml:3:4): ...". Compiled on first use.
var templatePositionRe = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`([\w.@+-]+(?:/[\w.@+-]+)*\.(?:yaml|yml|tpl|txt|json)):(\d+)(?::(\d+))?`)
})

// TemplateDiagnostic builds a finding from a Helm error message that names
// a template position; ok is false when it names none. Helm names templates
// by their chart path; base is the path of the chart Helm treated as the top
// chart's parent ("" for the extension's chart).
func (l *Locator) TemplateDiagnostic(sev diag.Severity, code, base, msg, hint string) (diag.Diagnostic, bool) {
	msg = strings.Join(strings.Fields(msg), " ")
	m := templatePositionRe().FindStringSubmatch(msg)
	if m == nil {
		return diag.Diagnostic{}, false
	}
	loc := l.Locate(path.Join(base, m[1]))
	d := loc.Diagnostic(sev, code, "", msg, hint)
	if loc.Inner == "" {
		d.Line, _ = strconv.Atoi(m[2])
		d.Column, _ = strconv.Atoi(m[3])
	}
	return d, true
}
