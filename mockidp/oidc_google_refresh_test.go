package mockidp

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

// TestGoogleRefreshKeepsTheRefreshToken: Google does not rotate refresh
// tokens. Its refresh answer has access_token, expires_in, scope,
// token_type and id_token but no refresh_token, and the refresh token
// stays usable (developers.google.com/identity/protocols/oauth2/web-server,
// "Refreshing an access token"). A relying party that stores whatever
// refresh_token the answer carries, and so loses its token at Google,
// fails here too.
func TestGoogleRefreshKeepsTheRefreshToken(t *testing.T) {
	t.Parallel()
	srv := Start(t, DefaultConfig())
	r := newRP(t, srv, "google")
	verifier := oauth2.GenerateVerifier()
	q := r.authorize("s", "n", verifier, oauth2.AccessTypeOffline, oauth2.SetAuthURLParam("login_hint", "alice@example-workspace.test"))
	tok, err := r.oauth.Exchange(r.ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	if tok.RefreshToken == "" {
		t.Fatal("no refresh token with access_type=offline")
	}
	for i := range 2 {
		form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken},
			"client_id": {r.oauth.ClientID}, "client_secret": {r.oauth.ClientSecret}}
		resp, err := srv.Client().Post(r.oauth.Endpoint.TokenURL, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]any
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("refresh %d: %d %v %v", i, resp.StatusCode, body, err)
		}
		if _, ok := body["refresh_token"]; ok {
			t.Errorf("refresh %d: answer has a refresh_token, Google's has none", i)
		}
		if body["access_token"] == "" || body["id_token"] == nil {
			t.Errorf("refresh %d: %v", i, body)
		}
	}
}
