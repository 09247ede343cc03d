package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/ksbuilder/ksbuilder/pkg/cluster"
	"github.com/ksbuilder/ksbuilder/pkg/output"
	"github.com/ksbuilder/ksbuilder/pkg/safetext"
)

// repoAddOptions are the inputs of "repo add".
type repoAddOptions struct {
	f             *Factory
	Connect       cluster.ConnectOptions
	Repository    cluster.RepositoryOptions
	CAFile        string
	PasswordStdin bool
	Output        output.Format
}

func newRepoAddCmd(f *Factory) *cli.Command {
	return &cli.Command{
		Name:      "add",
		Usage:     "Add a KubeSphere Repository that the cluster syncs extensions from",
		ArgsUsage: "NAME URL",
		Description: `Creates the KubeSphere Repository NAME on the cluster: KubeSphere reads
URL/index.yaml (a Helm repository, such as "ksbuilder repo index" writes or
a ChartMuseum serves) and creates an ExtensionVersion for the newest
versions of each chart, at once and then every --interval. The same
Repository again changes nothing; one with other settings is refused
unless --force-update, which replaces its settings and syncs it again.

KubeSphere keeps --username and the password in the Repository's spec,
where whoever may read repositories sees them; the installer's Helm job
uses them, with --ca-file and --insecure-skip-tls-verify, to fetch charts.

Examples:
  ksbuilder repo add team https://charts.example.com
  echo "$PASSWORD" | ksbuilder repo add museum https://museum.example.com -u reader --password-stdin --ca-file ca.pem
  ksbuilder repo add team https://charts.example.com --depth 0 --interval 1h --force-update`,
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "username", Aliases: []string{"u"}, Usage: "user `NAME` for basic auth"},
			&cli.BoolFlag{Name: "password-stdin", Usage: "read the password from standard input"},
			&cli.StringFlag{Name: flagCAFile, Usage: "verify the repository with the CA certificates in `FILE`"},
			&cli.BoolFlag{Name: flagInsecureTLS, Usage: "do not verify the repository's certificate"},
			&cli.StringFlag{Name: "depth", Usage: "how many versions per extension to sync (`N`; 0: all; default: KubeSphere's, 3)"},
			&cli.DurationFlag{Name: "interval", Usage: "how often KubeSphere polls the repository (`DURATION`, at least 15m)"},
			&cli.DurationFlag{Name: "sync-timeout", Usage: "how long one sync may take (`DURATION`; default 2m)"},
			&cli.StringFlag{Name: "description", Usage: "a `TEXT` shown with the repository"},
			&cli.BoolFlag{Name: "force-update", Usage: "replace the settings of an existing Repository NAME"},
			outputFlag("text, json or yaml"),
		}, clusterFlags()...),
		Action: func(c *cli.Context) error {
			if err := exactArgs(c, "NAME", "URL"); err != nil {
				return err
			}
			opts := &repoAddOptions{f: f, Connect: connectOptions(c), CAFile: c.String(flagCAFile), PasswordStdin: c.Bool("password-stdin")}
			opts.Repository = cluster.RepositoryOptions{
				Name: c.Args().Get(0), URL: c.Args().Get(1), Description: c.String("description"),
				Username: c.String("username"), Insecure: c.Bool(flagInsecureTLS),
				Interval: c.Duration("interval"), Timeout: c.Duration("sync-timeout"), Update: c.Bool("force-update"),
			}
			if c.IsSet("depth") {
				n, err := strconv.Atoi(strings.TrimSpace(c.String("depth")))
				if err != nil || n < 0 {
					return usageErrorf("--depth %q: give a number of versions, 0 for all", c.String("depth"))
				}
				opts.Repository.Depth = &n
			}
			if opts.PasswordStdin != (opts.Repository.Username != "") {
				return usageErrorf("--username and --password-stdin go together")
			}
			var err error
			if opts.Output, err = outputFormat(c, output.Text, output.JSON, output.YAML); err != nil {
				return err
			}
			return repoAddRun(c, opts)
		},
	}
}

