package controlplane_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestExchangeTakesOnlyABearerToken: POST /v1/auth/session exchanges a
// Clerk session token sent as Authorization: Bearer, nothing else. The
// __session cookie, which the browser sends by itself, is not taken
// because an Authorization header of another scheme (Basic credentials a
// browser keeps for the site, say) rides along; a Bearer token is.
func TestExchangeTakesOnlyABearerToken(t *testing.T) {
	t.Parallel()
	p := newPlane(t)
	tok, err := p.clerk.MintSessionToken("alice@acme.test", "org_acme", "admin", p.app.URL)
	if err != nil {
		t.Fatal(err)
	}
	post := func(set func(*http.Request)) (int, string, bool) {
		t.Helper()
		req, _ := http.NewRequest("POST", p.app.URL+"/v1/auth/session", nil)
		set(req)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		issued := false
		for _, c := range resp.Cookies() {
			issued = issued || (c.Name == p.api.Sessions().CookieName() && c.Value != "")
		}
		return resp.StatusCode, readAll(resp), issued
	}
	for _, scheme := range []string{"Basic YWxpY2U6cHc=", "Negotiate abc", "Token " + tok, tok} {
		status, body, issued := post(func(r *http.Request) {
			r.Header.Set("Authorization", scheme)
			r.AddCookie(&http.Cookie{Name: "__session", Value: tok})
			r.AddCookie(&http.Cookie{Name: "__client_uat", Value: strconv.FormatInt(time.Now().Add(-time.Hour).Unix(), 10)})
		})
		if status != http.StatusUnauthorized || !strings.Contains(body, "not_clerk_session") || issued {
			t.Errorf("Authorization %.20q with the __session cookie: %d %s (session issued: %v), want 401 not_clerk_session", scheme, status, body, issued)
		}
	}
	if status, body, issued := post(func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }); status != http.StatusOK || !issued {
		t.Errorf("a Bearer token: %d %s (session issued: %v)", status, body, issued)
	}
}
