package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/ksbuilder/ksbuilder/pkg/diag"
	"github.com/ksbuilder/ksbuilder/pkg/output"
	"github.com/ksbuilder/ksbuilder/pkg/packager"
	"github.com/ksbuilder/ksbuilder/pkg/registry"
	"github.com/ksbuilder/ksbuilder/pkg/units"
)

type packageOptions struct {
	f *Factory

	Path        string
	Destination string
	MaxSize     int64
	ModTime     time.Time
	Output      output.Format

	// Push is the repository to push to; nil without --push.
	Push     *registry.Reference
	Force    bool
	Registry registry.Options
	// DependencyUpdate resolves the repository subcharts again.
	DependencyUpdate bool
}

// packageResult is what "package -o json" prints.
type packageResult struct {
	Path     string    `json:"path"`
	Name     string    `json:"name"`
	Version  string    `json:"version"`
	Size     int64     `json:"size"`
	Files    int       `json:"files"`
	Warnings diag.List `json:"warnings"`
	// Ref and Digest are the pushed reference and its manifest digest,
	// with --push.
	Ref    string `json:"ref,omitempty"`
	Digest string `json:"digest,omitempty"`
}

func newPackageCmd(f *Factory, runF func(*packageOptions) error) *cli.Command {
	return &cli.Command{
		Name:      "package",
		Usage:     "Package an extension into <name>-<version>.tgz",
		ArgsUsage: "[PATH]",
		Description: `Validates the extension at PATH (a directory or a .tgz; default ".") and
writes <name>-<version>.tgz: a Helm chart whose Chart.yaml is generated from
extension.yaml, with a local icon inlined as a data: URI. Files matched by
.helmignore, .git/ directories and .tgz files at the root are left out.

Subcharts that extension.yaml declares with a repository (https://...,
@NAME of Helm's repositories.yaml, or oci://) are fetched into charts/ first,
as "helm dependency build" does: the versions Chart.lock locks, found in
Helm's index cache, an archive already there kept. Without Chart.lock, or
with --dependency-update, the newest versions matching the constraints are
fetched and written to Chart.lock, as "helm dependency update" does.

The package must fit in 1 MiB (KubeSphere Cloud's limit and a ConfigMap's);
over it, the command fails and lists the largest files. Archives are
reproducible: entries are sorted and carry fixed owners, modes and
SOURCE_DATE_EPOCH (or 0) as their time.

--push oci://HOST[:PORT]/REPO then pushes the package to the OCI registry as
REPO/<name>:<version> with Helm's registry client, and prints the reference
and the manifest digest. A tag that already holds the same package is left
alone; one that holds a different package is refused unless --force. Logins
are Helm's ("ksbuilder registry login" or "helm registry login").

Examples:
  ksbuilder package ./hello
  ksbuilder package ./hello -d dist
  ksbuilder package hello-0.1.0.tgz -o json
  ksbuilder package ./hello --push oci://registry.example.com/charts`,
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "destination", Aliases: []string{"d"}, Usage: "`DIR` to write the package to", Value: "."},
			maxSizeFlag(),
			outputFlag("text, json or yaml"),
			&cli.StringFlag{Name: "push", Usage: "push the package to the OCI repository `oci://HOST/REPO`"},
			&cli.BoolFlag{Name: "force", Usage: "with --push, replace a different package under the same tag"},
			dependencyUpdateFlag(),
		}, append(registryFlags(), registryTimeoutFlag())...),
		Action: func(c *cli.Context) error {
			opts := &packageOptions{f: f, Destination: c.String("destination"), Force: c.Bool("force"), DependencyUpdate: c.Bool(flagDependencyUpdate)}
			var err error
			if opts.Path, err = pathArg(c); err != nil {
				return err
			}
			// The registry flags serve --push and oci:// subcharts.
			if opts.Registry, err = registryOptions(c); err != nil {
				return err
			}
			if err := registryTimeout(c, &opts.Registry); err != nil {
				return err
			}
			if c.IsSet("push") {
				ref, err := parseOCIRef("--push", c.String("push"))
				if err != nil {
					return err
				}
				if ref.Tag != "" || ref.Digest != "" {
					return usageErrorf("--push takes a repository (%s%s/%s) without a tag or digest: the tag is the package's version", registry.Scheme, ref.Registry, ref.Repository)
				}
				opts.Push = &ref
			} else if opts.Force {
				return usageErrorf("--force only applies with --push")
			}
			if opts.MaxSize, err = maxSize(c); err != nil {
				return err
			}
			if opts.Output, err = outputFormat(c, output.Text, output.JSON, output.YAML); err != nil {
				return err
			}
			if opts.ModTime, err = sourceDateEpoch(); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return packageRun(c.Context, opts)
		},
	}
}

