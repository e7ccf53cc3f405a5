package clerkauth

import (
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"testing"

	"github.com/ssokit/ssokit/internal/clerktest"
	"github.com/ssokit/ssokit/ssoerr"
)

// Short names for the shared token minting helpers.
var (
	testKeys           = clerktest.Keys
	testPublishableKey = clerktest.PublishableKey
	newClock           = clerktest.NewClock
	seg                = clerktest.Seg
	mint               = clerktest.Mint
	hdr                = clerktest.Header
	v1Claims           = clerktest.V1Claims
	v2Claims           = clerktest.V2Claims
	with               = clerktest.With
	jwkJSON            = clerktest.JWK
	pemOf              = clerktest.PEM
	newJWKSServer      = clerktest.NewJWKSServer
	signInput          = clerktest.SignInput
)

const (
	testIssuer = clerktest.Issuer
	testAzp    = clerktest.Azp
	testKid    = clerktest.Kid
)

type (
	fakeClock  = clerktest.Clock
	jwksServer = clerktest.JWKSServer
)

// newTestVerifier returns a verifier for testIssuer reading keys from srv.
func newTestVerifier(t testing.TB, clk *fakeClock, srv *jwksServer, mod func(*Config)) *Verifier {
	t.Helper()
	cfg := Config{
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
	v, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// wantReason fails unless err is a refusal with reason r wrapping sentinel.
func wantReason(t testing.TB, err error, sentinel error, r ssoerr.Reason) {
	t.Helper()
	if err == nil {
		t.Fatalf("accepted; want refusal %s", r)
	}
	if got := ssoerr.ReasonOf(err); got != r {
		t.Fatalf("reason = %q (%v); want %q", got, err, r)
	}
	if !errors.Is(err, sentinel) {
		t.Fatalf("error %v does not match %v", err, sentinel)
	}
}

// failingClient fails every request, proving a code path fetches nothing.
func failingClient() *http.Client {
	return &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		return nil, errors.New("network disabled in this test: " + r.URL.String())
	})}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func errOnly(_ *Session, err error) error { return err }

// fixture is a verifier for testIssuer over a JWKS server that publishes
// testKeys()[0] under one kid, with a settable clock.
type fixture struct {
	clk  *fakeClock
	keys []*rsa.PrivateKey
	srv  *jwksServer
	v    *Verifier
}

func newFixture(t testing.TB, kid string, mod func(*Config)) fixture {
	t.Helper()
	keys := testKeys()
	clk := newClock()
	srv := newJWKSServer(t, map[string]*rsa.PublicKey{kid: &keys[0].PublicKey})
	return fixture{clk: clk, keys: keys, srv: srv, v: newTestVerifier(t, clk, srv, mod)}
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func b64std(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
