package bench

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clerk/clerk-sdk-go/v2"
	clerkhttp "github.com/clerk/clerk-sdk-go/v2/http"
	clerkjwks "github.com/clerk/clerk-sdk-go/v2/jwks"
	"github.com/ssokit/ssokit/admission"
	"github.com/ssokit/ssokit/apikey"
	"github.com/ssokit/ssokit/appsession"
	"github.com/ssokit/ssokit/clerkauth"
	"github.com/ssokit/ssokit/internal/clerktest"
	"github.com/ssokit/ssokit/internal/rsaverify"
	"github.com/ssokit/ssokit/middleware"
	"github.com/ssokit/ssokit/store"
)

// httpClients is the number of concurrent keep-alive clients of the load
// generator.
const httpClients = 50

// coldTokens is how many distinct tokens the cold sub-benchmarks send in
// turn. Minting one per request would cost more than the run itself, so
// the caches are off instead (see BenchmarkHTTP).
const coldTokens = 256

// BenchmarkHTTP measures HTTP throughput: a real loopback server
// (httptest.Server) serving a trivial handler that writes "ok", and an
// in-process load generator of 50 concurrent keep-alive clients on the same
// machine. ns/op is wall time per request over all clients (1 / throughput)
// and req/s the throughput; the client's cost is in every sub-benchmark,
// bare included.
//
//   - bare_bearer, bare_cold, bare_cookie, bare_api_key: the handler alone,
//     sent the very request of the row it is compared with (the Clerk
//     token, the cold tokens in turn, the session cookie, the API key), so
//     that carrying and parsing the credential's header, which no
//     middleware can avoid, is on both sides.
//   - ssokit_cache_hit: ssokit's Handler (Clerk, app sessions, API keys,
//     admission, store versions) and a Clerk token it has verified before.
//   - ssokit_cold: every request verified in full. 256 distinct tokens in
//     turn, with the Verifier's token cache off (DisableTokenCache) and a
//     principal cache of one entry, so no request is answered from a cache.
//   - ssokit_app_cookie, ssokit_api_key: the app's own session cookie and an
//     agent API key at steady state (checked before, store unchanged).
//   - clerkhttp_cold: clerk-sdk-go's RequireHeaderAuthorization (JWKS
//     client, azp checked as ssokit does) with the same 256 tokens; it
//     caches no token.
//   - rsa_handler: a handler that checks one fixed RS256 signature with
//     rsa.VerifyPKCS1v15 and writes "ok", sent the cold tokens: what the
//     RSA limit below computes, measured on the server instead.
//   - rsa_verify: one RS256 signature checked with rsa.VerifyPKCS1v15 by 50
//     goroutines, no HTTP: wall time per check, the RSA cost of a cold
//     request with crypto/rsa, which every peer here uses. The RSA limit, a
//     verifier's best throughput relative to bare with that check, is
//     bare / (bare + rsa_verify) in ns/op (scripts/bench.sh prints it).
//   - rsaverify_verify: the same check with ssokit's own (internal/rsaverify,
//     the key prepared once), which the cold rows above use: the limit with
//     it in place of crypto/rsa's is printed too.
func BenchmarkHTTP(b *testing.B) {
	k := clerktest.Keys()[0]
	const kid = "ins_bench"
	jwks := clerktest.NewJWKSServer(b, map[string]*rsa.PublicKey{kid: &k.PublicKey})
	now := time.Now()
	mint := func(sid string) string {
		c := clerktest.With(clerktest.V1Claims(now), "exp", now.Add(time.Hour).Unix(), "sid", sid)
		return clerktest.Mint(b, k, clerktest.Header(kid), c)
	}
	tok := mint("sess_bench")
	coldRing := sync.OnceValue(func() []string {
		ring := make([]string, coldTokens)
		for i := range ring {
			ring[i] = mint(fmt.Sprint("sess_cold_", i))
		}
		return ring
	})
	ctx := context.Background()
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })

	// The app: Clerk with its token cache, app sessions and API keys on
	// the memory store.
	st, _ := store.NewMemory(store.MemoryConfig{})
	if err := st.CreateOrg(ctx, store.Org{ID: "acme", Plan: "enterprise", ClerkOrgID: "org_acme", AllowedDomains: []string{"acme.test"},
		DefaultRole: "viewer", AutoCreateUsers: true, GroupRoles: []store.GroupRule{{Group: "engineering", Role: "editor"}}}); err != nil {
		b.Fatal(err)
	}
	sess, err := appsession.New(appsession.Config{Keys: []appsession.Key{appsession.EphemeralKey()}, Issuer: "https://app.test", InsecureCookie: true, Revocations: st})
	if err != nil {
		b.Fatal(err)
	}
	keys, err := apikey.New(apikey.Config{Store: st})
	if err != nil {
		b.Fatal(err)
	}
	adm, err := admission.New(admission.Config{Store: st})
	if err != nil {
		b.Fatal(err)
	}
	verifier := func(noCache bool) *clerkauth.Verifier {
		v, err := clerkauth.New(clerkauth.Config{Issuer: clerktest.Issuer, JWKSURL: jwks.URL, InsecureHTTPLoopback: true,
			AuthorizedParties: []string{clerktest.Azp}, DisableTokenCache: noCache, HTTPClient: jwks.Client()})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := v.Verify(ctx, tok); err != nil { // fetch the key set
			b.Fatal(err)
		}
		return v
	}
	app, err := middleware.NewAuthenticator(middleware.AuthenticatorConfig{Clerk: verifier(false), Sessions: sess, APIKeys: keys,
		Admission: adm, Versions: st})
	if err != nil {
		b.Fatal(err)
	}
	person, err := adm.Admit(ctx, admission.Login{ClerkOrgID: "org_acme", Email: "bench@acme.test", Groups: []string{"engineering"}})
	if err != nil {
		b.Fatal(err)
	}
	rec := httptest.NewRecorder()
	if _, err := app.StartSession(rec, person); err != nil {
		b.Fatal(err)
	}
	var cookies []string
	for _, c := range rec.Result().Cookies() {
		cookies = append(cookies, c.Name+"="+c.Value)
	}
	plain, _, err := keys.Create(ctx, "acme", "bench", "editor", time.Time{})
	if err != nil {
		b.Fatal(err)
	}
	cold, err := middleware.NewAuthenticator(middleware.AuthenticatorConfig{Clerk: verifier(true), CacheSize: 1})
	if err != nil {
		b.Fatal(err)
	}

	// The requests, each made once: a row's two sides send the same.
	coldHeaders := sync.OnceValue(func() []string {
		ring := coldRing()
		hs := make([]string, len(ring))
		for i, t := range ring {
			hs[i] = "Bearer " + t
		}
		return hs
	})
	coldBearer := func(r *http.Request, i uint64) {
		hs := coldHeaders()
		r.Header["Authorization"] = []string{hs[i%uint64(len(hs))]}
	}
	bearer := []string{"Bearer " + tok}
	withBearer := func(r *http.Request, _ uint64) { r.Header["Authorization"] = bearer }
	cookie := []string{strings.Join(cookies, "; ")}
	withCookie := func(r *http.Request, _ uint64) { r.Header["Cookie"] = cookie }
	apiKey := []string{plain}
	withAPIKey := func(r *http.Request, _ uint64) { r.Header["X-Api-Key"] = apiKey }

	b.Run("bare_bearer", func(b *testing.B) { loadHTTP(b, ok, withBearer) })
	b.Run("bare_cold", func(b *testing.B) { loadHTTP(b, ok, coldBearer) })
	b.Run("bare_cookie", func(b *testing.B) { loadHTTP(b, ok, withCookie) })
	b.Run("bare_api_key", func(b *testing.B) { loadHTTP(b, ok, withAPIKey) })
	b.Run("ssokit_cache_hit", func(b *testing.B) { loadHTTP(b, app.Handler(ok), withBearer) })
	b.Run("ssokit_cold", func(b *testing.B) { loadHTTP(b, cold.Handler(ok), coldBearer) })
	b.Run("ssokit_app_cookie", func(b *testing.B) { loadHTTP(b, app.Handler(ok), withCookie) })
	b.Run("ssokit_api_key", func(b *testing.B) { loadHTTP(b, app.Handler(ok), withAPIKey) })
	b.Run("clerkhttp_cold", func(b *testing.B) {
		apiURL, key := jwks.URL+"/v1", "sk_test_bench"
		jc := clerkjwks.NewClient(&clerk.ClientConfig{BackendConfig: clerk.BackendConfig{
			HTTPClient: jwks.Client(), URL: &apiURL, Key: &key}})
		h := clerkhttp.RequireHeaderAuthorization(clerkhttp.JWKSClient(jc), clerkhttp.AuthorizedPartyMatches(clerktest.Azp))(ok)
		loadHTTP(b, h, coldBearer)
	})
	b.Run("rsa_handler", func(b *testing.B) {
		i := strings.LastIndexByte(tok, '.')
		digest := sha256.Sum256([]byte(tok[:i]))
		sig, _ := base64.RawURLEncoding.DecodeString(tok[i+1:])
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if rsa.VerifyPKCS1v15(&k.PublicKey, crypto.SHA256, digest[:], sig) != nil {
				w.WriteHeader(500)
			}
			io.WriteString(w, "ok")
		})
		loadHTTP(b, h, coldBearer)
	})
	b.Run("rsa_verify", func(b *testing.B) {
		i := strings.LastIndexByte(tok, '.')
		digest := sha256.Sum256([]byte(tok[:i]))
		sig, _ := base64.RawURLEncoding.DecodeString(tok[i+1:])
		b.ReportAllocs()
		parallel(b, func(uint64) error { return rsa.VerifyPKCS1v15(&k.PublicKey, crypto.SHA256, digest[:], sig) })
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verify/s")
	})
	b.Run("rsaverify_verify", func(b *testing.B) {
		i := strings.LastIndexByte(tok, '.')
		digest := sha256.Sum256([]byte(tok[:i]))
		sig, _ := base64.RawURLEncoding.DecodeString(tok[i+1:])
		key, err := rsaverify.Prepare(&k.PublicKey)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		parallel(b, func(uint64) error { return key.VerifySHA256(&digest, sig) })
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verify/s")
	})
}

