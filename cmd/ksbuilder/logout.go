package main

import (
	"os"

	"github.com/urfave/cli/v2"
)

func newLogoutCmd(f *Factory, runF func(*cloudTarget) error) *cli.Command {
	return &cli.Command{
		Name:  "logout",
		Usage: "Remove the stored KubeSphere Cloud token",
		Description: `Deletes the token stored for the server (from the system keyring and the
token file). Logging out when not logged in is not an error. The token stays
valid on KubeSphere Cloud: revoke it there in the account settings.

Examples:
  ksbuilder logout
  ksbuilder logout --server https://apis.kubesphere.cloud`,
		Flags: []cli.Flag{serverFlag()},
		Action: func(c *cli.Context) error {
			if err := exactArgs(c); err != nil {
				return err
			}
			t, err := f.cloudTarget(c)
			if err != nil {
				return err
			}
			if runF != nil {
				return runF(t)
			}
			return logoutRun(f, t)
		},
	}
}

func logoutRun(f *Factory, t *cloudTarget) error {
	store, err := f.credentialStore(t)
	if err != nil {
		return err
	}
	removed, res, err := store.Delete(t.Host)
	if err != nil {
		return err
	}
	if res.KeyringErr != nil {
		f.Warnf("the system keyring could not be reached (%v); a token stored there, if any, is still there", res.KeyringErr)
	}
	if removed {
		f.Infof("Logout Succeeded: removed the token for %s", t.Host)
	} else {
		f.Infof("Not logged in to %s; nothing to remove", t.Host)
	}
	if os.Getenv(envToken) != "" {
		f.Warnf("%s is still set and still provides a token", envToken)
	}
	return nil
}
