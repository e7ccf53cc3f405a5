package rsaverify

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"math/big"
	mrand "math/rand/v2"
	"sync"
	"testing"
)

// randOdd returns a random odd number of exactly b bits.
func randOdd(r *mrand.Rand, b int) *big.Int {
	buf := make([]byte, (b+7)/8)
	for i := range buf {
		buf[i] = byte(r.Uint32())
	}
	n := new(big.Int).SetBytes(buf)
	n.SetBit(n, b-1, 1)
	for i := b; i < len(buf)*8; i++ {
		n.SetBit(n, i, 0)
	}
	return n.SetBit(n, 0, 1)
}

// edgeModuli are odd moduli whose limbs sit at the carries' edges: all
// ones, a top limb of 1, a low limb of 1, and sizes that are not whole
// limbs.
func edgeModuli(r *mrand.Rand) []*big.Int {
	one := big.NewInt(1)
	var out []*big.Int
	for _, b := range []int{1024, 1025, 1087, 2047, 2048, 2049, 2056, 3072, 4095, 4096} {
		p := new(big.Int).Lsh(one, uint(b))
		out = append(out,
			new(big.Int).Sub(p, one), // 2^b - 1
			randOdd(r, b),
			randOdd(r, b),
		)
		// 2^(b-1) + 1: top bit and low bit only.
		out = append(out, new(big.Int).Add(new(big.Int).Rsh(p, 1), one))
		// 2^(b-1) + 2^64·x + 1 with a random middle limb.
		m := new(big.Int).Lsh(new(big.Int).SetUint64(r.Uint64()), 64)
		out = append(out, m.Add(m, new(big.Int).Add(new(big.Int).Rsh(p, 1), one)))
	}
	return out
}

// edgeValues are values below n where carries and reductions go furthest.
func edgeValues(n *big.Int) []*big.Int {
	one := big.NewInt(1)
	b := n.BitLen()
	vals := []*big.Int{
		big.NewInt(0), big.NewInt(1), big.NewInt(2),
		new(big.Int).Sub(n, one),
		new(big.Int).Sub(n, big.NewInt(2)),
		new(big.Int).Rsh(n, 1),
		new(big.Int).Sub(new(big.Int).Lsh(one, uint(b-1)), one), // all ones below the top bit
		new(big.Int).Lsh(one, 64),
		new(big.Int).Lsh(one, uint(64*((b-1)/64))),
	}
	for range 20 {
		v, err := rand.Int(rand.Reader, n)
		if err != nil {
			panic(err)
		}
		vals = append(vals, v)
	}
	var out []*big.Int
	for _, v := range vals {
		if v.Cmp(n) < 0 {
			out = append(out, v)
		}
	}
	return out
}

// keyFor prepares a Key for any odd modulus n, as Prepare would for an RSA
// key with that modulus.
func keyFor(t testing.TB, n *big.Int, e int) *Key {
	t.Helper()
	k, err := Prepare(&rsa.PublicKey{N: n, E: e})
	if err != nil {
		t.Fatalf("Prepare(%d bits, e=%d): %v", n.BitLen(), e, err)
	}
	return k
}

func TestEncryptMatchesBigExp(t *testing.T) { checkEncrypt(t) }

// checkEncrypt compares encrypt with math/big's Exp for edge moduli,
// exponents and values, with whichever word loops the build selects.
func checkEncrypt(t *testing.T) {
	t.Helper()
	r := mrand.New(mrand.NewPCG(1, 2))
	exps := []int{3, 5, 17, 65537, 1<<31 - 1, 0x7ffe0001, int(r.Uint32()>>1) | 1}
	for _, n := range edgeModuli(r) {
		for _, e := range exps {
			k := keyFor(t, n, e)
			for _, s := range edgeValues(n) {
				want := new(big.Int).Exp(s, big.NewInt(int64(e)), n)
				sl := make([]uint64, len(k.n))
				fromBig(sl, s)
				m := make([]uint64, len(k.n))
				k.encrypt(m, sl)
				got := make([]byte, k.k)
				toBytes(got, m)
				if new(big.Int).SetBytes(got).Cmp(want) != 0 {
					t.Fatalf("%d-bit N=%x, e=%d, s=%x: got %x, want %x", n.BitLen(), n, e, s, got, want)
				}
			}
		}
	}
}

func TestAddMulVVWMatchesGo(t *testing.T) { checkAddMulVVW(t) }

