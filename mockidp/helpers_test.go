package mockidp

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// testRedirect is a loopback redirect URI with a port: it matches the
// default clients' port-less registrations (RFC 8252).
const testRedirect = "http://127.0.0.1:18080/callback"

// rp is a real relying party (go-oidc + x/oauth2) for one persona issuer.
type rp struct {
	t        testing.TB
	srv      *Server
	p        *Persona
	provider *oidc.Provider
	verifier *oidc.IDTokenVerifier
	oauth    oauth2.Config
	ctx      context.Context
}

// newRP discovers issuer (the persona's primary one when empty) and
// registers as the persona's first client.
func newRP(t testing.TB, srv *Server, persona string, scopes ...string) *rp {
	t.Helper()
	p := srv.Persona(persona)
	if p == nil {
		t.Fatalf("no persona %s", persona)
	}
	ctx := oidc.ClientContext(context.Background(), srv.Client())
	provider, err := oidc.NewProvider(ctx, p.Issuer())
	if err != nil {
		t.Fatalf("%s discovery: %v", persona, err)
	}
	cl := p.Clients()[0]
	if len(scopes) == 0 {
		scopes = []string{oidc.ScopeOpenID, "profile", "email"}
	}
	ep := provider.Endpoint()
	// Authenticate as registered; oauth2's auto-detection would retry a
	// failed Basic attempt in the body and hide the first error.
	ep.AuthStyle = oauth2.AuthStyleInParams
	if p.authMethod(cl) == "client_secret_basic" {
		ep.AuthStyle = oauth2.AuthStyleInHeader
	}
	return &rp{t: t, srv: srv, p: p, provider: provider, ctx: ctx,
		verifier: provider.Verifier(&oidc.Config{ClientID: cl.ClientID}),
		oauth: oauth2.Config{ClientID: cl.ClientID, ClientSecret: cl.ClientSecret, Endpoint: ep,
			RedirectURL: testRedirect, Scopes: scopes}}
}

// noRedirect is a client that returns redirects instead of following them.
func noRedirect(srv *Server) *http.Client {
	c := srv.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return c
}

// authorize runs the authorization request with extra parameters and
// returns the query of the redirect back to the relying party; it fails
// the test on anything else, so call it only on the test's goroutine.
func (r *rp) authorize(state, nonce, verifier string, extra ...oauth2.AuthCodeOption) url.Values {
	r.t.Helper()
	q, err := r.tryAuthorize(state, nonce, verifier, extra...)
	if err != nil {
		r.t.Fatal(err)
	}
	return q
}

// tryAuthorize is authorize returning its failure, safe from any goroutine.
func (r *rp) tryAuthorize(state, nonce, verifier string, extra ...oauth2.AuthCodeOption) (url.Values, error) {
	opts := append([]oauth2.AuthCodeOption{oidc.Nonce(nonce)}, extra...)
	if verifier != "" {
		opts = append(opts, oauth2.S256ChallengeOption(verifier))
	}
	resp, err := noRedirect(r.srv).Get(r.oauth.AuthCodeURL(state, opts...))
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		return nil, fmt.Errorf("authorize: status %d, want a redirect", resp.StatusCode)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || !strings.HasPrefix(loc.String(), testRedirect) {
		return nil, fmt.Errorf("authorize redirected to %q", resp.Header.Get("Location"))
	}
	return loc.Query(), nil
}

// login is a whole headless code flow with PKCE and nonce as email. It
// returns the token response and the verified ID token, or the first
// error a careful relying party would raise. It sets no deadline of its
// own and never fails the test itself, so it is safe from any goroutine.
func (r *rp) login(email string) (*oauth2.Token, *oidc.IDToken, error) {
	return r.loginCtx(r.ctx, email)
}

// loginCtx is login with ctx bounding the token exchange and the key
// fetch (a test of a slow endpoint gives it a deadline).
func (r *rp) loginCtx(ctx context.Context, email string) (*oauth2.Token, *oidc.IDToken, error) {
	state, nonce, verifier := oauth2.GenerateVerifier(), oauth2.GenerateVerifier(), oauth2.GenerateVerifier()
	q, err := r.tryAuthorize(state, nonce, verifier, oauth2.SetAuthURLParam("login_hint", email))
	if err != nil {
		return nil, nil, err
	}
	if e := q.Get("error"); e != "" {
		return nil, nil, &authError{code: e, desc: q.Get("error_description")}
	}
	if q.Get("state") != state {
		return nil, nil, fmt.Errorf("state %q not echoed", q.Get("state"))
	}
	tok, err := r.oauth.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		return nil, nil, err
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := r.verifier.Verify(ctx, raw)
	if err != nil {
		return tok, nil, err
	}
	if idt.Nonce != nonce {
		return tok, idt, errNonce
	}
	if idt.AccessTokenHash != "" {
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
			return tok, idt, err
		}
	}
	return tok, idt, nil
}

type authError struct{ code, desc string }

func (e *authError) Error() string { return e.code + ": " + e.desc }

type nonceError struct{}

func (nonceError) Error() string { return "nonce mismatch" }

var errNonce error = nonceError{}

func claimsOf(t testing.TB, idt *oidc.IDToken) map[string]any {
	t.Helper()
	var m map[string]any
	if err := idt.Claims(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

// headerKid returns the kid of a compact JWS.
func headerKid(t testing.TB, raw string) string {
	t.Helper()
	h, _, _ := strings.Cut(raw, ".")
	b, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		t.Fatal(err)
	}
	var hdr struct{ Kid string }
	if err := json.Unmarshal(b, &hdr); err != nil {
		t.Fatal(err)
	}
	return hdr.Kid
}
