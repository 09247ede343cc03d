package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/urfave/cli/v2"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	"github.com/ksbuilder/ksbuilder/pkg/cluster"
	"github.com/ksbuilder/ksbuilder/pkg/dependency"
	"github.com/ksbuilder/ksbuilder/pkg/output"
	"github.com/ksbuilder/ksbuilder/pkg/packager"
	"github.com/ksbuilder/ksbuilder/pkg/registry"
	"github.com/ksbuilder/ksbuilder/pkg/source"
)

type publishOptions struct {
	f *Factory

	Path    string
	DryRun  bool
	Output  output.Format
	Connect cluster.ConnectOptions
	// LocalTemplateDir, set by --to-local-template, is where the objects
	// are written as files instead of to a cluster.
	LocalTemplateDir string

	// OCI is set when PATH is an oci:// reference.
	OCI      *registry.Reference
	Registry registry.Options
	// DependencyUpdate resolves the repository subcharts again.
	DependencyUpdate bool
}

func newPublishCmd(f *Factory, runF func(*publishOptions) error) *cli.Command {
	return &cli.Command{
		Name:      "publish",
		Usage:     "Publish an extension to a KubeSphere cluster, ready to install",
		ArgsUsage: "[PATH | oci://HOST[:PORT]/REPO/NAME[:VERSION]]",
		Description: `Packages the extension at PATH (a directory or a .tgz; default ".") in memory
and writes, in this order:
  ConfigMap kubesphere-system/extension-<name>-<version>-chart  the chart (binaryData chart.tgz)
  ExtensionVersion <name>-<version>                             the version's metadata
  Extension <name>                                              the catalogue entry
with server-side apply (field manager "ksbuilder"). Publishing the same
package again changes nothing. The Extension is left alone when a newer
version is already published. A chart too large for a ConfigMap is refused.

The cluster is chosen as kubectl does: --kubeconfig, else $KUBECONFIG, else
~/.kube/config, else the in-cluster service account; --context picks a
context. --dry-run prints the objects as YAML (or JSON with -o json) without
contacting any cluster. --to-local-template writes them to <Kind>.yaml files
(ConfigMap.yaml, ExtensionVersion.yaml, Extension.yaml) in the directory
--output names (default "."), as upstream ksbuilder does.

With an oci:// reference the chart is pulled from the registry (the highest
semantic version when no tag is given) and only the ExtensionVersion, with
spec.chartURL set to the reference and its tag, and the Extension are
written: KubeSphere installs the chart from the registry, which the cluster
must reach. The registry flags and logins are Helm's ("ksbuilder registry
login").

A version a KubeSphere Repository already serves (synced from it) is
written all the same, with a warning naming the Repository: its next sync
writes the version again from its index, or deletes it.

Examples:
  ksbuilder publish ./hello
  ksbuilder publish hello-0.1.0.tgz --context staging
  ksbuilder publish ./hello --dry-run | kubectl apply --server-side -f -
  ksbuilder publish ./hello --to-local-template --output deploy/hello
  ksbuilder publish oci://registry.example.com/charts/hello:0.1.0`,
		Flags: append(append([]cli.Flag{
			&cli.BoolFlag{Name: flagDryRun, Usage: "print the objects instead of writing them"},
			&cli.BoolFlag{Name: "to-local-template", Usage: "write the objects to <Kind>.yaml files in the directory --output names (default \".\") instead"},
			outputFlag("text, json or yaml; with --to-local-template, the directory to write to"),
			dependencyUpdateFlag(),
		}, clusterFlags()...), registryFlags()...),
		Action: func(c *cli.Context) error {
			opts := &publishOptions{f: f, DryRun: c.Bool(flagDryRun), Connect: connectOptions(c), DependencyUpdate: c.Bool(flagDependencyUpdate)}
			var err error
			if opts.Path, err = pathArg(c); err != nil {
				return err
			}
			// The registry flags serve an oci:// PATH and oci:// subcharts.
			if opts.Registry, err = registryOptions(c); err != nil {
				return err
			}
			if c.Bool("to-local-template") {
				// Upstream's spelling: --output is then the directory.
				opts.DryRun, opts.Output, opts.LocalTemplateDir = true, output.Text, "."
				if c.IsSet("output") {
					opts.LocalTemplateDir = c.String("output")
				}
			} else if opts.Output, err = outputFormat(c, output.Text, output.JSON, output.YAML); err != nil {
				return err
			}
			if registry.IsOCI(opts.Path) {
				ref, err := parseOCIRef("publish", opts.Path)
				if err != nil {
					return err
				}
				if ref.Digest != "" && ref.Tag == "" {
					return usageErrorf("publish %s: KubeSphere installs OCI charts by tag; write %s:VERSION", ref, ref.WithTag(""))
				}
				opts.OCI = &ref
				if opts.DependencyUpdate {
					return usageErrorf("--%s applies to an extension directory, not to a chart in a registry", flagDependencyUpdate)
				}
			} else if looksLikeRegistry(opts.Path) {
				return usageErrorf("%s: no such file or directory; for a chart in an OCI registry write %s%s", opts.Path, registry.Scheme, opts.Path)
			}
			if runF != nil {
				return runF(opts)
			}
			return publishRun(c, opts)
		},
	}
}

