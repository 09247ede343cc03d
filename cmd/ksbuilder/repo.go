package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/ksbuilder/ksbuilder/pkg/output"
	"github.com/ksbuilder/ksbuilder/pkg/registry"
	"github.com/ksbuilder/ksbuilder/pkg/repo"
	"github.com/ksbuilder/ksbuilder/pkg/safetext"
)

func newRepoCmd(f *Factory) *cli.Command {
	return &cli.Command{
		Name:  "repo",
		Usage: "Build or fill a chart repository of extensions, and manage a cluster's Repositories",
		Description: `Builds a Helm chart repository that a KubeSphere Repository (spec.url) can
sync extensions from, uploads packages to a ChartMuseum (KubeSphere's
extension museum is one), and adds, lists and removes the cluster's
KubeSphere Repositories.

Examples:
  ksbuilder repo index dist --url https://charts.example.com
  ksbuilder repo push https://museum.example.com dist/hello-0.1.0.tgz
  ksbuilder repo add team https://charts.example.com
  ksbuilder repo list`,
		Subcommands: []*cli.Command{
			newRepoIndexCmd(f),
			newRepoPushCmd(f),
			newRepoAddCmd(f),
			newRepoListCmd(f),
			newRepoRemoveCmd(f),
		},
	}
}

func newRepoIndexCmd(f *Factory) *cli.Command {
	return &cli.Command{
		Name:      "index",
		Usage:     "Write the index.yaml of a directory of packages",
		ArgsUsage: "DIR",
		Description: `Writes DIR/index.yaml, a Helm repository index of the packages (*.tgz) in
DIR and its subdirectories, with each chart's URL under --url (relative to
the index without it). Serve DIR at that URL and point a KubeSphere
Repository (spec.url) at it: KubeSphere creates an ExtensionVersion for
each entry. --merge keeps the entries of an existing index (for versions no
longer in DIR); entries of DIR win. Files that are not charts are named on
stderr and skipped. The index is written atomically, and is reproducible:
its time stamps come from SOURCE_DATE_EPOCH, else from the packages.

Examples:
  ksbuilder package ./hello -d dist
  ksbuilder repo index dist --url https://charts.example.com
  ksbuilder repo index dist --url https://charts.example.com --merge old-index.yaml`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "url", Usage: "`URL` the directory is served at (default: URLs relative to the index)"},
			&cli.StringFlag{Name: "merge", Usage: "keep the entries of the index `FILE`"},
			outputFlag("text, json or yaml"),
		},
		Action: func(c *cli.Context) error {
			if err := exactArgs(c, "DIR"); err != nil {
				return err
			}
			format, err := outputFormat(c, output.Text, output.JSON, output.YAML)
			if err != nil {
				return err
			}
			stamp, err := sourceDateEpoch()
			if err != nil {
				return err
			}
			opts := repo.Options{Dir: c.Args().First(), URL: c.String("url"), Merge: c.String("merge"), Stamp: stamp}
			// Reading and hashing the packages does not watch the context;
			// Index checks it before writing.
			res, err := untilInterrupted(c.Context, func() (*repo.Result, error) { return repo.Index(c.Context, opts) })
			if err != nil {
				return err
			}
			for _, s := range res.Skipped {
				f.Warnf("skipped %s", s)
			}
			for _, w := range res.Warnings {
				f.Warnf("%s", w)
			}
			if format == output.Text {
				f.Infof("Wrote %s (%d entries)", res.Path, len(res.Entries))
			}
			return output.Write(f.IO.Out, format, res, func(w io.Writer) error {
				for _, e := range res.Entries {
					// Merged entries come from a file fetched from elsewhere.
					name, ver, url := safetext.Line(e.Name, 0), safetext.Line(e.Version, 0), safetext.Line(e.URLs[0], 0)
					if _, err := fmt.Fprintf(w, "%s %s %s\n", name, ver, url); err != nil {
						return err
					}
				}
				return nil
			})
		},
	}
}

// repoPushOptions are the inputs of "repo push".
type repoPushOptions struct {
	f             *Factory
	Push          repo.PushOptions
	Registry      registry.Options
	PasswordStdin bool
	Format        output.Format
}

