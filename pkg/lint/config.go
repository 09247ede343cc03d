package lint

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"

	"github.com/ksbuilder/ksbuilder/pkg/diag"
	"github.com/ksbuilder/ksbuilder/pkg/suggest"
)

// ConfigFileName is the name of the lint configuration file, looked for in
// the linted directory and its parents.
const ConfigFileName = ".ksbuilder-lint.yaml"

// CodeConfig is the code of the diagnostics about a configuration file.
const CodeConfig = "lint-config"

// Config is a lint configuration file: rules skipped or re-graded, for every
// extension or for those under some paths.
type Config struct {
	// File is the path of the file, as it was loaded.
	File string
	// dir is the absolute directory of the file; paths are relative to it.
	dir string
	// Rules are applied in order; the last entry that matches a finding
	// decides.
	Rules []ConfigRule
}

// ConfigRule is one entry of a configuration file.
type ConfigRule struct {
	// Rule is the rule ID.
	Rule string
	// Skip leaves the rule's findings out; otherwise Severity replaces
	// theirs.
	Skip     bool
	Severity diag.Severity
	// Paths are slash-separated globs relative to the file's directory
	// ("**" matches any number of directories); a finding matches when its
	// file or a directory above it does. Empty means everywhere.
	Paths []string
	// Reason says why; it is required.
	Reason string
	// Line is the entry's line in the file.
	Line int
}

// rawConfig is the file's schema, decoded with unknown fields refused.
type rawConfig struct {
	Rules []rawRule `yaml:"rules"`
}

type rawRule struct {
	Rule     string   `yaml:"rule"`
	Skip     bool     `yaml:"skip"`
	Severity string   `yaml:"severity"`
	Paths    []string `yaml:"paths"`
	Reason   string   `yaml:"reason"`
}

// FindConfig looks for ConfigFileName in the directory of start (start
// itself when it is a directory) and its parents, stopping after the root
// of the git work tree (a directory holding .git) or the filesystem root. It
// returns "" when there is none.
func FindConfig(start string) (string, error) {
	dir, err := filepath.Abs(start)
	if err != nil {
		return "", err
	}
	if fi, err := os.Stat(dir); err == nil && !fi.IsDir() {
		dir = filepath.Dir(dir)
	}
	for {
		p := filepath.Join(dir, ConfigFileName)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p, nil
		}
		if _, err := os.Stat(filepath.Join(dir, ".git")); err == nil {
			return "", nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", nil
		}
		dir = parent
	}
}

// typeErrorLine matches an entry of a yaml.TypeError: "line 3: ...".
var typeErrorLine = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^line (\d+): (.*)$`) })

// unknownField matches yaml.v3's message for a field KnownFields refuses.
var unknownField = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^field (\S+) not found in type lint\.(\w+)$`) })

