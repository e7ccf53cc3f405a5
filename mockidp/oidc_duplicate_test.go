package mockidp

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

// RFC 6749 section 3.1: request parameters "MUST NOT be included more
// than once"; the authorization endpoint answers invalid_request
// (section 4.1.2.1), on its own page while the client or redirect URI is
// in doubt, and the token endpoint 400 invalid_request (section 5.2).
func TestRepeatedParametersRefused(t *testing.T) {
	t.Parallel()
	srv := Start(t, DefaultConfig())
	r := newRP(t, srv, "okta")
	client := noRedirect(srv)
	v := oauth2.GenerateVerifier()
	authURL := r.oauth.AuthCodeURL("st", oauth2.S256ChallengeOption(v), oauth2.SetAuthURLParam("login_hint", "alice@acme.test"))
	for name, tc := range map[string]struct {
		extra  string
		status int
	}{
		"redirect_uri":   {"&redirect_uri=" + url.QueryEscape("http://127.0.0.1:1/callback"), 400},
		"client_id":      {"&client_id=" + url.QueryEscape(r.oauth.ClientID), 400},
		"state":          {"&state=other", 302},
		"scope":          {"&scope=openid", 302},
		"code_challenge": {"&code_challenge=" + oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier()), 302},
	} {
		t.Run("authorize "+name, func(t *testing.T) {
			resp, err := client.Get(authURL + tc.extra)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			loc, _ := url.Parse(resp.Header.Get("Location"))
			if resp.StatusCode != tc.status || tc.status == 302 && (loc.Query().Get("error") != "invalid_request" || loc.Query().Get("code") != "") {
				t.Fatalf("%d %s", resp.StatusCode, resp.Header.Get("Location"))
			}
		})
	}
	q := r.authorize("s", "n", v, oauth2.SetAuthURLParam("login_hint", "alice@acme.test"))
	form := url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code"), "x"}, "redirect_uri": {testRedirect}, "code_verifier": {v}}
	status, body, hdr := tokenRequest(t, srv, r.oauth.Endpoint.TokenURL, form, r.oauth.ClientID, r.oauth.ClientSecret)
	if status != http.StatusBadRequest || body["error"] != "invalid_request" || !strings.Contains(hdr.Get("Cache-Control"), "no-store") {
		t.Fatalf("token with two codes: %d %v", status, body)
	}
}
