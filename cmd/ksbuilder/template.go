package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"

	"github.com/ksbuilder/ksbuilder/pkg/manifest"
	"github.com/ksbuilder/ksbuilder/pkg/packager"
	"github.com/ksbuilder/ksbuilder/pkg/source"
	"github.com/ksbuilder/ksbuilder/pkg/values"
)

type templateOptions struct {
	f *Factory

	Path        string
	Side        manifest.Side
	Values      values.Options
	IncludeCRDs bool
	OutputDir   string
	// ShowOnly keeps the documents of these templates (--show-only).
	ShowOnly []string
	// Capabilities come from --kube-version and --api-versions; nil is
	// Helm's defaults.
	Capabilities *chartutil.Capabilities
}

func newTemplateCmd(f *Factory, runF func(*templateOptions) error) *cli.Command {
	return &cli.Command{
		Name:      "template",
		Usage:     "Render an extension's manifests as KubeSphere would install them",
		ArgsUsage: "[PATH]",
		Description: `Renders the extension at PATH (a directory or a .tgz; default ".") the way
KubeSphere's installer does: release name = extension name (host) or
<name>-agent (--agent), namespace = spec.namespace or extension-<name>, and
the installer's overrides set over your values:

  host   tags.extension=true, tags.agent=false, <condition>=false for the
         conditions of subcharts tagged agent
  agent  tags.agent=true, tags.extension=false, <condition>=false for the
         conditions of subcharts tagged extension,
         global.clusterInfo.name=host, global.clusterInfo.role=host

Manifests come in Helm's install order, then hooks; tests are left out, as
the installer never runs them. Each document starts with "---" and a
"# Source:" comment. With --output-dir, each source file is written under
DIR instead (never outside it). --show-only (-s) keeps the documents of
the named templates, given as paths in the chart (templates/x.yaml,
charts/backend/templates/*.yaml), as Helm's does.

Examples:
  ksbuilder template ./hello
  ksbuilder template ./hello --agent --set backend.replicaCount=2
  ksbuilder template ./hello -s charts/backend/templates/deployment.yaml
  ksbuilder template hello-0.1.0.tgz -f prod-values.yaml --output-dir out`,
		Flags: append([]cli.Flag{
			&cli.BoolFlag{Name: "agent", Usage: "render the agent release instead of the host release"},
			&cli.BoolFlag{Name: "include-crds", Usage: "also print the CRDs of the crds/ directories, which Helm installs first"},
			&cli.StringFlag{Name: "output-dir", Usage: "write the files under `DIR` instead of printing them"},
			&cli.StringSliceFlag{Name: "show-only", Aliases: []string{"s"}, Usage: "only print the documents of the template `PATH` in the chart (repeatable; a glob such as charts/backend/templates/*.yaml)"},
			&cli.StringFlag{Name: "kube-version", Usage: "render for a cluster of Kubernetes `VERSION` (.Capabilities.KubeVersion), as Helm's flag does"},
			&cli.StringSliceFlag{Name: "api-versions", Aliases: []string{"a"}, Usage: "add `API` (group/version or group/version/Kind) to .Capabilities.APIVersions (repeatable), as Helm's flag does"},
			// Helm's spelling; tests are always left out.
			&cli.BoolFlag{Name: "skip-tests", Hidden: true},
		}, valuesFlags()...),
		Action: func(c *cli.Context) error {
			opts := &templateOptions{f: f, Side: manifest.Host, Values: valueOptions(c),
				IncludeCRDs: c.Bool("include-crds"), OutputDir: c.String("output-dir"), ShowOnly: c.StringSlice("show-only")}
			var err error
			if opts.Path, err = pathArg(c); err != nil {
				return err
			}
			if c.Bool("agent") {
				opts.Side = manifest.Agent
			}
			if c.IsSet("kube-version") || c.IsSet("api-versions") {
				caps := chartutil.DefaultCapabilities.Copy()
				if v := c.String("kube-version"); v != "" {
					kv, err := chartutil.ParseKubeVersion(v)
					if err != nil {
						return usageErrorf("--kube-version %q: %v (write e.g. 1.30 or v1.30.2)", v, err)
					}
					caps.KubeVersion = *kv
				}
				caps.APIVersions = append(caps.APIVersions, c.StringSlice("api-versions")...)
				opts.Capabilities = caps
			}
			if runF != nil {
				return runF(opts)
			}
			return templateRun(opts)
		},
	}
}

func templateRun(opts *templateOptions) error {
	f := opts.f
	vals, err := opts.Values.Merge(f.IO.In)
	if err != nil {
		return &usageError{err: err}
	}
	src, err := source.Load(opts.Path)
	if err != nil {
		return err
	}
	if err := fetchLockedDependencies(context.Background(), f, src); err != nil {
		return err
	}
	ext, c, ignored, err := packager.LoadForRender(src)
	if err != nil {
		return err
	}
	printDiagnostics(f, ignored)
	m, err := manifest.InstallerManifests(ext, c, opts.Side, vals, opts.IncludeCRDs, opts.Capabilities)
	if err != nil {
		return fmt.Errorf("rendering the %s release: %w", opts.Side, err)
	}
	f.Debugf("release %s in namespace %s, installer overrides: %v", m.ReleaseName, m.Namespace, m.Overrides)
	if len(m.Documents) == 0 {
		warnEmptyRelease(f, c, opts.Side)
	}
	if err := m.ShowOnly(opts.ShowOnly); err != nil {
		return err
	}
	if opts.OutputDir == "" {
		_, err := io.WriteString(f.IO.Out, m.String())
		return err
	}
	return writeManifests(f, opts.OutputDir, m)
}

// writeManifests writes each document under dir at its source path, the
// documents of one file together, as "helm template --output-dir" does.
// Every path is checked before anything is written.
// warnEmptyRelease says that a release renders no objects, and where the
// subcharts went when they all belong to the other release.
func warnEmptyRelease(f *Factory, c *chart.Chart, side manifest.Side) {
	other, flag := manifest.Agent, "--agent"
	if side == manifest.Agent {
		other, flag = manifest.Host, "without --agent"
	}
	f.Warnf("the %s release renders no objects", side)
	if names := manifest.TaggedFor(c, other); len(names) > 0 && len(manifest.TaggedFor(c, side)) == 0 {
		f.Infof("Its subcharts (%s) are all in the %s release; render that one %s.", strings.Join(names, ", "), other, flag)
	}
}

func writeManifests(f *Factory, dir string, m *manifest.Manifests) error {
	var order []string
	content := map[string][]byte{}
	for _, d := range m.Documents {
		rel := filepath.FromSlash(d.Source)
		if !filepath.IsLocal(rel) {
			return fmt.Errorf("refusing to write %q outside %s", d.Source, dir)
		}
		if _, ok := content[rel]; !ok {
			order = append(order, rel)
		}
		content[rel] = append(content[rel], fmt.Sprintf("---\n# Source: %s\n%s\n", d.Source, d.Content)...)
	}
	for _, rel := range order {
		target := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(target, content[rel], 0o644); err != nil {
			return err
		}
		f.Infof("wrote %s", target)
	}
	return nil
}
