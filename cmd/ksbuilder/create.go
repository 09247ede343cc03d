package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/ksbuilder/ksbuilder/create"
	"github.com/ksbuilder/ksbuilder/pkg/extension"
)

type createOptions struct {
	f *Factory
	create.Options
}

func newCreateCmd(f *Factory, runF func(*createOptions) error) *cli.Command {
	return createCommandFor(f, runF, "")
}

// newCreateAppCmd is upstream's "createapp --from CHART.tgz": create with
// --type app. It is hidden; create's help names it.
func newCreateAppCmd(f *Factory, runF func(*createOptions) error) *cli.Command {
	c := createCommandFor(f, runF, create.App)
	c.Name, c.Aliases, c.Hidden = "createapp", nil, true
	c.Usage = "Create an extension that publishes a Helm chart in the App Store (create --type app)"
	c.ArgsUsage = "[NAME] --from CHART.tgz"
	return c
}

// createCommandFor builds create; a preset type is the type of a command
// that stands for "create --type TYPE".
func createCommandFor(f *Factory, runF func(*createOptions) error, preset create.Type) *cli.Command {
	return &cli.Command{
		Name: "create",
		// Upstream's spelling of "create --from CHART.tgz".
		Aliases:   []string{"createsimple"},
		Usage:     "Create a new extension project",
		ArgsUsage: "[NAME]",
		Description: `Scaffolds an extension: extension.yaml, permissions.yaml, values.yaml, README,
an icon and a screenshot, and Helm subcharts. NAME (or --name) is the
extension's name. On a terminal it asks for what the arguments do not give;
otherwise (or with --no-prompt) NAME, --category and --author are required,
and every missing one is named at once. The author and e-mail default to
git's user.name and user.email. A category that is not built in is
accepted as a custom one, unless it looks like a typo of a built-in one.
Ctrl-C or Ctrl-D at a question cancels. The project passes "ksbuilder lint" as generated.

Types:
  full       console UI and API: a frontend subchart (JSBundle, tag extension)
             and a backend subchart (APIService, tag agent); Multicluster
  frontend   the console UI subchart only; HostOnly
  backend    the API subchart only (tag agent); Multicluster
  app        a Helm chart (--from) published in the App Store; HostOnly
The console UI needs no image: its bundle, a SystemJS module, is the file
charts/frontend/files/index.js, which the chart puts into a ConfigMap that
the JSBundle reads. The scaffold writes a small hand-written page there;
--frontend-dist FILE takes the bundle the console tooling built instead
("yarn build:ext NAME" writes extensions/NAME/dist/index.js), and
"ksbuilder bundle FILE" replaces it later (docs/frontend.md).
With --from CHART.tgz, the chart is wrapped as a subchart instead, with a
console entry that embeds it (--entry iframe) or links to it (--entry link);
"createsimple --from CHART.tgz", upstream's spelling, does the same.
With --type app --from CHART.tgz, the chart is published in the KubeSphere
App Store instead: a subchart "base" creates an Application and an
ApplicationVersion (application.kubesphere.io/v2), puts the chart into a
ConfigMap of the App Store's namespace (extension-openpitrix), and runs a
post-install Job that marks them active; the extension requires the
openpitrix extension. "createapp --from CHART.tgz", upstream's spelling, is
create --type app. On a terminal, choosing type app asks for the chart.

The target directory (--dir, default ./NAME) may be missing, or empty but for
dot-files such as .git, .gitignore or .idea, which are left alone; it is
filled in place, never removed. A directory with other files is refused
unless --force is given.

Examples:
  ksbuilder create
  ksbuilder create hello --category dev-tools --author "Jane Doe" --type frontend
  ksbuilder create hello --category dev-tools --author Me --frontend-dist ../console/extensions/hello/dist/index.js
  mkdir hello && cd hello && git init && ksbuilder create hello --dir . --category dev-tools --author Me
  ksbuilder create grafana --from grafana-8.5.0.tgz --entry link --category observability --author Me
  ksbuilder create nginx-app --type app --from nginx-15.0.0.tgz --category dev-tools --author Me`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "name", Usage: "extension `NAME`: lower-case letters, digits and '-', at most 32 characters"},
			&cli.StringFlag{Name: "category", Usage: "`CATEGORY` name (see ksbuilder category), or a custom one"},
			&cli.StringFlag{Name: "author", Usage: "`AUTHOR` or organisation (default: git config user.name)"},
			&cli.StringFlag{Name: "email", Usage: "author's e-mail `ADDRESS` (optional; default: git config user.email)"},
			&cli.StringFlag{Name: "url", Usage: "author's or project's web page `URL` (optional)"},
			&cli.StringFlag{Name: "type", Usage: "project `TYPE`: full, frontend, backend or app (default full; app needs --from)"},
			&cli.StringFlag{Name: "from", Usage: "wrap an existing Helm chart `ARCHIVE` (.tgz) instead of the frontend/backend templates (with --type app: publish it in the App Store)"},
			&cli.StringFlag{Name: "frontend-dist", Usage: "the console UI bundle `FILE` built by the console tooling (extensions/NAME/dist/index.js) to ship instead of the scaffold's page"},
			&cli.StringFlag{Name: "entry", Usage: "with --from: how the console shows the chart's application (`ENTRY`): iframe or link", Value: create.EntryIframe},
			&cli.StringFlag{Name: "dir", Usage: "`DIR` to write to: missing, or empty but for dot-files (default ./NAME)"},
			&cli.BoolFlag{Name: "force", Usage: "write into a non-empty directory, replacing files with the same names"},
		},
		Action: func(c *cli.Context) error {
			name, err := createName(c)
			if err != nil {
				return err
			}
			if preset != "" && c.IsSet("type") && create.Type(c.String("type")) != preset {
				return usageErrorf("--type %s: this command creates type %s (use ksbuilder create --type %s)", c.String("type"), preset, c.String("type"))
			}
			opts := &createOptions{f: f, Options: create.Options{
				Name: name, Category: c.String("category"), Author: c.String("author"),
				Email: c.String("email"), URL: c.String("url"), Type: create.Type(c.String("type")),
				From: c.String("from"), Entry: c.String("entry"), Dir: c.String("dir"), Force: c.Bool("force"),
				FrontendDist: c.String("frontend-dist"),
			}}
			if preset != "" {
				opts.Type = preset
			}
			if opts.From != "" && opts.Type != "" && opts.Type != create.App {
				return usageErrorf("--type %s cannot wrap a chart: with --from, give no --type (a console entry) or --type app (the App Store)", opts.Type)
			}
			if c.IsSet("entry") && (opts.From == "" || opts.Type == create.App) {
				return usageErrorf("--entry applies only with --from CHART.tgz and no --type app (how the console shows a wrapped chart)")
			}
			if runF != nil {
				return runF(opts)
			}
			return createRun(c.Context, opts)
		},
	}
}

