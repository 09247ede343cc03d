// Package startup pauses the garbage collector while Go initialises the
// packages ksbuilder links (Helm's chart utilities compile JSON-schema
// meta-schemas and register every Kubernetes type at init, a few MB of
// short-lived garbage), which would otherwise trigger collections that cost
// several milliseconds of start-up. main calls Done first thing to restore
// the normal setting.
//
// Go initialises packages in import-path order as soon as their imports are
// ready; this package imports only runtime/debug, so it runs before the
// heavy github.com/santhosh-tekuri, helm.sh, k8s.io and sigs.k8s.io ones.
package startup

import "runtime/debug"

var previous = debug.SetGCPercent(-1)

// Done restores the garbage collector setting in force before start-up.
func Done() { debug.SetGCPercent(previous) }
