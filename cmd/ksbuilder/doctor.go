package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"
	"helm.sh/helm/v3/pkg/helmpath"

	"github.com/ksbuilder/ksbuilder/pkg/credentials"
	"github.com/ksbuilder/ksbuilder/pkg/doctor"
	"github.com/ksbuilder/ksbuilder/pkg/extension"
	"github.com/ksbuilder/ksbuilder/pkg/output"
	"github.com/ksbuilder/ksbuilder/pkg/source"
)

// envHelmRegistryConfig overrides the path of Helm's registry config, as
// in helm itself.
const envHelmRegistryConfig = "HELM_REGISTRY_CONFIG"

type doctorOptions struct {
	f *Factory

	// Path is the extension whose kubeVersion and ksVersion are checked;
	// empty for none.
	Path   string
	Output output.Format
	Doctor doctor.Options
}

func newDoctorCmd(f *Factory, runF func(*doctorOptions) error) *cli.Command {
	return &cli.Command{
		Name:      "doctor",
		Usage:     "Check that this machine and the cluster are ready for publish and install",
		ArgsUsage: "[PATH]",
		Description: `Runs every check at once and prints one line per check: ✓ ok, ! warning,
✗ failure, - skipped, each problem with its fix. The checks (IDs as in the
JSON output):

  kubeconfig          the kubeconfig and context (--kubeconfig, --context)
  api-server          the API server answers; its Kubernetes version fits
                      PATH's kubeVersion
  crds                KubeSphere's InstallPlan, Extension and ExtensionVersion
                      kinds are served
  kubesphere-version  the version the host Cluster object reports; it fits
                      PATH's ksVersion
  controller          deployment ks-controller-manager is available
  museum              deployment extensions-museum is available
  clock-skew          no node heartbeat is stamped more than 30s ahead of
                      this machine's clock, and no Ready node's Lease is
                      more than 30s past its expiry (a clock behind)
  permissions         you may create, patch and delete what publish and
                      install write
  cloud-login         a KubeSphere Cloud token is stored (read locally)
  registry-login      the registries Helm is logged in to

When PATH is a console project (a package.json with @ks-console/*
dependencies, or the layout yarn create ks-project writes), also:

  node                Node.js 16 or later is in PATH
  yarn                Yarn 1 (classic) is in PATH
  ks-console-registry .npmrc or .yarnrc (the project's, then yours) send
                      @ks-console/* to KubeSphere's npm registry

Exits 1 when a check fails; warnings exit 0. Nothing is written anywhere.

Examples:
  ksbuilder doctor
  ksbuilder doctor ./hello --context staging
  ksbuilder doctor ./my-console-project
  ksbuilder doctor -o json`,
		Flags: append([]cli.Flag{
			outputFlag("text, json or yaml"),
			serverFlag(),
		}, clusterFlags()...),
		Action: func(c *cli.Context) error {
			if c.NArg() > 1 {
				return usageErrorf("doctor takes at most one PATH, got %d arguments", c.NArg())
			}
			opts := &doctorOptions{f: f, Path: c.Args().First()}
			var err error
			if opts.Output, err = outputFormat(c, output.Text, output.JSON, output.YAML); err != nil {
				return err
			}
			connect := connectOptions(c)
			opts.Doctor.Kubeconfig, opts.Doctor.Context = connect.Kubeconfig, connect.Context
			opts.Doctor.RegistryConfig = os.Getenv(envHelmRegistryConfig)
			if opts.Doctor.RegistryConfig == "" {
				opts.Doctor.RegistryConfig = helmpath.ConfigPath("registry/config.json")
			}
			if opts.Doctor.Cloud, err = f.cloudLogin(c); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return doctorRun(c, opts)
		},
	}
}

