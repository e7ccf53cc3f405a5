package mockidp

import (
	"net/http"
	"strings"
	"testing"
)

// RFC 6750 section 3: a 401 from a protected resource carries a Bearer
// challenge, also when the token's user is gone.
func TestUserinfoOfDeletedUserChallenges(t *testing.T) {
	t.Parallel()
	srv := Start(t, DefaultConfig())
	r := newRP(t, srv, "okta")
	if err := r.p.PutUser(UserConfig{Email: "gone@acme.test", GivenName: "G"}); err != nil {
		t.Fatal(err)
	}
	tok, _, err := r.login("gone@acme.test")
	if err != nil {
		t.Fatal(err)
	}
	r.p.DeleteUser("gone@acme.test")
	req, _ := http.NewRequest("GET", r.provider.UserInfoEndpoint(), nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if ch := resp.Header.Get("WWW-Authenticate"); resp.StatusCode != 401 || !strings.HasPrefix(ch, "Bearer") || !strings.Contains(ch, `error="invalid_token"`) {
		t.Fatalf("userinfo of a deleted user: %d %q", resp.StatusCode, ch)
	}
}
