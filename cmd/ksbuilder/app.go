package main

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/ksbuilder/ksbuilder/pkg/iostreams"
	"github.com/ksbuilder/ksbuilder/pkg/output"
	"github.com/ksbuilder/ksbuilder/pkg/suggest"
)

// Names of the flags every command accepts.
const (
	flagNoPrompt = "no-prompt"
	flagDebug    = "debug"
)

// The environment variables of the global flags. They are read by
// applyGlobalFlags, not by urfave/cli, which accepts only Go's spellings
// of a boolean.
const (
	envNoPrompt = "KSBUILDER_NO_PROMPT"
	envDebug    = "KSBUILDER_DEBUG"
)

// globalFlags are accepted before and after the command name. The
// commands' help leaves them out (hidden) and points to "ksbuilder --help".
func globalFlags(hidden bool) []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: flagNoPrompt, Usage: "never ask questions; fail with a usage error when an answer is missing [$" + envNoPrompt + "]", Hidden: hidden, DisableDefaultText: true},
		&cli.BoolFlag{Name: flagDebug, Usage: "print debug information to stderr [$" + envDebug + "]", Hidden: hidden, DisableDefaultText: true},
	}
}

// isGlobalFlag reports whether fl is one of globalFlags.
func isGlobalFlag(fl cli.Flag) bool {
	name := fl.Names()[0]
	return name == flagNoPrompt || name == flagDebug
}

// globalOptionsHelp ends the help of every command.
const globalOptionsHelp = `
GLOBAL OPTIONS:
   --no-prompt, --debug (see "ksbuilder --help")
`

// run executes the CLI with args and returns the exit code.
func run(ctx context.Context, args []string, ios *iostreams.IOStreams) int {
	return runWith(ctx, newFactory(ios, resolveVersion(version, buildInfo())), args)
}

// runWith executes the CLI with a given factory (tests inject fakes).
func runWith(ctx context.Context, f *Factory, args []string) int {
	app := newApp(f)
	cmdPath := app.Name
	if words, current, ok := completionRequest(app, args); ok {
		for _, c := range complete(ctx, app, words, current) {
			fmt.Fprintln(f.IO.Out, c)
		}
		return exitOK
	}
	args = helpToFlag(app, args)
	f.run.Args = args
	f.run.Output = requestedFormat(app, args)
	err := app.RunContext(ctx, reorderArgs(app, args))
	if err != nil {
		if c := findCommand(app, args); c != "" {
			cmdPath = app.Name + " " + c
		}
		f.run.Terminated = terminated(ctx)
		printError(f, cmdPath, err)
	}
	return exitCode(err)
}

// requestedFormat returns the structured format (json or yaml) that -o
// asks for on the command line, when the command has that format: a
// failure before the command reads its flags (a usage error) is then
// printed in it too.
func requestedFormat(app *cli.App, args []string) output.Format {
	words := args[1:]
	formats := outputFormats(walkWords(app, words).flags)
	for _, name := range []string{"-o", "--output"} {
		v := flagValue(words, name)
		if (v == string(output.JSON) || v == string(output.YAML)) && slices.Contains(formats, v) {
			return output.Format(v)
		}
	}
	return ""
}

// newApp builds the command tree.
func newApp(f *Factory) *cli.App {
	app := &cli.App{
		Name:            "ksbuilder",
		Usage:           "build, check, package, publish and test-install KubeSphere extensions",
		Version:         f.Version,
		Reader:          f.IO.In,
		Writer:          f.IO.Out,
		ErrWriter:       f.IO.ErrOut,
		HideHelpCommand: true,
		Suggest:         true,
		Flags:           globalFlags(false),
		// Errors are printed and mapped to exit codes by run, never here.
		ExitErrHandler: func(*cli.Context, error) {},
		OnUsageError: func(_ *cli.Context, err error, _ bool) error {
			return flagError(f, err)
		},
		Action: func(c *cli.Context) error {
			if c.Args().Present() {
				return unknownCommand(c.App, c.Args().First())
			}
			return cli.ShowAppHelp(c)
		},
		Commands: slices.Concat(
			inCategory("Build and check",
				newCreateCmd(f, nil),
				newCreateAppCmd(f, nil),
				newBundleCmd(f, nil),
				newLintCmd(f, nil),
				newTemplateCmd(f, nil),
				newValidateCmd(f, nil),
				newPackageCmd(f, nil),
				newRepoCmd(f),
				newImagesCmd(f),
			),
			inCategory("Cluster testing",
				newPublishCmd(f, nil),
				newInstallCmd(f, nil),
				newUpgradeCmd(f, nil),
				newDevCmd(f, nil),
				newStatusCmd(f, nil),
				newTestCmd(f, nil),
				newLogsCmd(f, nil),
				newEnableCmd(f),
				newDisableCmd(f),
				newUninstallCmd(f, nil),
				newUnpublishCmd(f, nil),
				newExtensionCmd(f),
				newRegistryCmd(f),
				newDoctorCmd(f, nil),
			),
			inCategory("Marketplace (KubeSphere Cloud)",
				newLoginCmd(f, nil),
				newLogoutCmd(f, nil),
				newPushCmd(f, nil),
				newListCmd(f, nil),
				newGetCmd(f, nil),
				newUnpushCmd(f, nil),
			),
			inCategory("Other",
				newCategoryCmd(f),
				newCompletionCmd(f),
				newVersionCmd(f),
			),
		),
	}
	f.run = &runInfo{}
	app.Metadata = map[string]any{runInfoKey: f.run}
	cli.VersionPrinter = func(c *cli.Context) {
		fmt.Fprintf(c.App.Writer, "ksbuilder version %s\n", c.App.Version)
	}
	for _, c := range app.Commands {
		prepareCommand(f, c)
	}
	return app
}