// createName returns the name given as NAME or --name; both may be given
// only when they agree.
func createName(c *cli.Context) (string, error) {
	flag := c.String("name")
	switch c.NArg() {
	case 0:
		return flag, nil
	case 1:
		arg := c.Args().First()
		if c.IsSet("name") && flag != arg {
			return "", usageErrorf("NAME %q and --name %q differ; give the name once", arg, flag)
		}
		return arg, nil
	}
	return "", exactArgs(c, "[NAME]")
}

func createRun(ctx context.Context, opts *createOptions) error {
	f := opts.f
	gitName, gitEmail := create.GitIdentity()
	if create.ValidateEmail(gitEmail) != nil {
		gitEmail = ""
	}
	asked := f.IO.CanPrompt()
	if asked {
		if err := askCreateQuestions(f, &opts.Options, gitName, gitEmail); err != nil {
			return err
		}
	} else {
		if opts.Author == "" && gitName != "" {
			opts.Author = gitName
			f.Infof("Author: %s (git config user.name)", gitName)
			if opts.Email == "" && gitEmail != "" {
				opts.Email = gitEmail
				f.Infof("E-mail: %s (git config user.email)", gitEmail)
			}
		}
		if err := requireCreateFlags(&opts.Options, f.IO.IsStdinTTY() && f.IO.IsStdoutTTY()); err != nil {
			return err
		}
	}
	if opts.Type == "" && opts.From == "" {
		opts.Type = create.Full
	}
	if err := opts.Validate(); err != nil {
		return &usageError{err: err}
	}
	// Interrupted while answering or writing: nothing stays written.
	res, err := create.Create(ctx, opts.Options)
	if err != nil {
		return err
	}
	dir := res.Dir
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	kind := string(opts.Type)
	if opts.From != "" && opts.Type != create.App {
		kind = "chart-wrapping"
	}
	f.Infof("Created %s extension %q in %s (%d files).", kind, opts.Name, dir, len(res.Files))
	for _, n := range res.Notes {
		f.Warnf("%s", n)
	}
	if asked {
		f.Infof("The same without questions:\n  %s", createCommand(&opts.Options))
	}
	f.Infof("Next:\n  ksbuilder lint %[1]s\n  ksbuilder package %[1]s", res.Dir)
	fmt.Fprintln(f.IO.Out, dir)
	return nil
}

