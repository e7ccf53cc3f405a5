package clerkauth

import (
	"context"
	"encoding/base64"
	"errors"
	"testing"
	"time"

	"github.com/ssokit/ssokit/ssoerr"
)

// FuzzVerify feeds arbitrary strings to a networkless verifier. Nothing may
// panic, every refusal must be a classified *ssoerr.Error, and the only strings
// ever accepted are the valid seeds: the signature covers every byte and
// base64 is decoded strictly, so no other spelling can verify.
func FuzzVerify(f *testing.F) {
	k := testKeys()[0]
	now := time.Unix(1_800_000_000, 0)
	v, err := New(Config{Issuer: testIssuer, PublicKeyPEM: pemOf(f, &k.PublicKey),
		Now: func() time.Time { return now }, DisableTokenCache: true})
	if err != nil {
		f.Fatal(err)
	}
	valid := map[string]bool{
		mint(f, k, hdr(testKid), v2Claims(now)): true,
		mint(f, k, hdr(testKid), with(v2Claims(now), "o", map[string]any{"id": "o", "per": "a,b", "fpm": "9999999999"})): true,
	}
	for tok := range valid {
		f.Add(tok)
	}
	f.Add(mint(f, k, hdr(testKid), with(v1Claims(now), "exp", nil)))
	f.Add(mint(f, k, map[string]any{"alg": "none"}, v1Claims(now)))
	f.Add("eyJhbGciOiJSUzI1NiJ9..")
	f.Add("..")
	f.Add("")
	f.Fuzz(func(t *testing.T, tok string) {
		p, err := v.Verify(context.Background(), tok)
		if err == nil {
			if !valid[tok] || p == nil {
				t.Fatalf("accepted %q", tok)
			}
			return
		}
		var te *ssoerr.Error
		if !errors.As(err, &te) || te.Reason == "" || !errors.Is(err, ssoerr.ErrInvalidToken) {
			t.Fatalf("unclassified refusal %v", err)
		}
	})
}

// FuzzVerifyClaims signs arbitrary payloads, so the claim checks behind the
// signature are exercised too: they must refuse or accept without panicking,
// and what they accept must satisfy the policy.
func FuzzVerifyClaims(f *testing.F) {
	k := testKeys()[0]
	now := time.Unix(1_800_000_000, 0)
	v, err := New(Config{Issuer: testIssuer, PublicKeyPEM: pemOf(f, &k.PublicKey),
		AuthorizedParties: []string{testAzp}, Now: func() time.Time { return now }, DisableTokenCache: true})
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(mustJSON(f, v1Claims(now))))
	f.Add([]byte(mustJSON(f, v2Claims(now))))
	f.Add([]byte(`{"exp":1e400}`))
	f.Add([]byte(`{"aud":[1],"iss":"` + testIssuer + `"}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		in := seg(t, hdr(testKid)) + "." + base64.RawURLEncoding.EncodeToString(payload)
		tok := signInput(t, k, in)
		p, err := v.Verify(context.Background(), tok)
		if err != nil {
			if ssoerr.ReasonOf(err) == "" {
				t.Fatalf("unclassified refusal %v", err)
			}
			return
		}
		if p.Issuer != testIssuer || p.AuthorizedParty != testAzp || p.UserID == "" || p.SessionID == "" ||
			!p.ExpiresAt.After(now.Add(-DefaultLeeway)) || p.Claims == nil {
			t.Fatalf("accepted a token breaking the policy: %+v", p)
		}
	})
}
