package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/ksbuilder/ksbuilder/pkg/registry"
)

// Registry flag names, as Helm names them.
const (
	flagPlainHTTP      = "plain-http"
	flagInsecureTLS    = "insecure-skip-tls-verify"
	flagCAFile         = "ca-file"
	flagCertFile       = "cert-file"
	flagKeyFile        = "key-file"
	flagRegistryConfig = "registry-config"
)

// maxPasswordInput bounds what --password-stdin reads.
const maxPasswordInput = 64 << 10

// registryFlags are the connection flags of every command that talks to an
// OCI registry.
func registryFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: flagPlainHTTP, Usage: "talk to the registry over plain HTTP", Category: "Registry"},
		&cli.BoolFlag{Name: flagInsecureTLS, Usage: "accept any registry certificate", Category: "Registry"},
		&cli.StringFlag{Name: flagCAFile, Usage: "verify the registry with the CA certificates in `FILE`", Category: "Registry"},
		&cli.StringFlag{Name: flagCertFile, Usage: "client certificate `FILE` for the registry", Category: "Registry"},
		&cli.StringFlag{Name: flagKeyFile, Usage: "client key `FILE` for the registry", Category: "Registry"},
		&cli.StringFlag{Name: flagRegistryConfig, Usage: "registry credentials `FILE` (default: Helm's, or $" + registry.ConfigEnv + ")", Category: "Registry"},
	}
}

// flagRegistryTimeout is --timeout of the commands that only talk to
// registries (publish's --timeout is how long to wait for the
// installation).
const flagRegistryTimeout = "timeout"

// registryTimeoutFlag is how long a registry may stall.
func registryTimeoutFlag() cli.Flag {
	return &cli.DurationFlag{
		Name:     flagRegistryTimeout,
		Usage:    "fail when a registry makes no progress for `DURATION`: connecting, TLS handshake, waiting for a response, or between two reads or writes of a transfer",
		Value:    registry.DefaultTimeout,
		Category: "Registry",
	}
}

// registryTimeout reads --timeout (registryTimeoutFlag) into opts.
func registryTimeout(c *cli.Context, opts *registry.Options) error {
	opts.Timeout = c.Duration(flagRegistryTimeout)
	if opts.Timeout <= 0 {
		return usageErrorf("--%s: %s is not a positive duration (e.g. 30s, 2m)", flagRegistryTimeout, opts.Timeout)
	}
	return nil
}

// registryOptions reads the registry flags.
func registryOptions(c *cli.Context) (registry.Options, error) {
	opts := registry.Options{
		PlainHTTP:             c.Bool(flagPlainHTTP),
		InsecureSkipTLSVerify: c.Bool(flagInsecureTLS),
		CAFile:                c.String(flagCAFile),
		CertFile:              c.String(flagCertFile),
		KeyFile:               c.String(flagKeyFile),
		RegistryConfig:        c.String(flagRegistryConfig),
	}
	if (opts.CertFile == "") != (opts.KeyFile == "") {
		return opts, usageErrorf("--%s and --%s go together", flagCertFile, flagKeyFile)
	}
	if opts.PlainHTTP && (opts.InsecureSkipTLSVerify || opts.CAFile != "" || opts.CertFile != "") {
		return opts, usageErrorf("--%s turns TLS off; it cannot be used with the TLS flags", flagPlainHTTP)
	}
	return opts, nil
}

// parseOCIRef parses an oci:// argument; a bad one is a usage error.
func parseOCIRef(what, s string) (registry.Reference, error) {
	ref, err := registry.ParseReference(s)
	if err != nil {
		return ref, &usageError{err: fmt.Errorf("%s: %w", what, err)}
	}
	return ref, nil
}

// registryError words the hints of registry failures; a refused login
// exits with code 4.
func registryError(err error) error {
	var (
		regErr *registry.Error
		exists *registry.TagExistsError
		stall  *registry.StallError
	)
	switch {
	case errors.As(err, &stall):
		return fmt.Errorf("%w (check the registry; for a slow one, raise --%s)", err, flagRegistryTimeout)
	case errors.As(err, &regErr) && regErr.Kind == registry.Unauthorized:
		return &authError{err: fmt.Errorf("%w: log in with \"ksbuilder registry login %s\"", err, regErr.Host)}
	case errors.As(err, &regErr) && regErr.Kind == registry.TLSFailure:
		return fmt.Errorf("%w (pass --%s with the registry's CA, --%s to skip the check, or --%s for an HTTP-only registry)", err, flagCAFile, flagInsecureTLS, flagPlainHTTP)
	case errors.As(err, &regErr) && regErr.Kind == registry.Unreachable:
		return fmt.Errorf("%w (check the host and port)", err)
	case errors.As(err, &exists):
		return fmt.Errorf("%w: bump the version, or pass --force to replace it", err)
	}
	return err
}

