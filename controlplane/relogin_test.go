package controlplane_test

import (
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"testing"

	"github.com/ssokit/ssokit/api"
	"github.com/ssokit/ssokit/mockidp"
)

// One browser: a person signs in through Clerk, signs out, and another
// person signs in, and so on; each sign-in is that person's, not refused
// and not the one before.
func TestSignOutThenAnotherPersonSignsIn(t *testing.T) {
	t.Parallel()
	p := newPlane(t)
	jar, _ := cookiejar.New(nil)
	hc := p.mock.Client()
	hc.Jar = jar
	signIn := func(email string) api.Whoami {
		t.Helper()
		resp, err := mockidp.Browse(hc, p.app.URL+"/auth/sso/start?"+url.Values{"email": {email}, "return_to": {"/v1/auth/whoami"}}.Encode())
		if err != nil {
			t.Fatal(err)
		}
		body := readAll(resp)
		var me api.Whoami
		if err := json.Unmarshal([]byte(body), &me); err != nil || resp.StatusCode != 200 {
			t.Fatalf("sign-in of %s: %d %s", email, resp.StatusCode, body)
		}
		return me
	}
	// Four sign-ins in quick succession: each runs Clerk's handshake, whose
	// loop guard (__clerk_redirect_count, a few seconds' life) must not
	// take them for one redirect loop.
	for _, email := range []string{"alice@acme.test", "bob@acme.test", "carol@acme.test", "alice@acme.test"} {
		if me := signIn(email); me.Email != email {
			t.Fatalf("signed in as %+v, want %s", me, email)
		}
		req, _ := http.NewRequest("POST", p.app.URL+"/v1/auth/logout", nil)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("logout %d", resp.StatusCode)
		}
	}
}
