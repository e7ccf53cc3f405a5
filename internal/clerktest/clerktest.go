// Package clerktest mints Clerk-shaped session tokens and serves a JWKS
// whose keys, availability and latency a test changes while it runs. It is
// for ssokit's own tests (clerkauth, middleware); it imports testing.
package clerktest

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Keys are three RSA keys generated once per test binary; generation is the slow part.
var Keys = sync.OnceValue(func() []*rsa.PrivateKey {
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

// The issuer, authorized party and key ID the minted tokens use.
const (
	Issuer = "https://clerk.example.com"
	Azp    = "https://app.example.com"
	Kid    = "ins_test_1"
)

// PublishableKey encodes Issuer's host the way Clerk does.
var PublishableKey = "pk_live_" + base64.StdEncoding.EncodeToString([]byte("clerk.example.com$"))

// Clock is a settable clock shared by a verifier and its test.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock is a Clock set to a fixed instant in 2027.
func NewClock() *Clock { return &Clock{t: time.Unix(1_800_000_000, 0)} }

// Now reads the clock.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Seg is v as JSON in base64url, one JWS segment.
func Seg(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// Mint signs header and claims with key using RS256.
func Mint(t testing.TB, key *rsa.PrivateKey, header, claims map[string]any) string {
	t.Helper()
	in := Seg(t, header) + "." + Seg(t, claims)
	d := sha256.Sum256([]byte(in))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, d[:])
	if err != nil {
		t.Fatal(err)
	}
	return in + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// Header is an RS256 JWS header naming kid.
func Header(kid string) map[string]any {
	return map[string]any{"alg": "RS256", "kid": kid, "typ": "JWT"}
}

// V1Claims is a Clerk v1 session token's payload valid at now.
func V1Claims(now time.Time) map[string]any {
	return map[string]any{
		"azp": Azp, "iss": Issuer, "sub": "user_1", "sid": "sess_1",
		"exp": now.Add(time.Minute).Unix(), "iat": now.Unix(), "nbf": now.Add(-10 * time.Second).Unix(),
		"fva":    []int{7, -1},
		"org_id": "org_1", "org_slug": "acme", "org_role": "org:admin",
		"org_permissions": []string{"org:sys_profile:manage", "org:dashboard:read"},
	}
}

// V2Claims is a Clerk v2 session token's payload valid at now.
func V2Claims(now time.Time) map[string]any {
	return map[string]any{
		"azp": Azp, "iss": Issuer, "sub": "user_2", "sid": "sess_2", "v": 2, "jti": "jti_2",
		"exp": now.Add(time.Minute).Unix(), "iat": now.Unix(), "nbf": now.Add(-10 * time.Second).Unix(),
		"fea": "o:dashboard,o:teams", "pla": "o:pro",
		"o": map[string]any{"id": "org_2", "slg": "contoso", "rol": "admin", "per": "manage,read", "fpm": "3,2"},
	}
}

// With is a copy of m with kv pairs set (a nil value deletes the key).
func With(m map[string]any, kv ...any) map[string]any {
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

// JWK is pub as a JWK of kid.
func JWK(kid string, pub *rsa.PublicKey) map[string]any {
	return map[string]any{
		"kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid,
		"n": base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
	}
}

// PEM is pub in PKIX PEM form.
func PEM(t testing.TB, pub *rsa.PublicKey) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// JWKSServer serves a JWKS whose keys, availability and latency tests
// change while it runs, and counts fetches.
type JWKSServer struct {
	*httptest.Server
	Fetches atomic.Int64
	Down    atomic.Bool
	Delay   atomic.Int64 // nanoseconds
	mu      sync.Mutex
	keys    []map[string]any
	Secret  string // when set, required as Bearer on /v1/jwks
}

// NewJWKSServer serves keys until the test ends.
func NewJWKSServer(t testing.TB, keys map[string]*rsa.PublicKey) *JWKSServer {
	t.Helper()
	s := &JWKSServer{}
	s.Set(keys)
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// Set replaces the published keys.
func (s *JWKSServer) Set(keys map[string]*rsa.PublicKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = s.keys[:0]
	for kid, pub := range keys {
		s.keys = append(s.keys, JWK(kid, pub))
	}
}

func (s *JWKSServer) serve(w http.ResponseWriter, r *http.Request) {
	s.Fetches.Add(1)
	if d := s.Delay.Load(); d > 0 {
		select {
		case <-time.After(time.Duration(d)):
		case <-r.Context().Done():
			return
		}
	}
	if s.Down.Load() {
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
		return
	}
	if s.Secret != "" && r.Header.Get("Authorization") != "Bearer "+s.Secret {
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

// SignInput signs a JWS signing input with RS256 and returns the token.
func SignInput(t testing.TB, key *rsa.PrivateKey, in string) string {
	t.Helper()
	d := sha256.Sum256([]byte(in))
	sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, d[:])
	if err != nil {
		t.Fatal(err)
	}
	return in + "." + base64.RawURLEncoding.EncodeToString(sig)
}
