package rsaverify

import (
	"bytes"
	"crypto"
	"crypto/fips140"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"math/big"
	"math/bits"
)

// Key sizes a Key may have.
const (
	MinBits = 1024
	MaxBits = 4096

	maxLimbs = MaxBits / 64
)

// ErrVerification is the answer to every signature that does not verify,
// whatever the reason, as crypto/rsa answers.
var ErrVerification = errors.New("rsaverify: verification error")

// sha256Prefix is the DER encoding of the DigestInfo AlgorithmIdentifier for
// SHA-256 (RFC 8017 section 9.2, note 1), which precedes the digest.
var sha256Prefix = []byte{0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20}

// A Key is an RSA public key prepared for RS256 verification. It is
// immutable and safe for concurrent use.
type Key struct {
	pub   *rsa.PublicKey
	k     int      // the modulus's length in bytes
	n     []uint64 // N, least significant limb first
	rr    []uint64 // R² mod N, R = 2^(64·len(n))
	m0inv uint64   // -N⁻¹ mod 2⁶⁴
	e     uint     // the public exponent
}

// Prepare computes what every verification with pub needs. It refuses a
// key crypto/rsa would refuse to verify with, and one outside MinBits to
// MaxBits, even N, or an exponent that is not odd or is below 3.
func Prepare(pub *rsa.PublicKey) (*Key, error) {
	if pub == nil || pub.N == nil {
		return nil, errors.New("rsaverify: no key")
	}
	b := pub.N.BitLen()
	switch {
	case pub.N.Sign() <= 0 || pub.N.Bit(0) == 0:
		return nil, errors.New("rsaverify: modulus is not odd and positive")
	case b < MinBits || b > MaxBits:
		return nil, errors.New("rsaverify: modulus size out of range")
	case pub.E < 3 || pub.E&1 == 0 || pub.E > 1<<31-1:
		return nil, errors.New("rsaverify: public exponent is not usable")
	}
	l := (b + 63) / 64
	key := &Key{pub: pub, k: (b + 7) / 8, n: make([]uint64, l), rr: make([]uint64, l), e: uint(pub.E)}
	fromBig(key.n, pub.N)
	r2 := new(big.Int).Lsh(big.NewInt(1), uint(128*l))
	fromBig(key.rr, r2.Mod(r2, pub.N))
	// Newton's iteration doubles the correct low bits of N⁻¹ mod 2⁶⁴ each
	// round, from the 1 bit an odd N starts with: six rounds reach 64.
	inv := uint64(1)
	for range 6 {
		inv *= 2 - key.n[0]*inv
	}
	key.m0inv = -inv
	return key, nil
}

// Public returns the key Prepare was given.
func (k *Key) Public() *rsa.PublicKey { return k.pub }

// Size returns the modulus's length in bytes, which is every signature's.
func (k *Key) Size() int { return k.k }

// VerifySHA256 reports whether sig is a valid RSASSA-PKCS1-v1_5 signature
// of the SHA-256 digest under k, answering ErrVerification if not.
//
// In FIPS 140-3 mode (GODEBUG=fips140=on or only) the check is crypto/rsa's:
// it must be the validated module's, and fips140=only refuses keys crypto/rsa
// otherwise accepts (below 2048 bits, an odd size, e ≤ 2¹⁶).
func (k *Key) VerifySHA256(digest *[sha256.Size]byte, sig []byte) error {
	if !fast || fips140.Enabled() {
		if rsa.VerifyPKCS1v15(k.pub, crypto.SHA256, digest[:], sig) != nil {
			return ErrVerification
		}
		return nil
	}
	return k.verifySHA256(digest, sig)
}

// verifySHA256 is VerifySHA256 with this package's arithmetic.
func (k *Key) verifySHA256(digest *[sha256.Size]byte, sig []byte) error {
	if len(sig) != k.k {
		return ErrVerification
	}
	var sb, mb [maxLimbs]uint64
	s, m := sb[:len(k.n)], mb[:len(k.n)]
	fromBytes(s, sig)
	if cmp(s, k.n) >= 0 {
		return ErrVerification
	}
	k.encrypt(m, s)
	var got, want [MaxBits / 8]byte
	toBytes(got[:k.k], m)
	em := want[:k.k]
	// EM = 0x00 || 0x01 || PS (0xff…, at least 8 bytes) || 0x00 || T, where
	// T is the DigestInfo: the SHA-256 prefix and the digest.
	t := len(sha256Prefix) + sha256.Size
	if k.k < t+11 {
		return ErrVerification
	}
	em[1] = 0x01
	for i := 2; i < k.k-t-1; i++ {
		em[i] = 0xff
	}
	copy(em[k.k-t:], sha256Prefix)
	copy(em[k.k-sha256.Size:], digest[:])
	if !bytes.Equal(got[:k.k], em) {
		return ErrVerification
	}
	return nil
}