// looksLikeRegistry reports whether a PATH that does not exist looks like
// a registry reference missing its oci:// (HOST:PORT/... or HOST/...:TAG).
func looksLikeRegistry(p string) bool {
	if _, err := os.Stat(p); !os.IsNotExist(err) {
		return false
	}
	first, rest, ok := strings.Cut(p, "/")
	return ok && (strings.Contains(first, ":") || strings.Contains(first, ".") && strings.Contains(rest, ":"))
}

func publishRun(c *cli.Context, opts *publishOptions) error {
	f := opts.f
	var (
		pkg      *packager.Package
		chartURL string
		err      error
	)
	if opts.OCI != nil {
		pkg, chartURL, err = pullPackage(f, *opts.OCI, opts.Registry)
	} else {
		pkg, err = buildPackageWith(c.Context, f, opts.Path, dependencyOptions(f, opts.DependencyUpdate, opts.Registry))
	}
	if err != nil {
		return err
	}
	res, err := cluster.Publish(c.Context, cluster.PublishRequest{Target: target(opts.Connect), Package: pkg, ChartURL: chartURL, Created: f.Now(), DryRun: opts.DryRun})
	if err != nil {
		return clusterError(err)
	}
	if opts.LocalTemplateDir != "" {
		paths, err := cluster.WriteObjectFiles(opts.LocalTemplateDir, res.Objects)
		for _, p := range paths {
			if _, werr := fmt.Fprintln(f.IO.Out, p); werr != nil && err == nil {
				err = werr
			}
		}
		return err
	}
	if opts.DryRun {
		for _, d := range res.Deletes {
			f.Infof("%s", d)
		}
		return writeObjects(f.IO.Out, opts.Output, res.Objects)
	}
	for _, w := range res.Result.Warnings {
		f.Warnf("%s", w)
	}
	return output.Write(f.IO.Out, opts.Output, res.Result, func(w io.Writer) error {
		return writeObjectResults(w, res.Result.Objects)
	})
}

// pullPackage pulls a chart from an OCI registry and reads it as
// "ksbuilder package" reads a .tgz. It returns the package and the chart
// URL to publish: the reference with the tag pulled.
func pullPackage(f *Factory, ref registry.Reference, opts registry.Options) (*packager.Package, string, error) {
	client, err := registry.New(opts)
	if err != nil {
		return nil, "", err
	}
	pulled, err := client.Pull(ref)
	if err != nil {
		return nil, "", registryError(err)
	}
	f.Infof("Pulled %s (%s)", pulled.Ref, pulled.Digest)
	src, err := source.ReadArchive(bytes.NewReader(pulled.Data), pulled.Ref.String(), source.DefaultLimits)
	if err != nil {
		return nil, "", err
	}
	modTime, err := sourceDateEpoch()
	if err != nil {
		return nil, "", err
	}
	pkg, err := packager.Build(src, packager.Options{ModTime: modTime})
	if err != nil {
		return nil, "", err
	}
	printDiagnostics(f, pkg.Warnings)
	chartRef := pulled.Ref
	chartRef.Digest = ""
	return pkg, chartRef.String(), nil
}

// buildPackage builds the package of the extension at path for a cluster
// command, exactly as "ksbuilder package" builds it (the same
// SOURCE_DATE_EPOCH and the default size limit).
func buildPackage(ctx context.Context, f *Factory, path string) (*packager.Package, error) {
	return buildPackageWith(ctx, f, path, dependencyOptions(f, false, registry.Options{}))
}

// buildPackageWith is buildPackage with the settings of the dependency
// build.
func buildPackageWith(ctx context.Context, f *Factory, path string, deps dependency.Options) (*packager.Package, error) {
	modTime, err := sourceDateEpoch()
	if err != nil {
		return nil, err
	}
	return loadAndBuild(ctx, f, path, packager.Options{ModTime: modTime}, deps)
}

// loadAndBuild reads an extension, fetches its subcharts declared with a
// repository and builds its package, printing the warnings, or the largest
// files of a package that is too large. It is the one build path of
// "package", "publish" and "install".
func loadAndBuild(ctx context.Context, f *Factory, path string, opts packager.Options, deps dependency.Options) (*packager.Package, error) {
	start := f.Now()
	src, err := source.Load(path)
	if err != nil {
		return nil, err
	}
	f.Debugf("read %d files from %s in %s (%d ignored)", src.Len(), path, f.Now().Sub(start), src.Ignored)
	if err := prepareDependencies(ctx, src, deps); err != nil {
		return nil, err
	}
	pkg, err := packager.Build(src, opts)
	if err != nil {
		var tooLarge *packager.TooLargeError
		if errors.As(err, &tooLarge) {
			printLargest(f, tooLarge)
		}
		return nil, err
	}
	printDiagnostics(f, pkg.Warnings)
	return pkg, nil
}

// writeObjectResults prints one line per object, as kubectl does.
func writeObjectResults(w io.Writer, results []cluster.ObjectResult) error {
	for _, r := range results {
		if _, err := fmt.Fprintln(w, r.String()); err != nil {
			return err
		}
	}
	return nil
}

// writeObjects prints Kubernetes objects as a YAML stream, or a JSON list.
func writeObjects(w io.Writer, format output.Format, objects []runtime.Object) error {
	if format == output.JSON {
		return output.WriteJSON(w, objects)
	}
	for _, obj := range objects {
		data, err := yaml.Marshal(obj)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(w, "---\n%s", data); err != nil {
			return err
		}
	}
	return nil
}
