//go:build !purego && !goexperiment.boringcrypto

package rsaverify

import "golang.org/x/sys/cpu"

// fast: the word loops are assembly, and Verify uses this package's
// arithmetic.
const fast = true

// useADX selects the MULX/ADCX/ADOX loop.
var useADX = cpu.X86.HasADX && cpu.X86.HasBMI2

// addMulVVW adds x·y to z, len(x) ≥ len(z), and returns the carry out of
// z's top limb.
func addMulVVW(z, x []uint64, y uint64) uint64 {
	if !useADX {
		return addMulVVWC(z, x, y, 0)
	}
	l8 := len(z) &^ 7
	c := addMulVVWADX(z[:l8], x, y)
	if l8 == len(z) {
		return c
	}
	return addMulVVWC(z[l8:], x[l8:], y, c)
}

//go:noescape
func addMulVVWC(z, x []uint64, y, c uint64) (carry uint64)

//go:noescape
func addMulVVWADX(z, x []uint64, y uint64) (c uint64)

//go:noescape
func montRowsADX(T, x, y, n *uint64, l int, m0inv uint64) (over uint64)

// montRows runs the rows of a Montgomery multiplication into T (2·len(n)
// limbs, zero) and returns the bit that carries out of T, when assembly
// can; ok is false when it cannot.
func montRows(T, x, y, n []uint64, m0inv uint64) (over uint64, ok bool) {
	l := len(n)
	if !useADX || l%8 != 0 || l == 0 || len(x) < l || len(y) < l || len(T) < 2*l {
		return 0, false
	}
	return montRowsADX(&T[0], &x[0], &y[0], &n[0], l, m0inv), true
}