// checkAddMulVVW compares addMulVVW with the Go reference for lengths
// around the unrolled blocks, random limbs and every limb at its maximum.
func checkAddMulVVW(t *testing.T) {
	t.Helper()
	r := mrand.New(mrand.NewPCG(3, 4))
	for _, l := range []int{1, 2, 3, 4, 5, 7, 8, 16, 17, 32, 33, 48, 64} {
		for trial := range 200 {
			z, x := make([]uint64, l), make([]uint64, l)
			y := r.Uint64()
			for i := range z {
				z[i], x[i] = r.Uint64(), r.Uint64()
				if trial%3 == 0 { // every limb at its maximum
					z[i], x[i] = ^uint64(0), ^uint64(0)
				}
			}
			if trial%3 == 0 {
				y = ^uint64(0)
			}
			z2 := append([]uint64(nil), z...)
			c := addMulVVW(z, x, y)
			c2 := addMulVVWGo(z2, x, y)
			if c != c2 {
				t.Fatalf("len %d: carry %x, want %x", l, c, c2)
			}
			for i := range z {
				if z[i] != z2[i] {
					t.Fatalf("len %d: limb %d is %x, want %x", l, i, z[i], z2[i])
				}
			}
		}
	}
}

var (
	keysOnce sync.Once
	testKeys []*rsa.PrivateKey
)

// rsaKeys are real keys of each size Clerk or an IdP might use, generated
// once for the package's tests.
func rsaKeys(t testing.TB) []*rsa.PrivateKey {
	keysOnce.Do(func() {
		for _, b := range []int{2048, 3072, 4096} {
			k, err := rsa.GenerateKey(rand.Reader, b)
			if err != nil {
				panic(err)
			}
			testKeys = append(testKeys, k)
		}
	})
	return testKeys
}

// rawSign returns em^d mod N as a k-byte signature: a signature of any
// encoded message, well formed or not.
func rawSign(priv *rsa.PrivateKey, em []byte) []byte {
	m := new(big.Int).SetBytes(em)
	s := new(big.Int).Exp(m, priv.D, priv.N)
	return s.FillBytes(make([]byte, priv.Size()))
}

// encode builds EM = 00 01 ff… 00 prefix digest for a k-byte modulus, with
// psLen bytes of padding when psLen ≥ 0 (and the rest after the digest).
func encode(k int, prefix, digest []byte, psLen int, tail []byte) []byte {
	em := make([]byte, 0, k)
	t := len(prefix) + len(digest) + len(tail)
	if psLen < 0 {
		psLen = k - t - 3
	}
	em = append(em, 0, 1)
	for range psLen {
		em = append(em, 0xff)
	}
	em = append(em, 0)
	em = append(em, prefix...)
	em = append(em, digest...)
	em = append(em, tail...)
	return em
}

