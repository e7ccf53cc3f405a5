package mockidp

import (
	"errors"
	"net/http"
	"testing"

	"golang.org/x/oauth2"
)

// TestGrantsStayWithTheirAuthorizationServer: Okta's authorization servers
// are separate issuers, each redeeming only its own codes and refresh
// tokens; a code or refresh token from the custom server (/oauth2/default)
// sent to the org server's token endpoint is invalid_grant there, as a
// relying party that mixes the two servers' endpoints meets at Okta.
func TestGrantsStayWithTheirAuthorizationServer(t *testing.T) {
	t.Parallel()
	srv := Start(t, DefaultConfig())
	r := newRP(t, srv, "okta", "openid", "email", "offline_access")
	org := r.oauth
	org.Endpoint.TokenURL = srv.Persona("okta").base() + "/oauth2/v1/token"

	verifier := oauth2.GenerateVerifier()
	q := r.authorize("s", "n", verifier, oauth2.SetAuthURLParam("login_hint", "alice@acme.test"))
	_, err := org.Exchange(r.ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Fatalf("custom server's code at the org server: %v, want invalid_grant", err)
	}

	tok, _, err := r.login("alice@acme.test")
	if err != nil {
		t.Fatal(err)
	}
	_, err = org.TokenSource(r.ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Fatalf("custom server's refresh token at the org server: %v, want invalid_grant", err)
	}

	// Its access token is refused by the org server's userinfo and
	// answered by its own.
	for url, want := range map[string]int{srv.Persona("okta").base() + "/oauth2/v1/userinfo": http.StatusUnauthorized,
		r.p.Issuer() + "/v1/userinfo": http.StatusOK} {
		req, _ := http.NewRequest("GET", url, nil)
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("userinfo %s: %d, want %d", url, resp.StatusCode, want)
		}
	}
}