// inCategory groups commands under a heading of the help text.
func inCategory(name string, cmds ...*cli.Command) []*cli.Command {
	for _, c := range cmds {
		c.Category = name
	}
	return cmds
}

// prepareCommand gives a command (and its subcommands) the global flags, the
// usage-error mapping and the global-flag handling around its action.
func prepareCommand(f *Factory, c *cli.Command) {
	c.Flags = append(c.Flags, globalFlags(true)...)
	c.HideHelpCommand = true
	if len(c.Subcommands) == 0 {
		c.CustomHelpTemplate = cli.CommandHelpTemplate + globalOptionsHelp
	}
	c.OnUsageError = func(_ *cli.Context, err error, _ bool) error { return flagError(f, err) }
	if len(c.Subcommands) > 0 && c.Action == nil {
		// A group: an unknown subcommand is a usage error, not urfave's
		// "No help topic" (exit 1).
		parent := c
		c.Action = func(ctx *cli.Context) error {
			if ctx.Args().Present() {
				return unknownSubcommand(parent, ctx.Args().First())
			}
			return cli.ShowSubcommandHelp(ctx)
		}
	}
	if action := c.Action; action != nil {
		c.Action = func(ctx *cli.Context) error {
			applyGlobalFlags(f, ctx)
			return action(ctx)
		}
	}
	for _, sub := range c.Subcommands {
		prepareCommand(f, sub)
	}
}

// applyGlobalFlags reads the global flags from wherever they were set:
// before the command name, after it, or in the environment.
func applyGlobalFlags(f *Factory, c *cli.Context) {
	f.IO.SetNeverPrompt(lineageBool(c, flagNoPrompt, envNoPrompt))
	f.debug = lineageBool(c, flagDebug, envDebug)
}

// lineageBool reads a boolean flag from the command or its parents, else
// from the environment variable env.
func lineageBool(c *cli.Context, name, env string) bool {
	for _, ctx := range c.Lineage() {
		if ctx.IsSet(name) {
			return ctx.Bool(name)
		}
	}
	return envBool(os.Getenv(env))
}

// envBool reads a boolean environment variable the way gh and NO_COLOR
// do: unset, empty, "0", "false", "no", "off" (any case) are false;
// anything else ("1", "true", "yes", "on") is true.
func envBool(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "0", "false", "no", "off", "n", "f":
		return false
	}
	return true
}

func unknownCommand(app *cli.App, name string) error {
	return unknownIn(app.Commands, name, "")
}

// unknownSubcommand is the error for "ksbuilder GROUP NAME" when GROUP has
// no subcommand NAME.
func unknownSubcommand(group *cli.Command, name string) error {
	return unknownIn(group.Subcommands, name, " for \"ksbuilder "+group.Name+"\"")
}

func unknownIn(cmds []*cli.Command, name, where string) error {
	var names []string
	for _, c := range cmds {
		if !c.Hidden {
			names = append(names, c.Names()...)
		}
	}
	if s := suggest.Closest(name, names, 2); s != "" {
		return usageErrorf("unknown command %q%s; did you mean %q?", name, where, s)
	}
	return usageErrorf("unknown command %q%s", name, where)
}

// helpToFlag turns "ksbuilder help CMD [SUB]" into "ksbuilder CMD [SUB]
// --help", so help works as in helm, gh and kubectl. A name that is not a
// command is left without --help, so it is reported as unknown (exit 2).
func helpToFlag(app *cli.App, args []string) []string {
	for i := 1; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			break
		}
		if strings.HasPrefix(a, "-") {
			continue // a global flag before the command
		}
		if a != "help" {
			return args
		}
		rest := args[i+1:]
		cmds := app.Commands
		for _, name := range rest {
			if strings.HasPrefix(name, "-") {
				continue
			}
			c := findIn(cmds, name)
			if c == nil {
				return slices.Concat(args[:i], rest)
			}
			cmds = c.Subcommands
		}
		return slices.Concat(args[:i], rest, []string{"--help"})
	}
	return args
}

