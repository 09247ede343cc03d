package main

import (
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/ksbuilder/ksbuilder/create"
	"github.com/ksbuilder/ksbuilder/pkg/cluster"
	"github.com/ksbuilder/ksbuilder/pkg/extension"
)

// completionFlag is the flag the completion scripts add to ask for
// candidates (urfave/cli's name for it).
const completionFlag = "--generate-bash-completion"

// completeFlagValue answers a completion request whose word before the one
// being completed is a flag with known values (--category, --type,
// -o/--output, --context): it prints the candidates and reports true.
// Other requests are left to urfave/cli, which completes commands and flags.
func completeFlagValue(app *cli.App, args []string, w io.Writer) bool {
	if len(args) < 3 || args[len(args)-1] != completionFlag {
		return false
	}
	words := args[1 : len(args)-1]
	flag := words[len(words)-1]
	var candidates []string
	switch flag {
	case "--category":
		for _, c := range extension.Categories {
			candidates = append(candidates, c.Name)
		}
	case "--type":
		for _, t := range create.Types {
			candidates = append(candidates, string(t))
		}
	case "-o", "--output":
		candidates = outputFormats(commandFor(app, words))
	case "--context":
		names, err := cluster.Contexts(flagValue(words, "--"+flagKubeconfig))
		if err != nil {
			return true // nothing to offer; never print an error into the shell
		}
		candidates = names
	default:
		return false
	}
	for _, c := range candidates {
		fmt.Fprintln(w, c)
	}
	return true
}

// knownFormats matches the format names in an -o flag's usage text.
var knownFormats = regexp.MustCompile(`\b(text|json|yaml|table|sarif|github)\b`)

// outputFormats returns the formats a command's -o flag accepts, read from
// its usage text ("output format: text, json or yaml").
func outputFormats(c *cli.Command) []string {
	if c == nil {
		return nil
	}
	for _, f := range c.Flags {
		if s, ok := f.(*cli.StringFlag); ok && s.Name == "output" {
			return knownFormats.FindAllString(strings.TrimPrefix(s.Usage, "output format:"), -1)
		}
	}
	return nil
}

// commandFor returns the deepest command named by words, or nil.
func commandFor(app *cli.App, words []string) *cli.Command {
	var found *cli.Command
	cmds := app.Commands
	for _, w := range words {
		if strings.HasPrefix(w, "-") {
			continue
		}
		c := findIn(cmds, w)
		if c == nil {
			continue // a positional argument or a flag's value
		}
		found, cmds = c, c.Subcommands
	}
	return found
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
