// Package startgc holds the garbage collector back while the process
// starts. Every package the binary links initialises before main and
// allocates about 6 MB on the way (Helm's JSON-schema meta-schemas,
// client-go's scheme, compiled patterns), almost all of it kept: with the
// default GOGC the collector, whose first goal is 4 MB, runs twice during
// initialisation for nothing. This package, initialised before those
// (Go initialises packages in import-path order once their imports are
// ready; it imports only runtime packages), turns the GOGC collection off
// and sets a memory limit of startLimit instead: a short command (version,
// package) then ends without a collection, and a longer one collects for
// the first time when it reaches the limit. After that first collection
// the process's own settings (GOGC, GOMEMLIMIT) are restored, so a long
// command collects as it always would.
package startgc

import (
	"runtime"
	"runtime/debug"
)

// startLimit is the memory the process may reach before its first
// collection: a few times what initialisation allocates.
const startLimit = 32 << 20

func init() {
	gcPercent := debug.SetGCPercent(-1)
	if gcPercent < 0 {
		return // GOGC=off: nothing to restore
	}
	memoryLimit := debug.SetMemoryLimit(-1) // reads it
	if memoryLimit < startLimit {
		debug.SetGCPercent(gcPercent) // a lower GOMEMLIMIT is the user's
		return
	}
	debug.SetMemoryLimit(startLimit)
	// The cleanup of an object nothing references runs after the first
	// collection.
	runtime.AddCleanup(new(sentinel), func(s settings) {
		debug.SetGCPercent(s.gcPercent)
		debug.SetMemoryLimit(s.memoryLimit)
	}, settings{gcPercent, memoryLimit})
}

// sentinel is an object whose collection marks the first garbage
// collection; it holds a pointer so that it is not combined with other
// small objects in one allocation.
type sentinel struct{ _ *byte }

// settings are the process's garbage-collector settings.
type settings struct {
	gcPercent   int
	memoryLimit int64
}
