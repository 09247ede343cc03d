package main

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"
)

// The completion scripts ask the binary itself for candidates, with
// "ksbuilder __complete WORD... CURRENT" (see complete.go). When it offers
// none, the shell completes file names.
const bashCompletion = `# bash completion for ksbuilder
_ksbuilder() {
  local cur="${COMP_WORDS[COMP_CWORD]}" words
  words=$("${COMP_WORDS[0]}" __complete "${COMP_WORDS[@]:1:COMP_CWORD-1}" "$cur" 2>/dev/null)
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o bashdefault -o default -F _ksbuilder ksbuilder
`

const zshCompletion = `#compdef ksbuilder
# zsh completion for ksbuilder
_ksbuilder() {
  local -a candidates
  candidates=(${(f)"$(${words[1]} __complete "${(@)words[2,CURRENT-1]}" "${words[CURRENT]}" 2>/dev/null)"})
  if (( ${#candidates} )); then
    compadd -a candidates
  else
    _files
  fi
}
compdef _ksbuilder ksbuilder
`

const fishCompletion = `# fish completion for ksbuilder
function __ksbuilder_complete
  set -l words (commandline -opc)
  set -l cmd $words[1]
  set -e words[1]
  set -l current (commandline -ct)
  set -l candidates ($cmd __complete $words "$current" 2>/dev/null)
  if test (count $candidates) -gt 0
    printf '%s\n' $candidates
  else
    __fish_complete_path "$current"
  end
end
complete -c ksbuilder -f -a '(__ksbuilder_complete)'
`

const powershellCompletion = `# PowerShell completion for ksbuilder
Register-ArgumentCompleter -Native -CommandName ksbuilder -ScriptBlock {
  param($wordToComplete, $commandAst, $cursorPosition)
  $words = @($commandAst.CommandElements | ForEach-Object { $_.ToString() })
  if ($wordToComplete -ne '') { $words = $words[0..($words.Count - 2)] }
  $request = @('__complete') + @($words | Select-Object -Skip 1) + @("$wordToComplete")
  & ksbuilder @request 2>$null | ForEach-Object {
    [System.Management.Automation.CompletionResult]::new($_, $_, 'ParameterValue', $_)
  }
}
`

func newCompletionCmd(f *Factory) *cli.Command {
	shells := []string{"bash", "zsh", "fish", "powershell"}
	var subs []*cli.Command
	for _, shell := range shells {
		subs = append(subs, &cli.Command{
			Name:  shell,
			Usage: fmt.Sprintf("Print the %s completion script", shell),
			Action: func(c *cli.Context) error {
				if err := exactArgs(c); err != nil {
					return err
				}
				var script string
				switch shell {
				case "bash":
					script = bashCompletion
				case "zsh":
					script = zshCompletion
				case "powershell":
					script = powershellCompletion
				case "fish":
					script = fishCompletion
				}
				_, err := fmt.Fprint(f.IO.Out, script)
				return err
			},
		})
	}
	return &cli.Command{
		Name:  "completion",
		Usage: "Print a shell completion script",
		Description: `Prints a script that makes the shell complete ksbuilder commands and flags.

Examples:
  # bash, for the current shell
  source <(ksbuilder completion bash)
  # zsh, installed for every session
  ksbuilder completion zsh > "${fpath[1]}/_ksbuilder"
  # fish
  ksbuilder completion fish > ~/.config/fish/completions/ksbuilder.fish
  # PowerShell
  ksbuilder completion powershell | Out-String | Invoke-Expression`,
		Subcommands: subs,
		Action: func(c *cli.Context) error {
			if c.Args().Present() {
				return usageErrorf("unsupported shell %q (want one of: %s)", c.Args().First(), strings.Join(shells, ", "))
			}
			return usageErrorf("missing argument SHELL (one of: %s)", strings.Join(shells, ", "))
		},
	}
}
