// Package armed keeps the faults a test has armed on a mock (a persona or
// a mock Clerk): how many more times each fires, or until cleared. The
// caller holds its own lock; the fault catalog says where each fault fires.
package armed

import (
	"slices"
)

// Set maps an armed fault to its remaining uses; -1 means until cleared.
type Set[F ~string] map[F]int

// Take consumes one use of each armed fault that fires at site (siteOf
// names a fault's site) and returns them, sorted.
func (s Set[F]) Take(site string, siteOf func(F) string) []F {
	var out []F
	for f, n := range s {
		if siteOf(f) != site {
			continue
		}
		out = append(out, f)
		switch {
		case n == 1:
			delete(s, f)
		case n > 1:
			s[f] = n - 1
		}
	}
	slices.Sort(out)
	return out
}
