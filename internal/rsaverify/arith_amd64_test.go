//go:build !purego && !goexperiment.boringcrypto

package rsaverify

import (
	"testing"

	"golang.org/x/sys/cpu"
)

// The MULQ loop runs only on a CPU without ADX; these tests run it here
// too, and the ADX loops only where the CPU has them.
func TestWithoutADX(t *testing.T) {
	old := useADX
	defer func() { useADX = old }()
	useADX = false
	checkAddMulVVW(t)
	checkEncrypt(t)
}

func TestWithADX(t *testing.T) {
	if !cpu.X86.HasADX || !cpu.X86.HasBMI2 {
		t.Skip("this CPU has no ADX and BMI2: the MULX loops cannot run")
	}
	old := useADX
	defer func() { useADX = old }()
	useADX = true
	checkAddMulVVW(t)
	checkEncrypt(t)
}
