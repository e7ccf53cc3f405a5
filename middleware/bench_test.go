package middleware

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/clerk/clerk-sdk-go/v2"
	clerkhttp "github.com/clerk/clerk-sdk-go/v2/http"
	clerkjwks "github.com/clerk/clerk-sdk-go/v2/jwks"
	clerkjwt "github.com/clerk/clerk-sdk-go/v2/jwt"
	gojwt "github.com/golang-jwt/jwt/v5"
)

// discardWriter is a reusable ResponseWriter, so the middleware
// benchmarks measure the middleware and not a recorder.
type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d *discardWriter) WriteHeader(int)             {}

// golangJWTClaims is what a golang-jwt user would decode a Clerk token into.
type golangJWTClaims struct {
	gojwt.RegisteredClaims
	SessionID       string   `json:"sid"`
	AuthorizedParty string   `json:"azp"`
	OrgID           string   `json:"org_id"`
	OrgSlug         string   `json:"org_slug"`
	OrgRole         string   `json:"org_role"`
	OrgPermissions  []string `json:"org_permissions"`
	FVA             [2]int64 `json:"fva"`
}

// BenchmarkVerify compares, in one run, ssokit's Clerk verification with
// its peers on the same RS256 token: the raw RSA floor, golang-jwt,
// clerk-sdk-go's jwt.Verify and its HTTP middleware. scripts/bench.sh
// turns the results into ratios.
func BenchmarkVerify(b *testing.B) {
	k := testKeys()[0]
	const kid = "ins_bench"
	srv := newJWKSServer(b, map[string]*rsa.PublicKey{kid: &k.PublicKey})
	now := time.Now()
	claims := v1Claims(now)
	claims["exp"] = now.Add(time.Hour).Unix()
	tok := mint(b, k, hdr(kid), claims)
	ctx := context.Background()

	mk := func(noCache bool) *ClerkVerifier {
		v, err := NewClerkVerifier(ClerkConfig{Issuer: testIssuer, JWKSURL: srv.URL, InsecureHTTPLoopback: true,
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
	okHandler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})

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
	for _, c := range []struct {
		name string
		v    *ClerkVerifier
	}{{"ssokit_authenticate_cold", cold}, {"ssokit_authenticate_hit", cached}} {
		a, _ := NewAuthenticator(AuthenticatorConfig{Clerk: c.v})
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := a.Authenticate(r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	for _, c := range []struct {
		name string
		v    *ClerkVerifier
	}{{"ssokit_middleware_cold", cold}, {"ssokit_middleware_hit", cached}} {
		a, _ := NewAuthenticator(AuthenticatorConfig{Clerk: c.v})
		h := a.Handler(okHandler)
		b.Run(c.name, func(b *testing.B) { benchHandler(b, h, tok) })
	}
	b.Run("golang_jwt", func(b *testing.B) {
		p := gojwt.NewParser(gojwt.WithValidMethods([]string{"RS256"}), gojwt.WithExpirationRequired(),
			gojwt.WithIssuer(testIssuer), gojwt.WithLeeway(5*time.Second))
		keyFunc := func(*gojwt.Token) (any, error) { return &k.PublicKey, nil }
		b.ReportAllocs()
		for b.Loop() {
			var c golangJWTClaims
			if _, err := p.ParseWithClaims(tok, &c, keyFunc); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("clerk_jwt_verify", func(b *testing.B) {
		jwk, err := clerk.JSONWebKeyFromPEM(pemOf(b, &k.PublicKey))
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := clerkjwt.Verify(ctx, &clerkjwt.VerifyParams{Token: tok, JWK: jwk}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("clerk_middleware", func(b *testing.B) {
		apiURL, key := srv.URL+"/v1", "sk_test_bench"
		jc := clerkjwks.NewClient(&clerk.ClientConfig{BackendConfig: clerk.BackendConfig{
			HTTPClient: srv.Client(), URL: &apiURL, Key: &key}})
		h := clerkhttp.RequireHeaderAuthorization(clerkhttp.JWKSClient(jc))(okHandler)
		benchHandler(b, h, tok)
	})
}

func benchHandler(b *testing.B, h http.Handler, tok string) {
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	w := &discardWriter{h: http.Header{}}
	// One checked request first: a refusal would make the loop meaningless.
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if rec.Code != http.StatusOK {
		b.Fatalf("middleware refused the benchmark token: %d %s", rec.Code, rec.Body)
	}
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(w, r)
	}
}
