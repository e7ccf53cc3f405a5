package middleware

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Test keys are generated once per test binary; generation is the slow part.
var testKeys = sync.OnceValue(func() []*rsa.PrivateKey {
	keys := make([]*rsa.PrivateKey, 3)
	for i := range keys {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		keys[i] = k
	}
	return keys
})

const (
	testIssuer = "https://clerk.example.com"
	testAzp    = "https://app.example.com"
	testKid    = "ins_test_1"
)

// testPublishableKey encodes testIssuer's host the way Clerk does.
var testPublishableKey = "pk_live_" + base64.StdEncoding.EncodeToString([]byte("clerk.example.com$"))

// fakeClock is a settable clock shared by a verifier and its test.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock { return &fakeClock{t: time.Unix(1_800_000_000, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func seg(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// mint signs header and claims with key using RS256.
func mint(t testing.TB, key *rsa.PrivateKey, header, claims map[string]any) string {
	t.Helper()
	in := seg(t, header) + "." + seg(t, claims)
	d := sha256.Sum256([]byte(in))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, d[:])
	if err != nil {
		t.Fatal(err)
	}
	return in + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func hdr(kid string) map[string]any {
	return map[string]any{"alg": "RS256", "kid": kid, "typ": "JWT"}
}

// v1Claims is a Clerk v1 session token's payload valid at now.
func v1Claims(now time.Time) map[string]any {
	return map[string]any{
		"azp": testAzp, "iss": testIssuer, "sub": "user_1", "sid": "sess_1",
		"exp": now.Add(time.Minute).Unix(), "iat": now.Unix(), "nbf": now.Add(-10 * time.Second).Unix(),
		"fva":    []int{7, -1},
		"org_id": "org_1", "org_slug": "acme", "org_role": "org:admin",
		"org_permissions": []string{"org:sys_profile:manage", "org:dashboard:read"},
	}
}

// v2Claims is a Clerk v2 session token's payload valid at now.
func v2Claims(now time.Time) map[string]any {
	return map[string]any{
		"azp": testAzp, "iss": testIssuer, "sub": "user_2", "sid": "sess_2", "v": 2, "jti": "jti_2",
		"exp": now.Add(time.Minute).Unix(), "iat": now.Unix(), "nbf": now.Add(-10 * time.Second).Unix(),
		"fea": "o:dashboard,o:teams", "pla": "o:pro",
		"o": map[string]any{"id": "org_2", "slg": "contoso", "rol": "admin", "per": "manage,read", "fpm": "3,2"},
	}
}

func with(m map[string]any, kv ...any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(out, kv[i].(string))
		} else {
			out[kv[i].(string)] = kv[i+1]
		}
	}
	return out
}

func jwkJSON(kid string, pub *rsa.PublicKey) map[string]any {
	return map[string]any{
		"kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid,
		"n": base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
	}
}

func pemOf(t testing.TB, pub *rsa.PublicKey) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// jwksServer serves a JWKS whose keys, availability and latency tests
// change while it runs, and counts fetches.
type jwksServer struct {
	*httptest.Server
	fetches atomic.Int64
	down    atomic.Bool
	delay   atomic.Int64 // nanoseconds
	mu      sync.Mutex
	keys    []map[string]any
	secret  string // when set, required as Bearer on /v1/jwks
}

func newJWKSServer(t testing.TB, keys map[string]*rsa.PublicKey) *jwksServer {
	t.Helper()
	s := &jwksServer{}
	s.set(keys)
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) set(keys map[string]*rsa.PublicKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = s.keys[:0]
	for kid, pub := range keys {
		s.keys = append(s.keys, jwkJSON(kid, pub))
	}
}

func (s *jwksServer) serve(w http.ResponseWriter, r *http.Request) {
	s.fetches.Add(1)
	if d := s.delay.Load(); d > 0 {
		select {
		case <-time.After(time.Duration(d)):
		case <-r.Context().Done():
			return
		}
	}
	if s.down.Load() {
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
		return
	}
	if s.secret != "" && r.Header.Get("Authorization") != "Bearer "+s.secret {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"errors":[{"code":"authentication_invalid","message":"Unauthorized request","long_message":"The provided secret key is invalid"}],"clerk_trace_id":"t"}`))
		return
	}
	s.mu.Lock()
	body, _ := json.Marshal(map[string]any{"keys": s.keys})
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Write(body)
}

// newTestVerifier returns a verifier for testIssuer reading keys from srv.
func newTestVerifier(t testing.TB, clk *fakeClock, srv *jwksServer, mod func(*ClerkConfig)) *ClerkVerifier {
	t.Helper()
	cfg := ClerkConfig{
		Issuer:               testIssuer,
		JWKSURL:              srv.URL + "/.well-known/jwks.json",
		InsecureHTTPLoopback: true,
		AuthorizedParties:    []string{testAzp},
		Now:                  clk.Now,
		HTTPClient:           srv.Client(),
	}
	if mod != nil {
		mod(&cfg)
	}
	v, err := NewClerkVerifier(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// wantReason fails unless err is a refusal with reason r wrapping sentinel.
func wantReason(t testing.TB, err error, sentinel error, r Reason) {
	t.Helper()
	if err == nil {
		t.Fatalf("accepted; want refusal %s", r)
	}
	if got := ReasonOf(err); got != r {
		t.Fatalf("reason = %q (%v); want %q", got, err, r)
	}
	if !errorsIs(err, sentinel) {
		t.Fatalf("error %v does not match %v", err, sentinel)
	}
}

func errorsIs(err, target error) bool { return errors.Is(err, target) }

// failingClient fails every request, proving a code path fetches nothing.
func failingClient() *http.Client {
	return &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		return nil, errors.New("network disabled in this test: " + r.URL.String())
	})}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func errOnly(_ *Principal, err error) error { return err }

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func b64std(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func signInput(t testing.TB, key *rsa.PrivateKey, in string) string {
	t.Helper()
	d := sha256.Sum256([]byte(in))
	sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, d[:])
	if err != nil {
		t.Fatal(err)
	}
	return in + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// fixture is a verifier for testIssuer over a JWKS server that publishes
// testKeys()[0] under one kid, with a settable clock.
type fixture struct {
	clk  *fakeClock
	keys []*rsa.PrivateKey
	srv  *jwksServer
	v    *ClerkVerifier
}

func newFixture(t testing.TB, kid string, mod func(*ClerkConfig)) fixture {
	t.Helper()
	keys := testKeys()
	clk := newClock()
	srv := newJWKSServer(t, map[string]*rsa.PublicKey{kid: &keys[0].PublicKey})
	return fixture{clk: clk, keys: keys, srv: srv, v: newTestVerifier(t, clk, srv, mod)}
}
