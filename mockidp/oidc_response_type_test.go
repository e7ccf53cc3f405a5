package mockidp

import (
	"net/url"
	"testing"

	"golang.org/x/oauth2"
)

// RFC 6749 section 4.1.2.1: a request without response_type is missing a
// required parameter (invalid_request); unsupported_response_type is for
// a response type the server does not offer.
func TestMissingResponseTypeIsInvalidRequest(t *testing.T) {
	t.Parallel()
	srv := Start(t, DefaultConfig())
	r := newRP(t, srv, "okta")
	u, _ := url.Parse(r.oauth.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()), oauth2.SetAuthURLParam("login_hint", "alice@acme.test")))
	q := u.Query()
	q.Del("response_type")
	u.RawQuery = q.Encode()
	resp, err := noRedirect(srv).Get(u.String())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != 302 || loc.Query().Get("error") != "invalid_request" || loc.Query().Get("state") != "st" {
		t.Fatalf("%d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
}