func repoAddRun(c *cli.Context, opts *repoAddOptions) error {
	f := opts.f
	if opts.PasswordStdin {
		password, err := readPasswordStdin(f)
		if err != nil {
			return err
		}
		opts.Repository.Password = password
	}
	if opts.CAFile != "" {
		data, err := os.ReadFile(opts.CAFile)
		if err != nil {
			return fmt.Errorf("--%s: %w", flagCAFile, err)
		}
		opts.Repository.CABundle = data
	}
	if _, err := opts.Repository.RepositorySpec(); err != nil {
		return &usageError{err: err}
	}
	client, err := connect(opts.Connect)
	if err != nil {
		return err
	}
	res, warnings, err := client.AddRepository(c.Context, opts.Repository)
	for _, w := range warnings {
		f.Warnf("%s", w)
	}
	var exists *cluster.RepositoryExistsError
	if errors.As(err, &exists) {
		return fmt.Errorf("%w: pass --force-update to replace them, or pick another name", err)
	}
	if err != nil {
		return clusterError(err)
	}
	return output.Write(f.IO.Out, opts.Output, res, func(w io.Writer) error {
		return writeObjectResults(w, []cluster.ObjectResult{res})
	})
}

func newRepoListCmd(f *Factory) *cli.Command {
	return &cli.Command{
		Name:  "list",
		Usage: "List the cluster's KubeSphere Repositories",
		Description: `Lists the KubeSphere Repositories of the cluster: URL, sync depth and
interval, the last sync, and the extensions synced from each.

Examples:
  ksbuilder repo list
  ksbuilder repo list -o json`,
		Flags: append([]cli.Flag{outputFlag("text, json or yaml")}, clusterFlags()...),
		Action: func(c *cli.Context) error {
			if err := exactArgs(c); err != nil {
				return err
			}
			format, err := outputFormat(c, output.Text, output.JSON, output.YAML)
			if err != nil {
				return err
			}
			client, err := connect(connectOptions(c))
			if err != nil {
				return err
			}
			repos, err := client.ListRepositories(c.Context)
			if err != nil {
				return clusterError(err)
			}
			return output.Write(f.IO.Out, format, repos, func(w io.Writer) error {
				if len(repos) == 0 {
					f.Infof("No Repositories; add one with \"ksbuilder repo add NAME URL\".")
					return nil
				}
				tbl := output.NewTable(w, "name", "url", "depth", "interval", "last sync", "extensions")
				for _, r := range repos {
					depth, interval, synced := "default", "default", "never"
					if r.Depth != nil {
						depth = strconv.Itoa(*r.Depth)
					}
					if r.Interval != "" {
						interval = r.Interval
					}
					if r.LastSync != nil {
						synced = r.LastSync.Format(time.RFC3339)
					}
					tbl.Row(safetext.Line(r.Name, 0), safetext.Line(r.URL, 0), depth, interval, synced, strconv.Itoa(len(r.Extensions)))
				}
				return tbl.Flush()
			})
		},
	}
}

func newRepoRemoveCmd(f *Factory) *cli.Command {
	return &cli.Command{
		Name:      "remove",
		Aliases:   []string{"rm"},
		Usage:     "Remove a KubeSphere Repository",
		ArgsUsage: "NAME",
		Description: `Deletes the KubeSphere Repository NAME. KubeSphere then deletes the
Extensions and ExtensionVersions synced from it, which it owns; while one
of them is installed the removal is refused, unless --force.

Examples:
  ksbuilder repo remove team`,
		Flags: append([]cli.Flag{
			&cli.BoolFlag{Name: "force", Usage: "remove it even though extensions synced from it are installed"},
			outputFlag("text, json or yaml"),
		}, clusterFlags()...),
		Action: func(c *cli.Context) error {
			if err := exactArgs(c, "NAME"); err != nil {
				return err
			}
			format, err := outputFormat(c, output.Text, output.JSON, output.YAML)
			if err != nil {
				return err
			}
			client, err := connect(connectOptions(c))
			if err != nil {
				return err
			}
			res, err := client.RemoveRepository(c.Context, c.Args().First(), c.Bool("force"))
			var inUse *cluster.RepositoryInUseError
			if errors.As(err, &inUse) {
				return fmt.Errorf("%w; uninstall them first, or pass --force", err)
			}
			if err != nil {
				return clusterError(err)
			}
			return output.Write(f.IO.Out, format, res, func(w io.Writer) error {
				return writeObjectResults(w, []cluster.ObjectResult{res})
			})
		},
	}
}
