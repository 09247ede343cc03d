package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/urfave/cli/v2"
	"github.com/zalando/go-keyring"

	"github.com/ksbuilder/ksbuilder/pkg/cloud"
	"github.com/ksbuilder/ksbuilder/pkg/config"
	"github.com/ksbuilder/ksbuilder/pkg/credentials"
)

// Environment variables of the Cloud commands.
const (
	envServer  = "KSBUILDER_SERVER"
	envToken   = "KSBUILDER_TOKEN"
	envKeyring = "KSBUILDER_KEYRING"
)

// serverFlag is the --server flag of the Cloud commands.
func serverFlag() cli.Flag {
	return &cli.StringFlag{
		Name:    "server",
		Usage:   "KubeSphere Cloud API `URL` (default: the server of the last login, else " + cloud.DefaultServer + ")",
		EnvVars: []string{envServer},
	}
}

// cloudTimeoutFlag is --timeout of the Cloud commands that make requests.
func cloudTimeoutFlag() cli.Flag {
	return &cli.DurationFlag{
		Name:        "timeout",
		Usage:       "how long each request to KubeSphere Cloud may take (`DURATION`), retries included",
		DefaultText: fmt.Sprintf("%s, uploads %s", cloud.DefaultTimeout, cloud.DefaultUploadTimeout),
	}
}

// cloudTarget is the server a Cloud command talks to.
type cloudTarget struct {
	// URL is the base URL, without a trailing slash.
	URL string
	// Host is the URL's host[:port], the key of its token.
	Host string
	// configDir holds config.json and, without a keyring, the token file.
	configDir string
	// Timeout bounds each request, uploads included; 0 means the client's
	// defaults.
	Timeout time.Duration
}

// cloudTarget resolves the server: --server or KSBUILDER_SERVER, else the
// one remembered at login, else the default.
func (f *Factory) cloudTarget(c *cli.Context) (*cloudTarget, error) {
	dir, err := config.Dir(os.Getenv)
	if err != nil {
		return nil, err
	}
	raw := c.String("server")
	if raw == "" {
		cfg, err := config.Load(dir)
		if err != nil {
			return nil, err
		}
		raw = cfg.Server
	}
	if raw == "" {
		raw = cloud.DefaultServer
	}
	base, u, err := cloud.ParseServer(raw)
	if err != nil {
		return nil, usageErrorf("--server: %v", err)
	}
	timeout := c.Duration("timeout")
	if timeout < 0 || (c.IsSet("timeout") && timeout == 0) {
		return nil, usageErrorf("--timeout: %s is not a positive duration (e.g. 30s, 2m)", timeout)
	}
	return &cloudTarget{URL: base, Host: u.Host, configDir: dir, Timeout: timeout}, nil
}

// credentialStore returns the token store. KSBUILDER_KEYRING=file skips the
// OS keyring; KSBUILDER_KEYRING=mock uses an in-memory keyring (end-to-end
// tests, where the real one is out of reach).
func (f *Factory) credentialStore(t *cloudTarget) (*credentials.Store, error) {
	opts := credentials.Options{Dir: t.configDir, EnvToken: os.Getenv(envToken)}
	switch mode := os.Getenv(envKeyring); mode {
	case "", "system":
		opts.Keyring = credentials.SystemKeyring{}
	case "file":
	case "mock":
		keyring.MockInit()
		opts.Keyring = credentials.SystemKeyring{}
	default:
		return nil, usageErrorf("%s=%q: want system, file or mock", envKeyring, mode)
	}
	return credentials.New(opts), nil
}

// newCloudClient builds a client. progress shows an upload progress bar
// on a terminal.
func (f *Factory) newCloudClient(t *cloudTarget, token string, progress bool) (*cloud.Client, error) {
	opts := []cloud.Option{cloud.WithUserAgent("ksbuilder/" + f.Version)}
	if f.debug {
		opts = append(opts, cloud.WithLogger(f))
	}
	if progress && f.IO.IsStderrTTY() {
		opts = append(opts, cloud.WithProgress(&progressBar{w: f.IO.ErrOut, server: t.Host}))
	}
	if t.Timeout > 0 {
		opts = append(opts, cloud.WithTimeout(t.Timeout), cloud.WithUploadTimeout(t.Timeout))
	}
	opts = append(opts, f.cloudOptions...)
	return cloud.New(t.URL, token, opts...)
}

// loggedIn returns a client with the stored token, or an authError telling
// the user to log in.
func (f *Factory) loggedIn(t *cloudTarget, progress bool) (*cloud.Client, error) {
	store, err := f.credentialStore(t)
	if err != nil {
		return nil, err
	}
	token, res, err := store.Get(t.Host)
	if errors.Is(err, credentials.ErrNotFound) {
		hint := "run ksbuilder login"
		if t.URL != cloud.DefaultServer {
			hint = "run ksbuilder login --server " + t.URL
		}
		return nil, &authError{err: fmt.Errorf("not logged in to %s; %s (or set %s)", t.Host, hint, envToken)}
	}
	if err != nil {
		return nil, err
	}
	f.Debugf("using the token from the %s", res.Source)
	if res.KeyringErr != nil {
		f.Debugf("keyring unavailable: %v", res.KeyringErr)
	}
	return f.newCloudClient(t, token, progress)
}

// cloudError adds what to do to a Cloud error: a rejected token is an
// authError (exit 4) that suggests logging in again.
func cloudError(t *cloudTarget, err error) error {
	switch {
	case err == nil:
		return nil
	case cloud.IsUnauthorized(err):
		if os.Getenv(envToken) != "" {
			return &authError{err: fmt.Errorf("%w (the token in %s was rejected)", err, envToken)}
		}
		return &authError{err: fmt.Errorf("%w (the stored token for %s was rejected; run ksbuilder login)", err, t.Host)}
	case cloud.IsForbidden(err):
		return fmt.Errorf("%w (the token needs the Extension scope, and the account must be a marketplace partner)", err)
	}
	return err
}

// formatTime shows an RFC 3339 time from the server in local time.
func formatTime(s string) string {
	if s == "" {
		return "-"
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return s
	}
	return t.Local().Format("2006-01-02 15:04:05 MST")
}

// progressBar draws upload progress on a terminal. Once every byte is
// sent it says so: the bar at 100 % is followed by a line saying the
// server is at work, not by silence.
type progressBar struct {
	w      io.Writer
	server string
	bar    *progressbar.ProgressBar
	name   string
	total  int64
	sent   int64
}

func (p *progressBar) Start(name string, total int64) {
	w := p.w
	p.name, p.total, p.sent = name, total, 0
	p.bar = progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(name),
		progressbar.OptionShowBytes(true),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(50*time.Millisecond),
		progressbar.OptionSetRenderBlankState(true),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
	)
}

func (p *progressBar) Add(n int) {
	if p.bar != nil {
		p.sent += int64(n)
		_ = p.bar.Add(n)
	}
}

func (p *progressBar) Finish() {
	if p.bar == nil {
		return
	}
	if p.sent < p.total {
		_ = p.bar.Exit() // a failed upload does not show 100 %
		fmt.Fprintln(p.w)
	} else {
		_ = p.bar.Finish()
		fmt.Fprintf(p.w, "Uploaded %s; waiting for %s to store it\n", p.name, p.server)
	}
	p.bar = nil
}