// requireCreateFlags fails with a usage error naming every required
// answer that is missing. onTerminal says that prompts were turned off
// (--no-prompt) rather than impossible.
func requireCreateFlags(o *create.Options, onTerminal bool) error {
	if o.From != "" && o.Name == "" {
		name, err := create.ChartName(o.From)
		if err != nil {
			return &usageError{err: fmt.Errorf("--from: %w", err)}
		}
		if create.ValidateName(name) == nil {
			o.Name = name
		}
	}
	var missing []string
	for _, req := range []struct{ flag, value string }{
		{"NAME", o.Name}, {"--category", o.Category}, {"--author", o.Author},
	} {
		if strings.TrimSpace(req.value) == "" {
			missing = append(missing, req.flag)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	why := "required without a terminal; or run on a terminal to be asked"
	if onTerminal {
		why = "required with --no-prompt or KSBUILDER_NO_PROMPT; drop them to be asked"
	}
	return usageErrorf("missing %s (%s)", strings.Join(missing, ", "), why)
}

// createCommand returns the create command line that gives the same
// answers without questions.
func createCommand(o *create.Options) string {
	args := []string{"ksbuilder", "create", shellQuote(o.Name), "--category", shellQuote(o.Category), "--author", shellQuote(o.Author)}
	for _, opt := range []struct{ flag, value string }{
		{"--email", o.Email}, {"--url", o.URL}, {"--type", string(o.Type)}, {"--from", o.From}, {"--frontend-dist", o.FrontendDist}, {"--dir", o.Dir},
	} {
		if opt.value != "" {
			args = append(args, opt.flag, shellQuote(opt.value))
		}
	}
	if o.From != "" && o.Type != create.App {
		args = append(args, "--entry", shellQuote(o.Entry))
	}
	if o.Force {
		args = append(args, "--force")
	}
	return strings.Join(args, " ")
}

// shellQuote quotes s for a POSIX shell when it holds anything but letters,
// digits and @%+=:,./_-.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%+=:,./_-") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// otherCategory is the category choice that asks for a custom name.
const otherCategory = "Other (type a custom category)"

// askCreateQuestions prompts for every answer the flags did not give. The
// author and e-mail questions offer git's user.name and user.email.
func askCreateQuestions(f *Factory, o *create.Options, gitName, gitEmail string) error {
	p := f.Prompter()
	var err error
	if o.Name == "" {
		def := ""
		if o.From != "" {
			if name, err := create.ChartName(o.From); err == nil && create.ValidateName(name) == nil {
				def = name
			}
		}
		if o.Name, err = p.Input("Extension name:", def, create.ValidateName); err != nil {
			return err
		}
	}
	if o.Category == "" {
		options := make([]string, len(extension.Categories), len(extension.Categories)+1)
		for i, c := range extension.Categories {
			options[i] = fmt.Sprintf("%s (%s)", c.DisplayName, c.Name)
		}
		i, err := p.Select("Category:", append(options, otherCategory), 0)
		if err != nil {
			return err
		}
		if i < len(extension.Categories) {
			o.Category = extension.Categories[i].Name
		} else {
			check := func(s string) error { _, err := create.CheckCategory(s); return err }
			if o.Category, err = p.Input("Custom category:", "", check); err != nil {
				return err
			}
		}
	}
	if o.Author == "" {
		required := func(s string) error {
			if strings.TrimSpace(s) == "" {
				return errors.New("the author is required")
			}
			return nil
		}
		if o.Author, err = p.Input("Author:", gitName, required); err != nil {
			return err
		}
	}
	if o.Email == "" {
		if o.Email, err = p.Input("E-mail (optional):", gitEmail, create.ValidateEmail); err != nil {
			return err
		}
	}
	if o.URL == "" {
		if o.URL, err = p.Input("Web page (optional):", "", create.ValidateURL); err != nil {
			return err
		}
	}
	if o.Type == "" && o.From == "" {
		options := make([]string, len(create.Types))
		for i, t := range create.Types {
			options[i] = fmt.Sprintf("%-9s %s", t, create.TypeDescriptions[t])
		}
		i, err := p.Select("Project type:", options, 0)
		if err != nil {
			return err
		}
		o.Type = create.Types[i]
	}
	if o.Type == create.App && o.From == "" {
		isChart := func(s string) error { _, err := create.ChartName(s); return err }
		if o.From, err = p.Input("Helm chart archive to publish (.tgz):", "", isChart); err != nil {
			return err
		}
	}
	return nil
}
