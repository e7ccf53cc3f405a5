package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/ssokit/ssokit/mockidp"
	"github.com/ssokit/ssokit/store"
)

// testbed is the app under test on an httptest server, its store, and the
// mock platform: five IdP personas and a mock Clerk.
type testbed struct {
	app   *httptest.Server
	mock  *mockidp.Server
	clerk *mockidp.Clerk
	st    *store.Memory
}

func newTestbed(t *testing.T, mod func(*mockidp.Config)) *testbed {
	t.Helper()
	cfg := mockidp.DefaultConfig()
	if mod != nil {
		mod(&cfg)
	}
	mock := mockidp.Start(t, cfg)
	st, err := store.NewMemory(store.MemoryConfig{})
	if err != nil {
		t.Fatal(err)
	}
	tb := &testbed{mock: mock, clerk: mock.Clerk("clerk"), st: st}
	var h http.Handler = http.NotFoundHandler()
	tb.app = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(tb.app.Close)
	if err := seed(t.Context(), tb.st); err != nil {
		t.Fatal(err)
	}
	cpCfg, err := mockConfig(tb.app.URL, mock, tb.st)
	if err != nil {
		t.Fatal(err)
	}
	if h, _, err = newApp(cpCfg); err != nil {
		t.Fatal(err)
	}
	tb.clerk.SetWebhooks(tb.app.URL + "/webhooks/clerk")
	return tb
}

// signIn is a person clicking "Sign in with SSO" with their email: the app
// sends them to Clerk, Clerk to Okta, and back. It returns their browser
// (cookie jar included) and the last response's status and body.
func (tb *testbed) signIn(t *testing.T, email string) (*http.Client, int, string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	browser := tb.mock.Client()
	browser.Jar = jar
	resp, err := mockidp.Browse(browser, tb.app.URL+"/auth/sso/start?"+url.Values{"email": {email}, "return_to": {"/notes"}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return browser, resp.StatusCode, string(body)
}

func (tb *testbed) post(t *testing.T, c *http.Client, text string) int {
	t.Helper()
	resp, err := c.Post(tb.app.URL+"/notes", "application/json", strings.NewReader(`{"text":"`+text+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestEditorsWriteViewersRead(t *testing.T) {
	tb := newTestbed(t, nil)
	// bob is in engineering at Okta: an editor here.
	bob, status, body := tb.signIn(t, "bob@acme.test")
	if status != 200 || strings.TrimSpace(body) != "[]" {
		t.Fatalf("bob landed on %d %s", status, body)
	}
	if got := tb.post(t, bob, "ship it"); got != http.StatusCreated {
		t.Fatalf("editor POST /notes: %d", got)
	}
	// carol is in no mapped group: the default role, viewer.
	carol, _, _ := tb.signIn(t, "carol@acme.test")
	if got := tb.post(t, carol, "me too"); got != http.StatusForbidden {
		t.Fatalf("viewer POST /notes: %d, want 403", got)
	}
	resp, err := carol.Get(tb.app.URL + "/notes")
	if err != nil {
		t.Fatal(err)
	}
	var notes []note
	_ = json.NewDecoder(resp.Body).Decode(&notes)
	resp.Body.Close()
	if len(notes) != 1 || notes[0].Author != "bob@acme.test" {
		t.Fatalf("viewer reads %+v", notes)
	}
}

func TestAdminFromIdPGroup(t *testing.T) {
	tb := newTestbed(t, nil)
	alice, _, _ := tb.signIn(t, "alice@acme.test")
	resp, err := alice.Get(tb.app.URL + "/v1/auth/whoami")
	if err != nil {
		t.Fatal(err)
	}
	var me struct{ Role, IdPName string }
	_ = json.NewDecoder(resp.Body).Decode(&me)
	resp.Body.Close()
	if me.Role != "admin" {
		t.Fatalf("alice is %q, want admin (Okta group admins)", me.Role)
	}
}

func TestUnknownDomainIsRefused(t *testing.T) {
	// An Okta user whose domain Clerk's connection covers but the app's
	// allowed_domains do not.
	tb := newTestbed(t, func(c *mockidp.Config) {
		c.Personas[0].Users = append(c.Personas[0].Users, mockidp.UserConfig{Email: "eve@acme-partners.test", Groups: []string{"admins"}})
		c.Clerk[0].Connections[0].Domains = append(c.Clerk[0].Connections[0].Domains, "acme-partners.test")
	})
	c, status, body := tb.signIn(t, "eve@acme-partners.test")
	if status != http.StatusForbidden || !strings.Contains(body, "domain_not_allowed") {
		t.Fatalf("outsider: %d %s", status, body)
	}
	// The browser still holds Clerk's session for the app's host (Clerk
	// signed eve in; the app did not), so the app sees a Clerk principal
	// with no app user and no role: refused, and nothing was created.
	if got := tb.post(t, c, "hi"); got != http.StatusUnauthorized && got != http.StatusForbidden {
		t.Fatalf("outsider: POST /notes %d, want 401 or 403", got)
	}
	users, err := tb.st.ListUsers(context.Background(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		if strings.EqualFold(u.Email, "eve@acme-partners.test") {
			t.Fatalf("outsider was created: %+v", u)
		}
	}
}

func TestRevokedMembershipEndsTheSession(t *testing.T) {
	tb := newTestbed(t, nil)
	bob, _, _ := tb.signIn(t, "bob@acme.test")
	users, _ := tb.st.ListUsers(context.Background(), "acme")
	if len(users) != 1 || users[0].ClerkUserID == "" {
		t.Fatalf("users %+v", users)
	}
	// An administrator removes bob from the organization in Clerk; Clerk's
	// webhook reaches the app.
	req, _ := http.NewRequest(http.MethodDelete, tb.clerk.BackendAPIURL()+"/organizations/org_acme/memberships/"+users[0].ClerkUserID, nil)
	req.Header.Set("Authorization", "Bearer "+tb.clerk.SecretKey())
	resp, err := tb.mock.Client().Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("removing the membership: %v", err)
	}
	resp.Body.Close()
	tb.clerk.Wait() // webhook deliveries done
	if got := tb.post(t, bob, "still here?"); got != http.StatusUnauthorized {
		t.Fatalf("after the membership was removed: POST /notes %d, want 401", got)
	}
}