func TestVerifyMatchesCryptoRSA(t *testing.T) {
	digest := sha256.Sum256([]byte("header.payload"))
	other := sha256.Sum256([]byte("header.payload2"))
	for _, priv := range rsaKeys(t) {
		k, err := Prepare(&priv.PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		size := priv.Size()
		good, err := rsa.SignPKCS1v15(rand.Reader, priv, crypto.SHA256, digest[:])
		if err != nil {
			t.Fatal(err)
		}
		sha512Digest := sha512.Sum512([]byte("header.payload"))
		sha512Sig, _ := rsa.SignPKCS1v15(rand.Reader, priv, crypto.SHA512, sha512Digest[:])
		noNull := append([]byte{0x30, 0x2f, 0x30, 0x0b}, sha256Prefix[4:15]...)
		noNull = append(noNull, 0x04, 0x20)
		flip := func(b []byte, i int) []byte {
			c := append([]byte(nil), b...)
			c[i] ^= 0x01
			return c
		}
		// A valid signature s of some digest such that s + N still fits
		// in k bytes: the same value mod N, but not below N.
		var wrapped []byte
		var wrappedDigest [32]byte
		for i := 0; wrapped == nil; i++ {
			if i == 1000 {
				t.Fatal("no signature below 2^(8k) - N in 1000 digests")
			}
			wrappedDigest = sha256.Sum256([]byte{byte(i), byte(i >> 8)})
			s, err := rsa.SignPKCS1v15(nil, priv, crypto.SHA256, wrappedDigest[:])
			if err != nil {
				t.Fatal(err)
			}
			if sum := new(big.Int).Add(priv.N, new(big.Int).SetBytes(s)); sum.BitLen() <= 8*size {
				wrapped = sum.FillBytes(make([]byte, size))
			}
		}
		// A valid signature whose first byte is zero: without that byte it
		// is the same number, one byte short, which crypto/rsa refuses.
		var short []byte
		var shortDigest [32]byte
		for i := 0; short == nil; i++ {
			if i == 5000 {
				t.Fatal("no signature with a leading zero byte in 5000 digests")
			}
			shortDigest = sha256.Sum256([]byte{'z', byte(i), byte(i >> 8)})
			s, err := rsa.SignPKCS1v15(nil, priv, crypto.SHA256, shortDigest[:])
			if err != nil {
				t.Fatal(err)
			}
			if s[0] == 0 {
				short = s[1:]
			}
		}
		nBytes := priv.N.FillBytes(make([]byte, size))
		above := new(big.Int).Add(priv.N, big.NewInt(1)).FillBytes(make([]byte, size))
		cases := []struct {
			name   string
			sig    []byte
			digest [32]byte
			ok     bool
		}{
			{"valid", good, digest, true},
			{"other digest", good, other, false},
			{"first byte flipped", flip(good, 0), digest, false},
			{"last byte flipped", flip(good, size-1), digest, false},
			{"middle byte flipped", flip(good, size/2), digest, false},
			{"one byte short", good[1:], digest, false},
			{"valid without its leading zero byte", short, shortDigest, false},
			{"leading zero added", append([]byte{0}, good...), digest, false},
			{"byte appended", append(append([]byte(nil), good...), 0), digest, false},
			{"empty", nil, digest, false},
			{"zero", make([]byte, size), digest, false},
			{"one", append(make([]byte, size-1), 1), digest, false},
			{"N", nBytes, digest, false},
			{"N+1", above, digest, false},
			{"N plus a valid signature", wrapped, wrappedDigest, false},
			{"SHA-512 signature", sha512Sig, digest, false},
			{"raw sign of the right encoding", rawSign(priv, encode(size, sha256Prefix, digest[:], -1, nil)), digest, true},
			{"padding 7 bytes", rawSign(priv, encode(size, sha256Prefix, digest[:], 7, make([]byte, size-3-7-51))), digest, false},
			{"garbage after the digest", rawSign(priv, encode(size, sha256Prefix, digest[:], size-3-51-4, []byte{1, 2, 3, 4})), digest, false},
			{"DigestInfo without NULL parameters", rawSign(priv, encode(size, noNull, digest[:], -1, nil)), digest, false},
			{"first byte 0x01", rawSign(priv, func() []byte {
				em := encode(size, sha256Prefix, digest[:], -1, nil)
				em[0] = 0x01
				return em
			}()), digest, false},
			{"block type 2", rawSign(priv, append([]byte{0, 2}, encode(size, sha256Prefix, digest[:], -1, nil)[2:]...)), digest, false},
			{"a padding byte 0xfe", rawSign(priv, func() []byte {
				em := encode(size, sha256Prefix, digest[:], -1, nil)
				em[10] = 0xfe
				return em
			}()), digest, false},
			{"no zero separator", rawSign(priv, func() []byte {
				em := encode(size, sha256Prefix, digest[:], -1, nil)
				em[size-52] = 0xff
				return em
			}()), digest, false},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				std := rsa.VerifyPKCS1v15(&priv.PublicKey, crypto.SHA256, c.digest[:], c.sig) == nil
				if std != c.ok {
					t.Fatalf("crypto/rsa says %v, the case expects %v", std, c.ok)
				}
				err := k.verifySHA256(&c.digest, c.sig)
				if (err == nil) != c.ok {
					t.Fatalf("%d-bit key: verifySHA256 = %v, want ok=%v", priv.N.BitLen(), err, c.ok)
				}
				if err != nil && err != ErrVerification {
					t.Fatalf("error %v, want ErrVerification", err)
				}
				if err2 := k.VerifySHA256(&c.digest, c.sig); (err2 == nil) != c.ok {
					t.Fatalf("VerifySHA256 = %v, want ok=%v", err2, c.ok)
				}
			})
		}
	}
}

func TestPrepareRefuses(t *testing.T) {
	r := mrand.New(mrand.NewPCG(5, 6))
	odd := randOdd(r, 2048)
	// 2³¹+1 does not fit a 32-bit int: converted at run time, it wraps to
	// a negative exponent there, which is refused as well.
	above := int64(1<<31 + 1)
	for _, c := range []struct {
		name string
		pub  *rsa.PublicKey
	}{
		{"nil", nil},
		{"nil modulus", &rsa.PublicKey{E: 65537}},
		{"even modulus", &rsa.PublicKey{N: new(big.Int).Add(odd, big.NewInt(1)), E: 65537}},
		{"negative modulus", &rsa.PublicKey{N: new(big.Int).Neg(odd), E: 65537}},
		{"1023 bits", &rsa.PublicKey{N: randOdd(r, 1023), E: 65537}},
		{"4097 bits", &rsa.PublicKey{N: randOdd(r, 4097), E: 65537}},
		{"e = 1", &rsa.PublicKey{N: odd, E: 1}},
		{"e even", &rsa.PublicKey{N: odd, E: 65536}},
		{"e negative", &rsa.PublicKey{N: odd, E: -3}},
		{"e above 2^31-1", &rsa.PublicKey{N: odd, E: int(above)}},
	} {
		if k, err := Prepare(c.pub); err == nil {
			t.Errorf("%s: Prepare = %v, want an error", c.name, k)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	for _, priv := range rsaKeys(b) {
		digest := sha256.Sum256([]byte("header.payload"))
		sig, _ := rsa.SignPKCS1v15(rand.Reader, priv, crypto.SHA256, digest[:])
		k, _ := Prepare(&priv.PublicKey)
		name := map[int]string{256: "2048", 384: "3072", 512: "4096"}[priv.Size()]
		b.Run("rsaverify/"+name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if k.VerifySHA256(&digest, sig) != nil {
					b.Fatal("no")
				}
			}
		})
		b.Run("crypto-rsa/"+name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if rsa.VerifyPKCS1v15(&priv.PublicKey, crypto.SHA256, digest[:], sig) != nil {
					b.Fatal("no")
				}
			}
		})
	}
}

