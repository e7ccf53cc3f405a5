package bench

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
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
	"github.com/ssokit/ssokit/clerkauth"
	"github.com/ssokit/ssokit/internal/clerktest"
	"github.com/ssokit/ssokit/middleware"
)

// discardWriter is a reusable ResponseWriter, so the middleware benchmarks
// measure the middleware and not a recorder.
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

// BenchmarkVerify verifies the same RS256 Clerk token, every check and no
// cache, with ssokit, golang-jwt and clerk-sdk-go's jwt.Verify, beside the
// bare RSA floor and ssokit's cache hit; and runs the same request through
// ssokit's Handler (caches off: each request a token it has not seen) and
// clerk-sdk-go's RequireHeaderAuthorization.
func BenchmarkVerify(b *testing.B) {
	k := clerktest.Keys()[0]
	const kid = "ins_bench"
	srv := clerktest.NewJWKSServer(b, map[string]*rsa.PublicKey{kid: &k.PublicKey})
	now := time.Now()
	mint := func(sid string) string {
		c := clerktest.With(clerktest.V1Claims(now), "exp", now.Add(time.Hour).Unix(), "sid", sid)
		return clerktest.Mint(b, k, clerktest.Header(kid), c)
	}
	tok := mint("sess_bench")
	ctx := context.Background()
	mk := func(noCache bool) *clerkauth.Verifier {
		v, err := clerkauth.New(clerkauth.Config{Issuer: clerktest.Issuer, JWKSURL: srv.URL, InsecureHTTPLoopback: true,
			AuthorizedParties: []string{clerktest.Azp}, DisableTokenCache: noCache, HTTPClient: srv.Client()})
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
	b.Run("golang_jwt", func(b *testing.B) {
		p := gojwt.NewParser(gojwt.WithValidMethods([]string{"RS256"}), gojwt.WithExpirationRequired(),
			gojwt.WithIssuer(clerktest.Issuer), gojwt.WithLeeway(5*time.Second))
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
		jwk, err := clerk.JSONWebKeyFromPEM(clerktest.PEM(b, &k.PublicKey))
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
	b.Run("ssokit_middleware_cold", func(b *testing.B) {
		// A principal cache of one entry and a ring of distinct tokens: no
		// request is answered from a cache, as none is in clerk-sdk-go.
		a, err := middleware.NewAuthenticator(middleware.AuthenticatorConfig{Clerk: cold, CacheSize: 1})
		if err != nil {
			b.Fatal(err)
		}
		ring := make([]*http.Request, 16)
		for i := range ring {
			ring[i] = httptest.NewRequest("GET", "/", nil)
			ring[i].Header.Set("Authorization", "Bearer "+mint(fmt.Sprint("sess_", i)))
		}
		benchRing(b, a.Handler(okHandler), ring)
	})
	b.Run("clerk_middleware", func(b *testing.B) {
		apiURL, key := srv.URL+"/v1", "sk_test_bench"
		jc := clerkjwks.NewClient(&clerk.ClientConfig{BackendConfig: clerk.BackendConfig{
			HTTPClient: srv.Client(), URL: &apiURL, Key: &key}})
		h := clerkhttp.RequireHeaderAuthorization(clerkhttp.JWKSClient(jc))(okHandler)
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		benchRing(b, h, []*http.Request{r})
	})
}

// benchRing serves the requests in turn; each is checked once first, since
// a refusal would make the loop meaningless.
func benchRing(b *testing.B, h http.Handler, ring []*http.Request) {
	for _, r := range ring {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if rec.Code != http.StatusOK {
			b.Fatalf("middleware refused the benchmark token: %d %s", rec.Code, rec.Body)
		}
	}
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		h.ServeHTTP(w, ring[i%len(ring)])
		i++
	}
}
