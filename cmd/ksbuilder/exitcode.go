package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/ksbuilder/ksbuilder/pkg/diag"
	"github.com/ksbuilder/ksbuilder/pkg/prompt"
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

// printError reports an error on stderr. Diagnostics are printed one per
// line; a usage error adds a pointer to --help.
func printError(f *Factory, cmdPath string, err error) {
	var silent *silentError
	if errors.As(err, &silent) {
		return
	}
	if errors.Is(err, prompt.ErrCancelled) || errors.Is(err, context.Canceled) {
		fmt.Fprintln(f.IO.ErrOut, "Interrupted.")
		return
	}
	if list, ok := diag.AsErrors(err); ok {
		printDiagnostics(f, list)
		return
	}
	fmt.Fprintf(f.IO.ErrOut, "%s %s\n", f.colorize("error:", colorRed), err)
	var usage *usageError
	if errors.As(err, &usage) {
		fmt.Fprintf(f.IO.ErrOut, "Run '%s --help' for usage.\n", cmdPath)
	}
}

// printDiagnostics writes diagnostics to stderr, one per line, prefixed with
// their severity.
func printDiagnostics(f *Factory, list diag.List) {
	for _, d := range list {
		label, color := "error:", colorRed
		switch d.Severity {
		case diag.Warning:
			label, color = "warning:", colorYellow
		case diag.Info:
			label, color = "info:", colorCyan
		}
		fmt.Fprintf(f.IO.ErrOut, "%s %s\n", f.colorize(label, color), d.Error())
	}
}