// findIn returns the command of cmds named name, or nil.
func findIn(cmds []*cli.Command, name string) *cli.Command {
	for _, c := range cmds {
		if c.HasName(name) {
			return c
		}
	}
	return nil
}

// undefinedFlag matches urfave/cli's error for an unknown flag, which shows
// the flag with one dash whatever the user typed.
var undefinedFlag = regexp.MustCompile(`^flag provided but not defined: -(\S+)$`)

// flagError turns urfave/cli's flag parsing error into a usage error that
// names the flag as the user typed it ("--bogus", not "-bogus").
func flagError(f *Factory, err error) error {
	m := undefinedFlag.FindStringSubmatch(err.Error())
	if m == nil {
		return &usageError{err: err}
	}
	name := m[1]
	typed := "--" + name
	if len(name) == 1 {
		typed = "-" + name
	}
	for _, a := range f.run.Args {
		a, _, _ = strings.Cut(a, "=")
		if a == "-"+name || a == "--"+name {
			typed = a
			break
		}
	}
	return usageErrorf("unknown flag %s", typed)
}

// exactArgs checks the number of positional arguments.
func exactArgs(c *cli.Context, names ...string) error {
	if c.NArg() == len(names) {
		return nil
	}
	if c.NArg() < len(names) {
		return usageErrorf("missing argument %s", strings.Join(names[c.NArg():], " "))
	}
	return usageErrorf("too many arguments: %s takes %d (%s), got %q", c.Command.Name, len(names), strings.Join(names, " "), c.Args().Slice())
}

// findCommand returns the command path named by args ("package",
// "completion bash"), skipping global flags.
func findCommand(app *cli.App, args []string) string {
	cmds := app.Commands
	var path []string
	for _, a := range args[1:] {
		if strings.HasPrefix(a, "-") {
			continue
		}
		found := findIn(cmds, a)
		if found == nil {
			break
		}
		path = append(path, found.Name)
		cmds = found.Subcommands
	}
	return strings.Join(path, " ")
}

// reorderArgs lets flags follow positional arguments, as in kubectl and helm:
// "ksbuilder package ./ext -d out" becomes "ksbuilder package -d out ./ext".
// urfave/cli v2 stops parsing flags at the first positional argument. After
// "--" nothing is moved.
func reorderArgs(app *cli.App, args []string) []string {
	if len(args) < 2 {
		return args
	}
	out := []string{args[0]}
	rest := args[1:]
	flags := app.Flags
	cmds := app.Commands
	for {
		// Copy this level's flags up to the (sub)command name.
		i := 0
		for i < len(rest) && strings.HasPrefix(rest[i], "-") && rest[i] != "--" {
			i += 1 + flagValueCount(flags, rest[i], rest[i+1:])
		}
		i = min(i, len(rest))
		out = append(out, rest[:i]...)
		rest = rest[i:]
		if len(rest) == 0 || rest[0] == "--" {
			return append(out, rest...)
		}
		var next *cli.Command
		for _, c := range cmds {
			if c.HasName(rest[0]) {
				next = c
			}
		}
		if next == nil {
			break
		}
		out = append(out, rest[0])
		rest = rest[1:]
		flags, cmds = next.Flags, next.Subcommands
		if len(cmds) == 0 {
			break
		}
	}
	var flagArgs, positional []string
	for i := 0; i < len(rest); i++ {
		a := rest[i]
		switch {
		case a == "--":
			positional = append(positional, rest[i:]...)
			i = len(rest)
		case strings.HasPrefix(a, "-") && a != "-":
			n := flagValueCount(flags, a, rest[i+1:])
			end := min(i+1+n, len(rest))
			flagArgs = append(flagArgs, rest[i:end]...)
			i = end - 1
		default:
			positional = append(positional, a)
		}
	}
	out = append(out, flagArgs...)
	return append(out, positional...)
}

// flagValueCount returns 1 when arg is a flag that takes its value from the
// next argument, else 0.
func flagValueCount(flags []cli.Flag, arg string, next []string) int {
	if strings.Contains(arg, "=") || len(next) == 0 {
		return 0
	}
	name := strings.TrimLeft(arg, "-")
	for _, fl := range flags {
		for _, n := range fl.Names() {
			if n != name {
				continue
			}
			if _, isBool := fl.(*cli.BoolFlag); isBool {
				return 0
			}
			return 1
		}
	}
	return 0
}
