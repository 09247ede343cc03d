package cluster

import (
	"bytes"
	"crypto/sha256"
	"slices"
	"sync"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
)

// keptCharts is how many loaded charts a Client remembers: a dev session
// needs the one it installs and the one it upgrades from.
const keptCharts = 4

// chartArchives remembers the charts last loaded from packaged charts,
// keyed by the archive's SHA-256, so that a chart read again from its
// ConfigMap, unchanged, is not decompressed and parsed again.
type chartArchives struct {
	mu     sync.Mutex
	recent [][32]byte // oldest first
	charts map[[32]byte]*chart.Chart
}

// LoadChartArchive loads a packaged chart (.tgz), as Helm's loader does.
// The client remembers the last few it loaded: the same archive again, such
// as a published chart read back from its ConfigMap, returns the same
// chart without loading it. The chart is shared, so callers must not change
// it (renders do not: see manifest.Prepare).
func (c *Client) LoadChartArchive(data []byte) (*chart.Chart, error) {
	key := sha256.Sum256(data)
	a := &c.charts
	a.mu.Lock()
	ch, hit := a.charts[key]
	if hit {
		// The most recent last: it is kept the longest.
		a.recent = append(slices.DeleteFunc(a.recent, func(k [32]byte) bool { return k == key }), key)
	}
	a.mu.Unlock()
	if hit {
		return ch, nil
	}
	ch, err := loader.LoadArchive(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.charts == nil {
		a.charts = map[[32]byte]*chart.Chart{}
	}
	if _, dup := a.charts[key]; !dup {
		a.charts[key] = ch
		a.recent = append(a.recent, key)
		if len(a.recent) > keptCharts {
			delete(a.charts, a.recent[0])
			a.recent = a.recent[1:]
		}
	}
	return a.charts[key], nil
}