// keyWithE returns an RSA key of exactly b bits with public exponent e,
// which rsa.GenerateKey (always 65537) cannot give.
func keyWithE(t testing.TB, b int, e int) *rsa.PrivateKey {
	t.Helper()
	one, E := big.NewInt(1), big.NewInt(int64(e))
	for range 1000 {
		p, err := rand.Prime(rand.Reader, b/2)
		if err != nil {
			t.Fatal(err)
		}
		q, err := rand.Prime(rand.Reader, b-b/2)
		if err != nil {
			t.Fatal(err)
		}
		n := new(big.Int).Mul(p, q)
		if n.BitLen() != b || p.Cmp(q) == 0 {
			continue
		}
		phi := new(big.Int).Mul(new(big.Int).Sub(p, one), new(big.Int).Sub(q, one))
		if d := new(big.Int).ModInverse(E, phi); d != nil {
			return &rsa.PrivateKey{PublicKey: rsa.PublicKey{N: n, E: e}, D: d, Primes: []*big.Int{p, q}}
		}
	}
	t.Fatalf("no %d-bit key with e=%d", b, e)
	return nil
}

// TestVerifyOddKeysMatchesCryptoRSA checks Verify against crypto/rsa with
// keys whose modulus is not a whole number of limbs, or bytes, and whose
// exponent is not 65537: the top limb is partly empty, the rows run the
// word loops rather than montRowsADX, and the signature's bytes do not
// fill the limbs.
func TestVerifyOddKeysMatchesCryptoRSA(t *testing.T) {
	for _, c := range []struct{ bits, e int }{{1031, 3}, {2049, 65537}, {2600, 1<<31 - 1}} {
		priv := keyWithE(t, c.bits, c.e)
		k, err := Prepare(&priv.PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		size := priv.Size()
		digest := sha256.Sum256([]byte("header.payload"))
		good := rawSign(priv, encode(size, sha256Prefix, digest[:], -1, nil))
		sBig := new(big.Int).SetBytes(good)
		sigs := map[string][]byte{
			"valid":            good,
			"last byte":        append(append([]byte(nil), good[:size-1]...), good[size-1]^1),
			"N - s":            new(big.Int).Sub(priv.N, sBig).FillBytes(make([]byte, size)),
			"N - 1":            new(big.Int).Sub(priv.N, big.NewInt(1)).FillBytes(make([]byte, size)),
			"N":                priv.N.FillBytes(make([]byte, size)),
			"zero":             make([]byte, size),
			"one":              append(make([]byte, size-1), 1),
			"one byte short":   good[1:],
			"leading zero":     append([]byte{0}, good...),
			"top bit of k set": append([]byte{0x80}, good[1:]...),
		}
		if sum := new(big.Int).Add(priv.N, sBig); sum.BitLen() <= 8*size {
			sigs["s + N"] = sum.FillBytes(make([]byte, size))
		}
		for name, sig := range sigs {
			std := rsa.VerifyPKCS1v15(&priv.PublicKey, crypto.SHA256, digest[:], sig) == nil
			if std != (name == "valid") {
				t.Fatalf("%d bits, e=%d, %s: crypto/rsa says %v", c.bits, c.e, name, std)
			}
			if got := k.verifySHA256(&digest, sig) == nil; got != std {
				t.Errorf("%d bits, e=%d, %s: verifySHA256 says %v, crypto/rsa %v", c.bits, c.e, name, got, std)
			}
			if got := k.VerifySHA256(&digest, sig) == nil; got != std {
				t.Errorf("%d bits, e=%d, %s: VerifySHA256 says %v, crypto/rsa %v", c.bits, c.e, name, got, std)
			}
		}
	}
}