// loadHTTP serves h on a loopback listener and sends it b.N GET requests
// from httpClients concurrent keep-alive clients; set adds the request's
// credential (i counts requests). Every client's first request is checked
// before the timer starts, and every answer must be 200 "ok".
func loadHTTP(b *testing.B, h http.Handler, set func(r *http.Request, i uint64)) {
	srv := httptest.NewServer(h)
	defer srv.Close()
	tr := &http.Transport{MaxIdleConns: httpClients, MaxIdleConnsPerHost: httpClients, IdleConnTimeout: time.Minute}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	var seq atomic.Uint64
	do := func() error {
		i := seq.Add(1)
		r, err := http.NewRequest("GET", srv.URL+"/", nil)
		if err != nil {
			return err
		}
		if set != nil {
			set(r, i)
		}
		resp, err := client.Do(r)
		if err != nil {
			return err
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK || string(body) != "ok" {
			return fmt.Errorf("answer %d %q, want 200 \"ok\"", resp.StatusCode, body)
		}
		return nil
	}
	// Open every client's connection, and check the credential is accepted.
	var wg sync.WaitGroup
	errs := make(chan error, httpClients)
	for range httpClients {
		wg.Go(func() {
			if err := do(); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	parallel(b, func(uint64) error { return do() })
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// parallel runs f b.N times from httpClients goroutines (exactly, whatever
// GOMAXPROCS is) and fails b on the first error.
func parallel(b *testing.B, f func(i uint64) error) {
	var next atomic.Int64
	var failed atomic.Pointer[error]
	var wg sync.WaitGroup
	for range httpClients {
		wg.Go(func() {
			for n := next.Add(1); n <= int64(b.N); n = next.Add(1) {
				if err := f(uint64(n)); err != nil {
					failed.CompareAndSwap(nil, &err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := failed.Load(); err != nil {
		b.Fatal(*err)
	}
}
