package mockidp

import (
	"net/http"
	"net/url"
	"testing"

	"golang.org/x/oauth2"
)

// RFC 6749 section 4.1.2: a code used more than once is refused and the
// tokens issued for it revoked (Ory Hydra, JumpCloud's server, revokes
// them; OAuth 2.0 Security BCP section 4.5).
func TestReplayedCodeRevokesItsTokens(t *testing.T) {
	t.Parallel()
	srv := Start(t, DefaultConfig())
	r := newRP(t, srv, "okta", "openid", "email", "offline_access")
	v := oauth2.GenerateVerifier()
	q := r.authorize("s", "n", v, oauth2.SetAuthURLParam("login_hint", "alice@acme.test"))
	form := url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {testRedirect}, "code_verifier": {v}}
	tokenURL := r.oauth.Endpoint.TokenURL
	status, body, _ := tokenRequest(t, srv, tokenURL, form, r.oauth.ClientID, r.oauth.ClientSecret)
	at, _ := body["access_token"].(string)
	rt, _ := body["refresh_token"].(string)
	if status != 200 || at == "" || rt == "" {
		t.Fatalf("first redemption: %d %v", status, body)
	}
	if status, body, _ := tokenRequest(t, srv, tokenURL, form, r.oauth.ClientID, r.oauth.ClientSecret); status != 400 || body["error"] != "invalid_grant" {
		t.Fatalf("replayed code: %d %v", status, body)
	}
	req, _ := http.NewRequest("GET", r.provider.UserInfoEndpoint(), nil)
	req.Header.Set("Authorization", "Bearer "+at)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Fatalf("access token of a replayed code still works: %d", resp.StatusCode)
	}
	if status, body, _ := tokenRequest(t, srv, tokenURL, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, r.oauth.ClientID, r.oauth.ClientSecret); status != 400 || body["error"] != "invalid_grant" {
		t.Fatalf("refresh token of a replayed code still works: %d %v", status, body)
	}
}