func packageRun(ctx context.Context, opts *packageOptions) error {
	f := opts.f
	start := f.Now()
	pkg, err := untilInterrupted(ctx, func() (*packager.Package, error) {
		return loadAndBuild(ctx, f, opts.Path, packager.Options{MaxSize: opts.MaxSize, ModTime: opts.ModTime}, dependencyOptions(f, opts.DependencyUpdate, opts.Registry))
	})
	if err != nil {
		return err
	}
	dest, err := packager.WriteFile(pkg, opts.Destination)
	if err != nil {
		return err
	}
	if abs, err := filepath.Abs(dest); err == nil {
		dest = abs
	}
	f.Debugf("packaged in %s", f.Now().Sub(start))
	res := packageResult{
		Path: dest, Name: pkg.Extension.Name, Version: pkg.Extension.Version,
		Size: pkg.Size(), Files: len(pkg.Entries), Warnings: pkg.Warnings,
	}
	if res.Warnings == nil {
		res.Warnings = diag.List{}
	}
	if opts.Push != nil {
		pushed, err := pushPackage(ctx, opts, pkg)
		if err != nil {
			return err
		}
		res.Ref, res.Digest = pushed.Ref, pushed.Digest
	}
	return output.Write(f.IO.Out, opts.Output, res, func(w io.Writer) error {
		if _, err := fmt.Fprintf(w, "%s (%s, %d files)\n", res.Path, units.FormatBytes(res.Size), res.Files); err != nil {
			return err
		}
		if res.Ref != "" {
			_, err = fmt.Fprintf(w, "%s %s\n", res.Ref, res.Digest)
		}
		return err
	})
}

// pushPackage pushes the package to the --push repository.
func pushPackage(ctx context.Context, opts *packageOptions, pkg *packager.Package) (*registry.PushResult, error) {
	f := opts.f
	client, err := registry.New(opts.Registry)
	if err != nil {
		return nil, err
	}
	ref := opts.Push.Child(pkg.Extension.Name).WithTag(pkg.Extension.Version)
	pushed, err := untilInterrupted(ctx, func() (*registry.PushResult, error) {
		return client.Push(ref, pkg.Data, opts.Force, opts.ModTime)
	})
	if err != nil {
		return nil, registryError(err)
	}
	if pushed.Unchanged {
		f.Infof("%s is already there with the same package; nothing pushed", pushed.Ref)
	} else {
		f.Infof("Pushed %s", pushed.Ref)
	}
	return pushed, nil
}

// printLargest lists the entries that weigh most in an oversized package.
func printLargest(f *Factory, e *packager.TooLargeError) {
	fmt.Fprintln(f.IO.ErrOut, "Largest files (compressed size, then uncompressed):")
	for _, l := range e.Largest(10) {
		named := ""
		if len(l.NamedBy) > 0 {
			named = "  (" + strings.Join(l.NamedBy, ", ") + ")"
		}
		fmt.Fprintf(f.IO.ErrOut, "  %10s  %10s  %s%s\n", units.FormatBytes(l.CompressedSize), units.FormatBytes(l.Size), l.Name, named)
	}
	hint := e.Hint()
	fmt.Fprintln(f.IO.ErrOut, strings.ToUpper(hint[:1])+hint[1:]+".")
}
