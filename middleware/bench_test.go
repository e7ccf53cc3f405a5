package middleware

import (
	"context"
	"crypto/rsa"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ssokit/ssokit/admission"
	"github.com/ssokit/ssokit/clerkauth"
	"github.com/ssokit/ssokit/rbac"
)

// discardWriter is a reusable ResponseWriter, so the middleware
// benchmarks measure the middleware and not a recorder.
type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d *discardWriter) WriteHeader(int)             {}

// BenchmarkAuthenticate measures a Clerk Bearer token seen before, through
// Authenticate and through the whole Handler. A cold verification is
// clerkauth's BenchmarkVerify/ssokit_cold.
func BenchmarkAuthenticate(b *testing.B) {
	k := testKeys()[0]
	const kid = "ins_bench"
	srv := newJWKSServer(b, map[string]*rsa.PublicKey{kid: &k.PublicKey})
	now := time.Now()
	claims := v1Claims(now)
	claims["exp"] = now.Add(time.Hour).Unix()
	tok := mint(b, k, hdr(kid), claims)
	mk := func(noCache bool) *clerkauth.Verifier {
		v, err := clerkauth.New(clerkauth.Config{Issuer: testIssuer, JWKSURL: srv.URL, InsecureHTTPLoopback: true,
			AuthorizedParties: []string{testAzp}, DisableTokenCache: noCache, HTTPClient: srv.Client()})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := v.Verify(context.Background(), tok); err != nil {
			b.Fatal(err)
		}
		return v
	}
	okHandler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	a, _ := NewAuthenticator(AuthenticatorConfig{Clerk: mk(false)})
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	b.Run("authenticate_hit", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := a.Authenticate(r); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("middleware_hit", func(b *testing.B) { benchHandler(b, a.Handler(okHandler), tok) })
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
	p, err := e.adm.Admit(ctx, admission.Login{ClerkOrgID: "org_acme", Email: "bench@acme.test", Groups: []string{"engineering"}})
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
	cached, _ := clerkauth.New(clerkauth.Config{Issuer: testIssuer, JWKSURL: srv.URL, InsecureHTTPLoopback: true, HTTPClient: srv.Client()})
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
	rp := cookieReq.WithContext(WithPrincipal(cookieReq.Context(), &Principal{Role: p.Role}))
	b.Run("require_permission", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			allowed.ServeHTTP(w, rp)
		}
	})
}
