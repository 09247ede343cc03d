// Command ksbuilder builds, checks, packages, publishes and test-installs
// KubeSphere extensions.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"

	// No garbage collection before the first 32 MiB: start-up allocates
	// about 6 MB in package initialisation (docs/performance.md).
	_ "github.com/ksbuilder/ksbuilder/cmd/ksbuilder/internal/startgc"
	"github.com/ksbuilder/ksbuilder/pkg/iostreams"
)

// version is set at build time with -ldflags "-X main.version=..."; builds
// without it (go install) report the module version instead.
var version = ""

func main() {
	os.Exit(runMain(os.Args, iostreams.System()))
}

// runMain runs the CLI as the ksbuilder process: the first SIGINT or SIGTERM
// cancels the command's context, so it stops cleanly, and a second one ends
// the process at once. A process stopped by SIGTERM exits 143, by SIGINT 130.
func runMain(args []string, ios *iostreams.IOStreams) int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(signals)
	var received atomic.Value
	go watchSignals(signals, cancel, &received, ios.ErrOut, os.Exit)
	code := run(withReceivedSignal(ctx, &received), args, ios)
	if sig, ok := received.Load().(os.Signal); ok && code == exitInterrupted {
		return signalExitCode(sig)
	}
	return code
}

// watchSignals stores the first signal in received and cancels the
// command; a second signal calls exit with the first one's exit code.
func watchSignals(signals <-chan os.Signal, cancel context.CancelFunc, received *atomic.Value, errOut io.Writer, exit func(int)) {
	sig, ok := <-signals
	if !ok {
		return
	}
	received.Store(sig)
	cancel()
	if _, ok := <-signals; ok {
		fmt.Fprintln(errOut, "Interrupted again: exiting now.")
		exit(signalExitCode(sig))
	}
}

// signalExitCode is the shell's convention for a process ended by a
// signal: 128 + the signal number (130 for SIGINT, 143 for SIGTERM).
func signalExitCode(sig os.Signal) int {
	if sig == syscall.SIGTERM {
		return exitTerminated
	}
	return exitInterrupted
}
