package main

// patches are the changes release builds make to dependencies. Each one is
// an exact edit of a file of one version of a module: a new version of the
// module stops the build until the edit is checked against it. Keep them few
// and small, say why, and offer them upstream.
var patches = []modulePatch{
	{
		// jsonschema's init compiles the meta-schemas of five drafts (about
		// 9 ms and 1.7 MB at every start of the binary, 13 % of
		// "ksbuilder version": docs/performance.md). Helm's chartutil links the
		// library, so every command pays it, though only a chart with a
		// values.schema.json uses it. The patch compiles them on the first
		// NewCompiler instead: a schema can only be compiled, and so
		// validated, through a Compiler, so no caller sees a difference.
		// The meta-schemas are compiled with an unexported constructor, so the
		// bootstrap does not wait on itself.
		Module:  "github.com/santhosh-tekuri/jsonschema/v6",
		Version: "v6.0.3",
		Why:     "compile the draft meta-schemas on first use instead of at init",
		Files: []filePatch{
			{
				Name: "draft.go",
				Edits: []edit{
					{
						Old: "import (\n\t\"fmt\"\n\t\"slices\"\n\t\"strings\"\n)\n",
						New: "import (\n\t\"fmt\"\n\t\"slices\"\n\t\"strings\"\n\t\"sync\"\n)\n",
					},
					{
						Old: "func init() {\n\tc := NewCompiler()\n",
						New: "// loadMetaSchemas compiles the drafts' meta-schemas; NewCompiler calls it\n" +
							"// (patched by ksbuilder's hack/patchdeps: this was init).\n" +
							"var loadMetaSchemas = sync.OnceFunc(func() {\n\tc := newCompiler()\n",
					},
					{
						Old: "\t\t}\n\t}\n}\n\nfunc draftFromURL(",
						New: "\t\t}\n\t}\n})\n\nfunc draftFromURL(",
					},
				},
			},
			{
				Name: "compiler.go",
				Edits: []edit{
					{
						Old: "func NewCompiler() *Compiler {\n",
						New: "func NewCompiler() *Compiler {\n\tloadMetaSchemas()\n\treturn newCompiler()\n}\n\n" +
							"// newCompiler is NewCompiler without the meta-schemas, for loadMetaSchemas.\n" +
							"func newCompiler() *Compiler {\n",
					},
				},
			},
		},
	}, {
		// govalidator compiles its 44 string patterns (e-mail, URL, ...) at init:
		// 0.9 MB and 7 % of "ksbuilder version" (docs/performance.md). Helm's
		// linter links it for three checks of Chart.yaml, so every command
		// pays it. The patch compiles each pattern on its first match; the
		// package uses them only through MatchString.
		Module:  "github.com/asaskevich/govalidator",
		Version: "v0.0.0-20230301143203-a9d515a09cc2",
		Why:     "compile the string patterns on first use instead of at init",
		// it looks the domain up in the DNS
		NetworkTests: "^TestIsExistingEmail$",
		Files: []filePatch{
			{
				Name: "patterns.go",
				Edits: []edit{
					{Old: "import \"regexp\"\n", New: ""},
					{Old: "regexp.MustCompile(", New: "lazyRegexp(", Count: 44},
				},
			},
			{
				Name: "lazyregexp.go",
				Add: `package govalidator

// Added by ksbuilder's hack/patchdeps: the patterns compile on first use.

import (
	"regexp"
	"sync"
)

// lazyRE is a regular expression compiled on its first match.
type lazyRE struct {
	expr string
	once sync.Once
	re   *regexp.Regexp
}

func lazyRegexp(expr string) *lazyRE {
	return &lazyRE{expr: expr}
}

// MatchString reports whether s contains a match of the expression.
func (l *lazyRE) MatchString(s string) bool {
	l.once.Do(func() { l.re = regexp.MustCompile(l.expr) })
	return l.re.MatchString(s)
}
`,
			},
		},
	},
}
