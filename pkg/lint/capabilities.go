package lint

import (
	"bytes"
	"slices"
	"strings"
	"text/template/parse"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
)

// capabilityReaders returns the templates of a chart tree, by chart path
// ("ext/charts/app/templates/x.yaml"), whose output may differ between
// Kubernetes versions: those that read .Capabilities, directly or through
// the named templates they include, or that cannot be followed (tpl, an
// include of a computed name, a template that does not parse). Partials are
// not listed: Helm does not render them. It also returns what the chart's
// templates can see of the APIs a cluster serves.
func capabilityReaders(c *chart.Chart) (map[string]bool, apiObservation) {
	type tree struct {
		reads bool     // reads .Capabilities, or cannot be followed
		calls []string // the named templates it includes
	}
	observed := apiObservation{asked: map[string]bool{}}
	files := map[string]tree{}     // the templates Helm renders
	defines := map[string][]tree{} // every definition of each named template
	var walk func(c *chart.Chart, prefix string)
	walk = func(c *chart.Chart, prefix string) {
		library := strings.EqualFold(c.Metadata.Type, "library")
		for _, t := range c.Templates {
			rendered := !isPartial(t.Name)
			if library && rendered {
				continue // Helm leaves them out
			}
			name := prefix + t.Name
			set := map[string]*parse.Tree{}
			p := parse.New(name)
			p.Mode = parse.SkipFuncCheck
			if _, err := p.Parse(string(t.Data), "{{", "}}", set); err != nil {
				if rendered {
					files[name] = tree{reads: true}
				}
				observed.all = true
				continue
			}
			for n, pt := range set {
				var tr tree
				tr.reads, tr.calls = followTree(pt.Root, &observed)
				if n == name {
					if rendered {
						files[name] = tr
					}
					continue
				}
				defines[n] = append(defines[n], tr)
			}
		}
		for _, sub := range c.Dependencies() {
			walk(sub, prefix+"charts/"+sub.Name()+"/")
		}
	}
	walk(c, c.Name()+"/")
	if observed.tpl && chartMentionsCapabilities(c) {
		observed.all = true
	}

	// A named template reads .Capabilities when one of its definitions
	// does or includes one that does: iterate to a fixed point.
	readers := map[string]bool{}
	for changed := true; changed; {
		changed = false
		for n, trees := range defines {
			if readers[n] {
				continue
			}
			for _, tr := range trees {
				if tr.reads || anyOf(tr.calls, readers) {
					readers[n], changed = true, true
					break
				}
			}
		}
	}
	out := map[string]bool{}
	for name, tr := range files {
		if tr.reads || anyOf(tr.calls, readers) {
			out[name] = true
		}
	}
	return out, observed
}

// apiObservation is what the templates of a chart can see of the APIs a
// cluster serves (.Capabilities.APIVersions): the answers of
// .Capabilities.APIVersions.Has for the literal names in asked, or, when
// all is set, the whole list (a template reads it otherwise, asks about a
// computed name, or does not parse). The named templates of the chart are
// all followed, so an include of a computed name sees nothing more.
type apiObservation struct {
	asked map[string]bool
	all   bool
	// tpl is set when a template renders text with tpl: text from the
	// values or the chart's files, which may read .Capabilities (text in
	// the templates that names it sets all).
	tpl bool
}

// withValues returns the observation of a chart rendered with values:
// tpl may render one of them.
func (o apiObservation) withValues(values map[string]any) apiObservation {
	if o.tpl && valuesMentionCapabilities(values) {
		o.all = true
	}
	return o
}

// chartMentionsCapabilities reports whether the default values or the
// files of a chart tree name .Capabilities, for tpl to render.
func chartMentionsCapabilities(c *chart.Chart) bool {
	if valuesMentionCapabilities(c.Values) {
		return true
	}
	for _, f := range c.Files {
		if bytes.Contains(f.Data, []byte("Capabilities")) {
			return true
		}
	}
	return slices.ContainsFunc(c.Dependencies(), chartMentionsCapabilities)
}

// valuesMentionCapabilities reports whether a string in values (keys
// included) names .Capabilities.
func valuesMentionCapabilities(v any) bool {
	switch v := v.(type) {
	case string:
		return strings.Contains(v, "Capabilities")
	case map[string]any:
		for k, x := range v {
			if strings.Contains(k, "Capabilities") || valuesMentionCapabilities(x) {
				return true
			}
		}
	case []any:
		return slices.ContainsFunc(v, valuesMentionCapabilities)
	}
	return false
}

// sees reports whether a chart observing o could tell the served APIs of
// two Kubernetes versions apart.
func (o apiObservation) sees(a, b chartutil.VersionSet) bool {
	if o.all {
		return !slices.Equal(a, b)
	}
	for api := range o.asked {
		if a.Has(api) != b.Has(api) {
			return true
		}
	}
	return false
}

