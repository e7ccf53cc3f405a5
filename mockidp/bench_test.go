package mockidp

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
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
// against the Okta and Azure personas. The comparison with
// oauth2-proxy/mockoidc is peers/bench's BenchmarkCodeFlow (a module of its
// own, so the library's go.mod does not list mockoidc).
func BenchmarkCodeFlow(b *testing.B) {
	srv := Start(b, DefaultConfig())
	for _, name := range []string{"okta", "azure"} {
		b.Run("ssokit_"+name, func(b *testing.B) {
			r := newRP(b, srv, name)
			email := srv.Persona(name).Users()[1].Email
			benchFlow(b, r.ctx, srv.Client(), r.oauth, r.verifier, oauth2.SetAuthURLParam("login_hint", email))
		})
	}
}
