//go:build !purego && !goexperiment.boringcrypto

#include "textflag.h"

// ADX_LIMB adds x[i]·y (x at SI, y in DX) and the previous limb's high
// half (prev) to z[i] (z at DI), off bytes in: the low half through CF
// (ADCX) and z[i] through OF (ADOX); the high half goes to next.
#define ADX_LIMB(off, prev, next) \
	MULXQ off(SI), AX, next \
	ADCXQ prev, AX          \
	ADOXQ off(DI), AX       \
	MOVQ  AX, off(DI)

// ADX_EIGHT adds x[0:8]·y to z[0:8] from the carry word in R9, leaving the
// carry out of z[7] in R9 and both flags folded into it (R11 is zero), so
// that the flags are clear for the loop's own arithmetic.
#define ADX_EIGHT \
	XORQ R11, R11 \
	ADX_LIMB(0, R9, R10) \
	ADX_LIMB(8, R10, R9) \
	ADX_LIMB(16, R9, R10) \
	ADX_LIMB(24, R10, R9) \
	ADX_LIMB(32, R9, R10) \
	ADX_LIMB(40, R10, R9) \
	ADX_LIMB(48, R9, R10) \
	ADX_LIMB(56, R10, R9) \
	ADCXQ R11, R9 \
	ADOXQ R11, R9

// addMulVVWC and addMulVVWADX add x·y to z (len(x) ≥ len(z)) and return the word that
// carries out of z's top limb. For each limb, lowest first, z[i] + x[i]·y
// + carry fits in 128 bits, since (2⁶⁴-1)² + 2·(2⁶⁴-1) = 2¹²⁸-1: the high
// half is the next carry and never overflows.

// func addMulVVWC(z, x []uint64, y, c uint64) (carry uint64)
//
// One limb at a time with MULQ, from carry c: any length, any amd64.
TEXT ·addMulVVWC(SB), NOSPLIT, $0-72
	MOVQ z_base+0(FP), DI
	MOVQ z_len+8(FP), CX
	MOVQ x_base+24(FP), SI
	MOVQ y+48(FP), R8
	MOVQ c+56(FP), BX
	TESTQ CX, CX
	JZ    done

one:
	MOVQ 0(SI), AX
	MULQ R8
	ADDQ BX, AX
	ADCQ $0, DX
	ADDQ 0(DI), AX
	ADCQ $0, DX
	MOVQ AX, 0(DI)
	MOVQ DX, BX
	ADDQ $8, SI
	ADDQ $8, DI
	DECQ CX
	JNZ  one

done:
	MOVQ BX, carry+64(FP)
	RET

// func addMulVVWADX(z, x []uint64, y uint64) (c uint64)
//
// len(z) is a multiple of 8, taken eight limbs at a time with MULX, which
// leaves the flags alone, and two carry chains: ADCX adds the previous
// limb's high half through CF while ADOX adds z[i] through OF, so no limb
// waits for the one before it to finish both additions. After each eight
// limbs both flags fold into the carry word (R9; R11 is zero), which
// cannot overflow for the reason above, and that clears them for the loop
// counter's arithmetic. Needs BMI2 and ADX.
TEXT ·addMulVVWADX(SB), NOSPLIT, $0-64
	MOVQ z_base+0(FP), DI
	MOVQ z_len+8(FP), CX
	MOVQ x_base+24(FP), SI
	MOVQ y+48(FP), DX
	XORQ R9, R9
	SHRQ $3, CX
	JZ   adxdone

eight:
	ADX_EIGHT
	ADDQ  $64, SI
	ADDQ  $64, DI
	DECQ  CX
	JNZ   eight

adxdone:
	MOVQ R9, c+56(FP)
	RET

// func montRowsADX(T, x, y, n *uint64, l int, m0inv uint64) (over uint64)
//
// The l rows of a Montgomery multiplication x·y·R⁻¹ mod n, each limb
// array l long, l a multiple of 8, T 2·l limbs of zeros. Row i adds x·y[i]
// to T[i:i+l] (carry c1), then n·u with u = T[i]·m0inv, which makes T[i]
// zero (carry c2), and sets T[i+l] to c1 + c2 + over, keeping the bit that
// carries out as the next over. The passes are addMulVVWADX's. The result
// is T[l:2l] plus over·R, below 2n. Needs BMI2 and ADX.
TEXT ·montRowsADX(SB), NOSPLIT, $16-56
	MOVQ T+0(FP), DI
	MOVQ x+8(FP), R8
	MOVQ y+16(FP), R13
	MOVQ n+24(FP), R12
	MOVQ l+32(FP), BX
	MOVQ $0, over-8(SP)

row:
	// T[i:i+l] += x·y[i]
	MOVQ (R13), DX
	MOVQ R8, SI
	MOVQ l+32(FP), CX
	SHRQ $3, CX
	XORQ R9, R9
pass1:
	ADX_EIGHT
	ADDQ  $64, SI
	ADDQ  $64, DI
	DECQ  CX
	JNZ   pass1
	MOVQ R9, c1-16(SP)
	MOVQ l+32(FP), CX
	SHLQ $3, CX
	SUBQ CX, DI

	// T[i:i+l] += n·u, u = T[i]·m0inv
	MOVQ  (DI), DX
	IMULQ m0inv+40(FP), DX
	MOVQ  R12, SI
	MOVQ  l+32(FP), CX
	SHRQ  $3, CX
	XORQ  R9, R9
pass2:
	ADX_EIGHT
	ADDQ  $64, SI
	ADDQ  $64, DI
	DECQ  CX
	JNZ   pass2

	// T[i+l], over = c1 + c2 + over; DI is at T[i+l]
	MOVQ c1-16(SP), AX
	XORQ CX, CX
	ADDQ R9, AX
	ADCQ $0, CX
	ADDQ over-8(SP), AX
	ADCQ $0, CX
	MOVQ AX, (DI)
	MOVQ CX, over-8(SP)

	// On to row i+1: T[i+1], y[i+1].
	MOVQ l+32(FP), CX
	SHLQ $3, CX
	SUBQ CX, DI
	ADDQ $8, DI
	ADDQ $8, R13
	DECQ BX
	JNZ  row

	MOVQ over-8(SP), AX
	MOVQ AX, over+48(FP)
	RET
