package main

import (
	"fmt"
	"io"
	"slices"

	"github.com/urfave/cli/v2"

	"github.com/ksbuilder/ksbuilder/pkg/images"
	"github.com/ksbuilder/ksbuilder/pkg/manifest"
	"github.com/ksbuilder/ksbuilder/pkg/output"
	"github.com/ksbuilder/ksbuilder/pkg/packager"
	"github.com/ksbuilder/ksbuilder/pkg/source"
	"github.com/ksbuilder/ksbuilder/pkg/units"
)

func newImagesCmd(f *Factory) *cli.Command {
	return &cli.Command{
		Name:      "images",
		Usage:     "List the container images of an extension; save, push or mirror them",
		ArgsUsage: "[PATH]",
		Description: `Renders the extension at PATH (a directory or a .tgz; default ".") as
KubeSphere's installer would (the host release and, for a Multicluster
extension, the agent release) with your values, and lists every container
image of the manifests and hooks, the images of extension.yaml and the
executor hook images of its annotations: deduplicated by normalised
reference (nginx is docker.io/library/nginx:latest) and sorted, one per
line. -o json adds where each image comes from, as written there.

For an air-gapped registry: "images save" pulls them into one archive,
"images push" pushes an archive to your registry, "images mirror" copies
them registry to registry.

Examples:
  ksbuilder images ./hello
  ksbuilder images ./hello --set global.imageRegistry=registry.example.com -o json
  ksbuilder images save ./hello -o hello-images.tar --platform linux/amd64
  ksbuilder images push hello-images.tar --registry registry.example.com/mirror`,
		Flags: append([]cli.Flag{outputFlag("text, json or yaml")}, valuesFlags()...),
		Action: func(c *cli.Context) error {
			path, err := pathArg(c)
			if err != nil {
				return err
			}
			format, err := outputFormat(c, output.Text, output.JSON, output.YAML)
			if err != nil {
				return err
			}
			list, err := listImages(f, c, path)
			if err != nil {
				return err
			}
			return output.Write(f.IO.Out, format, list, func(w io.Writer) error {
				for _, img := range list {
					if _, err := fmt.Fprintln(w, img.Image); err != nil {
						return err
					}
				}
				return nil
			})
		},
		Subcommands: []*cli.Command{
			newImagesSaveCmd(f),
			newImagesPushCmd(f),
			newImagesMirrorCmd(f),
		},
	}
}

// listImages loads, validates and renders the extension at path with the
// values flags and lists its images.
func listImages(f *Factory, c *cli.Context, path string) ([]images.Image, error) {
	vals, valueSource, err := valueOptions(c).MergeSources(f.IO.In)
	if err != nil {
		return nil, &usageError{err: err}
	}
	src, err := source.Load(path)
	if err != nil {
		return nil, err
	}
	if err := fetchLockedDependencies(c.Context, f, src); err != nil {
		return nil, err
	}
	ext, chrt, ignored, err := packager.LoadForRender(src)
	if err != nil {
		return nil, err
	}
	printDiagnostics(f, ignored)
	list, err := images.List(ext, chrt, vals)
	if schemaErr := manifest.NewLocator(src, chrt).SchemaErrors(err, valueSource); schemaErr != nil {
		return nil, schemaErr
	}
	return list, err
}

const (
	flagPlatform = "platform"
	flagRegistry = "registry"
	flagJobs     = "jobs"
)

func platformFlag() cli.Flag {
	return &cli.StringFlag{Name: flagPlatform, Usage: "keep only these platforms of multi-platform images, e.g. `linux/amd64,linux/arm64` (default: all)"}
}

func destinationFlag() cli.Flag {
	return &cli.StringFlag{Name: flagRegistry, Usage: "push to this registry, under an optional repository prefix: `HOST[:PORT][/PREFIX]`"}
}

func jobsFlag() cli.Flag {
	return &cli.IntFlag{Name: flagJobs, Usage: "`N` transfers at once", Value: images.DefaultJobs}
}

// imagesOptions reads the registry, platform and jobs flags.
func imagesOptions(f *Factory, c *cli.Context, withPlatform bool) (images.Options, error) {
	var opts images.Options
	var err error
	if opts.Registry, err = registryOptions(c); err != nil {
		return opts, err
	}
	if err := registryTimeout(c, &opts.Registry); err != nil {
		return opts, err
	}
	if withPlatform {
		if opts.Platforms, err = images.ParsePlatforms(c.String(flagPlatform)); err != nil {
			return opts, usageErrorf("--%s: %w", flagPlatform, err)
		}
	}
	if opts.Jobs = c.Int(flagJobs); opts.Jobs < 1 {
		return opts, usageErrorf("--%s must be at least 1", flagJobs)
	}
	// push and mirror print each image on stdout: no line on stderr.
	opts.Progress = newImagesProgress(f, withPlatform && c.Command.Name == "save")
	return opts, nil
}

