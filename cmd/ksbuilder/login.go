package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/ksbuilder/ksbuilder/pkg/cloud"
	"github.com/ksbuilder/ksbuilder/pkg/config"
	"github.com/ksbuilder/ksbuilder/pkg/credentials"
)

type loginOptions struct {
	f *Factory

	Target    *cloudTarget
	Token     string
	WithToken bool
}

// maxTokenInput bounds what --with-token reads from stdin.
const maxTokenInput = 64 << 10

func newLoginCmd(f *Factory, runF func(*loginOptions) error) *cli.Command {
	return &cli.Command{
		Name:  "login",
		Usage: "Log in to KubeSphere Cloud with an API token",
		Description: `Checks an API token with KubeSphere Cloud and stores it for the other
Cloud commands (push, list, get, unpush). Create the token in the KubeSphere
Cloud account settings: Security > Create Access Token, with the Extension
scope; it looks like kck-1e63267b-cb3c-4757-b739-3d94a06781aa.

The token goes to the system keyring (service "ksbuilder", account = the
server's host). Without a usable keyring (headless Linux, CI) it goes to
credentials.json in the config directory, readable only by you, and login
says so. KSBUILDER_KEYRING=file always uses that file. The server is
remembered in config.json for the next commands.

On a terminal the token is asked for without echo. Otherwise pass it on
standard input with --with-token (or with --token, which leaves it in your
shell history). In CI, skip login and set KSBUILDER_TOKEN instead.

Environment: KSBUILDER_SERVER (like --server), KSBUILDER_TOKEN,
KSBUILDER_CONFIG_DIR (default: the user config directory + /ksbuilder),
KSBUILDER_KEYRING (system or file).

Examples:
  ksbuilder login
  echo "$KSC_TOKEN" | ksbuilder login --with-token
  ksbuilder login --server https://apis.kubesphere.cloud --with-token < token.txt`,
		Flags: []cli.Flag{
			serverFlag(),
			cloudTimeoutFlag(),
			&cli.StringFlag{Name: "token", Aliases: []string{"t"}, Usage: "the API `TOKEN` (prefer --with-token)"},
			&cli.BoolFlag{Name: "with-token", Usage: "read the token from standard input"},
		},
		Action: func(c *cli.Context) error {
			if err := exactArgs(c); err != nil {
				return err
			}
			opts := &loginOptions{f: f, Token: c.String("token"), WithToken: c.Bool("with-token")}
			if c.IsSet("token") && opts.WithToken {
				return usageErrorf("--token and --with-token cannot be used together")
			}
			if c.IsSet("token") && strings.TrimSpace(opts.Token) == "" {
				return usageErrorf("--token is empty")
			}
			var err error
			if opts.Target, err = f.cloudTarget(c); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return loginRun(c, opts)
		},
	}
}

func loginRun(c *cli.Context, opts *loginOptions) error {
	f, t := opts.f, opts.Target
	store, err := f.credentialStore(t)
	if err != nil {
		return err
	}
	token, err := readToken(opts)
	if err != nil {
		return err
	}
	client, err := f.newCloudClient(t, token, false)
	if err != nil {
		return err
	}
	user, err := client.CurrentUser(c.Context)
	if cloud.IsUnauthorized(err) {
		return &authError{err: fmt.Errorf("%s rejected the token: %w", t.Host, err)}
	}
	if err != nil {
		return cloudError(t, err)
	}

	res, err := store.Set(t.Host, token)
	if err != nil {
		return err
	}
	switch {
	case res.Source == credentials.SourceKeyring:
		f.Infof("Token stored in the system keyring.")
	case res.KeyringErr != nil:
		f.Warnf("no usable keyring (%v); the token is stored in %s, readable only by you", res.KeyringErr, store.FilePath())
	default:
		f.Infof("Token stored in %s, readable only by you.", store.FilePath())
	}
	cfg, err := config.Load(t.configDir)
	if err != nil {
		return err
	}
	if cfg.Server != t.URL {
		cfg.Server = t.URL
		if err := cfg.Save(t.configDir); err != nil {
			return fmt.Errorf("remembering the server: %w", err)
		}
	}
	if os.Getenv(envToken) != "" {
		f.Warnf("%s is set; it takes precedence over the stored token", envToken)
	}
	f.Infof("Login Succeeded: %s (user %s)", t.URL, user.ID)
	return nil
}

// readToken gets the token from --token, stdin or a masked prompt.
func readToken(opts *loginOptions) (string, error) {
	f := opts.f
	var token string
	switch {
	case opts.Token != "":
		token = opts.Token
	case opts.WithToken:
		data, err := io.ReadAll(io.LimitReader(f.IO.In, maxTokenInput))
		if err != nil {
			return "", fmt.Errorf("reading the token from standard input: %w", err)
		}
		token = string(data)
		if strings.TrimSpace(token) == "" {
			return "", usageErrorf("--with-token: standard input is empty; pipe the token in")
		}
	case f.IO.CanPrompt():
		var err error
		if token, err = f.Prompter().Password("Enter API token:"); err != nil {
			return "", err
		}
	default:
		return "", usageErrorf("no token: pipe it in with --with-token, pass --token, or run on a terminal to be asked")
	}
	token = strings.TrimSpace(token)
	if strings.ContainsAny(token, " \t\r\n") {
		return "", usageErrorf("the token contains whitespace; give one token (kck-...)")
	}
	return token, nil
}
