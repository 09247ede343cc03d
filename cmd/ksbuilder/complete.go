package main

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/ksbuilder/ksbuilder/create"
	"github.com/ksbuilder/ksbuilder/pkg/cluster"
	"github.com/ksbuilder/ksbuilder/pkg/diag"
	"github.com/ksbuilder/ksbuilder/pkg/extension"
	"github.com/ksbuilder/ksbuilder/pkg/lint"
)

// completeCommand starts a completion request, as in cobra's scripts:
// "ksbuilder __complete WORD... CURRENT" prints the candidates for CURRENT
// (possibly empty), the word under the cursor, one per line. The request
// is answered from the command tree before any command runs: it never
// runs an action, and it only reaches a cluster to complete a name.
const completeCommand = "__complete"

// completionFlag is how the scripts of earlier versions ask (urfave/cli's
// protocol): "ksbuilder WORD... [CURRENT] --generate-bash-completion",
// CURRENT given only when it starts with "-".
const completionFlag = "--generate-bash-completion"

// completionTimeout bounds the one request that completes a name.
const completionTimeout = 3 * time.Second

// completionRequest recognises a completion request: the words before the
// one being completed, and that word.
func completionRequest(app *cli.App, args []string) (words []string, current string, ok bool) {
	switch {
	case len(args) >= 2 && args[1] == completeCommand:
		words = args[2:]
		if len(words) == 0 {
			return nil, "", true
		}
		return words[:len(words)-1], words[len(words)-1], true
	case len(args) >= 2 && args[len(args)-1] == completionFlag:
		words = args[1 : len(args)-1]
		n := len(words)
		if n > 0 && strings.HasPrefix(words[n-1], "-") && walkWords(app, words).pending == nil {
			return words[:n-1], words[n-1], true
		}
		return words, "", true
	}
	return nil, "", false
}

// completionState is where the words typed so far lead in the command tree.
type completionState struct {
	// path names the command ("extension show"); "" at the top level.
	path  string
	flags []cli.Flag
	cmds  []*cli.Command
	// positional counts the arguments given to the command.
	positional int
	// pending is the flag whose value is being completed, or nil.
	pending cli.Flag
	// afterDashes is set after "--": every word is an argument.
	afterDashes bool
}

// walkWords follows words through the command tree as urfave/cli (with
// reorderArgs) parses them: flags anywhere, a flag's value in the next word
// (or after "=", which bash splits off), subcommands before the first
// argument.
func walkWords(app *cli.App, words []string) completionState {
	st := completionState{flags: app.Flags, cmds: app.Commands}
	for i := 0; i < len(words); i++ {
		w := words[i]
		st.pending = nil
		switch {
		case st.afterDashes || w == "-" || !strings.HasPrefix(w, "-"):
			if c := findIn(st.cmds, w); c != nil && !st.afterDashes && st.positional == 0 {
				st.path = strings.TrimSpace(st.path + " " + c.Name)
				st.flags, st.cmds = c.Flags, c.Subcommands
				continue
			}
			st.positional++
		case w == "--":
			st.afterDashes = true
		case strings.Contains(w, "="):
		default:
			fl := lookupFlag(st.flags, w)
			if fl == nil || !takesValue(fl) {
				continue
			}
			if i+1 < len(words) && words[i+1] == "=" {
				i++
			}
			if i+1 == len(words) {
				st.pending = fl
				continue
			}
			i++
		}
	}
	return st
}

// lookupFlag returns the flag of flags that word ("-o", "--output") names.
func lookupFlag(flags []cli.Flag, word string) cli.Flag {
	name := strings.TrimLeft(word, "-")
	for _, fl := range flags {
		if slices.Contains(fl.Names(), name) {
			return fl
		}
	}
	return nil
}

func takesValue(fl cli.Flag) bool {
	v, ok := fl.(interface{ TakesValue() bool })
	return ok && v.TakesValue()
}

