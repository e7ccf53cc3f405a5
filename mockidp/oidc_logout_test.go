package mockidp

import (
	"net/http"
	"net/url"
	"testing"
)

// TestEndSessionRedirectNeedsTheClientsIDToken: Okta's /v1/logout needs
// id_token_hint, and Ory Hydra's (JumpCloud) and OneLogin's logout redirect
// to post_logout_redirect_uri only with one; the URI must be registered for
// the client the ID token was issued to (OpenID Connect RP-Initiated Logout
// 1.0, section 3: without a hint the OP must not redirect). Without a hint,
// with a hint that is not the persona's ID token, or with another client's
// URI, the mock shows an error page; Azure, which takes no hint, still
// redirects to a registered URI.
func TestEndSessionRedirectNeedsTheClientsIDToken(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig()
	const other = "http://127.0.0.1:18080/other-app"
	for i := range cfg.Personas {
		cfg.Personas[i].Clients = append(cfg.Personas[i].Clients, ClientConfig{ClientID: "other-app", ClientSecret: "s",
			TokenEndpointAuthMethod: "client_secret_post", RedirectURIs: []string{other}})
	}
	srv := Start(t, cfg)
	client := noRedirect(srv)
	logout := func(endSession string, v url.Values) (int, string) {
		t.Helper()
		resp, err := client.Get(endSession + "?" + v.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("Location")
	}
	for _, name := range []string{"okta", "onelogin", "jumpcloud", "azure"} {
		r := newRP(t, srv, name)
		var doc struct {
			EndSession string `json:"end_session_endpoint"`
		}
		if err := r.provider.Claims(&doc); err != nil || doc.EndSession == "" {
			t.Fatalf("%s: %v", name, err)
		}
		tok, _, err := r.login(r.p.Users()[0].Email)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		hint, _ := tok.Extra("id_token").(string)
		status, loc := logout(doc.EndSession, url.Values{"post_logout_redirect_uri": {testRedirect}, "state": {"s"}, "id_token_hint": {hint}})
		if status != http.StatusFound || loc != testRedirect+"?state=s" {
			t.Errorf("%s with the client's ID token: %d %q", name, status, loc)
		}
		// Okta needs the hint without a redirect too; the others sign
		// out without one.
		status, _ = logout(doc.EndSession, url.Values{})
		if want := map[bool]int{true: http.StatusBadRequest, false: http.StatusOK}[name == "okta"]; status != want {
			t.Errorf("%s without a hint or a redirect: %d, want %d", name, status, want)
		}
		if name == "okta" {
			if status, _ := logout(doc.EndSession, url.Values{"id_token_hint": {hint}}); status != http.StatusOK {
				t.Errorf("okta with the hint and no redirect: %d", status)
			}
		}
		if name == "azure" {
			if status, loc := logout(doc.EndSession, url.Values{"post_logout_redirect_uri": {testRedirect}}); status != http.StatusFound {
				t.Errorf("azure without a hint: %d %q", status, loc)
			}
			continue
		}
		// Another persona's ID token is no hint here.
		foreign, _, err := newRP(t, srv, "azure").login("alice@contoso.test")
		if err != nil {
			t.Fatal(err)
		}
		foreignHint, _ := foreign.Extra("id_token").(string)
		for what, v := range map[string]url.Values{
			"no hint":              {"post_logout_redirect_uri": {testRedirect}},
			"a forged hint":        {"post_logout_redirect_uri": {testRedirect}, "id_token_hint": {hint[:len(hint)-4] + "AAAA"}},
			"another IdP's token":  {"post_logout_redirect_uri": {testRedirect}, "id_token_hint": {foreignHint}},
			"another client's URI": {"post_logout_redirect_uri": {other}, "id_token_hint": {hint}},
		} {
			if status, loc := logout(doc.EndSession, v); status != http.StatusBadRequest || loc != "" {
				t.Errorf("%s with %s: %d %q, want 400 and no redirect", name, what, status, loc)
			}
		}
	}
}
