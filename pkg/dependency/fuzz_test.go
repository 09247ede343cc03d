package dependency

import (
	"testing"
)

// FuzzParseIndex: a hostile index.yaml is an error or an index whose
// versions are valid and sorted newest first; find never panics.
func FuzzParseIndex(f *testing.F) {
	f.Add([]byte("apiVersion: v1\nentries:\n  redis:\n  - name: redis\n    version: 1.0.0\n    urls: [redis-1.0.0.tgz]\n  - version: 2.0.0-rc.1\n    urls: [a]\n  - version: bad\n"), "^1.0.0")
	f.Add([]byte("apiVersion: v1\nentries: {redis: [null, {version: 1.2.3}]}\n"), "1.2.3")
	f.Add([]byte("a: &a [*a, *a]\n"), ">=0")
	f.Add([]byte("apiVersion: v1\nentries: 3\n"), "")
	f.Fuzz(func(t *testing.T, data []byte, version string) {
		idx, err := parseIndex(data, "index.yaml")
		if err != nil {
			return
		}
		for name, versions := range idx.Entries {
			for i, v := range versions {
				if v.semver == nil {
					t.Fatalf("%s: entry %d without a parsed version", name, i)
				}
				if i > 0 && v.semver.GreaterThan(versions[i-1].semver) {
					t.Fatalf("%s: %s after %s", name, v.semver, versions[i-1].semver)
				}
			}
			if v, err := idx.find(name, version); err == nil && len(v.URLs) == 0 {
				t.Fatalf("found %s %s without a URL", name, v.Version)
			}
		}
	})
}
