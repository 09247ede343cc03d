package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/ksbuilder/ksbuilder/pkg/cluster"
	"github.com/ksbuilder/ksbuilder/pkg/output"
)

func newExtensionCmd(f *Factory) *cli.Command {
	return &cli.Command{
		Name:  "extension",
		Usage: "Inspect the extensions published on a KubeSphere cluster",
		Description: `Reads what is published on the cluster (Extensions and ExtensionVersions)
and what is installed (InstallPlans).

Examples:
  ksbuilder extension list --category observability
  ksbuilder extension versions hello
  ksbuilder extension show hello --version 0.1.0`,
		Subcommands: []*cli.Command{
			newExtensionListCmd(f),
			newExtensionVersionsCmd(f),
			newExtensionShowCmd(f),
		},
	}
}

// inspectFlags are the flags of the inspection commands.
func inspectFlags(extra ...cli.Flag) []cli.Flag {
	return append(append(extra, outputFlag("text, json or yaml")), clusterFlags()...)
}

func newExtensionListCmd(f *Factory) *cli.Command {
	return &cli.Command{
		Name:  "list",
		Usage: "List the published extensions and their installation state",
		Description: `Lists every Extension on the cluster with its category, newest published
version, installed (planned) version and state. --category keeps those of one
category (the kubesphere.io/category label).

Examples:
  ksbuilder extension list
  ksbuilder extension list --category networking -o json`,
		Flags: inspectFlags(&cli.StringFlag{Name: "category", Usage: "only extensions of `CATEGORY`"}),
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
			list, err := client.ListExtensions(c.Context, c.String("category"))
			if err != nil {
				return clusterError(err)
			}
			return output.Write(f.IO.Out, format, list, func(w io.Writer) error {
				if len(list) == 0 {
					f.Infof("No extensions found.")
					return nil
				}
				t := output.NewTable(w, "name", "category", "latest", "planned", "state", "display name")
				for _, e := range list {
					t.Row(e.Name, dash(e.Category), dash(e.Latest), dash(e.PlannedVersion), dash(e.State), e.DisplayName)
				}
				return t.Flush()
			})
		},
	}
}

func newExtensionVersionsCmd(f *Factory) *cli.Command {
	return &cli.Command{
		Name:      "versions",
		Usage:     "List the published versions of an extension",
		ArgsUsage: "NAME",
		Description: `Lists the ExtensionVersions of an extension, oldest first, with their
installation mode, target namespace, version constraints and chart source,
and marks the installed one.

Examples:
  ksbuilder extension versions hello
  ksbuilder extension versions hello -o yaml`,
		Flags: inspectFlags(),
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
			list, err := client.ListVersions(c.Context, c.Args().First())
			if err != nil {
				return clusterError(err)
			}
			return output.Write(f.IO.Out, format, list, func(w io.Writer) error {
				t := output.NewTable(w, "version", "mode", "namespace", "kubernetes", "kubesphere", "plan state", "source")
				for _, v := range list {
					t.Row(v.Version, v.InstallationMode, v.Namespace, dash(v.KubeVersion), dash(v.KSVersion), dash(v.Installed), v.Source)
				}
				return t.Flush()
			})
		},
	}
}

func newExtensionShowCmd(f *Factory) *cli.Command {
	return &cli.Command{
		Name:      "show",
		Usage:     "Show the details of one published version",
		ArgsUsage: "NAME",
		Description: `Shows one ExtensionVersion: description, installation mode, target
namespace, Kubernetes and KubeSphere constraints, external dependencies
(and whether each is installed at a matching version), chart source and
annotations. Without --version: the installed version, else the newest.

Examples:
  ksbuilder extension show hello
  ksbuilder extension show hello --version 0.1.0 -o json`,
		Flags: inspectFlags(&cli.StringFlag{Name: "version", Usage: "`VERSION` to show"}),
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
			d, err := client.ShowVersion(c.Context, c.Args().First(), c.String("version"))
			if err != nil {
				return clusterError(err)
			}
			return output.Write(f.IO.Out, format, d, func(w io.Writer) error { return writeVersionDetails(w, d) })
		},
	}
}

func writeVersionDetails(w io.Writer, d *cluster.VersionDetails) error {
	var b strings.Builder
	field := func(name, value string) {
		if value != "" {
			fmt.Fprintf(&b, "%-20s %s\n", name+":", value)
		}
	}
	field("Name", d.Name)
	field("Version", d.Version)
	field("Display name", d.DisplayName)
	field("Description", d.Description)
	field("Category", d.Category)
	field("Provider", d.Provider)
	field("Home", d.Home)
	field("Docs", d.Docs)
	field("Installation mode", d.InstallationMode)
	field("Namespace", d.Namespace)
	field("Kubernetes", d.KubeVersion)
	field("KubeSphere", d.KSVersion)
	field("Chart", d.Source)
	field("Repository", d.Repository)
	if !d.Created.IsZero() {
		field("Published", d.Created.UTC().Format(time.RFC3339))
	}
	field("Plan state", d.Installed)
	field("All versions", strings.Join(d.Versions, ", "))
	if len(d.Dependencies) > 0 {
		b.WriteString("External dependencies:\n")
		for _, dep := range d.Dependencies {
			kind, state := "optional", "ok"
			if dep.Required {
				kind = "required"
			}
			if dep.Unmet != "" {
				state = dep.Unmet
			}
			fmt.Fprintf(&b, "  %s %s (%s): %s\n", dep.Name, dep.Version, kind, state)
		}
	}
	if len(d.Annotations) > 0 {
		b.WriteString("Annotations:\n")
		for _, k := range slices.Sorted(maps.Keys(d.Annotations)) {
			fmt.Fprintf(&b, "  %s: %s\n", k, d.Annotations[k])
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
