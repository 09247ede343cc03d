// Command ksbuilder builds, checks, packages, publishes and test-installs
// KubeSphere extensions.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/ksbuilder/ksbuilder/pkg/iostreams"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.0.0-dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args, iostreams.System())
	stop()
	os.Exit(code)
}
