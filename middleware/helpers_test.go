package middleware

import (
	"crypto/rsa"
	"testing"

	"github.com/ssokit/ssokit/clerkauth"
	"github.com/ssokit/ssokit/internal/clerktest"
)

// Short names for the shared token minting helpers.
var (
	testKeys      = clerktest.Keys
	newClock      = clerktest.NewClock
	mint          = clerktest.Mint
	hdr           = clerktest.Header
	v1Claims      = clerktest.V1Claims
	v2Claims      = clerktest.V2Claims
	with          = clerktest.With
	newJWKSServer = clerktest.NewJWKSServer
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
func newTestVerifier(t testing.TB, clk *fakeClock, srv *jwksServer, mod func(*clerkauth.Config)) *clerkauth.Verifier {
	t.Helper()
	cfg := clerkauth.Config{
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
	v, err := clerkauth.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// fixture is a verifier for testIssuer over a JWKS server that publishes
// testKeys()[0] under one kid, with a settable clock.
type fixture struct {
	clk  *fakeClock
	keys []*rsa.PrivateKey
	srv  *jwksServer
	v    *clerkauth.Verifier
}

func newFixture(t testing.TB, kid string, mod func(*clerkauth.Config)) fixture {
	t.Helper()
	keys := testKeys()
	clk := newClock()
	srv := newJWKSServer(t, map[string]*rsa.PublicKey{kid: &keys[0].PublicKey})
	return fixture{clk: clk, keys: keys, srv: srv, v: newTestVerifier(t, clk, srv, mod)}
}
