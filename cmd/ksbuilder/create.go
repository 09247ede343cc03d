package main

import (
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
	return &cli.Command{
		Name:  "create",
		Usage: "Create a new extension project",
		Description: `Scaffolds an extension: extension.yaml, permissions.yaml, values.yaml, README,
an icon and a screenshot, and Helm subcharts. On a terminal it asks for what
the flags do not give; otherwise (or with --no-prompt) --name, --category and
--author are required. The project passes "ksbuilder lint" as generated.

Types:
  full       console UI and API: a frontend subchart (JSBundle, tag extension)
             and a backend subchart (APIService, tag agent); Multicluster
  frontend   the console UI subchart only; HostOnly
  backend    the API subchart only (tag agent); Multicluster
With --from CHART.tgz, the chart is wrapped as a subchart instead, with a
console entry that embeds it (--entry iframe) or links to it (--entry link).

The target directory (--dir, default ./NAME) must be empty or missing unless
--force is given.

Examples:
  ksbuilder create
  ksbuilder create --name hello --category dev-tools --author "Jane Doe" --type frontend
  ksbuilder create --name grafana --from grafana-8.5.0.tgz --entry link --category observability --author Me`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "name", Usage: "extension name: lower-case letters, digits and '-', at most 32 characters"},
			&cli.StringFlag{Name: "category", Usage: "category name (see ksbuilder category)"},
			&cli.StringFlag{Name: "author", Usage: "author or organisation"},
			&cli.StringFlag{Name: "email", Usage: "author's e-mail address (optional)"},
			&cli.StringFlag{Name: "url", Usage: "author's or project's web page (optional)"},
			&cli.StringFlag{Name: "type", Usage: "project type: full, frontend or backend (default full)"},
			&cli.StringFlag{Name: "from", Usage: "wrap an existing Helm chart `ARCHIVE` (.tgz) instead of the frontend/backend templates"},
			&cli.StringFlag{Name: "entry", Usage: "with --from: how the console shows the chart's application: iframe or link", Value: create.EntryIframe},
			&cli.StringFlag{Name: "dir", Usage: "directory to create (default ./NAME)"},
			&cli.BoolFlag{Name: "force", Usage: "write into a non-empty directory, replacing files with the same names"},
		},
		Action: func(c *cli.Context) error {
			if err := exactArgs(c); err != nil {
				return err
			}
			opts := &createOptions{f: f, Options: create.Options{
				Name: c.String("name"), Category: c.String("category"), Author: c.String("author"),
				Email: c.String("email"), URL: c.String("url"), Type: create.Type(c.String("type")),
				From: c.String("from"), Entry: c.String("entry"), Dir: c.String("dir"), Force: c.Bool("force"),
			}}
			if opts.From != "" && c.IsSet("type") {
				return usageErrorf("--type and --from cannot be used together")
			}
			if runF != nil {
				return runF(opts)
			}
			return createRun(opts)
		},
	}
}

func createRun(opts *createOptions) error {
	f := opts.f
	if f.IO.CanPrompt() {
		if err := askCreateQuestions(f, &opts.Options); err != nil {
			return err
		}
	} else if err := requireCreateFlags(&opts.Options); err != nil {
		return err
	}
	if opts.Type == "" && opts.From == "" {
		opts.Type = create.Full
	}
	if err := opts.Validate(); err != nil {
		return &usageError{err: err}
	}
	res, err := create.Create(opts.Options)
	if err != nil {
		return err
	}
	dir := res.Dir
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	kind := string(opts.Type)
	if opts.From != "" {
		kind = "chart-wrapping"
	}
	f.Infof("Created %s extension %q in %s (%d files).", kind, opts.Name, dir, len(res.Files))
	for _, n := range res.Notes {
		f.Warnf("%s", n)
	}
	f.Infof("Next:\n  ksbuilder lint %[1]s\n  ksbuilder package %[1]s", res.Dir)
	fmt.Fprintln(f.IO.Out, dir)
	return nil
}

// requireCreateFlags fails with a usage error naming the first required flag
// that is missing.
func requireCreateFlags(o *create.Options) error {
	if o.From != "" && o.Name == "" {
		name, err := create.ChartName(o.From)
		if err != nil {
			return &usageError{err: fmt.Errorf("--from: %w", err)}
		}
		if create.ValidateName(name) == nil {
			o.Name = name
		}
	}
	for _, req := range []struct{ flag, value string }{
		{"--name", o.Name}, {"--category", o.Category}, {"--author", o.Author},
	} {
		if strings.TrimSpace(req.value) == "" {
			return usageErrorf("%s is required when not running interactively (no terminal, or --no-prompt)", req.flag)
		}
	}
	return nil
}

// askCreateQuestions prompts for every answer the flags did not give.
func askCreateQuestions(f *Factory, o *create.Options) error {
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
		options := make([]string, len(extension.Categories))
		for i, c := range extension.Categories {
			options[i] = fmt.Sprintf("%s (%s)", c.DisplayName, c.Name)
		}
		i, err := p.Select("Category:", options, 0)
		if err != nil {
			return err
		}
		o.Category = extension.Categories[i].Name
	}
	if o.Author == "" {
		required := func(s string) error {
			if strings.TrimSpace(s) == "" {
				return errors.New("the author is required")
			}
			return nil
		}
		if o.Author, err = p.Input("Author:", "", required); err != nil {
			return err
		}
	}
	if o.Email == "" {
		if o.Email, err = p.Input("E-mail (optional):", "", create.ValidateEmail); err != nil {
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
	return nil
}
