package middleware

import (
	"context"
	"crypto"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/clerk/clerk-sdk-go/v2"
)

func TestVerifyValidTokens(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testKid, nil)
	clk, k, v := f.clk, f.keys[0], f.v
	now := clk.Now()

	t.Run("v1", func(t *testing.T) {
		claims := with(v1Claims(now), "email", "ada@acme.test")
		p, err := v.Verify(context.Background(), mint(t, k, hdr(testKid), claims))
		if err != nil {
			t.Fatal(err)
		}
		want := ClerkOrg{ID: "org_1", Slug: "acme", Role: "org:admin",
			Permissions: []string{"org:sys_profile:manage", "org:dashboard:read"}}
		if !reflect.DeepEqual(p.ClerkOrg, want) {
			t.Errorf("ClerkOrg = %+v, want %+v", p.ClerkOrg, want)
		}
		if p.UserID != "user_1" || p.SessionID != "sess_1" || p.Email != "ada@acme.test" ||
			p.Credential != CredentialClerkSession || p.AuthorizedParty != testAzp || p.Issuer != testIssuer {
			t.Errorf("principal = %+v", p)
		}
		if !p.ExpiresAt.Equal(now.Add(time.Minute)) || !p.IssuedAt.Equal(now) {
			t.Errorf("times = %v %v", p.IssuedAt, p.ExpiresAt)
		}
		c := p.Clerk
		if c.Version != 1 || !c.HasRole("org:admin") || !c.HasPermission("org:dashboard:read") ||
			*c.Expiry != now.Add(time.Minute).Unix() || c.FactorVerificationAge != [2]int64{7, -1} {
			t.Errorf("clerk claims = %+v", c)
		}
	})
	t.Run("v2", func(t *testing.T) {
		p, err := v.Verify(context.Background(), mint(t, k, hdr(testKid), v2Claims(now)))
		if err != nil {
			t.Fatal(err)
		}
		want := ClerkOrg{ID: "org_2", Slug: "contoso", Role: "org:admin",
			Permissions: []string{"org:dashboard:manage", "org:dashboard:read", "org:teams:read"}}
		if !reflect.DeepEqual(p.ClerkOrg, want) {
			t.Errorf("ClerkOrg = %+v, want %+v", p.ClerkOrg, want)
		}
		if p.Clerk.Version != 2 || p.Clerk.ID != "jti_2" || p.Email != "" {
			t.Errorf("clerk claims = %+v", p.Clerk)
		}
		var plan string
		if ok, err := p.Claim("pla", &plan); !ok || err != nil || plan != "o:pro" {
			t.Errorf("Claim(pla) = %v %v %q", ok, err, plan)
		}
	})
	t.Run("v2 without active organization", func(t *testing.T) {
		claims := with(v2Claims(now), "o", nil, "fea", nil)
		p, err := v.Verify(context.Background(), mint(t, k, hdr(testKid), claims))
		if err != nil {
			t.Fatal(err)
		}
		if p.ClerkOrg.ID != "" || p.ClerkOrg.Role != "" || p.Clerk.Version != 1 {
			t.Errorf("org = %+v version %d", p.ClerkOrg, p.Clerk.Version)
		}
	})
	t.Run("expired within leeway", func(t *testing.T) {
		claims := with(v1Claims(now), "exp", now.Add(-3*time.Second).Unix())
		if _, err := v.Verify(context.Background(), mint(t, k, hdr(testKid), claims)); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("agrees with clerk-sdk-go decoding", func(t *testing.T) {
		// The SDK's own type, decoded from the same payload, must match
		// what ssokit fills in (v1 payloads decode identically).
		p, err := v.Verify(context.Background(), mint(t, k, hdr(testKid), v1Claims(now)))
		if err != nil {
			t.Fatal(err)
		}
		var sdk clerk.SessionClaims
		if err := sdk.UnmarshalJSON(p.RawClaims); err != nil {
			t.Fatal(err)
		}
		sdk.Version = 1
		if !reflect.DeepEqual(sdk.Claims, p.Clerk.Claims) || sdk.Subject != p.Clerk.Subject ||
			*sdk.Expiry != *p.Clerk.Expiry || *sdk.IssuedAt != *p.Clerk.IssuedAt {
			t.Errorf("sdk %+v\nours %+v", sdk, *p.Clerk)
		}
	})
}

func TestVerifyRefusals(t *testing.T) {
	t.Parallel()
	clk := newClock()
	keys := testKeys()
	k, other := keys[0], keys[1]
	srv := newJWKSServer(t, map[string]*rsa.PublicKey{testKid: &k.PublicKey})
	v := newTestVerifier(t, clk, srv, nil)
	now := clk.Now()
	good := mint(t, k, hdr(testKid), v1Claims(now))
	parts := strings.Split(good, ".")

	hs256 := func() string {
		// The classic confusion: HS256 keyed with the RSA public key.
		in := seg(t, map[string]any{"alg": "HS256", "kid": testKid, "typ": "JWT"}) + "." + seg(t, v1Claims(now))
		mac := hmac.New(sha256.New, []byte(pemOf(t, &k.PublicKey)))
		mac.Write([]byte(in))
		return in + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
	}
	tampered := func() string {
		p := seg(t, with(v1Claims(now), "sub", "user_admin"))
		return parts[0] + "." + p + "." + parts[2]
	}
	nonCanonical := func() string {
		// Flip the unused low bits of the signature's last character.
		s := []byte(parts[2])
		last := s[len(s)-1]
		idx := strings.IndexByte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", last)
		s[len(s)-1] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[idx^1]
		return parts[0] + "." + parts[1] + "." + string(s)
	}
	truncatedSig := func() string {
		sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
		return parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(sig[:len(sig)-3])
	}
	signedPayload := func(payload string) string {
		in := seg(t, hdr(testKid)) + "." + base64.RawURLEncoding.EncodeToString([]byte(payload))
		d := sha256.Sum256([]byte(in))
		sig, _ := rsa.SignPKCS1v15(nil, k, crypto.SHA256, d[:])
		return in + "." + base64.RawURLEncoding.EncodeToString(sig)
	}

	tests := []struct {
		name     string
		token    string
		sentinel error
		reason   Reason
	}{
		{"empty", "", ErrInvalidToken, ReasonEmptyToken},
		{"missing exp", mint(t, k, hdr(testKid), with(v1Claims(now), "exp", nil)), ErrInvalidToken, ReasonMissingExpiry},
		{"expired", mint(t, k, hdr(testKid), with(v1Claims(now), "exp", now.Add(-6*time.Second).Unix())), ErrExpired, ReasonExpired},
		{"exp out of range", mint(t, k, hdr(testKid), with(v1Claims(now), "exp", 1e300)), ErrInvalidToken, ReasonNumericDate},
		{"exp negative", mint(t, k, hdr(testKid), with(v1Claims(now), "exp", -1)), ErrInvalidToken, ReasonNumericDate},
		{"nbf in the future", mint(t, k, hdr(testKid), with(v1Claims(now), "nbf", now.Add(10*time.Second).Unix())), ErrInvalidToken, ReasonNotYetValid},
		{"iat in the future", mint(t, k, hdr(testKid), with(v1Claims(now), "iat", now.Add(10*time.Second).Unix())), ErrInvalidToken, ReasonIssuedInFuture},
		{"lookalike issuer", mint(t, k, hdr(testKid), with(v1Claims(now), "iss", "https://clerk.attacker.example")), ErrInvalidToken, ReasonIssuer},
		{"issuer with trailing slash", mint(t, k, hdr(testKid), with(v1Claims(now), "iss", testIssuer+"/")), ErrInvalidToken, ReasonIssuer},
		{"issuer over http", mint(t, k, hdr(testKid), with(v1Claims(now), "iss", "http://clerk.example.com")), ErrInvalidToken, ReasonIssuer},
		{"missing issuer", mint(t, k, hdr(testKid), with(v1Claims(now), "iss", nil)), ErrInvalidToken, ReasonIssuer},
		{"wrong azp", mint(t, k, hdr(testKid), with(v1Claims(now), "azp", "https://evil.example")), ErrInvalidToken, ReasonAuthorizedParty},
		{"empty azp", mint(t, k, hdr(testKid), with(v1Claims(now), "azp", "")), ErrInvalidToken, ReasonAuthorizedParty},
		{"missing azp", mint(t, k, hdr(testKid), with(v1Claims(now), "azp", nil)), ErrInvalidToken, ReasonAuthorizedParty},
		{"missing sub", mint(t, k, hdr(testKid), with(v1Claims(now), "sub", nil)), ErrInvalidToken, ReasonMissingSubject},
		{"missing sid", mint(t, k, hdr(testKid), with(v1Claims(now), "sid", nil)), ErrInvalidToken, ReasonMissingSessionID},
		{"pending session", mint(t, k, hdr(testKid), with(v2Claims(now), "sts", "pending")), ErrInvalidToken, ReasonSessionPending},
		{"unknown session status", mint(t, k, hdr(testKid), with(v2Claims(now), "sts", "revoked")), ErrInvalidToken, ReasonSessionStatus},
		{"alg none", seg(t, map[string]any{"alg": "none", "kid": testKid}) + "." + parts[1] + ".", ErrInvalidToken, ReasonAlgorithm},
		{"alg none uppercase", seg(t, map[string]any{"alg": "NONE", "kid": testKid}) + "." + parts[1] + ".", ErrInvalidToken, ReasonAlgorithm},
		{"HS256 with the public key as secret", hs256(), ErrInvalidToken, ReasonAlgorithm},
		{"RS512", mint(t, k, map[string]any{"alg": "RS512", "kid": testKid}, v1Claims(now)), ErrInvalidToken, ReasonAlgorithm},
		{"PS256", mint(t, k, map[string]any{"alg": "PS256", "kid": testKid}, v1Claims(now)), ErrInvalidToken, ReasonAlgorithm},
		{"missing kid", mint(t, k, map[string]any{"alg": "RS256"}, v1Claims(now)), ErrInvalidToken, ReasonMissingKeyID},
		{"unknown kid", mint(t, other, hdr("ins_forged"), v1Claims(now)), ErrInvalidToken, ReasonUnknownKeyID},
		{"known kid, other key", mint(t, other, hdr(testKid), v1Claims(now)), ErrInvalidToken, ReasonSignature},
		{"crit header", mint(t, k, map[string]any{"alg": "RS256", "kid": testKid, "crit": []string{"exp"}}, v1Claims(now)), ErrInvalidToken, ReasonCritical},
		{"typ not JWT", mint(t, k, map[string]any{"alg": "RS256", "kid": testKid, "typ": "at+jwt"}, v1Claims(now)), ErrInvalidToken, ReasonType},
		{"tampered payload", tampered(), ErrInvalidToken, ReasonSignature},
		{"truncated signature", truncatedSig(), ErrInvalidToken, ReasonSignature},
		{"truncated mid-character", good[:len(good)-1], ErrInvalidToken, ReasonMalformed},
		{"truncated to two parts", parts[0] + "." + parts[1], ErrInvalidToken, ReasonMalformed},
		{"four parts", good + ".x", ErrInvalidToken, ReasonMalformed},
		{"non-canonical base64", nonCanonical(), ErrInvalidToken, ReasonMalformed},
		{"padded base64", good + "==", ErrInvalidToken, ReasonMalformed},
		{"header not JSON", base64.RawURLEncoding.EncodeToString([]byte("{")) + "." + parts[1] + "." + parts[2], ErrInvalidToken, ReasonMalformed},
		{"signed payload not JSON", signedPayload(`{"iss":`), ErrInvalidToken, ReasonMalformed},
		{"signed payload with trailing data", signedPayload(`{"iss":"x"} {}`), ErrInvalidToken, ReasonMalformed},
		{"oversized", good + strings.Repeat("A", DefaultMaxTokenBytes), ErrInvalidToken, ReasonTooLarge},
		{"garbage", "not-a-token", ErrInvalidToken, ReasonMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := v.Verify(context.Background(), tc.token)
			if p != nil {
				t.Fatalf("returned a principal %+v", p)
			}
			wantReason(t, err, tc.sentinel, tc.reason)
		})
	}
	// The good token itself verifies, so the refusals above are the
	// changes' doing.
	if _, err := v.Verify(context.Background(), good); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyWithoutAuthorizedParties(t *testing.T) {
	t.Parallel()
	clk := newClock()
	k := testKeys()[0]
	srv := newJWKSServer(t, map[string]*rsa.PublicKey{testKid: &k.PublicKey})
	v := newTestVerifier(t, clk, srv, func(c *ClerkConfig) { c.AuthorizedParties = nil })
	if _, err := v.Verify(context.Background(), mint(t, k, hdr(testKid), with(v1Claims(clk.Now()), "azp", nil))); err != nil {
		t.Fatalf("azp is not checked without authorized parties: %v", err)
	}
}

func TestVerifyZeroLeeway(t *testing.T) {
	t.Parallel()
	clk := newClock()
	k := testKeys()[0]
	srv := newJWKSServer(t, map[string]*rsa.PublicKey{testKid: &k.PublicKey})
	v := newTestVerifier(t, clk, srv, func(c *ClerkConfig) { c.Leeway = -1 })
	tok := mint(t, k, hdr(testKid), with(v1Claims(clk.Now()), "exp", clk.Now().Unix()))
	_, err := v.Verify(context.Background(), tok)
	wantReason(t, err, ErrExpired, ReasonExpired)
}

func TestVerifyPublicKeyPEM(t *testing.T) {
	t.Parallel()
	clk := newClock()
	k := testKeys()[0]
	armoured := pemOf(t, &k.PublicKey)
	bare := strings.Join(strings.Split(strings.TrimSpace(armoured), "\n")[1:len(strings.Split(strings.TrimSpace(armoured), "\n"))-1], "")
	for name, key := range map[string]string{"armoured": armoured, "bare": bare} {
		t.Run(name, func(t *testing.T) {
			v, err := NewClerkVerifier(ClerkConfig{PublishableKey: testPublishableKey, PublicKeyPEM: key, Now: clk.Now,
				// No network: a client that fails every request.
				HTTPClient: failingClient()})
			if err != nil {
				t.Fatal(err)
			}
			if v.Issuer() != testIssuer {
				t.Fatalf("issuer %q", v.Issuer())
			}
			if _, err := v.Verify(context.Background(), mint(t, k, hdr("ins_any"), v2Claims(clk.Now()))); err != nil {
				t.Fatal(err)
			}
			_, err = v.Verify(context.Background(), mint(t, testKeys()[1], hdr("ins_any"), v2Claims(clk.Now())))
			wantReason(t, err, ErrInvalidToken, ReasonSignature)
		})
	}
}

func TestNewClerkVerifierConfig(t *testing.T) {
	t.Parallel()
	k := testKeys()[0]
	tests := []struct {
		name string
		cfg  ClerkConfig
		want string // substring of the error; empty means valid
	}{
		{"no issuer", ClerkConfig{SecretKey: "sk_test_x"}, "needs PublishableKey or Issuer"},
		{"issuer mismatch", ClerkConfig{PublishableKey: testPublishableKey, Issuer: "https://other.example"}, "does not match"},
		{"http issuer", ClerkConfig{Issuer: "http://clerk.example.com"}, "must be https"},
		{"http loopback issuer without the switch", ClerkConfig{Issuer: "http://127.0.0.1:4451/clerk"}, "must be https"},
		{"http loopback issuer with the switch", ClerkConfig{Issuer: "http://127.0.0.1:4451/clerk", InsecureHTTPLoopback: true}, ""},
		{"http non-loopback with the switch", ClerkConfig{Issuer: "http://clerk.example.com", InsecureHTTPLoopback: true}, "must be https"},
		{"http JWKS URL", ClerkConfig{Issuer: testIssuer, JWKSURL: "http://clerk.example.com/jwks"}, "must be https"},
		{"http API URL", ClerkConfig{Issuer: testIssuer, SecretKey: "sk", APIURL: "http://api.example.com/v1"}, "must be https"},
		{"bad publishable key", ClerkConfig{PublishableKey: "pk_test_!!"}, "invalid publishable key"},
		{"PEM and JWKS URL", ClerkConfig{Issuer: testIssuer, PublicKeyPEM: pemOf(t, &k.PublicKey), JWKSURL: "https://x/jwks"}, "not both"},
		{"bad PEM", ClerkConfig{Issuer: testIssuer, PublicKeyPEM: "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"}, "PublicKeyPEM"},
		{"leeway too large", ClerkConfig{Issuer: testIssuer, Leeway: time.Hour}, "Leeway"},
		{"empty authorized party", ClerkConfig{Issuer: testIssuer, AuthorizedParties: []string{""}}, "empty"},
		{"defaults", ClerkConfig{PublishableKey: testPublishableKey}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewClerkVerifier(tc.cfg)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("unexpected error %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestOrgPermissionsV2(t *testing.T) {
	t.Parallel()
	tests := []struct {
		fea, per, fpm string
		want          []string
	}{
		{"o:dashboard,o:teams", "manage,read", "3,2", []string{"org:dashboard:manage", "org:dashboard:read", "org:teams:read"}},
		{"u:profile,o:teams", "manage,read", "3,1", []string{"org:teams:manage"}},
		{"uo:billing", "read", "1", []string{"org:billing:read"}},
		{"o:teams", "read", "4", nil},                            // mask points past per
		{"o:teams", "read", "-1", nil},                           // malformed mask
		{"o:teams,o:x", "read", "1", []string{"org:teams:read"}}, // fewer masks than features
		{"bogus,o:teams", "read", "1,1", []string{"org:teams:read"}},
		{"", "read", "1", nil},
	}
	for _, tc := range tests {
		if got := orgPermissionsV2(tc.fea, tc.per, tc.fpm); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("orgPermissionsV2(%q,%q,%q) = %q, want %q", tc.fea, tc.per, tc.fpm, got, tc.want)
		}
	}
}
