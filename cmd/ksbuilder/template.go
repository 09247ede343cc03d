package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/urfave/cli/v2"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/ksbuilder/ksbuilder/pkg/cluster"
	"github.com/ksbuilder/ksbuilder/pkg/manifest"
	"github.com/ksbuilder/ksbuilder/pkg/packager"
	"github.com/ksbuilder/ksbuilder/pkg/source"
	"github.com/ksbuilder/ksbuilder/pkg/values"
)

type templateOptions struct {
	f   *Factory
	ctx context.Context

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
	// Cluster, with Side Agent, is the cluster the agent release is
	// rendered for (--cluster); "" is the host cluster.
	Cluster string
	// ClusterValues are --cluster-values and --cluster-set by cluster:
	// those of Cluster are merged over Values as KubeSphere merges an
	// override, the others are ignored with a note.
	ClusterValues map[string]values.Options
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

--agent --cluster C renders the agent release of cluster C: with
global.clusterInfo.name=C and .role host for the cluster named "host"
(KubeSphere's default name for it), member for any other; and with C's
--cluster-values and --cluster-set merged over the values flags as
KubeSphere merges spec.clusterScheduling.overrides.C over spec.config (as
YAML, maps key by key, the override winning). Values given for other
clusters are ignored, with a note on stderr. No cluster is contacted.

Examples:
  ksbuilder template ./hello
  ksbuilder template ./hello --agent --set backend.replicaCount=2
  ksbuilder template ./hello --agent --cluster member1 --cluster-values member1=member1.yaml
  ksbuilder template ./hello -s charts/backend/templates/deployment.yaml
  ksbuilder template hello-0.1.0.tgz -f prod-values.yaml --output-dir out`,
		Flags: append([]cli.Flag{
			&cli.BoolFlag{Name: "agent", Usage: "render the agent release instead of the host release"},
			&cli.StringFlag{Name: "cluster", Usage: "with --agent: render the agent release of `CLUSTER`, with its --cluster-values and --cluster-set (default: the host cluster, without them)"},
			&cli.BoolFlag{Name: "include-crds", Usage: "also print the CRDs of the crds/ directories, which Helm installs first"},
			&cli.StringFlag{Name: "output-dir", Usage: "write the files under `DIR` instead of printing them"},
			&cli.StringSliceFlag{Name: "show-only", Aliases: []string{"s"}, Usage: "only print the documents of the template `PATH` in the chart (repeatable; a glob such as charts/backend/templates/*.yaml)"},
			&cli.StringFlag{Name: "kube-version", Usage: "render for a cluster of Kubernetes `VERSION` (.Capabilities.KubeVersion), as Helm's flag does"},
			&cli.StringSliceFlag{Name: "api-versions", Aliases: []string{"a"}, Usage: "add `API` (group/version or group/version/Kind) to .Capabilities.APIVersions (repeatable), as Helm's flag does"},
			// Helm's spelling; tests are always left out.
			&cli.BoolFlag{Name: "skip-tests", Hidden: true},
		}, append(valuesFlags(), clusterValuesFlags(mergedAsOverride)...)...),
		Action: func(c *cli.Context) error {
			opts := &templateOptions{f: f, ctx: c.Context, Side: manifest.Host, Values: valueOptions(c),
				IncludeCRDs: c.Bool("include-crds"), OutputDir: c.String("output-dir"), ShowOnly: c.StringSlice("show-only")}
			var err error
			if opts.Path, err = pathArg(c); err != nil {
				return err
			}
			if c.Bool("agent") {
				opts.Side = manifest.Agent
			}
			if opts.Cluster, opts.ClusterValues, err = templateCluster(c); err != nil {
				return err
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

// templateCluster reads --cluster, --cluster-values and --cluster-set:
// --cluster needs --agent, and the per-cluster values need --cluster.
func templateCluster(c *cli.Context) (string, map[string]values.Options, error) {
	cl := c.String("cluster")
	byCluster, err := clusterValueOptions(c)
	if err != nil {
		return "", nil, err
	}
	switch {
	case c.IsSet("cluster") && !c.Bool("agent"):
		return "", nil, usageErrorf("--cluster %s renders the agent release of that cluster: add --agent", cl)
	case c.IsSet("cluster") && len(validation.IsDNS1123Subdomain(cl)) > 0:
		return "", nil, usageErrorf("--cluster %q: %s", cl, validation.IsDNS1123Subdomain(cl)[0])
	case len(byCluster) > 0 && cl == "":
		return "", nil, usageErrorf("--%s and --%s are one cluster's override: name the cluster to render with --agent --cluster CLUSTER", flagClusterValues, flagClusterSet)
	}
	if len(byCluster) == 0 {
		byCluster = nil
	}
	return cl, byCluster, nil
}

func templateRun(opts *templateOptions) error {
	f := opts.f
	vals, valueSource, err := opts.Values.MergeSources(f.IO.In)
	if err != nil {
		return &usageError{err: err}
	}
	agentCluster := manifest.ClusterInfo{}
	if opts.Cluster != "" {
		agentCluster = manifest.ClusterInfoFor(opts.Cluster)
		if vals, err = agentValuesOf(f, opts, vals); err != nil {
			return err
		}
	}
	src, err := source.Load(opts.Path)
	if err != nil {
		return err
	}
	if err := fetchLockedDependencies(opts.ctx, f, src); err != nil {
		return err
	}
	ext, c, ignored, err := packager.LoadForRender(src)
	if err != nil {
		return err
	}
	printDiagnostics(f, ignored)
	m, err := manifest.InstallerManifests(ext, c, opts.Side, vals,
		manifest.ManifestOptions{IncludeCRDs: opts.IncludeCRDs, Capabilities: opts.Capabilities, Cluster: agentCluster})
	if err != nil {
		if schemaErr := manifest.NewLocator(src, c).SchemaErrors(err, valueSource); schemaErr != nil {
			return schemaErr
		}
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

// agentValuesOf returns the values of opts.Cluster's agent release: its
// override merged over vals as KubeSphere merges it. The values of other
// clusters are ignored, with a note.
func agentValuesOf(f *Factory, opts *templateOptions, vals map[string]any) (map[string]any, error) {
	var others []string
	for cl := range opts.ClusterValues {
		if cl != opts.Cluster {
			others = append(others, cl)
		}
	}
	if len(others) > 0 {
		sort.Strings(others)
		f.Infof("note: ignoring the values of cluster %s: rendering the agent of cluster %s", strings.Join(others, ", "), opts.Cluster)
	}
	var override map[string]any
	if o, ok := opts.ClusterValues[opts.Cluster]; ok {
		var err error
		if override, err = o.Merge(f.IO.In); err != nil {
			return nil, &usageError{err: fmt.Errorf("the values of cluster %s: %w", opts.Cluster, err)}
		}
	}
	merged, err := cluster.ClusterAgentValues(vals, override)
	if err != nil {
		return nil, fmt.Errorf("merging the override of cluster %s: %w", opts.Cluster, err)
	}
	return merged, nil
}

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

// writeManifests writes each document under dir at its source path, the
// documents of one file together, as "helm template --output-dir" does.
// Every path is checked before anything is written.
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