// complete returns the candidates for current after words. A name
// that needs the cluster and cannot be read yields no candidates: the
// shell then completes file names, and nothing is printed into it.
func complete(ctx context.Context, app *cli.App, words []string, current string) []string {
	st := walkWords(app, words)
	var candidates []string
	switch {
	case st.afterDashes:
		candidates = argumentNames(ctx, st, words)
	case st.pending != nil:
		candidates = flagValues(ctx, st, words)
	case strings.HasPrefix(current, "-") && strings.Contains(current, "="):
		name, _, _ := strings.Cut(current, "=")
		if st.pending = lookupFlag(st.flags, name); st.pending != nil && takesValue(st.pending) {
			for _, v := range flagValues(ctx, st, words) {
				candidates = append(candidates, name+"="+v)
			}
		}
	case strings.HasPrefix(current, "-"):
		candidates = flagNames(st.flags)
	case st.positional == 0 && len(st.cmds) > 0:
		for _, c := range st.cmds {
			if !c.Hidden {
				candidates = append(candidates, c.Names()...)
			}
		}
	default:
		candidates = argumentNames(ctx, st, words)
	}
	var out []string
	for _, c := range candidates {
		if strings.HasPrefix(c, current) && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

// flagNames lists a command's flags as typed: "--name", "-n". The global
// flags are listed too, though the commands' help leaves them out.
func flagNames(flags []cli.Flag) []string {
	var out []string
	for _, fl := range flags {
		if v, ok := fl.(cli.VisibleFlag); ok && !v.IsVisible() && !isGlobalFlag(fl) {
			continue
		}
		for _, n := range fl.Names() {
			if len(n) == 1 {
				out = append(out, "-"+n)
			} else {
				out = append(out, "--"+n)
			}
		}
	}
	return append(out, "--help")
}

// nameCompletion is the kind of name a command's NAME argument is.
func nameCompletion(path string) (cluster.NameKind, bool) {
	switch path {
	case "status", "uninstall", "upgrade":
		return cluster.InstalledNames, true
	case "unpublish", "extension show", "extension versions":
		return cluster.PublishedNames, true
	}
	return 0, false
}

// argumentNames completes a command's first argument when it is the name
// of something on the cluster; other arguments are left to the shell.
func argumentNames(ctx context.Context, st completionState, words []string) []string {
	kind, ok := nameCompletion(st.path)
	if !ok || st.positional > 0 {
		return nil
	}
	return clusterNames(ctx, words, kind)
}

// clusterNames reads names from the cluster the typed --kubeconfig and
// --context select, within completionTimeout.
func clusterNames(ctx context.Context, words []string, kind cluster.NameKind) []string {
	client, err := cluster.Connect(cluster.ConnectOptions{
		Kubeconfig: flagValue(words, "--"+flagKubeconfig), Context: flagValue(words, "--"+flagContext),
	})
	if err != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, completionTimeout)
	defer cancel()
	names, err := client.Names(ctx, kind)
	if err != nil {
		return nil
	}
	return names
}

// flagValues lists the values of the flag being completed, for the flags
// whose values are known: categories, project types, output formats,
// kubeconfig contexts, lint rules and severities, cluster names.
func flagValues(ctx context.Context, st completionState, words []string) []string {
	var candidates []string
	switch st.pending.Names()[0] {
	case "category":
		for _, c := range extension.Categories {
			candidates = append(candidates, c.Name)
		}
	case "type":
		for _, t := range create.Types {
			candidates = append(candidates, string(t))
		}
	case "output":
		candidates = outputFormats(st.flags)
	case flagContext:
		candidates, _ = cluster.Contexts(flagValue(words, "--"+flagKubeconfig))
	case "skip":
		for _, r := range lint.Rules() {
			candidates = append(candidates, r.ID)
		}
	case "fail-on":
		for _, s := range []diag.Severity{diag.Error, diag.Warning, diag.Info} {
			candidates = append(candidates, s.String())
		}
	case "cluster":
		candidates = clusterNames(ctx, words, cluster.ClusterNames)
	}
	return candidates
}

// knownFormats matches the format names in an -o flag's usage text.
var knownFormats = regexp.MustCompile(`\b(text|json|yaml|table|sarif|github)\b`)

// outputFormats returns the formats a command's -o flag accepts, read from
// its usage text (outputUsage, then "text, json or yaml").
func outputFormats(flags []cli.Flag) []string {
	for _, f := range flags {
		if s, ok := f.(*cli.StringFlag); ok && s.Name == "output" {
			usage, ok := strings.CutPrefix(s.Usage, outputUsage)
			if !ok {
				return nil // not a format (images save's archive)
			}
			return knownFormats.FindAllString(usage, -1)
		}
	}
	return nil
}

// flagValue returns the value given to a flag in words ("--f v" or
// "--f=v"), or "".
func flagValue(words []string, name string) string {
	for i, w := range words {
		if v, ok := strings.CutPrefix(w, name+"="); ok {
			return v
		}
		if w == name && i+1 < len(words) {
			return words[i+1]
		}
	}
	return ""
}