// destinationOption reads --registry.
func destinationOption(c *cli.Context) (images.Destination, error) {
	s := c.String(flagRegistry)
	if s == "" {
		return images.Destination{}, usageErrorf("--%s is required: the registry to push to (HOST[:PORT][/PREFIX])", flagRegistry)
	}
	d, err := images.ParseDestination(s)
	if err != nil {
		return d, usageErrorf("--%s: %w", flagRegistry, err)
	}
	return d, nil
}

// flagArchive is images save's archive path.
const flagArchive = "archive"

// archiveFlag reads images save's --archive, or the -o FILE.tar of
// earlier versions with a deprecation warning; -o json, yaml or text is
// refused: it would write an archive named "json".
func archiveFlag(f *Factory, c *cli.Context) (string, error) {
	file, old := c.String(flagArchive), c.String("output")
	switch {
	case old == "":
	case slices.Contains([]string{string(output.Text), string(output.JSON), string(output.YAML)}, old):
		return "", usageErrorf("images save writes an archive and has no output format: -o %s would name the archive %q; give its path with --%s FILE.tar", old, old, flagArchive)
	case file != "":
		return "", usageErrorf("give the archive's path once, with --%s", flagArchive)
	default:
		f.Warnf("-o for the archive of images save is deprecated; use --%s %s", flagArchive, old)
		file = old
	}
	if file == "" {
		return "", usageErrorf("--%s FILE.tar is required: where to write the archive", flagArchive)
	}
	return file, nil
}

func newImagesSaveCmd(f *Factory) *cli.Command {
	return &cli.Command{
		Name:      "save",
		Usage:     "Pull every image of an extension into one archive",
		ArgsUsage: "[PATH]",
		Description: `Lists the images of the extension at PATH as "ksbuilder images" does and
pulls them all into one OCI image-layout archive (a tar of oci-layout,
index.json and blobs/sha256/...): each image is an entry of index.json
annotated with its full reference (org.opencontainers.image.ref.name),
blobs shared between images are stored once, and digests are the
registry's. "ksbuilder images push" pushes the archive to another
registry; "ctr images import" and "skopeo copy oci-archive:" read it too.

Multi-platform images are saved whole unless --platform names the
platforms to keep; an image with none of them is an error (an image pinned
by digest is kept whole). The archive is written to a temporary file next
to FILE and renamed when complete: on an error or Ctrl-C nothing is left.
Credentials are the ones of "ksbuilder registry login", "helm registry
login" and "docker login".

Examples:
  ksbuilder images save ./hello --archive hello-images.tar
  ksbuilder images save ./hello --archive hello-images.tar --platform linux/amd64,linux/arm64 -f prod-values.yaml`,
		Flags: append(append([]cli.Flag{
			&cli.StringFlag{Name: flagArchive, Usage: "write the archive to `FILE.tar`"},
			// -o FILE.tar was the archive's flag; -o is an output format elsewhere.
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Hidden: true},
			platformFlag(),
			jobsFlag(),
		}, valuesFlags()...), append(registryFlags(), registryTimeoutFlag())...),
		Action: func(c *cli.Context) error {
			path, err := pathArg(c)
			if err != nil {
				return err
			}
			file, err := archiveFlag(f, c)
			if err != nil {
				return err
			}
			opts, err := imagesOptions(f, c, true)
			if err != nil {
				return err
			}
			list, err := listImages(f, c, path)
			if err != nil {
				return err
			}
			res, err := images.Save(c.Context, list, file, opts)
			finishProgress(opts)
			if err != nil {
				return registryError(err)
			}
			f.Infof("Saved %d images (%s) to %s", len(res.Images), units.FormatBytes(res.Bytes), res.Path)
			return nil
		},
	}
}