func newRegistryCmd(f *Factory) *cli.Command {
	return &cli.Command{
		Name:  "registry",
		Usage: "Log in to or out of an OCI registry",
		Description: `Stores or removes registry credentials in Helm's registry credentials file
(--registry-config, default $HELM_REGISTRY_CONFIG or Helm's
registry/config.json), so "helm registry login" and "ksbuilder registry
login" share their logins. "package --push" and "publish oci://..." use them.

Examples:
  echo "$PASSWORD" | ksbuilder registry login registry.example.com -u me --password-stdin
  ksbuilder registry logout registry.example.com`,
		Subcommands: []*cli.Command{
			newRegistryLoginCmd(f),
			newRegistryLogoutCmd(f),
		},
	}
}

type registryLoginOptions struct {
	f *Factory

	Host     string
	Username string
	Registry registry.Options
}

func newRegistryLoginCmd(f *Factory) *cli.Command {
	return &cli.Command{
		Name:      "login",
		Usage:     "Check credentials with an OCI registry and store them",
		ArgsUsage: "HOST[:PORT]",
		Description: `Checks the user name and the password (read from standard input) with the
registry and stores them for the registry's host.

Examples:
  echo "$PASSWORD" | ksbuilder registry login registry.example.com -u me --password-stdin
  ksbuilder registry login localhost:5000 -u me --password-stdin --plain-http < password.txt`,
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "username", Aliases: []string{"u"}, Usage: "registry `USER`"},
			&cli.BoolFlag{Name: "password-stdin", Usage: "read the password from standard input"},
		}, registryFlags()...),
		Action: func(c *cli.Context) error {
			if err := exactArgs(c, "HOST"); err != nil {
				return err
			}
			opts := &registryLoginOptions{f: f, Host: registryHost(c.Args().First()), Username: c.String("username")}
			if opts.Username == "" {
				return usageErrorf("--username is required")
			}
			if !c.Bool("password-stdin") {
				return usageErrorf("pass the password on standard input with --password-stdin")
			}
			var err error
			if opts.Registry, err = registryOptions(c); err != nil {
				return err
			}
			return registryLoginRun(opts)
		},
	}
}

// readPasswordStdin reads --password-stdin's password: standard input up
// to maxPasswordInput, without the final line break.
func readPasswordStdin(f *Factory) (string, error) {
	data, err := io.ReadAll(io.LimitReader(f.IO.In, maxPasswordInput))
	if err != nil {
		return "", fmt.Errorf("reading the password: %w", err)
	}
	password := strings.TrimRight(string(data), "\r\n")
	if password == "" {
		return "", usageErrorf("--password-stdin: standard input is empty")
	}
	return password, nil
}

// registryHost accepts "oci://HOST/..." where a host is asked for.
func registryHost(s string) string {
	s = strings.TrimPrefix(s, registry.Scheme)
	host, _, _ := strings.Cut(s, "/")
	return host
}

func registryLoginRun(opts *registryLoginOptions) error {
	f := opts.f
	password, err := readPasswordStdin(f)
	if err != nil {
		return err
	}
	client, err := registry.New(opts.Registry)
	if err != nil {
		return err
	}
	if err := client.Login(opts.Host, opts.Username, password); err != nil {
		var regErr *registry.Error
		if errors.As(err, &regErr) && regErr.Kind == registry.Unauthorized {
			return &authError{err: fmt.Errorf("%s rejected the user name or password (%d)", opts.Host, regErr.Status)}
		}
		return registryError(err)
	}
	f.Infof("Login Succeeded: %s", opts.Host)
	return nil
}

func newRegistryLogoutCmd(f *Factory) *cli.Command {
	return &cli.Command{
		Name:      "logout",
		Usage:     "Remove the stored credentials of an OCI registry",
		ArgsUsage: "HOST[:PORT]",
		Description: `Removes the credentials of HOST from the registry credentials file (Helm's,
so "helm registry logout" and this command are the same). Logging out of a HOST
the file holds no login for changes nothing and exits 0, as "ksbuilder logout"
does; the message lists the hosts the file does hold logins for.

Examples:
  ksbuilder registry logout registry.example.com
  ksbuilder registry logout localhost:5000 --registry-config ./registry.json`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: flagRegistryConfig, Usage: "registry credentials `FILE` (default: Helm's, or $" + registry.ConfigEnv + ")"},
		},
		Action: func(c *cli.Context) error {
			if err := exactArgs(c, "HOST"); err != nil {
				return err
			}
			host := registryHost(c.Args().First())
			client, err := registry.New(registry.Options{RegistryConfig: c.String(flagRegistryConfig)})
			if err != nil {
				return err
			}
			err = client.Logout(host)
			var notLoggedIn *registry.NotLoggedInError
			if errors.As(err, &notLoggedIn) {
				f.Infof("Not logged in to %s; nothing to remove (%s)", host, notLoggedIn.Holds())
				return nil
			}
			if err != nil {
				return err
			}
			f.Infof("Removed the credentials of %s", host)
			return nil
		},
	}
}
