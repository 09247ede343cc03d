package main

import (
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/ksbuilder/ksbuilder/pkg/cluster"
)

// enableOptions are the inputs of "enable" and "disable".
type enableOptions struct {
	f       *Factory
	Name    string
	Enabled bool
	NoWait  bool
	Timeout time.Duration
	Connect cluster.ConnectOptions
}

func newEnableCmd(f *Factory) *cli.Command  { return newToggleCmd(f, true) }
func newDisableCmd(f *Factory) *cli.Command { return newToggleCmd(f, false) }

// newToggleCmd is "enable" or "disable": set spec.enabled and wait until
// KubeSphere applies it.
func newToggleCmd(f *Factory, enabled bool) *cli.Command {
	verb, done, usage := "enable", "enabled", "Enable"
	effect := "Available again: the console loads its UI, and its APIs and proxies answer"
	if !enabled {
		verb, done, usage = "disable", "disabled", "Disable"
		effect = "Disabled: the console leaves its UI out, and its APIs and proxies stop answering (503); its workloads keep running"
	}
	return &cli.Command{
		Name:      verb,
		Usage:     usage + " an installed extension's console UI, APIs and proxies",
		ArgsUsage: "NAME",
		Description: fmt.Sprintf(`Sets spec.enabled: %t in the extension's InstallPlan and waits until
KubeSphere has applied it (status.enabled): its JSBundles, APIServices,
ReverseProxies and ExtensionEntries become %s.
The Helm release is not touched. KubeSphere applies it once the release is
Installed.

Examples:
  ksbuilder %s hello
  ksbuilder %s hello --no-wait`, enabled, effect, verb, verb),
		Flags: append(waitFlags("change", "once spec.enabled is written"), clusterFlags()...),
		Action: func(c *cli.Context) error {
			if err := exactArgs(c, "NAME"); err != nil {
				return err
			}
			opts := &enableOptions{f: f, Name: c.Args().First(), Enabled: enabled, NoWait: c.Bool(flagNoWait),
				Timeout: c.Duration(flagTimeout), Connect: connectOptions(c)}
			client, err := connect(opts.Connect)
			if err != nil {
				return err
			}
			_, action, err := client.SetEnabled(c.Context, opts.Name, enabled)
			if err != nil {
				return clusterError(err)
			}
			if action == cluster.Unchanged {
				f.Infof("%s is already %s in its InstallPlan", opts.Name, done)
			}
			if !opts.NoWait {
				if _, err := client.WaitEnabled(c.Context, opts.Name, enabled, opts.Timeout, 0); err != nil {
					return clusterError(err)
				}
			}
			_, err = fmt.Fprintf(f.IO.Out, "%s is %s\n", opts.Name, done)
			return err
		},
	}
}
