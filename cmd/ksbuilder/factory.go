package main

import (
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/ksbuilder/ksbuilder/pkg/cloud"
	"github.com/ksbuilder/ksbuilder/pkg/iostreams"
	"github.com/ksbuilder/ksbuilder/pkg/prompt"
)

// Factory hands commands their dependencies. Anything costly is built lazily,
// so a command only pays for what it uses.
type Factory struct {
	IO      *iostreams.IOStreams
	Version string
	// Prompter returns the terminal prompter; tests replace it.
	Prompter func() prompt.Prompter
	// Now returns the current time; tests replace it.
	Now func() time.Time

	debug bool
	// run is what the command being run parsed that its error report
	// needs; newApp sets it.
	run *runInfo
	// cloudOptions are added to every Cloud client; tests shorten timeouts.
	cloudOptions []cloud.Option
}

// newFactory returns the production factory.
func newFactory(ios *iostreams.IOStreams, version string) *Factory {
	f := &Factory{IO: ios, Version: version, Now: time.Now, run: &runInfo{}}
	f.Prompter = func() prompt.Prompter { return prompt.NewSurvey(f.IO.In, f.IO.Out, f.IO.ErrOut) }
	return f
}

// Debugf writes a line to stderr when --debug is on.
func (f *Factory) Debugf(format string, args ...any) {
	if f.debug {
		fmt.Fprintf(f.IO.ErrOut, "debug: "+format+"\n", args...)
	}
}

// Warnf writes a warning line to stderr.
func (f *Factory) Warnf(format string, args ...any) {
	fmt.Fprintf(f.IO.ErrOut, "%s %s\n", f.colorize("warning:", colorYellow), fmt.Sprintf(format, args...))
}

// Infof writes a progress line to stderr.
func (f *Factory) Infof(format string, args ...any) {
	fmt.Fprintf(f.IO.ErrOut, format+"\n", args...)
}

type color string

const (
	colorRed    color = "31"
	colorYellow color = "33"
	colorGreen  color = "32"
	colorCyan   color = "36"
	colorBold   color = "1"
)

// colorize wraps s in an ANSI colour when stderr is a colour terminal.
func (f *Factory) colorize(s string, c color) string {
	if !f.IO.ColorEnabledStderr() {
		return s
	}
	return "\x1b[" + string(c) + "m" + s + "\x1b[0m"
}

// sourceDateEpoch reads SOURCE_DATE_EPOCH, the reproducible-builds timestamp
// for archive entries. Unset means the Unix epoch.
func sourceDateEpoch() (time.Time, error) {
	v, ok := os.LookupEnv("SOURCE_DATE_EPOCH")
	if !ok || v == "" {
		return time.Time{}, nil
	}
	secs, err := strconv.ParseInt(v, 10, 64)
	if err != nil || secs < 0 {
		return time.Time{}, usageErrorf("SOURCE_DATE_EPOCH=%q is not a number of seconds since 1970", v)
	}
	return time.Unix(secs, 0).UTC(), nil
}
