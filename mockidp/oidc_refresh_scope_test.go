package mockidp

import (
	"net/http"
	"net/url"
	"testing"
)

// RFC 6749 section 6: a refresh request's scope "MUST NOT include any
// scope not originally granted"; a narrower one is granted as asked.
// Okta, OneLogin, JumpCloud (Ory Hydra) and Google refuse the widening
// with invalid_scope.
func TestRefreshCannotWidenScope(t *testing.T) {
	t.Parallel()
	srv := Start(t, DefaultConfig())
	r := newRP(t, srv, "okta", "openid", "email", "offline_access")
	tok, _, err := r.login("alice@acme.test")
	if err != nil || tok.RefreshToken == "" {
		t.Fatalf("login: %v, refresh token %q", err, tok.RefreshToken)
	}
	cl := r.oauth
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}
	status, body, hdr := tokenRequest(t, srv, cl.Endpoint.TokenURL, with(form, "scope", "openid email profile offline_access"), cl.ClientID, cl.ClientSecret)
	if status != http.StatusBadRequest || body["error"] != "invalid_scope" || hdr.Get("Cache-Control") != "no-store" {
		t.Fatalf("widened refresh: %d %v", status, body)
	}
	// The refused request did not spend the refresh token; a narrower
	// scope is granted as asked.
	status, body, _ = tokenRequest(t, srv, cl.Endpoint.TokenURL, with(form, "scope", "openid"), cl.ClientID, cl.ClientSecret)
	if status != http.StatusOK || body["scope"] != "openid" {
		t.Fatalf("narrowed refresh: %d %v", status, body)
	}
	// The new refresh token keeps the original grant (RFC 6749 section 6).
	rt, _ := body["refresh_token"].(string)
	status, body, _ = tokenRequest(t, srv, cl.Endpoint.TokenURL, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, cl.ClientID, cl.ClientSecret)
	if status != http.StatusOK || body["scope"] != "openid email offline_access" {
		t.Fatalf("refresh after narrowing: %d %v", status, body)
	}
}
