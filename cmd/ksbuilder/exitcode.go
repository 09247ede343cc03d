package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/ksbuilder/ksbuilder/pkg/diag"
	"github.com/ksbuilder/ksbuilder/pkg/output"
	"github.com/ksbuilder/ksbuilder/pkg/prompt"
	"github.com/ksbuilder/ksbuilder/pkg/safetext"
)

// Exit codes.
const (
	exitOK          = 0
	exitFailure     = 1
	exitUsage       = 2
	exitAuth        = 4
	exitInterrupted = 130
	exitTerminated  = 143
)

// usageError is a mistake in how the command was called: a bad flag, a
// missing argument, a flag required without a terminal. Exit code 2.
type usageError struct {
	err error
}

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// usageErrorf builds a usageError.
func usageErrorf(format string, args ...any) error {
	return &usageError{err: fmt.Errorf(format, args...)}
}

// silentError ends the command with an exit code after the command has
// already reported why (lint findings, validation results).
type silentError struct {
	code int
}

func (e *silentError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// authError marks a missing or rejected login. Exit code 4.
type authError struct {
	err error
}

func (e *authError) Error() string { return e.err.Error() }
func (e *authError) Unwrap() error { return e.err }

// exitCode maps an error to the process exit code.
func exitCode(err error) int {
	var (
		usage  *usageError
		silent *silentError
		auth   *authError
	)
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, prompt.ErrCancelled), errors.Is(err, context.Canceled):
		return exitInterrupted
	case errors.As(err, &silent):
		return silent.code
	case errors.As(err, &auth):
		return exitAuth
	case errors.As(err, &usage):
		return exitUsage
	}
	return exitFailure
}

// receivedSignalKey keys the signal that stopped the command (an
// *atomic.Value holding an os.Signal) in its context.
type receivedSignalKey struct{}

// withReceivedSignal lets the error report name the signal that runMain
// received: "Terminated." for SIGTERM, "Interrupted." for Ctrl-C.
func withReceivedSignal(ctx context.Context, received *atomic.Value) context.Context {
	return context.WithValue(ctx, receivedSignalKey{}, received)
}

// terminated reports whether ctx was cancelled by SIGTERM.
func terminated(ctx context.Context) bool {
	received, _ := ctx.Value(receivedSignalKey{}).(*atomic.Value)
	if received == nil {
		return false
	}
	sig, _ := received.Load().(os.Signal)
	return sig == syscall.SIGTERM
}

// stoppedMessage is the line an interrupted command ends with.
func (r *runInfo) stoppedMessage() string {
	if r.Terminated {
		return "Terminated."
	}
	return "Interrupted."
}

// printError reports an error. With -o json (or -o yaml) it is an object
// on stdout ({"error", "exitCode", "path", "diagnostics"}), so scripts
// that parse stdout always get JSON (YAML), usage errors included;
// otherwise it goes to stderr, diagnostics one per line, and a usage error
// adds a pointer to --help.
func printError(f *Factory, cmdPath string, err error) {
	var silent *silentError
	if errors.As(err, &silent) {
		return
	}
	if f.run.Output == output.JSON || f.run.Output == output.YAML {
		printStructuredError(f, err)
		return
	}
	if errors.Is(err, prompt.ErrCancelled) || errors.Is(err, context.Canceled) {
		fmt.Fprintln(f.IO.ErrOut, f.run.stoppedMessage())
		return
	}
	if list, ok := diag.AsErrors(err); ok {
		printDiagnostics(f, list)
		return
	}
	// Errors may quote a server or a file: no escape sequence gets through.
	fmt.Fprintf(f.IO.ErrOut, "%s %s\n", f.colorize("error:", colorRed), safetext.Strip(err.Error()))
	var usage *usageError
	if errors.As(err, &usage) {
		fmt.Fprintf(f.IO.ErrOut, "Run '%s --help' for usage.\n", cmdPath)
	}
}

// jsonError is the shape of a failure printed with -o json or -o yaml.
// Diagnostics name their files relative to Path, as in lint's and
// validate's JSON output.
type jsonError struct {
	Error       string    `json:"error"`
	ExitCode    int       `json:"exitCode"`
	Path        string    `json:"path,omitempty"`
	Diagnostics diag.List `json:"diagnostics,omitempty"`
}

func printStructuredError(f *Factory, err error) {
	e := jsonError{Error: err.Error(), ExitCode: exitCode(err)}
	if list, ok := diag.AsErrors(err); ok {
		e.Error = fmt.Sprintf("%d problems found", len(list))
		if len(list) == 1 {
			e.Error = "1 problem found"
		}
		e.Path, e.Diagnostics = f.run.Path, list
	}
	if errors.Is(err, prompt.ErrCancelled) || errors.Is(err, context.Canceled) {
		e.Error = strings.ToLower(strings.TrimSuffix(f.run.stoppedMessage(), "."))
	}
	if werr := output.Write(f.IO.Out, f.run.Output, e, nil); werr != nil {
		fmt.Fprintf(f.IO.ErrOut, "error: %s\n", err)
	}
}

// printDiagnostics writes diagnostics to stderr, one per line, in the format
// every command shares (see formatDiagnostic).
func printDiagnostics(f *Factory, list diag.List) {
	for _, d := range list {
		fmt.Fprintln(f.IO.ErrOut, formatDiagnostic(d, f.run.Path, f.colorize))
	}
}

// formatDiagnostic renders a diagnostic as
// "path/file:line:col: severity: field: message (hint) [rule]", the file
// shown under root (the PATH the command was given). paint colours the
// severity and the rule for the stream it goes to.
func formatDiagnostic(d diag.Diagnostic, root string, paint func(string, color) string) string {
	var b strings.Builder
	if file := displayPath(root, d.File); file != "" {
		b.WriteString(file)
		if d.Line > 0 {
			fmt.Fprintf(&b, ":%d", d.Line)
			if d.Column > 0 {
				fmt.Fprintf(&b, ":%d", d.Column)
			}
		}
		b.WriteString(": ")
	}
	label, c := "error:", colorRed
	switch d.Severity {
	case diag.Warning:
		label, c = "warning:", colorYellow
	case diag.Info:
		label, c = "info:", colorCyan
	}
	b.WriteString(paint(label, c))
	b.WriteString(" ")
	d.File, d.Line, d.Column = "", 0, 0
	b.WriteString(d.Error())
	if d.Code != "" {
		b.WriteString(" ")
		b.WriteString(paint("["+d.Code+"]", colorCyan))
	}
	return b.String()
}

// displayPath shows a diagnostic's file relative to the current directory:
// under root, the PATH argument, which is left out when it is "." or
// unknown. A diagnostic about the whole package shows root.
func displayPath(root, file string) string {
	if root == "" || filepath.Clean(root) == "." {
		return file
	}
	if file == "" {
		return root
	}
	return filepath.ToSlash(filepath.Join(root, file))
}
