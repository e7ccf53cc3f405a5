package clerkauth

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/ssokit/ssokit/internal/rsaverify"
)

// BenchmarkVerify measures Clerk session-token verification: the bare RSA
// floor (crypto/rsa's check, and ssokit's own), the decoding floor beside it, a cold verification (every check, no cache) and a cache hit. The
// same token against golang-jwt and clerk-sdk-go is measured in the peers
// module (peers/bench), which scripts/bench.sh runs round by round.
func BenchmarkVerify(b *testing.B) {
	k := testKeys()[0]
	const kid = "ins_bench"
	srv := newJWKSServer(b, map[string]*rsa.PublicKey{kid: &k.PublicKey})
	now := time.Now()
	claims := v1Claims(now)
	claims["exp"] = now.Add(time.Hour).Unix()
	tok := mint(b, k, hdr(kid), claims)
	ctx := context.Background()
	mk := func(noCache bool) *Verifier {
		v, err := New(Config{Issuer: testIssuer, JWKSURL: srv.URL, InsecureHTTPLoopback: true,
			AuthorizedParties: []string{testAzp}, DisableTokenCache: noCache, HTTPClient: srv.Client()})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := v.Verify(ctx, tok); err != nil { // warm the key set
			b.Fatal(err)
		}
		return v
	}
	cold, cached := mk(true), mk(false)
	b.Run("rsa_floor", func(b *testing.B) {
		i := strings.LastIndexByte(tok, '.')
		digest := sha256.Sum256([]byte(tok[:i]))
		sig, _ := base64.RawURLEncoding.DecodeString(tok[i+1:])
		b.ReportAllocs()
		for b.Loop() {
			if err := rsa.VerifyPKCS1v15(&k.PublicKey, crypto.SHA256, digest[:], sig); err != nil {
				b.Fatal(err)
			}
		}
	})
	// own_rsa_floor is the same check with ssokit's own RSA code, which
	// ssokit_cold uses.
	b.Run("own_rsa_floor", func(b *testing.B) {
		i := strings.LastIndexByte(tok, '.')
		digest := sha256.Sum256([]byte(tok[:i]))
		sig, _ := base64.RawURLEncoding.DecodeString(tok[i+1:])
		key, err := rsaverify.Prepare(&k.PublicKey)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if err := key.VerifySHA256(&digest, sig); err != nil {
				b.Fatal(err)
			}
		}
	})
	// jws_floor is the rest of what any verifier of a compact JWS must do
	// besides the RSA check: hash the signing input and decode the
	// signature and the payload (no JSON, no claims, no key lookup).
	b.Run("jws_floor", func(b *testing.B) {
		var sig [512]byte
		payload := make([]byte, len(tok))
		b.ReportAllocs()
		for b.Loop() {
			h, rest, _ := strings.Cut(tok, ".")
			pl, s, _ := strings.Cut(rest, ".")
			var d [sha256.Size]byte
			signingInputDigest(&d, tok[:len(h)+1+len(pl)])
			if _, err := base64.RawURLEncoding.Decode(sig[:], []byte(s)); err != nil {
				b.Fatal(err)
			}
			if _, err := base64.RawURLEncoding.Decode(payload, []byte(pl)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ssokit_cold", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := cold.Verify(ctx, tok); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ssokit_cache_hit", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := cached.Verify(ctx, tok); err != nil {
				b.Fatal(err)
			}
		}
	})
}
