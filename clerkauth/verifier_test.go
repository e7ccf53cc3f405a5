package clerkauth

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
	"github.com/ssokit/ssokit/ssoerr"
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
		want := Org{ID: "org_1", Slug: "acme", Role: "org:admin",
			Permissions: []string{"org:sys_profile:manage", "org:dashboard:read"}}
		if !reflect.DeepEqual(p.Org, want) {
			t.Errorf("ClerkOrg = %+v, want %+v", p.Org, want)
		}
		if p.UserID != "user_1" || p.SessionID != "sess_1" || p.Email != "ada@acme.test" ||
			p.AuthorizedParty != testAzp || p.Issuer != testIssuer {
			t.Errorf("principal = %+v", p)
		}
		if !p.ExpiresAt.Equal(now.Add(time.Minute)) || !p.IssuedAt.Equal(now) {
			t.Errorf("times = %v %v", p.IssuedAt, p.ExpiresAt)
		}
		c := p.Claims
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
		want := Org{ID: "org_2", Slug: "contoso", Role: "org:admin",
			Permissions: []string{"org:dashboard:manage", "org:dashboard:read", "org:teams:read"}}
		if !reflect.DeepEqual(p.Org, want) {
			t.Errorf("ClerkOrg = %+v, want %+v", p.Org, want)
		}
		if p.Claims.Version != 2 || p.Claims.ID != "jti_2" || p.Email != "" {
			t.Errorf("clerk claims = %+v", p.Claims)
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
		if p.Org.ID != "" || p.Org.Role != "" || p.Claims.Version != 2 {
			t.Errorf("org = %+v version %d", p.Org, p.Claims.Version)
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
		if !reflect.DeepEqual(sdk.Claims, p.Claims.Claims) || sdk.Subject != p.Claims.Subject ||
			*sdk.Expiry != *p.Claims.Expiry || *sdk.IssuedAt != *p.Claims.IssuedAt {
			t.Errorf("sdk %+v\nours %+v", sdk, *p.Claims)
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
		reason   ssoerr.Reason
	}{
		{"empty", "", ssoerr.ErrInvalidToken, ssoerr.ReasonEmptyToken},
		{"missing exp", mint(t, k, hdr(testKid), with(v1Claims(now), "exp", nil)), ssoerr.ErrInvalidToken, ssoerr.ReasonMissingExpiry},
		{"expired", mint(t, k, hdr(testKid), with(v1Claims(now), "exp", now.Add(-6*time.Second).Unix())), ssoerr.ErrExpired, ssoerr.ReasonExpired},
		{"exp out of range", mint(t, k, hdr(testKid), with(v1Claims(now), "exp", 1e300)), ssoerr.ErrInvalidToken, ssoerr.ReasonNumericDate},
		{"exp negative", mint(t, k, hdr(testKid), with(v1Claims(now), "exp", -1)), ssoerr.ErrInvalidToken, ssoerr.ReasonNumericDate},
		{"nbf in the future", mint(t, k, hdr(testKid), with(v1Claims(now), "nbf", now.Add(10*time.Second).Unix())), ssoerr.ErrInvalidToken, ssoerr.ReasonNotYetValid},
		{"iat in the future", mint(t, k, hdr(testKid), with(v1Claims(now), "iat", now.Add(10*time.Second).Unix())), ssoerr.ErrInvalidToken, ssoerr.ReasonIssuedInFuture},
		{"lookalike issuer", mint(t, k, hdr(testKid), with(v1Claims(now), "iss", "https://clerk.attacker.example")), ssoerr.ErrInvalidToken, ssoerr.ReasonIssuer},
		{"issuer with trailing slash", mint(t, k, hdr(testKid), with(v1Claims(now), "iss", testIssuer+"/")), ssoerr.ErrInvalidToken, ssoerr.ReasonIssuer},
		{"issuer over http", mint(t, k, hdr(testKid), with(v1Claims(now), "iss", "http://clerk.example.com")), ssoerr.ErrInvalidToken, ssoerr.ReasonIssuer},
		{"missing issuer", mint(t, k, hdr(testKid), with(v1Claims(now), "iss", nil)), ssoerr.ErrInvalidToken, ssoerr.ReasonIssuer},
		{"wrong azp", mint(t, k, hdr(testKid), with(v1Claims(now), "azp", "https://evil.example")), ssoerr.ErrInvalidToken, ssoerr.ReasonAuthorizedParty},
		{"empty azp", mint(t, k, hdr(testKid), with(v1Claims(now), "azp", "")), ssoerr.ErrInvalidToken, ssoerr.ReasonAuthorizedParty},
		{"missing azp", mint(t, k, hdr(testKid), with(v1Claims(now), "azp", nil)), ssoerr.ErrInvalidToken, ssoerr.ReasonAuthorizedParty},
		{"missing sub", mint(t, k, hdr(testKid), with(v1Claims(now), "sub", nil)), ssoerr.ErrInvalidToken, ssoerr.ReasonMissingSubject},
		{"missing sid", mint(t, k, hdr(testKid), with(v1Claims(now), "sid", nil)), ssoerr.ErrInvalidToken, ssoerr.ReasonMissingSessionID},
		{"pending session", mint(t, k, hdr(testKid), with(v2Claims(now), "sts", "pending")), ssoerr.ErrInvalidToken, ssoerr.ReasonSessionPending},
		{"unknown session status", mint(t, k, hdr(testKid), with(v2Claims(now), "sts", "revoked")), ssoerr.ErrInvalidToken, ssoerr.ReasonSessionStatus},
		{"alg none", seg(t, map[string]any{"alg": "none", "kid": testKid}) + "." + parts[1] + ".", ssoerr.ErrInvalidToken, ssoerr.ReasonAlgorithm},
		{"alg none uppercase", seg(t, map[string]any{"alg": "NONE", "kid": testKid}) + "." + parts[1] + ".", ssoerr.ErrInvalidToken, ssoerr.ReasonAlgorithm},
		{"HS256 with the public key as secret", hs256(), ssoerr.ErrInvalidToken, ssoerr.ReasonAlgorithm},
		{"RS512", mint(t, k, map[string]any{"alg": "RS512", "kid": testKid}, v1Claims(now)), ssoerr.ErrInvalidToken, ssoerr.ReasonAlgorithm},
		{"PS256", mint(t, k, map[string]any{"alg": "PS256", "kid": testKid}, v1Claims(now)), ssoerr.ErrInvalidToken, ssoerr.ReasonAlgorithm},
		{"missing kid", mint(t, k, map[string]any{"alg": "RS256"}, v1Claims(now)), ssoerr.ErrInvalidToken, ssoerr.ReasonMissingKeyID},
		{"unknown kid", mint(t, other, hdr("ins_forged"), v1Claims(now)), ssoerr.ErrInvalidToken, ssoerr.ReasonUnknownKeyID},
		{"known kid, other key", mint(t, other, hdr(testKid), v1Claims(now)), ssoerr.ErrInvalidToken, ssoerr.ReasonSignature},
		{"crit header", mint(t, k, map[string]any{"alg": "RS256", "kid": testKid, "crit": []string{"exp"}}, v1Claims(now)), ssoerr.ErrInvalidToken, ssoerr.ReasonCritical},
		{"JWT template category", mint(t, k, with(hdr(testKid), "cat", "cl_B7d4PD222AAA"), v1Claims(now)), ssoerr.ErrInvalidToken, ssoerr.ReasonCategory},
		{"machine token category", mint(t, k, with(hdr(testKid), "cat", "cl_M7d4PD111AAA"), v1Claims(now)), ssoerr.ErrInvalidToken, ssoerr.ReasonCategory},
		{"session category in another case", mint(t, k, with(hdr(testKid), "cat", "CL_B7D4PD111AAA"), v1Claims(now)), ssoerr.ErrInvalidToken, ssoerr.ReasonCategory},
		{"empty category", mint(t, k, with(hdr(testKid), "cat", ""), v1Claims(now)), ssoerr.ErrInvalidToken, ssoerr.ReasonCategory},
		{"null category", mint(t, k, map[string]any{"alg": "RS256", "kid": testKid, "cat": nil}, v1Claims(now)), ssoerr.ErrInvalidToken, ssoerr.ReasonMalformed},
		{"category not a string", mint(t, k, with(hdr(testKid), "cat", 1), v1Claims(now)), ssoerr.ErrInvalidToken, ssoerr.ReasonMalformed},
		{"typ not JWT", mint(t, k, map[string]any{"alg": "RS256", "kid": testKid, "typ": "at+jwt"}, v1Claims(now)), ssoerr.ErrInvalidToken, ssoerr.ReasonType},
		{"tampered payload", tampered(), ssoerr.ErrInvalidToken, ssoerr.ReasonSignature},
		{"truncated signature", truncatedSig(), ssoerr.ErrInvalidToken, ssoerr.ReasonSignature},
		{"truncated mid-character", good[:len(good)-1], ssoerr.ErrInvalidToken, ssoerr.ReasonMalformed},
		{"truncated to two parts", parts[0] + "." + parts[1], ssoerr.ErrInvalidToken, ssoerr.ReasonMalformed},
		{"four parts", good + ".x", ssoerr.ErrInvalidToken, ssoerr.ReasonMalformed},
		{"non-canonical base64", nonCanonical(), ssoerr.ErrInvalidToken, ssoerr.ReasonMalformed},
		{"padded base64", good + "==", ssoerr.ErrInvalidToken, ssoerr.ReasonMalformed},
		{"header not JSON", base64.RawURLEncoding.EncodeToString([]byte("{")) + "." + parts[1] + "." + parts[2], ssoerr.ErrInvalidToken, ssoerr.ReasonMalformed},
		{"signed payload not JSON", signedPayload(`{"iss":`), ssoerr.ErrInvalidToken, ssoerr.ReasonMalformed},
		{"signed payload with trailing data", signedPayload(`{"iss":"x"} {}`), ssoerr.ErrInvalidToken, ssoerr.ReasonMalformed},
		{"oversized", good + strings.Repeat("A", DefaultMaxTokenBytes), ssoerr.ErrInvalidToken, ssoerr.ReasonTooLarge},
		{"garbage", "not-a-token", ssoerr.ErrInvalidToken, ssoerr.ReasonMalformed},
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
	v := newTestVerifier(t, clk, srv, func(c *Config) { c.AuthorizedParties = nil })
	if _, err := v.Verify(context.Background(), mint(t, k, hdr(testKid), with(v1Claims(clk.Now()), "azp", nil))); err != nil {
		t.Fatalf("azp is not checked without authorized parties: %v", err)
	}
}

func TestVerifyZeroLeeway(t *testing.T) {
	t.Parallel()
	clk := newClock()
	k := testKeys()[0]
	srv := newJWKSServer(t, map[string]*rsa.PublicKey{testKid: &k.PublicKey})
	v := newTestVerifier(t, clk, srv, func(c *Config) { c.Leeway = -1 })
	tok := mint(t, k, hdr(testKid), with(v1Claims(clk.Now()), "exp", clk.Now().Unix()))
	_, err := v.Verify(context.Background(), tok)
	wantReason(t, err, ssoerr.ErrExpired, ssoerr.ReasonExpired)
}

func TestVerifyPublicKeyPEM(t *testing.T) {
	t.Parallel()
	clk := newClock()
	k := testKeys()[0]
	armoured := pemOf(t, &k.PublicKey)
	bare := strings.Join(strings.Split(strings.TrimSpace(armoured), "\n")[1:len(strings.Split(strings.TrimSpace(armoured), "\n"))-1], "")
	for name, key := range map[string]string{"armoured": armoured, "bare": bare} {
		t.Run(name, func(t *testing.T) {
			v, err := New(Config{PublishableKey: testPublishableKey, PublicKeyPEM: key, Now: clk.Now,
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
			wantReason(t, err, ssoerr.ErrInvalidToken, ssoerr.ReasonSignature)
		})
	}
}

func TestNewClerkVerifierConfig(t *testing.T) {
	t.Parallel()
	k := testKeys()[0]
	tests := []struct {
		name string
		cfg  Config
		want string // substring of the error; empty means valid
	}{
		{"no issuer", Config{SecretKey: "sk_test_x"}, "needs PublishableKey or Issuer"},
		{"issuer mismatch", Config{PublishableKey: testPublishableKey, Issuer: "https://other.example"}, "does not match"},
		{"http issuer", Config{Issuer: "http://clerk.example.com"}, "must be https"},
		{"http loopback issuer without the switch", Config{Issuer: "http://127.0.0.1:4451/clerk"}, "must be https"},
		{"http loopback issuer with the switch", Config{Issuer: "http://127.0.0.1:4451/clerk", InsecureHTTPLoopback: true}, ""},
		{"http non-loopback with the switch", Config{Issuer: "http://clerk.example.com", InsecureHTTPLoopback: true}, "must be https"},
		{"http JWKS URL", Config{Issuer: testIssuer, JWKSURL: "http://clerk.example.com/jwks"}, "must be https"},
		{"http API URL", Config{Issuer: testIssuer, SecretKey: "sk", APIURL: "http://api.example.com/v1"}, "must be https"},
		{"bad publishable key", Config{PublishableKey: "pk_test_!!"}, "invalid publishable key"},
		{"PEM and JWKS URL", Config{Issuer: testIssuer, PublicKeyPEM: pemOf(t, &k.PublicKey), JWKSURL: "https://x/jwks"}, "not both"},
		{"bad PEM", Config{Issuer: testIssuer, PublicKeyPEM: "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"}, "PublicKeyPEM"},
		{"leeway too large", Config{Issuer: testIssuer, Leeway: time.Hour}, "Leeway"},
		{"empty authorized party", Config{Issuer: testIssuer, AuthorizedParties: []string{""}}, "empty"},
		{"credentials in the issuer", Config{Issuer: "https://u:p@clerk.example.com"}, "user name or password"},
		{"credentials in the JWKS URL", Config{Issuer: testIssuer, JWKSURL: "https://u:p@clerk.example.com/jwks"}, "user name or password"},
		{"credentials in the API URL", Config{Issuer: testIssuer, SecretKey: "sk", APIURL: "https://u:p@api.example.com/v1"}, "user name or password"},
		{"a bad escape in the issuer's password", Config{Issuer: "https://u:S3cret%zz@clerk.example.com"}, "is not a URL"},
		{"a space in the JWKS URL's password", Config{Issuer: testIssuer, JWKSURL: "https://u:S3 cret@clerk.example.com/jwks"}, "is not a URL"},
		{"credentials in an issuer that does not match the key", Config{PublishableKey: testPublishableKey, Issuer: "https://u:S3cret@clerk.example.com"}, "user name or password"},
		{"defaults", Config{PublishableKey: testPublishableKey}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.cfg)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("unexpected error %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			case err != nil && (strings.Contains(err.Error(), "S3") || strings.Contains(err.Error(), "u:p")):
				t.Fatalf("the error repeats a password: %v", err)
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

// Refusal details print NumericDates as the token wrote them.
func TestNumericDatesInMessages(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testKid, nil)
	now := f.clk.Now()
	_, err := f.v.Verify(context.Background(), mint(t, f.keys[0], hdr(testKid), with(v1Claims(now), "exp", 1796083723)))
	if err == nil || !strings.Contains(err.Error(), "exp 1796083723 is past") {
		t.Fatalf("%v", err)
	}
	_, err = f.v.Verify(context.Background(), mint(t, f.keys[0], hdr(testKid), with(v1Claims(now), "nbf", now.Unix()+3600)))
	if err == nil || strings.Contains(err.Error(), "e+09") {
		t.Fatalf("%v", err)
	}
}

// TestVerifySessionCategories: a session token's cat, as Clerk writes it,
// or none (tokens from before Clerk wrote one) is accepted.
func TestVerifySessionCategories(t *testing.T) {
	f := newFixture(t, testKid, nil)
	now := f.clk.Now()
	for _, h := range []map[string]any{hdr(testKid), with(hdr(testKid), "cat", "cl_B7d4PD111AAA"), with(hdr(testKid), "cat", "cl_I7d4PD111III")} {
		if _, err := f.v.Verify(context.Background(), mint(t, f.keys[0], h, v2Claims(now))); err != nil {
			t.Errorf("header %v: %v", h, err)
		}
	}
}