// cloudLogin looks up the stored Cloud token the way the Cloud commands
// do, without a request and without prompting.
func (f *Factory) cloudLogin(c *cli.Context) (*doctor.CloudLogin, error) {
	t, err := f.cloudTarget(c)
	if err != nil {
		return nil, err
	}
	store, err := f.credentialStore(t)
	if err != nil {
		return nil, err
	}
	return &doctor.CloudLogin{Server: t.URL, Lookup: func() (string, error) {
		_, res, err := store.Get(t.Host)
		if errors.Is(err, credentials.ErrNotFound) {
			return "", doctor.ErrNotLoggedIn
		}
		return string(res.Source), err
	}}, nil
}

func doctorRun(c *cli.Context, opts *doctorOptions) error {
	f := opts.f
	if opts.Path != "" {
		console, err := doctor.IsConsoleProject(opts.Path)
		if err != nil {
			return err
		}
		if console {
			home, _ := os.UserHomeDir()
			opts.Doctor.Console = &doctor.Console{Dir: opts.Path, Home: home}
		}
		if !console || hasExtensionMetadata(opts.Path) {
			meta, err := readConstraints(opts.Path)
			if err != nil {
				return err
			}
			opts.Doctor.KubeVersion, opts.Doctor.KSVersion = meta.KubeVersion, meta.KSVersion
		}
	}
	checks := doctor.Run(c.Context, opts.Doctor)
	var err error
	if opts.Output != output.Text {
		err = output.Write(f.IO.Out, opts.Output, doctorReport{OK: !doctor.Failed(checks), Checks: checks}, nil)
	} else {
		err = writeDoctorText(f, f.IO.Out, checks)
	}
	if err != nil {
		return err
	}
	if doctor.Failed(checks) {
		return &silentError{code: exitFailure}
	}
	return nil
}

// doctorReport is doctor's JSON output.
type doctorReport struct {
	// OK is false when a check failed.
	OK     bool           `json:"ok"`
	Checks []doctor.Check `json:"checks"`
}

// readConstraints reads the version constraints of PATH's extension.yaml.
func readConstraints(path string) (*extension.Extension, error) {
	src, err := source.Load(path)
	if err != nil {
		return nil, err
	}
	data, ok := src.Read("extension.yaml")
	if !ok {
		return nil, fmt.Errorf("%s: no extension.yaml: PATH must be an extension directory or package, or a console project (package.json)", path)
	}
	ext, diags := extension.Parse(data)
	if diags.HasErrors() {
		return nil, fmt.Errorf("%s/extension.yaml: %w", path, diags.Err())
	}
	return ext, nil
}

// hasExtensionMetadata reports whether dir holds an extension.yaml.
func hasExtensionMetadata(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, extension.MetadataFile))
	return err == nil
}

// doctorMarks are the text output's marks per status, and their colours.
var doctorMarks = map[doctor.Status]struct {
	mark  string
	color color
}{
	doctor.OK:   {"✓", colorGreen},
	doctor.Warn: {"!", colorYellow},
	doctor.Fail: {"✗", colorRed},
	doctor.Skip: {"-", colorBold},
}

// writeDoctorText prints "MARK ID  message  (fix: ...)" lines, coloured
// only on a colour terminal.
func writeDoctorText(f *Factory, w io.Writer, checks []doctor.Check) error {
	width := 0
	for _, c := range checks {
		width = max(width, len(c.ID))
	}
	var b strings.Builder
	counts := map[doctor.Status]int{}
	for _, c := range checks {
		counts[c.Status]++
		m := doctorMarks[c.Status]
		mark := m.mark
		if f.IO.ColorEnabled() {
			mark = "\x1b[" + string(m.color) + "m" + mark + "\x1b[0m"
		}
		fmt.Fprintf(&b, "%s %-*s  %s", mark, width, c.ID, c.Message)
		if c.Fix != "" {
			fmt.Fprintf(&b, "  (fix: %s)", c.Fix)
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "%d ok, %s, %d failed, %d skipped\n", counts[doctor.OK], plural(counts[doctor.Warn], "warning"), counts[doctor.Fail], counts[doctor.Skip])
	_, err := io.WriteString(w, b.String())
	return err
}
