package bench

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/oauth2-proxy/mockoidc"
	"github.com/ssokit/ssokit/mockidp"
	"golang.org/x/oauth2"
)

// loopbackRedirect is a loopback redirect URI with a port: it matches the
// mock's default clients' port-less registrations (RFC 8252).
const loopbackRedirect = "http://127.0.0.1:18080/callback"

// codeFlow runs complete headless code flows (authorize -> token ->
// verify) against one provider with one relying party, as a test suite
// does.
func codeFlow(b *testing.B, ctx context.Context, client *http.Client, conf oauth2.Config, verifier *oidc.IDTokenVerifier, extra ...oauth2.AuthCodeOption) {
	noFollow := *client
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	flow := func() {
		v := oauth2.GenerateVerifier()
		opts := append([]oauth2.AuthCodeOption{oidc.Nonce("n0nce"), oauth2.S256ChallengeOption(v)}, extra...)
		resp, err := noFollow.Get(conf.AuthCodeURL("state", opts...))
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		loc, err := url.Parse(resp.Header.Get("Location"))
		if err != nil || loc.Query().Get("code") == "" {
			b.Fatalf("authorize: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
		tok, err := conf.Exchange(ctx, loc.Query().Get("code"), oauth2.VerifierOption(v))
		if err != nil {
			b.Fatal(err)
		}
		idt, err := verifier.Verify(ctx, tok.Extra("id_token").(string))
		if err != nil || idt.Nonce != "n0nce" {
			b.Fatalf("verify: %v", err)
		}
	}
	flow() // discovery and JWKS fetched outside the loop
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		flow()
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "flows/s")
}

// personaRP is a go-oidc + x/oauth2 relying party registered as the
// persona's first client, authenticating at the token endpoint the way
// that client is registered.
func personaRP(b *testing.B, srv *mockidp.Server, persona string) (context.Context, oauth2.Config, *oidc.IDTokenVerifier) {
	b.Helper()
	p := srv.Persona(persona)
	if p == nil {
		b.Fatalf("no persona %s", persona)
	}
	ctx := oidc.ClientContext(context.Background(), srv.Client())
	prov, err := oidc.NewProvider(ctx, p.Issuer())
	if err != nil {
		b.Fatalf("%s discovery: %v", persona, err)
	}
	cl := p.Clients()[0]
	ep := prov.Endpoint()
	// Authenticate as registered; oauth2's auto-detection would retry a
	// failed Basic attempt in the body.
	ep.AuthStyle = oauth2.AuthStyleInParams
	if authMethod(b, srv, persona, cl.ClientID) == "client_secret_basic" {
		ep.AuthStyle = oauth2.AuthStyleInHeader
	}
	conf := oauth2.Config{ClientID: cl.ClientID, ClientSecret: cl.ClientSecret, Endpoint: ep,
		RedirectURL: loopbackRedirect, Scopes: []string{oidc.ScopeOpenID, "profile", "email"}}
	return ctx, conf, prov.Verifier(&oidc.Config{ClientID: cl.ClientID})
}

// authMethod is the token endpoint auth method the server lists for the
// persona's client.
func authMethod(b *testing.B, srv *mockidp.Server, persona, clientID string) string {
	b.Helper()
	for _, p := range srv.Listing().Personas {
		if p.Name != persona {
			continue
		}
		for _, c := range p.Clients {
			if c.ClientID == clientID {
				return c.TokenEndpointAuthMethod
			}
		}
	}
	b.Fatalf("the listing has no client %s for persona %s", clientID, persona)
	return ""
}

// BenchmarkCodeFlow measures complete headless code flows per second
// against ssokit's mock personas and, in the same run, oauth2-proxy/mockoidc.
// scripts/bench.sh prints the ratio. Not like for like: mockoidc signs
// three JWTs per token response, the mock one.
func BenchmarkCodeFlow(b *testing.B) {
	srv := mockidp.Start(b, mockidp.DefaultConfig())
	for _, name := range []string{"okta", "azure"} {
		b.Run("ssokit_"+name, func(b *testing.B) {
			ctx, conf, verifier := personaRP(b, srv, name)
			email := srv.Persona(name).Users()[1].Email
			codeFlow(b, ctx, srv.Client(), conf, verifier, oauth2.SetAuthURLParam("login_hint", email))
		})
	}
	b.Run("mockoidc", func(b *testing.B) {
		m, err := mockoidc.Run()
		if err != nil {
			b.Fatal(err)
		}
		defer m.Shutdown()
		cfg := m.Config()
		client := &http.Client{}
		ctx := oidc.ClientContext(context.Background(), client)
		prov, err := oidc.NewProvider(ctx, cfg.Issuer)
		if err != nil {
			b.Fatal(err)
		}
		conf := oauth2.Config{ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, Endpoint: prov.Endpoint(),
			RedirectURL: loopbackRedirect, Scopes: []string{"openid", "email", "profile"}}
		// mockoidc reads client credentials from the body only.
		conf.Endpoint.AuthStyle = oauth2.AuthStyleInParams
		codeFlow(b, ctx, client, conf, prov.Verifier(&oidc.Config{ClientID: cfg.ClientID}))
	})
}
