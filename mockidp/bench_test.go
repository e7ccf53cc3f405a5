package mockidp

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/oauth2-proxy/mockoidc"
	"golang.org/x/oauth2"
)

// benchFlow runs complete headless code flows (authorize -> token ->
// verify) against one provider with one relying party, as a test suite
// does.
func benchFlow(b *testing.B, ctx context.Context, client *http.Client, conf oauth2.Config, verifier *oidc.IDTokenVerifier, extra ...oauth2.AuthCodeOption) {
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

// BenchmarkCodeFlow measures complete headless code flows per second
// against ssokit's personas and, in the same run, oauth2-proxy/mockoidc.
// scripts/bench.sh prints the ratio.
func BenchmarkCodeFlow(b *testing.B) {
	srv := Start(b, DefaultConfig())
	for _, name := range []string{"okta", "azure"} {
		b.Run("ssokit_"+name, func(b *testing.B) {
			r := newRP(b, srv, name)
			email := srv.Persona(name).Users()[1].Email
			benchFlow(b, r.ctx, srv.Client(), r.oauth, r.verifier, oauth2.SetAuthURLParam("login_hint", email))
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
			RedirectURL: "http://127.0.0.1:18080/callback", Scopes: []string{"openid", "email", "profile"}}
		// mockoidc reads client credentials from the body only.
		conf.Endpoint.AuthStyle = oauth2.AuthStyleInParams
		benchFlow(b, ctx, client, conf, prov.Verifier(&oidc.Config{ClientID: cfg.ClientID}))
	})
}
