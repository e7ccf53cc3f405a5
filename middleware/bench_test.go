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
	"github.com/ssokit/ssokit/rbac"
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

// BenchmarkAppCredentials measures authenticating an app-cookie request
// and an API-key request (with the organization lookup, revocation check
// and a RequirePermission check), beside the Clerk cache hit of
// BenchmarkVerify, and RequirePermission alone.
func BenchmarkAppCredentials(b *testing.B) {
	e := newEnv(b)
	ctx := context.Background()
	p, err := e.a.Admit(ctx, SSOLogin{ClerkOrgID: "org_acme", Email: "bench@acme.test", Groups: []string{"engineering"}})
	if err != nil {
		b.Fatal(err)
	}
	cookieReq := sessionRequest(b, e, p)
	plain, _, _ := e.keys.Create(ctx, "acme", "bench", "editor", time.Time{})
	keyReq := httptest.NewRequest("GET", "/api", nil)
	keyReq.Header.Set("X-API-Key", plain)
	allowed := e.a.RequirePermission("projects:write")(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	w := &discardWriter{h: http.Header{}}

	k := testKeys()[0]
	srv := newJWKSServer(b, map[string]*rsa.PublicKey{"ins_bench": &k.PublicKey})
	claims := v1Claims(time.Now())
	claims["exp"] = time.Now().Add(time.Hour).Unix()
	tok := mint(b, k, hdr("ins_bench"), claims)
	cached, _ := NewClerkVerifier(ClerkConfig{Issuer: testIssuer, JWKSURL: srv.URL, InsecureHTTPLoopback: true, HTTPClient: srv.Client()})
	cached.Verify(ctx, tok)

	b.Run("clerk_cache_hit", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := cached.Verify(ctx, tok); err != nil {
				b.Fatal(err)
			}
		}
	})
	for name, r := range map[string]*http.Request{"app_cookie": cookieReq, "api_key": keyReq} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				pr, err := e.a.Authenticate(r)
				if err != nil || !e.a.Policy().Allowed(rbac.Role(pr.Role), "projects:write") {
					b.Fatal(err)
				}
			}
		})
	}
	rp := cookieReq.WithContext(WithPrincipal(cookieReq.Context(), p))
	b.Run("require_permission", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			allowed.ServeHTTP(w, rp)
		}
	})
}
