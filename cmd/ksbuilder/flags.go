package main

import (
	"errors"
	"io/fs"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/ksbuilder/ksbuilder/pkg/extension"
	"github.com/ksbuilder/ksbuilder/pkg/output"
	"github.com/ksbuilder/ksbuilder/pkg/units"
)

// outputUsage starts the usage text of every -o/--output flag; the
// formats follow it.
const outputUsage = "output `FORMAT`: "

// outputFlag is the -o/--output flag.
func outputFlag(formats string) cli.Flag {
	return &cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: outputUsage + formats, Value: "text"}
}

// outputFormat reads -o/--output; an unsupported value is a usage error.
func outputFormat(c *cli.Context, allowed ...output.Format) (output.Format, error) {
	f, err := output.ParseFormat(c.String("output"), allowed...)
	if err != nil {
		return "", &usageError{err: err}
	}
	if run := runOf(c); run != nil {
		run.Output = f
	}
	return f, nil
}

// maxSizeFlag is --max-size, the package size limit.
func maxSizeFlag() cli.Flag {
	return &cli.StringFlag{Name: "max-size", Usage: "`SIZE` limit of the package, e.g. 1MiB or 900KiB", Value: "1MiB"}
}

// maxSize reads --max-size in bytes; a bad value is a usage error.
func maxSize(c *cli.Context) (int64, error) {
	n, err := units.ParseBytes(c.String("max-size"))
	if err != nil {
		return 0, usageErrorf("--max-size: %v", err)
	}
	return n, nil
}

// pathArg returns the optional PATH argument of commands that work on an
// extension, "." when it is absent.
func pathArg(c *cli.Context) (string, error) {
	switch c.NArg() {
	case 0:
		return ".", nil
	case 1:
		p := c.Args().First()
		if run := runOf(c); run != nil {
			run.Path = p
		}
		return p, nil
	}
	return "", exactArgs(c, "[PATH]")
}

// nameArg returns the NAME argument of commands that act on an extension
// by name. Without one, it is the name in ./extension.yaml: in an
// extension's directory the name is not needed, as with install and push.
func nameArg(c *cli.Context) (string, error) {
	if c.NArg() > 0 {
		if err := exactArgs(c, "NAME"); err != nil {
			return "", err
		}
		return c.Args().First(), nil
	}
	data, err := os.ReadFile(extension.MetadataFile)
	if errors.Is(err, fs.ErrNotExist) {
		return "", usageErrorf("missing argument NAME (or run it in the extension's directory, where %s names it)", extension.MetadataFile)
	}
	if err != nil {
		return "", err
	}
	ext, _ := extension.Parse(data)
	if ext.Name == "" {
		return "", usageErrorf("missing argument NAME, and ./%s has no name", extension.MetadataFile)
	}
	return ext.Name, nil
}

// runInfo is what the command being run has parsed that the error report
// needs: the PATH its diagnostics are relative to and the -o format.
type runInfo struct {
	// Args are the command line as typed (after "help CMD" became
	// "CMD --help").
	Args   []string
	Path   string
	Output output.Format
	// Terminated is set when SIGTERM stopped the command.
	Terminated bool
}

// runInfoKey is the runInfo's key in cli.App.Metadata.
const runInfoKey = "ksbuilder.run"

// runOf returns the run's runInfo, nil outside an app built by newApp.
func runOf(c *cli.Context) *runInfo {
	if c.App == nil {
		return nil
	}
	run, _ := c.App.Metadata[runInfoKey].(*runInfo)
	return run
}