// encrypt sets m to s^e mod N, for s < N, by left-to-right square and
// multiply in the Montgomery domain.
func (k *Key) encrypt(m, s []uint64) {
	var xb, tb [maxLimbs]uint64
	var scratch [2 * maxLimbs]uint64
	l := len(k.n)
	x, t := xb[:l], tb[:l]
	k.montMul(x, s, k.rr, scratch[:2*l]) // x = sR
	copy(t, x)
	top := bits.Len(k.e) - 1
	for i := top - 1; i >= 1; i-- {
		k.montMul(t, t, t, scratch[:2*l])
		if k.e>>uint(i)&1 == 1 {
			k.montMul(t, t, x, scratch[:2*l])
		}
	}
	// The lowest bit of an odd e: t = s^(e-1)·R, and multiplying by s
	// itself rather than by sR leaves the Montgomery domain in the same
	// step: s^(e-1)·R · s · R⁻¹ = s^e.
	k.montMul(t, t, t, scratch[:2*l])
	k.montMul(m, t, s, scratch[:2*l])
}

// montMul sets z to x·y·R⁻¹ mod N, for x, y < N. z may be x or y. T is
// scratch of 2·len(N) limbs.
func (k *Key) montMul(z, x, y, T []uint64) {
	n := k.n
	l := len(n)
	clear(T)
	over, done := montRows(T, x, y, n, k.m0inv)
	for i := 0; !done && i < l; i++ {
		c1 := addMulVVW(T[i:i+l], x, y[i])
		u := T[i] * k.m0inv
		c2 := addMulVVW(T[i:i+l], n, u)
		// T[i] is now 0; the two carries, and the carry out of the last
		// round's top limb, go into T[i+l], which no round has written.
		T[i+l], over = bits.Add64(c1, c2, over)
	}
	r := T[l:]
	if over != 0 || cmp(r, n) >= 0 {
		subVV(r, n)
	}
	copy(z, r)
}

// cmp compares x and y, of equal length, as numbers.
func cmp(x, y []uint64) int {
	for i := len(x) - 1; i >= 0; i-- {
		switch {
		case x[i] < y[i]:
			return -1
		case x[i] > y[i]:
			return 1
		}
	}
	return 0
}

// subVV sets x to x - y, modulo 2^(64·len(x)).
func subVV(x, y []uint64) {
	var b uint64
	for i := range x {
		x[i], b = bits.Sub64(x[i], y[i], b)
	}
}

// fromBig sets z to x's limbs; x must fit.
func fromBig(z []uint64, x *big.Int) {
	var buf [MaxBits/8 + 8]byte
	b := x.FillBytes(buf[:len(z)*8])
	fromBytes(z, b)
}

// fromBytes sets z to the big-endian b, which fits in len(z) limbs.
func fromBytes(z []uint64, b []byte) {
	clear(z)
	for i := 0; i < len(b); i++ {
		j := len(b) - 1 - i
		z[i/8] |= uint64(b[j]) << (8 * uint(i%8))
	}
}

// toBytes writes x into b big-endian; x must fit in len(b) bytes.
func toBytes(b []byte, x []uint64) {
	for i := 0; i < len(b); i++ {
		b[len(b)-1-i] = byte(x[i/8] >> (8 * uint(i%8)))
	}
}

// addMulVVWGo is addMulVVW in Go: the portable build's, and the reference
// the assembly is tested against.
func addMulVVWGo(z, x []uint64, y uint64) (c uint64) {
	x = x[:len(z)]
	for i := range z {
		hi, lo := bits.Mul64(x[i], y)
		var cc uint64
		lo, cc = bits.Add64(lo, z[i], 0)
		hi += cc
		lo, cc = bits.Add64(lo, c, 0)
		hi += cc
		z[i], c = lo, hi
	}
	return c
}