func newImagesPushCmd(f *Factory) *cli.Command {
	return &cli.Command{
		Name:      "push",
		Usage:     "Push the images of an archive to a registry",
		ArgsUsage: "FILE.tar",
		Description: `Pushes every image of an archive written by "ksbuilder images save" to the
registry --registry HOST[:PORT][/PREFIX], keeping each repository path
under it (docker.io/kubesphere/x:1 → HOST/PREFIX/kubesphere/x:1,
nginx:1 → HOST/PREFIX/library/nginx:1; an image referenced by digest is
pushed by digest). The archive is checked whole before the first request:
every blob must be there, of its size and hash to its digest. Digests are
unchanged; blobs the registry already has are not uploaded again. Prints each pushed reference and its digest, and
on standard error the value to install the extension with
(--set global.imageRegistry=HOST/PREFIX) for charts that build their image
references from global.imageRegistry.

Examples:
  ksbuilder images push hello-images.tar --registry registry.example.com/mirror
  ksbuilder images push hello-images.tar --registry localhost:5000 --plain-http -o json`,
		Flags: append([]cli.Flag{
			destinationFlag(),
			outputFlag("text, json or yaml"),
			jobsFlag(),
		}, append(registryFlags(), registryTimeoutFlag())...),
		Action: func(c *cli.Context) error {
			if err := exactArgs(c, "FILE.tar"); err != nil {
				return err
			}
			format, err := outputFormat(c, output.Text, output.JSON, output.YAML)
			if err != nil {
				return err
			}
			dest, err := destinationOption(c)
			if err != nil {
				return err
			}
			opts, err := imagesOptions(f, c, false)
			if err != nil {
				return err
			}
			// Reading and hashing the archive does not watch the context.
			pushed, err := untilInterrupted(c.Context, func() ([]images.Saved, error) {
				return images.Push(c.Context, c.Args().First(), dest, opts)
			})
			finishProgress(opts)
			if err != nil {
				return registryError(err)
			}
			return writePushed(f, format, dest, pushed)
		},
	}
}

func newImagesMirrorCmd(f *Factory) *cli.Command {
	return &cli.Command{
		Name:      "mirror",
		Usage:     "Copy every image of an extension to a registry",
		ArgsUsage: "[PATH]",
		Description: `"images save" then "images push" without a file: lists the images of the
extension at PATH and copies them registry to registry, with the same
--platform filter and the same mapping under --registry
HOST[:PORT][/PREFIX]. Blobs the target already has are skipped; within one
registry they are mounted rather than copied.

Examples:
  ksbuilder images mirror ./hello --registry registry.example.com/mirror
  ksbuilder images mirror ./hello --registry localhost:5000 --plain-http --platform linux/amd64 -o json`,
		Flags: append(append([]cli.Flag{
			destinationFlag(),
			outputFlag("text, json or yaml"),
			platformFlag(),
			jobsFlag(),
		}, valuesFlags()...), append(registryFlags(), registryTimeoutFlag())...),
		Action: func(c *cli.Context) error {
			path, err := pathArg(c)
			if err != nil {
				return err
			}
			format, err := outputFormat(c, output.Text, output.JSON, output.YAML)
			if err != nil {
				return err
			}
			dest, err := destinationOption(c)
			if err != nil {
				return err
			}
			opts, err := imagesOptions(f, c, true)
			if err != nil {
				return err
			}
			list, err := listImages(f, c, path)
			if err != nil {
				return err
			}
			pushed, err := images.Mirror(c.Context, list, dest, opts)
			finishProgress(opts)
			if err != nil {
				return registryError(err)
			}
			return writePushed(f, format, dest, pushed)
		},
	}
}

// writePushed prints the pushed references and the values hint.
func writePushed(f *Factory, format output.Format, dest images.Destination, pushed []images.Saved) error {
	if pushed == nil {
		pushed = []images.Saved{}
	}
	err := output.Write(f.IO.Out, format, pushed, func(w io.Writer) error {
		for _, p := range pushed {
			if _, err := fmt.Fprintf(w, "%s %s\n", p.Target, p.Digest); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	f.Infof("Pushed %d images to %s. Install with --set global.imageRegistry=%s for charts that take their registry from it.", len(pushed), dest, dest)
	return nil
}

// finishProgress ends the progress bar of opts.
func finishProgress(opts images.Options) {
	if p, ok := opts.Progress.(*imagesProgress); ok {
		p.finish()
	}
}

// imagesProgress shows a byte progress bar on a terminal, else (for save)
// one line per image on stderr.
type imagesProgress struct {
	f     *Factory
	bar   *progressBar
	lines bool
}

// newImagesProgress reports on stderr: a bar on a terminal, else with
// lines one line per image.
func newImagesProgress(f *Factory, lines bool) *imagesProgress {
	p := &imagesProgress{f: f, lines: lines}
	if f.IO.IsStderrTTY() {
		p.bar = &progressBar{w: f.IO.ErrOut}
	}
	return p
}

func (p *imagesProgress) Start(total int64) {
	if p.bar != nil {
		p.bar.Start("images", total)
	}
}

func (p *imagesProgress) Add(n int64) {
	if p.bar != nil {
		p.bar.Add(int(n))
	}
}

// finish ends the progress bar, if any.
func (p *imagesProgress) finish() {
	if p.bar != nil {
		p.bar.Finish()
	}
}

func (p *imagesProgress) Done(ref, digest string) {
	if p.bar == nil && p.lines {
		p.f.Infof("%s %s", ref, digest)
	}
}
