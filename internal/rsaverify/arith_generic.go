//go:build !amd64 || purego || goexperiment.boringcrypto

package rsaverify

// fast: without assembly, Verify leaves the work to crypto/rsa.
const fast = false

// addMulVVW adds x·y to z, len(x) ≥ len(z), and returns the carry out of
// z's top limb.
func addMulVVW(z, x []uint64, y uint64) (c uint64) { return addMulVVWGo(z, x, y) }

// montRows: the portable build has no assembly for whole rows.
func montRows(T, x, y, n []uint64, m0inv uint64) (over uint64, ok bool) { return 0, false }
