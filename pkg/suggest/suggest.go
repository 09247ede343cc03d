// Package suggest finds the known word closest to a mistyped one, for "did
// you mean" hints.
package suggest

import (
	"sort"
	"strings"
)

// Closest returns the candidate equal to word ignoring case, or else the one
// within maxDistance edits (case-insensitive) with the fewest edits; "" when
// none is close enough. Ties go to the alphabetically first candidate.
func Closest(word string, candidates []string, maxDistance int) string {
	sorted := append([]string(nil), candidates...)
	sort.Strings(sorted)
	best, bestDist := "", maxDistance+1
	for _, c := range sorted {
		if strings.EqualFold(c, word) {
			return c
		}
		if d := distance(strings.ToLower(word), strings.ToLower(c)); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// distance is the Levenshtein edit distance between a and b (bytes).
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
