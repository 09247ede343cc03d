package startgc

import (
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

// gcSettings reads the collector's settings without changing them.
func gcSettings() (gcPercent int, memoryLimit int64) {
	gcPercent = debug.SetGCPercent(-1)
	debug.SetGCPercent(gcPercent)
	return gcPercent, debug.SetMemoryLimit(-1)
}

// TestFirstCollectionRestoresSettings: until the first collection the
// process runs with GOGC off under startLimit; the first collection
// restores the defaults.
func TestFirstCollectionRestoresSettings(t *testing.T) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		t.Skip("GOGC or GOMEMLIMIT is set")
	}
	var stats runtime.MemStats
	runtime.ReadMemStats(&stats)
	if stats.NumGC == 0 {
		if p, l := gcSettings(); p != -1 || l != startLimit {
			t.Fatalf("before the first collection: GOGC %d, memory limit %d; want -1, %d", p, l, startLimit)
		}
	}
	runtime.GC()
	deadline := time.Now().Add(10 * time.Second)
	for {
		p, l := gcSettings()
		if p == 100 && l == math.MaxInt64 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the first collection: GOGC %d, memory limit %d; want 100, no limit", p, l)
		}
		time.Sleep(time.Millisecond)
	}
}
