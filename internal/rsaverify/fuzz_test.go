package rsaverify

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"math/big"
	"testing"
)

// FuzzEncrypt compares encrypt with math/big's Exp for any modulus of
// 1024 to 4096 bits (the input's bytes, made odd and given its top bit),
// any value below it and any usable exponent.
func FuzzEncrypt(f *testing.F) {
	f.Add([]byte{0xff}, []byte{0xff, 0xff}, uint32(65537))
	f.Add(make([]byte, 256), []byte{1}, uint32(3))
	f.Add(make([]byte, 512), make([]byte, 600), uint32(1<<31-1))
	f.Fuzz(func(t *testing.T, nb, sb []byte, e uint32) {
		if len(nb) > MaxBits/8 || len(sb) > 2*MaxBits/8 {
			return
		}
		n := new(big.Int).SetBytes(nb)
		bitsN := max(MinBits, n.BitLen())
		n.SetBit(n, bitsN-1, 1)
		n.SetBit(n, 0, 1)
		ee := int(e&(1<<31-1)) | 1
		if ee < 3 {
			ee = 3
		}
		k, err := Prepare(&rsa.PublicKey{N: n, E: ee})
		if err != nil {
			t.Fatalf("Prepare(%d bits, e=%d): %v", n.BitLen(), ee, err)
		}
		s := new(big.Int).Mod(new(big.Int).SetBytes(sb), n)
		sl := make([]uint64, len(k.n))
		fromBig(sl, s)
		m := make([]uint64, len(k.n))
		k.encrypt(m, sl)
		got := make([]byte, k.k)
		toBytes(got, m)
		want := new(big.Int).Exp(s, big.NewInt(int64(ee)), n)
		if new(big.Int).SetBytes(got).Cmp(want) != 0 {
			t.Fatalf("N=%x e=%d s=%x: got %x, want %x", n, ee, s, got, want)
		}
	})
}

// FuzzVerify feeds any signature and digest to VerifySHA256 under a
// 2048-bit key, with a valid signature among the seeds: the answer must be
// crypto/rsa's.
func FuzzVerify(f *testing.F) {
	priv := rsaKeys(f)[0]
	digest := sha256.Sum256([]byte("header.payload"))
	good, err := rsa.SignPKCS1v15(nil, priv, crypto.SHA256, digest[:])
	if err != nil {
		f.Fatal(err)
	}
	k, err := Prepare(&priv.PublicKey)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good, digest[:])
	f.Add(good[1:], digest[:])
	f.Add(append([]byte{0}, good...), digest[:])
	f.Add(priv.N.Bytes(), digest[:])
	f.Fuzz(func(t *testing.T, sig, d []byte) {
		if len(d) != sha256.Size {
			return
		}
		std := rsa.VerifyPKCS1v15(&priv.PublicKey, crypto.SHA256, d, sig) == nil
		got := k.verifySHA256((*[sha256.Size]byte)(d), sig) == nil
		if got != std {
			t.Fatalf("sig %x digest %x: rsaverify says %v, crypto/rsa %v", sig, d, got, std)
		}
	})
}
