package repo

import (
	"cmp"
	"slices"

	"github.com/Masterminds/semver/v3"
)

// sortEntries orders entries by name, then newest version first.
func sortEntries(entries []Entry) {
	slices.SortFunc(entries, func(a, b Entry) int {
		if c := cmp.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		va, errA := semver.NewVersion(a.Version)
		vb, errB := semver.NewVersion(b.Version)
		if errA != nil || errB != nil {
			return cmp.Compare(b.Version, a.Version)
		}
		return vb.Compare(va)
	})
}
