package demo_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/ssokit/ssokit/mockidp/demo"
)

// TestSessionCookieOverPlainHTTP: the demo serves plain http on loopback,
// so its session cookie is HttpOnly but not Secure (a browser would not
// keep a Secure cookie from http://127.0.0.1 everywhere), and the password
// user it seeds signs in.
func TestSessionCookieOverPlainHTTP(t *testing.T) {
	t.Parallel()
	d, err := demo.Start(context.Background(), demo.Config{AppAddr: "127.0.0.1:0", MockAddr: "127.0.0.1:0", Headless: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	if !strings.HasPrefix(d.AppURL, "http://127.0.0.1:") {
		t.Fatalf("AppURL %s", d.AppURL)
	}
	if d.API.Sessions().SecureCookie() {
		t.Error("the demo's session cookie is Secure over plain http")
	}
	// The keys are made at start, and the demo says so.
	if s := d.Summary(); !strings.Contains(s, "state key and the session signing key were generated at start") {
		t.Errorf("the summary does not say the keys were generated:\n%s", s)
	}
	body := `{"org":"` + demo.PasswordOrg + `","email":"` + demo.PasswordEmail + `","password":"` + demo.Password + `"}`
	resp, err := http.Post(d.AppURL+"/v1/auth/login", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("password login: %d", resp.StatusCode)
	}
	var found bool
	for _, c := range resp.Cookies() {
		if c.Name == d.API.Sessions().CookieName() {
			found = true
			if c.Secure || !c.HttpOnly {
				t.Errorf("session cookie Secure=%v HttpOnly=%v, want false, true", c.Secure, c.HttpOnly)
			}
		}
	}
	if !found {
		t.Fatal("no session cookie")
	}
}
