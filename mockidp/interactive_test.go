package mockidp

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

// An interactive persona answers a login_hint with its login page; a
// queued user still signs in at once.
func TestInteractivePersonaShowsLoginPage(t *testing.T) {
	cfg := DefaultConfig()
	for i := range cfg.Personas {
		cfg.Personas[i].Interactive = true
	}
	srv := Start(t, cfg)
	r := newRP(t, srv, "okta")
	u := r.oauth.AuthCodeURL("state-123", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()),
		oauth2.SetAuthURLParam("login_hint", "alice@acme.test"))
	resp, err := noRedirect(srv).Get(u)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `name="mockidp_login"`) {
		t.Fatalf("interactive persona answered %d without the login page:\n%.300s", resp.StatusCode, body)
	}
	if err := srv.Persona("okta").QueueUser("bob@acme.test"); err != nil {
		t.Fatal(err)
	}
	if q := r.authorize("state-456", "nonce", oauth2.GenerateVerifier(), oauth2.SetAuthURLParam("login_hint", "alice@acme.test")); q.Get("code") == "" {
		t.Fatalf("queued user did not skip the page: %v", q)
	}
}
