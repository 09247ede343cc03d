package lint

import (
	"bytes"
	"slices"
	"strings"
	"text/template/parse"

	"helm.sh/helm/v3/pkg/chart"
)

// capabilityReaders returns the templates of a chart tree, by chart path
// ("ext/charts/app/templates/x.yaml"), whose output may differ between
// Kubernetes versions: those that read .Capabilities, directly or through
// the named templates they include, or that cannot be followed (tpl, an
// include of a computed name, a template that does not parse). Partials are
// not listed: Helm does not render them.
func capabilityReaders(c *chart.Chart) map[string]bool {
	type tree struct {
		reads bool     // reads .Capabilities, or cannot be followed
		calls []string // the named templates it includes
	}
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
				continue
			}
			for n, pt := range set {
				var tr tree
				tr.reads, tr.calls = followTree(pt.Root)
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
	return out
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
// computed name), and the names it includes.
func followTree(root parse.Node) (reads bool, calls []string) {
	var visit func(n parse.Node)
	visit = func(n parse.Node) {
		if n == nil || reads {
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
					if id.Ident == "tpl" || !literal {
						reads = true
						return
					}
					calls = append(calls, s)
				}
			}
			for _, a := range n.Args {
				visit(a)
			}
		case *parse.IdentifierNode:
			// tpl passed as a value (call, a pipeline's last command).
			reads = n.Ident == "tpl"
		case *parse.FieldNode:
			reads = slices.Contains(n.Ident, "Capabilities")
		case *parse.VariableNode:
			reads = slices.Contains(n.Ident, "Capabilities")
		case *parse.ChainNode:
			reads = slices.Contains(n.Field, "Capabilities")
			visit(n.Node)
		case *parse.StringNode:
			reads = strings.Contains(n.Text, "Capabilities") // index . "Capabilities"
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