func newRepoPushCmd(f *Factory) *cli.Command {
	return &cli.Command{
		Name:      "push",
		Usage:     "Upload packages to a ChartMuseum",
		ArgsUsage: "URL PACKAGE...",
		Description: `Uploads extension packages (.tgz made by "ksbuilder package") to the
ChartMuseum at URL with its API (POST URL/api/charts), as "helm cm-push"
does; a KubeSphere Repository pointed at the museum then offers them.
Every package is checked first (a chart within Helm's limits, no version
twice), so a bad one uploads nothing; then they go in order. On a
multi-tenant museum, URL's path names the repository (https://host/org/repo
uploads to https://host/api/org/repo/charts); --context-path is the path
ChartMuseum itself is served under, if any.

A version the museum already holds is refused (409) unless --force. The
credentials come from --username and --password-stdin, or from
HELM_REPO_USERNAME and HELM_REPO_PASSWORD (HELM_REPO_ACCESS_TOKEN for a
bearer token), the variables cm-push reads.

Examples:
  ksbuilder repo push https://museum.example.com dist/hello-0.1.0.tgz
  echo "$PASSWORD" | ksbuilder repo push https://museum.example.com dist/*.tgz -u ci --password-stdin
  HELM_REPO_USERNAME=ci HELM_REPO_PASSWORD=... ksbuilder repo push https://museum.example.com/org/repo dist/*.tgz --force`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "username", Aliases: []string{"u"}, Usage: "user `NAME` for basic auth", EnvVars: []string{"HELM_REPO_USERNAME"}},
			&cli.BoolFlag{Name: "password-stdin", Usage: "read the password from standard input"},
			&cli.StringFlag{Name: "password", Usage: "the password (prefer --password-stdin: a flag shows in the process list)", EnvVars: []string{"HELM_REPO_PASSWORD"}, Hidden: true},
			&cli.StringFlag{Name: "access-token", Usage: "bearer `TOKEN` instead of basic auth", EnvVars: []string{"HELM_REPO_ACCESS_TOKEN"}, Hidden: true},
			&cli.BoolFlag{Name: "force", Usage: "replace versions the museum already holds"},
			&cli.StringFlag{Name: "context-path", Usage: "the `PATH` ChartMuseum is served under (its --context-path)"},
			&cli.BoolFlag{Name: flagInsecureTLS, Usage: "accept any server certificate", Category: "TLS"},
			&cli.StringFlag{Name: flagCAFile, Usage: "verify the server with the CA certificates in `FILE`", Category: "TLS"},
			&cli.StringFlag{Name: flagCertFile, Usage: "client certificate `FILE`", Category: "TLS"},
			&cli.StringFlag{Name: flagKeyFile, Usage: "client key `FILE`", Category: "TLS"},
			registryTimeoutFlag(),
			outputFlag("text, json or yaml"),
		},
		Action: func(c *cli.Context) error {
			if c.NArg() < 2 {
				return usageErrorf("repo push needs URL and at least one PACKAGE")
			}
			opts := &repoPushOptions{f: f, PasswordStdin: c.Bool("password-stdin")}
			opts.Push = repo.PushOptions{
				URL: c.Args().First(), Packages: c.Args().Tail(), ContextPath: c.String("context-path"),
				Username: c.String("username"), Password: c.String("password"), Token: c.String("access-token"), Force: c.Bool("force"),
			}
			opts.Registry = registry.Options{
				InsecureSkipTLSVerify: c.Bool(flagInsecureTLS), CAFile: c.String(flagCAFile),
				CertFile: c.String(flagCertFile), KeyFile: c.String(flagKeyFile),
			}
			if (opts.Registry.CertFile == "") != (opts.Registry.KeyFile == "") {
				return usageErrorf("--%s and --%s go together", flagCertFile, flagKeyFile)
			}
			if _, err := repo.UploadURL(opts.Push.URL, opts.Push.ContextPath); err != nil {
				return &usageError{err: err}
			}
			if opts.PasswordStdin && opts.Push.Username == "" {
				return usageErrorf("--password-stdin needs --username")
			}
			if err := registryTimeout(c, &opts.Registry); err != nil {
				return err
			}
			var err error
			if opts.Format, err = outputFormat(c, output.Text, output.JSON, output.YAML); err != nil {
				return err
			}
			return repoPushRun(c, opts)
		},
	}
}

func repoPushRun(c *cli.Context, opts *repoPushOptions) error {
	f := opts.f
	if opts.PasswordStdin {
		password, err := readPasswordStdin(f)
		if err != nil {
			return err
		}
		opts.Push.Password = password
	}
	var err error
	if opts.Push.Transport, err = opts.Registry.Transport(); err != nil {
		return err
	}
	pushed, err := repo.Push(c.Context, opts.Push)
	for _, p := range pushed {
		f.Infof("Pushed %s %s (%s) to %s", safetext.Line(p.Name, 0), safetext.Line(p.Version, 0), p.Package, opts.Push.URL)
	}
	if err != nil {
		return repoPushError(err)
	}
	return output.Write(f.IO.Out, opts.Format, pushed, func(w io.Writer) error {
		for _, p := range pushed {
			if _, err := fmt.Fprintf(w, "%s %s\n", p.Name, p.Version); err != nil {
				return err
			}
		}
		return nil
	})
}

// repoPushError adds the fix to the museum's refusals; refused
// credentials exit with code 4.
func repoPushError(err error) error {
	var (
		exists *repo.ExistsError
		auth   *repo.AuthError
		stall  *registry.StallError
	)
	switch {
	case errors.As(err, &auth):
		return &authError{err: fmt.Errorf("%w: pass --username and --password-stdin (or HELM_REPO_USERNAME and HELM_REPO_PASSWORD)", err)}
	case errors.As(err, &exists):
		return fmt.Errorf("%w: bump the version, or pass --force to replace it", err)
	case errors.As(err, &stall):
		return fmt.Errorf("%w (check the museum; for a slow one, raise --%s)", err, flagRegistryTimeout)
	}
	return err
}