// LoadConfig reads a configuration file. Every problem in it is a
// *diag.Errors naming the file, line and field, with the fix.
func LoadConfig(file string) (*Config, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(file)
	if err != nil {
		return nil, err
	}
	c := &Config{File: file, dir: filepath.Dir(abs)}
	var problems diag.List
	bad := func(line, col int, field, hint, format string, args ...any) {
		problems = append(problems, diag.Diagnostic{Severity: diag.Error, Code: CodeConfig, File: filepath.ToSlash(file),
			Line: line, Column: col, Field: field, Message: fmt.Sprintf(format, args...), Hint: hint})
	}

	var raw rawConfig
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	err = dec.Decode(&raw)
	var typeErr *yaml.TypeError
	switch {
	case err == nil || errors.Is(err, io.EOF):
	case errors.As(err, &typeErr):
		for _, e := range typeErr.Errors {
			m := typeErrorLine().FindStringSubmatch(e)
			if m == nil {
				bad(0, 0, "", "", "%s", e)
				continue
			}
			line, _ := strconv.Atoi(m[1])
			if u := unknownField().FindStringSubmatch(m[2]); u != nil {
				fields := []string{"rules"}
				if u[2] == "rawRule" {
					fields = []string{"rule", "skip", "severity", "paths", "reason"}
				}
				hint := "the fields are " + strings.Join(fields, ", ")
				if s := suggest.Closest(u[1], fields, 2); s != "" {
					hint = fmt.Sprintf("did you mean %q? %s", s, hint)
				}
				bad(line, 0, "", hint, "unknown field %q", u[1])
				continue
			}
			msg := strings.NewReplacer("[]lint.rawRule", "a list of entries", "lint.rawRule", "an entry (a mapping)", "lint.rawConfig", "a mapping").Replace(m[2])
			bad(line, 0, "", "see docs/lint.md for the format", "%s", msg)
		}
		return nil, problems.Err()
	default:
		line := 0
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		if m := typeErrorLine().FindStringSubmatch(msg); m != nil {
			line, _ = strconv.Atoi(m[1])
			msg = m[2]
		}
		bad(line, 0, "", "fix the YAML syntax", "%s", msg)
		return nil, problems.Err()
	}

	// A second pass over the nodes gives each entry and field its position.
	var doc yaml.Node
	_ = yaml.Unmarshal(data, &doc)
	entries := ruleNodes(&doc)
	for i, r := range raw.Rules {
		field := fmt.Sprintf("rules[%d]", i)
		pos := func(key string) (int, int) {
			if i >= len(entries) {
				return 0, 0
			}
			n := entries[i]
			for j := 0; j+1 < len(n.Content); j += 2 {
				if n.Content[j].Value == key {
					return n.Content[j+1].Line, n.Content[j+1].Column
				}
			}
			return n.Line, n.Column
		}
		line, _ := pos("")
		entry := ConfigRule{Rule: r.Rule, Skip: r.Skip, Paths: r.Paths, Reason: strings.TrimSpace(r.Reason), Line: line}
		if _, ok := LookupRule(r.Rule); !ok {
			l, col := pos("rule")
			if r.Rule == "" {
				bad(l, col, field+".rule", "name the rule, as ksbuilder lint --list-rules lists them", "rule is required")
			} else {
				hint := "ksbuilder lint --list-rules lists them"
				if s := suggest.Closest(r.Rule, ruleIDs(), 3); s != "" {
					hint = fmt.Sprintf("did you mean %q? %s", s, hint)
				}
				bad(l, col, field+".rule", hint, "%q is not a rule", r.Rule)
			}
		}
		switch {
		case r.Skip && r.Severity != "":
			l, col := pos("severity")
			bad(l, col, field, "keep skip: true or the severity, not both", "skip and severity both set")
		case !r.Skip && r.Severity == "":
			l, col := pos("")
			bad(l, col, field, "add skip: true, or severity: error, warning or info", "neither skip nor severity set")
		case r.Severity != "":
			sev, err := diag.ParseSeverity(r.Severity)
			if err != nil {
				l, col := pos("severity")
				bad(l, col, field+".severity", "write error, warning or info", "%q is not a severity", r.Severity)
			}
			entry.Severity = sev
		}
		for k, p := range r.Paths {
			if _, err := path.Match(p, ""); err != nil || p == "" || path.IsAbs(p) || strings.Contains(p, `\`) {
				l, col := pos("paths")
				bad(l, col, fmt.Sprintf("%s.paths[%d]", field, k), "write a slash-separated glob relative to the file's directory, e.g. ks-extensions/*", "%q is not a valid path glob", p)
			}
		}
		if entry.Reason == "" {
			l, col := pos("")
			bad(l, col, field+".reason", "say why the rule is skipped or re-graded", "reason is required")
		}
		c.Rules = append(c.Rules, entry)
	}
	if err := problems.Err(); err != nil {
		return nil, err
	}
	return c, nil
}

// ruleIDs lists the IDs of every rule.
func ruleIDs() []string {
	ids := make([]string, len(registry))
	for i, r := range registry {
		ids[i] = r.ID
	}
	return ids
}

// ruleNodes returns the mapping nodes of the rules sequence.
func ruleNodes(doc *yaml.Node) []*yaml.Node {
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil
	}
	top := doc.Content[0]
	for i := 0; i+1 < len(top.Content); i += 2 {
		if top.Content[i].Value == "rules" {
			return top.Content[i+1].Content
		}
	}
	return nil
}

// Adjuster returns what Options.Adjust wants for the extension at root (a
// directory or a .tgz, as a path the process can open): every finding
// re-graded or skipped by the last entry that matches it.
func (c *Config) Adjuster(root string) func(diag.Diagnostic) (diag.Diagnostic, bool) {
	rel := ""
	if abs, err := filepath.Abs(root); err == nil {
		if r, err := filepath.Rel(c.dir, abs); err == nil {
			rel = filepath.ToSlash(r)
		}
	}
	return func(d diag.Diagnostic) (diag.Diagnostic, bool) {
		file := path.Join(rel, d.File)
		for i := len(c.Rules) - 1; i >= 0; i-- {
			r := c.Rules[i]
			if r.Rule != d.Code || !r.matches(file) {
				continue
			}
			if r.Skip {
				return d, false
			}
			d.Severity = r.Severity
			return d, true
		}
		return d, true
	}
}

// matches reports whether an entry applies to a file (slash-separated,
// relative to the configuration file).
func (r ConfigRule) matches(file string) bool {
	if len(r.Paths) == 0 {
		return true
	}
	if strings.HasPrefix(file, "../") || file == ".." {
		return false
	}
	parts := strings.Split(file, "/")
	for _, p := range r.Paths {
		// The glob matches the file or any directory above it.
		if globMatchPrefix(strings.Split(strings.Trim(p, "/"), "/"), parts, segmentMatch) {
			return true
		}
	}
	return false
}

// segmentMatch matches one path segment against one glob segment.
func segmentMatch(pattern, name string) bool {
	ok, _ := path.Match(pattern, name)
	return ok
}

// globMatchPrefix reports whether the glob segments match parts or a
// non-empty prefix of them (a directory above the file), "**" standing for
// any number of segments. It steps through parts once, keeping the set of
// glob positions reached, so a path costs at most one match per glob
// segment and path segment, whatever the number of "**".
func globMatchPrefix(pattern, parts []string, match func(pattern, name string) bool) bool {
	reached := make([]bool, len(pattern)+1)
	next := make([]bool, len(pattern)+1)
	// closeOver marks the positions after each reached "**": it may stand
	// for no segment.
	closeOver := func(set []bool) {
		for i, p := range pattern {
			if set[i] && p == "**" {
				set[i+1] = true
			}
		}
	}
	reached[0] = true
	closeOver(reached)
	for _, part := range parts {
		clear(next)
		alive := false
		for i, p := range pattern {
			if !reached[i] {
				continue
			}
			switch {
			case p == "**":
				next[i], alive = true, true
			case match(p, part):
				next[i+1], alive = true, true
			}
		}
		if !alive {
			return false
		}
		closeOver(next)
		reached, next = next, reached
		if reached[len(pattern)] {
			return true
		}
	}
	return false
}
