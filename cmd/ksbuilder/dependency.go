package main

import (
	"context"
	"errors"

	"github.com/urfave/cli/v2"

	"github.com/ksbuilder/ksbuilder/pkg/dependency"
	"github.com/ksbuilder/ksbuilder/pkg/registry"
	"github.com/ksbuilder/ksbuilder/pkg/source"
)

// flagDependencyUpdate resolves the repository dependencies again.
const flagDependencyUpdate = "dependency-update"

// dependencyUpdateFlag is --dependency-update of the commands that build an
// extension directory.
func dependencyUpdateFlag() cli.Flag {
	return &cli.BoolFlag{
		Name:  flagDependencyUpdate,
		Usage: "resolve the subcharts declared with a repository again, as helm dependency update does, and rewrite Chart.lock; without it the versions Chart.lock locks are fetched",
	}
}

// dependencyOptions are the settings of the dependency build: Helm's
// repository configuration and cache, the registry flags for oci://
// subcharts, progress on stderr.
func dependencyOptions(f *Factory, update bool, reg registry.Options) dependency.Options {
	return dependency.Options{Update: update, Registry: reg, Progress: f.Infof}
}

// prepareDependencies fetches the subcharts of an extension directory
// declared with a repository into it (and into src).
func prepareDependencies(ctx context.Context, src *source.Source, opts dependency.Options) error {
	if opts.Update && src.Kind != source.Directory {
		return usageErrorf("--%s: %s is a package; the flag applies to an extension directory", flagDependencyUpdate, src.Path)
	}
	if _, err := dependency.Prepare(ctx, src, opts); err != nil {
		return dependencyError(err)
	}
	return nil
}

// fetchLockedDependencies fetches the subcharts of an extension directory
// declared with a repository as Chart.lock locks them, for the commands
// that render an extension without --dependency-update.
func fetchLockedDependencies(ctx context.Context, f *Factory, src *source.Source) error {
	return prepareDependencies(ctx, src, dependencyOptions(f, false, registry.Options{}))
}

// dependencyError words a dependency failure; a repository or registry
// that refuses the credentials exits with code 4.
func dependencyError(err error) error {
	var depErr *dependency.Error
	if errors.As(err, &depErr) && depErr.Kind == dependency.Unauthorized {
		return &authError{err: err}
	}
	return registryError(err)
}
