package mockidp

import (
	"net/url"
	"testing"

	"golang.org/x/oauth2"
)

// Okta: "Revoking an access token doesn't revoke the associated refresh
// token. However, revoking a refresh token does revoke the associated
// access token" (developer.okta.com, "Revoke tokens"); RFC 7009 section
// 2.1 asks the same.
func TestOktaRevokingRefreshTokenRevokesItsAccessTokens(t *testing.T) {
	t.Parallel()
	srv := Start(t, DefaultConfig())
	r := newRP(t, srv, "okta", "openid", "email", "offline_access")
	tok, _, err := r.login("alice@acme.test")
	if err != nil || tok.RefreshToken == "" {
		t.Fatalf("login: %v", err)
	}
	revoke := srv.URL + "/okta/oauth2/default/v1/revoke"
	if status, _ := postClient(t, r, revoke, url.Values{"token": {tok.RefreshToken}, "token_type_hint": {"refresh_token"}}, r.oauth.ClientSecret); status != 200 {
		t.Fatalf("revocation: %d", status)
	}
	if _, err := r.provider.UserInfo(r.ctx, oauth2.StaticTokenSource(tok)); err == nil {
		t.Fatal("userinfo accepted the access token of a revoked refresh token")
	}
}
