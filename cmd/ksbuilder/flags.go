package main

import (
	"github.com/urfave/cli/v2"

	"github.com/ksbuilder/ksbuilder/pkg/output"
	"github.com/ksbuilder/ksbuilder/pkg/units"
)

// outputFlag is the -o/--output flag.
func outputFlag(formats string) cli.Flag {
	return &cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "output format: " + formats, Value: "text"}
}

// outputFormat reads -o/--output; an unsupported value is a usage error.
func outputFormat(c *cli.Context, allowed ...output.Format) (output.Format, error) {
	f, err := output.ParseFormat(c.String("output"), allowed...)
	if err != nil {
		return "", &usageError{err: err}
	}
	return f, nil
}

// maxSizeFlag is --max-size, the package size limit.
func maxSizeFlag() cli.Flag {
	return &cli.StringFlag{Name: "max-size", Usage: "size limit of the package, e.g. 1MiB or 900KiB", Value: "1MiB"}
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
		return c.Args().First(), nil
	}
	return "", exactArgs(c, "[PATH]")
}