// anyOf reports whether one of names is in set.
func anyOf(names []string, set map[string]bool) bool {
	for _, n := range names {
		if set[n] {
			return true
		}
	}
	return false
}

// followTree reports whether a template's tree reads .Capabilities or
// cannot be followed (tpl renders text it cannot see, an include of a
// computed name), and the names it includes. What the tree can see of the
// served APIs is added to observed.
func followTree(root parse.Node, observed *apiObservation) (reads bool, calls []string) {
	// capabilities notes a path of fields that names .Capabilities: it
	// sees the served APIs unless it goes on to KubeVersion or HelmVersion.
	capabilities := func(path []string) {
		i := slices.Index(path, "Capabilities")
		if i < 0 {
			return
		}
		reads = true
		if i+1 >= len(path) || (path[i+1] != "KubeVersion" && path[i+1] != "HelmVersion") {
			observed.all = true
		}
	}
	var visit func(n parse.Node)
	visit = func(n parse.Node) {
		if n == nil {
			return
		}
		switch n := n.(type) {
		case *parse.ListNode:
			if n == nil {
				return
			}
			for _, c := range n.Nodes {
				visit(c)
			}
		case *parse.ActionNode:
			visit(n.Pipe)
		case *parse.PipeNode:
			if n == nil {
				return
			}
			for _, c := range n.Cmds {
				visit(c)
			}
		case *parse.CommandNode:
			if len(n.Args) > 0 {
				if id, ok := n.Args[0].(*parse.IdentifierNode); ok && (id.Ident == "include" || id.Ident == "tpl") {
					s, literal := argString(n.Args, 1)
					switch {
					case id.Ident == "tpl":
						reads, observed.tpl = true, true
					case !literal:
						reads = true
					default:
						calls = append(calls, s)
					}
				}
				if api, ok := askedAPI(n.Args); ok {
					reads = true
					observed.asked[api] = true
					return
				}
			}
			for _, a := range n.Args {
				visit(a)
			}
		case *parse.IdentifierNode:
			// tpl passed as a value (call, a pipeline's last command).
			if n.Ident == "tpl" {
				reads, observed.tpl = true, true
			}
		case *parse.FieldNode:
			capabilities(n.Ident)
		case *parse.VariableNode:
			capabilities(n.Ident)
		case *parse.ChainNode:
			capabilities(n.Field)
			visit(n.Node)
		case *parse.StringNode:
			if strings.Contains(n.Text, "Capabilities") { // index . "Capabilities"
				reads, observed.all = true, true
			}
		case *parse.IfNode:
			visit(n.Pipe)
			visit(n.List)
			visit(n.ElseList)
		case *parse.RangeNode:
			visit(n.Pipe)
			visit(n.List)
			visit(n.ElseList)
		case *parse.WithNode:
			visit(n.Pipe)
			visit(n.List)
			visit(n.ElseList)
		case *parse.TemplateNode:
			calls = append(calls, n.Name)
			visit(n.Pipe)
		}
	}
	visit(root)
	return reads, calls
}

// askedAPI returns the name a command asks .Capabilities.APIVersions.Has
// about, when it is such a call with a literal name.
func askedAPI(args []parse.Node) (string, bool) {
	var path []string
	switch f := args[0].(type) {
	case *parse.FieldNode:
		path = f.Ident
	case *parse.VariableNode:
		path = f.Ident
	default:
		return "", false
	}
	n := len(path)
	if len(args) != 2 || n < 3 || path[n-3] != "Capabilities" || path[n-2] != "APIVersions" || path[n-1] != "Has" {
		return "", false
	}
	return argString(args, 1)
}

// versionedChart returns the part of the chart to render again for each
// Kubernetes version: the templates of capabilityReaders, with the
// partials and the templates that define named templates, which they may
// include. The objects of the other templates are the same on every version.
func versionedChart(c *chart.Chart, readers map[string]bool) *chart.Chart {
	var keep func(c *chart.Chart, prefix string) *chart.Chart
	keep = func(c *chart.Chart, prefix string) *chart.Chart {
		out := *c
		out.Templates = nil
		for _, t := range c.Templates {
			if isPartial(t.Name) || readers[prefix+t.Name] || bytes.Contains(t.Data, []byte("define")) {
				out.Templates = append(out.Templates, t)
			}
		}
		deps := make([]*chart.Chart, 0, len(c.Dependencies()))
		for _, d := range c.Dependencies() {
			deps = append(deps, keep(d, prefix+"charts/"+d.Name()+"/"))
		}
		out.SetDependencies(deps...)
		return &out
	}
	return keep(c, c.Name()+"/")
}

// argString returns argument i of a command when it is a string literal.
func argString(args []parse.Node, i int) (string, bool) {
	if i >= len(args) {
		return "", false
	}
	s, ok := args[i].(*parse.StringNode)
	if !ok {
		return "", false
	}
	return s.Text, true
}
