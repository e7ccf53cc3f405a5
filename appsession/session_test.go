package appsession

import (
	"context"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/ssokit/ssokit/internal/clerktest"
	"github.com/ssokit/ssokit/ssoerr"
	"github.com/ssokit/ssokit/store"
)

const issuer = "https://app.test"

func mem(t testing.TB, now func() time.Time) *store.Memory {
	t.Helper()
	m, err := store.NewMemory(store.MemoryConfig{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func newManager(t testing.TB, clk *clerktest.Clock, keys ...Key) *Manager {
	t.Helper()
	m, err := New(Config{Keys: keys, Issuer: issuer, Now: clk.Now, Revocations: mem(t, clk.Now)})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// signRaw builds a token from raw header and claims JSON, signed by key
// (RSA: RS256, Ed25519: EdDSA), so tests control every byte.
func signRaw(t testing.TB, key any, header, claims string) string {
	t.Helper()
	in := base64.RawURLEncoding.EncodeToString([]byte(header)) + "." + base64.RawURLEncoding.EncodeToString([]byte(claims))
	switch k := key.(type) {
	case *rsa.PrivateKey:
		return clerktest.SignInput(t, k, in)
	case ed25519.PrivateKey:
		return in + "." + base64.RawURLEncoding.EncodeToString(ed25519.Sign(k, []byte(in)))
	case []byte: // HMAC with the given secret
		mac := hmac.New(sha256.New, k)
		mac.Write([]byte(in))
		return in + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
	}
	t.Fatalf("key %T", key)
	return ""
}

func TestIssueVerify(t *testing.T) {
	t.Parallel()
	clk := clerktest.NewClock()
	rsaKey := clerktest.Keys()[0]
	for name, k := range map[string]Key{"EdDSA": EphemeralKey(), "RS256": {ID: "r", Key: rsaKey}} {
		m := newManager(t, clk, k)
		tok, exp, err := m.Issue(Claims{Subject: "usr_1", OrgID: "acme", Role: "editor", AuthMethod: "sso", IdPName: "okta", Email: "a@acme.test"})
		if err != nil {
			t.Fatal(err)
		}
		if !exp.Equal(clk.Now().Add(DefaultLifetime)) {
			t.Errorf("%s: exp %v", name, exp)
		}
		c, err := m.Verify(tok)
		if err != nil || c.Subject != "usr_1" || c.OrgID != "acme" || c.Role != "editor" || c.Issuer != issuer || c.ID == "" || c.IdPName != "okta" {
			t.Fatalf("%s: %v %+v", name, err, c)
		}
	}
	m := newManager(t, clk, EphemeralKey())
	if _, _, err := m.Issue(Claims{OrgID: "acme"}); err == nil {
		t.Error("issued a session without a subject")
	}
}

// Every refusal names its reason; each case changes one thing of a token
// that verifies.
func TestVerifyRefusals(t *testing.T) {
	t.Parallel()
	clk := clerktest.NewClock()
	ed := EphemeralKey()
	rsaKey := clerktest.Keys()[0]
	m := newManager(t, clk, ed, Key{ID: "r", Key: rsaKey})
	now := clk.Now().Unix()
	edHdr := `{"alg":"EdDSA","kid":"` + ed.ID + `","typ":"JWT"}`
	claims := func(extra string) string {
		return `{"sub":"usr_1","org_id":"acme","role":"viewer","iss":"` + issuer + `","iat":` + itoa(now) + `,"exp":` + itoa(now+600) + `,"jti":"j1"` + extra + `}`
	}
	good := signRaw(t, ed.Key, edHdr, claims(""))
	if _, err := m.Verify(good); err != nil {
		t.Fatalf("the base token: %v", err)
	}
	pubDER, _ := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	otherEd := EphemeralKey()
	cases := []struct {
		name     string
		tok      string
		sentinel error
		reason   ssoerr.Reason
	}{
		{"empty", "", ssoerr.ErrInvalidToken, ssoerr.ReasonEmptyToken},
		{"too large", good + strings.Repeat("A", DefaultMaxTokenBytes), ssoerr.ErrInvalidToken, ssoerr.ReasonTooLarge},
		{"two parts", good[:strings.LastIndexByte(good, '.')], ssoerr.ErrInvalidToken, ssoerr.ReasonMalformed},
		{"four parts", good + ".x", ssoerr.ErrInvalidToken, ssoerr.ReasonMalformed},
		{"padded base64", strings.Replace(good, ".", "=.", 1), ssoerr.ErrInvalidToken, ssoerr.ReasonMalformed},
		{"tampered claims", swapClaims(good, strings.Replace(claims(""), "viewer", "admin", 1)), ssoerr.ErrInvalidToken, ssoerr.ReasonSignature},
		{"other key, same kid", signRaw(t, otherEd.Key, edHdr, claims("")), ssoerr.ErrInvalidToken, ssoerr.ReasonSignature},
		{"alg none", unsigned(`{"alg":"none","kid":"`+ed.ID+`"}`, claims("")), ssoerr.ErrInvalidToken, ssoerr.ReasonAlgorithm},
		{"alg none, no kid", unsigned(`{"alg":"none"}`, claims("")), ssoerr.ErrInvalidToken, ssoerr.ReasonAlgorithm},
		{"HS256 with the public key", signRaw(t, pubPEM, `{"alg":"HS256","kid":"r"}`, claims("")), ssoerr.ErrInvalidToken, ssoerr.ReasonAlgorithm},
		{"RS256 header on the Ed25519 key", signRaw(t, rsaKey, `{"alg":"RS256","kid":"`+ed.ID+`"}`, claims("")), ssoerr.ErrInvalidToken, ssoerr.ReasonAlgorithm},
		{"unknown kid", signRaw(t, ed.Key, `{"alg":"EdDSA","kid":"gone"}`, claims("")), ssoerr.ErrInvalidToken, ssoerr.ReasonUnknownKeyID},
		{"crit", signRaw(t, ed.Key, `{"alg":"EdDSA","kid":"`+ed.ID+`","crit":["exp"]}`, claims("")), ssoerr.ErrInvalidToken, ssoerr.ReasonCritical},
		{"duplicate claim", signRaw(t, ed.Key, edHdr, claims(`,"role":"admin"`)), ssoerr.ErrInvalidToken, ssoerr.ReasonMalformed},
		{"case-folded claim", signRaw(t, ed.Key, edHdr, claims(`,"ROLE":"admin"`)), ssoerr.ErrInvalidToken, ssoerr.ReasonMalformed},
		{"case-folded org", signRaw(t, ed.Key, edHdr, claims(`,"Org_ID":"other"`)), ssoerr.ErrInvalidToken, ssoerr.ReasonMalformed},
		{"duplicate header kid", signRaw(t, ed.Key, `{"alg":"EdDSA","kid":"gone","kid":"`+ed.ID+`"}`, claims("")), ssoerr.ErrInvalidToken, ssoerr.ReasonMalformed},
		{"claims not an object", signRaw(t, ed.Key, edHdr, `["sub"]`), ssoerr.ErrInvalidToken, ssoerr.ReasonMalformed},
		{"wrong issuer", signRaw(t, ed.Key, edHdr, strings.Replace(claims(""), issuer, "https://evil.test", 1)), ssoerr.ErrInvalidToken, ssoerr.ReasonIssuer},
		{"no exp", signRaw(t, ed.Key, edHdr, strings.Replace(claims(""), `,"exp":`+itoa(now+600), "", 1)), ssoerr.ErrInvalidToken, ssoerr.ReasonMissingExpiry},
		{"expired", signRaw(t, ed.Key, edHdr, strings.Replace(claims(""), itoa(now+600), itoa(now-60), 1)), ssoerr.ErrExpired, ssoerr.ReasonExpired},
		{"iat in the future", signRaw(t, ed.Key, edHdr, strings.Replace(claims(""), `"iat":`+itoa(now), `"iat":`+itoa(now+300), 1)), ssoerr.ErrInvalidToken, ssoerr.ReasonIssuedInFuture},
		{"no jti", signRaw(t, ed.Key, edHdr, strings.Replace(claims(""), `,"jti":"j1"`, "", 1)), ssoerr.ErrInvalidToken, ssoerr.ReasonMissingSubject},
		{"no org", signRaw(t, ed.Key, edHdr, strings.Replace(claims(""), `"org_id":"acme",`, "", 1)), ssoerr.ErrInvalidToken, ssoerr.ReasonMissingSubject},
	}
	for _, c := range cases {
		_, err := m.Verify(c.tok)
		if err == nil {
			t.Errorf("%s: accepted", c.name)
			continue
		}
		if got := ssoerr.ReasonOf(err); got != c.reason || !errors.Is(err, c.sentinel) {
			t.Errorf("%s: %v (reason %q), want %q under %v", c.name, err, got, c.reason, c.sentinel)
		}
	}
}

// unsigned is header.claims. with an empty signature.
func unsigned(header, claims string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(header)) + "." + base64.RawURLEncoding.EncodeToString([]byte(claims)) + "."
}

// swapClaims keeps tok's header and signature around other claims.
func swapClaims(tok, claims string) string {
	p := strings.Split(tok, ".")
	return p[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(claims)) + "." + p[2]
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

// A key rotated out of first place still verifies its sessions; a key
// removed ends them.
func TestRotation(t *testing.T) {
	t.Parallel()
	clk := clerktest.NewClock()
	oldKey := Key{ID: "old", Key: clerktest.Keys()[1]}
	newKey := EphemeralKey()
	old := newManager(t, clk, oldKey)
	rotated := newManager(t, clk, newKey, oldKey)
	tok, _, _ := old.Issue(Claims{Subject: "u", OrgID: "o"})
	if c, err := rotated.Verify(tok); err != nil || c.Subject != "u" {
		t.Fatalf("a session of the rotated-out key: %v", err)
	}
	newTok, _, _ := rotated.Issue(Claims{Subject: "u", OrgID: "o"})
	if _, err := old.Verify(newTok); ssoerr.ReasonOf(err) != ssoerr.ReasonUnknownKeyID {
		t.Fatalf("a key the verifier does not hold: %v", err)
	}
	// The JWKS lists both, in order, and verifies what the manager signs.
	set := rotated.JWKS()
	if len(set.Keys) != 2 || set.Keys[0].Algorithm != "EdDSA" || set.Keys[1].Algorithm != "RS256" || set.Keys[1].KeyID != "old" {
		t.Fatalf("JWKS %+v", set)
	}
	for _, k := range set.Keys {
		if !k.IsPublic() || !k.Valid() {
			t.Errorf("JWKS key %s is not a valid public key", k.KeyID)
		}
	}
	rec := httptest.NewRecorder()
	rotated.ServeJWKS(rec, httptest.NewRequest("GET", "/.well-known/jwks.json", nil))
	var served jose.JSONWebKeySet
	if err := json.Unmarshal(rec.Body.Bytes(), &served); err != nil || len(served.Keys) != 2 {
		t.Fatalf("served JWKS: %v %s", err, rec.Body)
	}
	sig, err := jose.ParseSignedCompact(newTok, []jose.SignatureAlgorithm{jose.EdDSA})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sig.Verify(served.Key(newKey.ID)[0].Key); err != nil {
		t.Errorf("the served JWKS does not verify the session: %v", err)
	}
}

func TestRevocation(t *testing.T) {
	t.Parallel()
	clk := clerktest.NewClock()
	m := newManager(t, clk, EphemeralKey())
	ctx := context.Background()
	tok, _, _ := m.Issue(Claims{Subject: "u", OrgID: "o"})
	other, _, _ := m.Issue(Claims{Subject: "u", OrgID: "o"})
	c, _ := m.Verify(tok)
	c2, _ := m.Verify(other)
	if r, err := m.Revoked(ctx, c); r || err != nil {
		t.Fatalf("fresh session revoked: %v %v", r, err)
	}
	if err := m.Revoke(ctx, c); err != nil {
		t.Fatal(err)
	}
	if r, _ := m.Revoked(ctx, c); !r {
		t.Error("revoked session not reported")
	}
	if r, _ := m.Revoked(ctx, c2); r {
		t.Error("another session of the person revoked too")
	}
	// Verify accepts a token until exp plus the leeway; a revocation holds
	// as long.
	clk.Advance(c.ExpiresTime().Add(DefaultLeeway - time.Second).Sub(clk.Now()))
	if _, err := m.Verify(tok); err != nil {
		t.Fatalf("within the leeway after exp, Verify: %v (the premise)", err)
	}
	if r, _ := m.Revoked(ctx, c); !r {
		t.Error("a revoked session is no longer revoked within the leeway after its exp")
	}
	bare, _ := New(Config{Keys: []Key{EphemeralKey()}, Issuer: issuer})
	if err := bare.Revoke(ctx, c); !errors.Is(err, ErrNoRevocations) {
		t.Errorf("revoke without a store: %v", err)
	}
	failing, _ := New(Config{Keys: []Key{EphemeralKey()}, Issuer: issuer, Revocations: failingRevocations{}})
	if _, err := failing.Revoked(ctx, c); !errors.Is(err, ssoerr.ErrUpstream) {
		t.Errorf("a store outage: %v, want ErrUpstream", err)
	}
}

type failingRevocations struct{}

func (failingRevocations) RevokeToken(context.Context, string, time.Time) error {
	return errors.New("down")
}
func (failingRevocations) IsRevoked(context.Context, string) (bool, error) {
	return false, errors.New("down")
}

func TestCookie(t *testing.T) {
	t.Parallel()
	clk := clerktest.NewClock()
	for _, insecure := range []bool{false, true} {
		m, _ := New(Config{Keys: []Key{EphemeralKey()}, Issuer: issuer, Now: clk.Now, InsecureCookie: insecure, Cookie: "app"})
		rec := httptest.NewRecorder()
		m.SetCookie(rec, "tok", clk.Now().Add(time.Hour))
		c := rec.Result().Cookies()[0]
		if c.Name != "app" || c.Value != "tok" || !c.HttpOnly || c.Secure == insecure || c.Path != "/" || c.MaxAge != 3600 || c.SameSite != 2 {
			t.Errorf("insecure=%v: cookie %+v", insecure, c)
		}
		rec = httptest.NewRecorder()
		m.ClearCookie(rec)
		if c := rec.Result().Cookies()[0]; c.MaxAge >= 0 || c.Value != "" {
			t.Errorf("cleared cookie %+v", c)
		}
	}
}

func TestKeyLoading(t *testing.T) {
	t.Parallel()
	rsaKey := clerktest.Keys()[2]
	der, _ := x509.MarshalPKCS8PrivateKey(rsaKey)
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	k, err := ParseKeyPEM("k1", pemKey)
	if err != nil || k.ID != "k1" {
		t.Fatalf("PEM: %v", err)
	}
	pkcs1 := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey)})
	if _, err := ParseKeyPEM("k1", pkcs1); err != nil {
		t.Fatalf("PKCS#1 PEM: %v", err)
	}
	ed := EphemeralKey()
	jwk, _ := jose.JSONWebKey{Key: ed.Key, KeyID: "k2", Algorithm: "EdDSA"}.MarshalJSON()
	k2, err := ParseKeyJWK(jwk)
	if err != nil || k2.ID != "k2" {
		t.Fatalf("JWK: %v", err)
	}
	pubOnly, _ := jose.JSONWebKey{Key: &rsaKey.PublicKey, KeyID: "k3"}.MarshalJSON()
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	smallDER, _ := x509.MarshalPKCS8PrivateKey(small)
	_, ecdsaPriv, _ := ed25519.GenerateKey(rand.Reader)
	for name, f := range map[string]func() error{
		"not PEM": func() error { _, err := ParseKeyPEM("x", []byte("nope")); return err },
		"short RSA": func() error {
			_, err := ParseKeyPEM("x", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: smallDER}))
			return err
		},
		"PEM without ID": func() error { _, err := ParseKeyPEM("", pemKey); return err },
		"public JWK":     func() error { _, err := ParseKeyJWK(pubOnly); return err },
		"JWK without kid": func() error {
			j, _ := jose.JSONWebKey{Key: ecdsaPriv}.MarshalJSON()
			_, err := ParseKeyJWK(j)
			return err
		},
		"not JSON": func() error { _, err := ParseKeyJWK([]byte("{")); return err },
		"no keys":  func() error { _, err := New(Config{Issuer: issuer}); return err },
		"no issuer": func() error {
			_, err := New(Config{Keys: []Key{ed}})
			return err
		},
		"duplicate key IDs": func() error { _, err := New(Config{Keys: []Key{ed, ed}, Issuer: issuer}); return err },
	} {
		if f() == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	m, err := New(Config{Keys: []Key{k, k2}, Issuer: issuer})
	if err != nil {
		t.Fatal(err)
	}
	tok, _, _ := m.Issue(Claims{Subject: "u", OrgID: "o"})
	if _, err := m.Verify(tok); err != nil {
		t.Fatal(err)
	}
}
