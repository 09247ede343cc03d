package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/urfave/cli/v2"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	"github.com/ksbuilder/ksbuilder/pkg/cluster"
	"github.com/ksbuilder/ksbuilder/pkg/output"
	"github.com/ksbuilder/ksbuilder/pkg/packager"
	"github.com/ksbuilder/ksbuilder/pkg/source"
)

type publishOptions struct {
	f *Factory

	Path    string
	DryRun  bool
	Output  output.Format
	Connect cluster.ConnectOptions
}

func newPublishCmd(f *Factory, runF func(*publishOptions) error) *cli.Command {
	return &cli.Command{
		Name:      "publish",
		Usage:     "Publish an extension to a KubeSphere cluster, ready to install",
		ArgsUsage: "[PATH]",
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
contacting any cluster.

Examples:
  ksbuilder publish ./hello
  ksbuilder publish hello-0.1.0.tgz --context staging
  ksbuilder publish ./hello --dry-run | kubectl apply --server-side -f -`,
		Flags: append([]cli.Flag{
			&cli.BoolFlag{Name: flagDryRun, Usage: "print the objects instead of writing them"},
			outputFlag("text, json or yaml"),
		}, clusterFlags()...),
		Action: func(c *cli.Context) error {
			opts := &publishOptions{f: f, DryRun: c.Bool(flagDryRun), Connect: connectOptions(c)}
			var err error
			if opts.Path, err = pathArg(c); err != nil {
				return err
			}
			if opts.Output, err = outputFormat(c, output.Text, output.JSON, output.YAML); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return publishRun(c, opts)
		},
	}
}

func publishRun(c *cli.Context, opts *publishOptions) error {
	f := opts.f
	pub, err := buildPublication(f, opts.Path)
	if err != nil {
		return err
	}
	if opts.DryRun {
		return writeObjects(f.IO.Out, opts.Output, pub.Objects())
	}
	client, err := connect(opts.Connect)
	if err != nil {
		return err
	}
	res, err := client.Publish(c.Context, pub)
	if err != nil {
		return err
	}
	for _, w := range res.Warnings {
		f.Warnf("%s", w)
	}
	return output.Write(f.IO.Out, opts.Output, res, func(w io.Writer) error {
		return writeObjectResults(w, res.Objects)
	})
}

// buildPublication packages an extension and builds its publish objects.
func buildPublication(f *Factory, path string) (*cluster.Publication, error) {
	src, err := source.Load(path)
	if err != nil {
		return nil, err
	}
	modTime, err := sourceDateEpoch()
	if err != nil {
		return nil, err
	}
	pkg, err := packager.Build(src, packager.Options{ModTime: modTime})
	if err != nil {
		var tooLarge *packager.TooLargeError
		if errors.As(err, &tooLarge) {
			printLargest(f, tooLarge)
		}
		return nil, err
	}
	printDiagnostics(f, pkg.Warnings)
	return cluster.NewPublication(pkg, f.Now())
}

// writeObjectResults prints one line per object, as kubectl does.
func writeObjectResults(w io.Writer, results []cluster.ObjectResult) error {
	for _, r := range results {
		name := r.Name
		if r.Namespace != "" {
			name = r.Namespace + "/" + r.Name
		}
		line := fmt.Sprintf("%s %s %s", r.Kind, name, r.Action)
		if r.Reason != "" {
			line += " (" + r.Reason + ")"
		}
		if r.DryRun {
			line += " (dry run)"
		}
		if _, err := fmt.Fprintln(w, line); err != nil {
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
