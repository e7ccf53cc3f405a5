package idp

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"testing"
)

// b64seg is one base64url segment of a compact JWS.
func b64seg(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// newES256 is a P-256 key and a signer of compact JWSs with it: the
// header and payload as given, any bytes, signed as they are.
func newES256(tb testing.TB) (*ecdsa.PrivateKey, func(header, payload string) string) {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	return key, func(header, payload string) string {
		in := b64seg(header) + "." + b64seg(payload)
		d := sha256.Sum256([]byte(in))
		r, s, err := ecdsa.Sign(rand.Reader, key, d[:])
		if err != nil {
			tb.Fatal(err)
		}
		sig := make([]byte, 64)
		r.FillBytes(sig[:32])
		s.FillBytes(sig[32:])
		return in + "." + base64.RawURLEncoding.EncodeToString(sig)
	}
}
