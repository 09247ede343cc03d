package main

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"
)

// The completion scripts ask the binary itself for candidates: urfave/cli
// answers "--generate-bash-completion" with the commands or flags that fit.
const bashCompletion = `# bash completion for ksbuilder
_ksbuilder() {
  local cur="${COMP_WORDS[COMP_CWORD]}" words
  if [[ "$cur" == -* ]]; then
    words=$("${COMP_WORDS[@]:0:$COMP_CWORD}" "$cur" --generate-bash-completion 2>/dev/null)
  else
    words=$("${COMP_WORDS[@]:0:$COMP_CWORD}" --generate-bash-completion 2>/dev/null)
  fi
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o bashdefault -o default -F _ksbuilder ksbuilder
`

const zshCompletion = `#compdef ksbuilder
# zsh completion for ksbuilder
_ksbuilder() {
  local -a candidates
  local cur=${words[CURRENT]}
  if [[ "$cur" == -* ]]; then
    candidates=(${(f)"$(${words[@]:0:CURRENT-1} $cur --generate-bash-completion 2>/dev/null)"})
  else
    candidates=(${(f)"$(${words[@]:0:CURRENT-1} --generate-bash-completion 2>/dev/null)"})
  fi
  if (( ${#candidates} )); then
    _describe 'ksbuilder' candidates
  else
    _files
  fi
}
compdef _ksbuilder ksbuilder
`

const powershellCompletion = `# PowerShell completion for ksbuilder
Register-ArgumentCompleter -Native -CommandName ksbuilder -ScriptBlock {
  param($wordToComplete, $commandAst, $cursorPosition)
  $words = $commandAst.CommandElements | ForEach-Object { $_.ToString() }
  if ($wordToComplete -ne '') { $words = $words[0..($words.Count - 2)] }
  $args = @($words | Select-Object -Skip 1)
  if ($wordToComplete -like '-*') { $args += $wordToComplete }
  $args += '--generate-bash-completion'
  & ksbuilder @args 2>$null | Where-Object { $_ -like "$wordToComplete*" } | ForEach-Object {
    [System.Management.Automation.CompletionResult]::new($_, $_, 'ParameterValue', $_)
  }
}
`

// fishValueCompletion adds the flag values urfave/cli's fish script lacks:
// fish asks ksbuilder with the words typed so far.
const fishValueCompletion = `
# flag values: ask ksbuilder
for flag in category type output context
  complete -c ksbuilder -l $flag -x -a '(eval (string escape -- (commandline -opc)) --generate-bash-completion 2>/dev/null)'
end
complete -c ksbuilder -s o -x -a '(eval (string escape -- (commandline -opc)) --generate-bash-completion 2>/dev/null)'
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
					s, err := c.App.ToFishCompletion()
					if err != nil {
						return err
					}
					script = s + fishValueCompletion
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
