package controlplane_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ssokit/ssokit/api"
	"github.com/ssokit/ssokit/client"
	"github.com/ssokit/ssokit/controlplane"
	"github.com/ssokit/ssokit/mockidp"
	"github.com/ssokit/ssokit/ssoevent"
)

// TestSSOEventLog: "why was Pat refused?" An organization's sign-in
// attempts through its direct connection are kept (accepted and refused,
// with the reason and the check that failed), newest first, bounded per
// organization; a post to the ACS without this browser's sign-in state
// and a password attempt naming the organization are not kept (anyone
// could send them); only the organization's admins and the platform
// administrator read the log; every sign-in also reaches Config.OnEvent.
func TestSSOEventLog(t *testing.T) {
	t.Parallel()
	var (
		mu     sync.Mutex
		events []ssoevent.Event
	)
	p := newPlaneWith(t, nil, func(c *controlplane.Config) {
		c.SSOLogSize = 3
		c.OnEvent = func(_ context.Context, e ssoevent.Event) {
			mu.Lock()
			defer mu.Unlock()
			events = append(events, e)
		}
	})
	ctx := context.Background()
	ol, _ := initechSAML(t, p, "")
	ol.PutUser(mockidp.UserConfig{Email: "pat@elsewhere.test", GivenName: "Pat"})
	signIn := func(email string) int {
		t.Helper()
		ol.QueueUser(email)
		status, _ := directSignIn(t, p, "initech")
		return status
	}
	if code := signIn("alice@initech.test"); code != http.StatusOK {
		t.Fatalf("alice: %d", code)
	}
	if code := signIn("pat@elsewhere.test"); code != http.StatusForbidden {
		t.Fatalf("pat: %d, want 403", code)
	}
	// Noise anyone can make: not kept.
	resp, err := http.PostForm(p.app.URL+"/auth/sso/acs/initech", url.Values{"SAMLResponse": {"PHNhbWxwOlJlc3BvbnNlLz4="}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	resp, err = http.Post(p.app.URL+"/v1/auth/login", "application/json", strings.NewReader(`{"org":"initech","email":"mallory@initech.test","password":"guess"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	if _, err := p.admin.Organizations.Create(ctx, "globex", "Globex", "enterprise"); err != nil {
		t.Fatal(err)
	}
	keyFor := func(org, role string) *client.Client {
		k, err := p.admin.APIKeys.Create(ctx, org, "bot-"+role, role, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		return newClient(t, p.app.URL, k.Key, nil)
	}
	orgAdmin := keyFor("initech", "admin")
	evs, err := orgAdmin.Organizations.SSOEvents(ctx, "initech", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 {
		t.Fatalf("log %+v, want Pat's refusal and Alice's sign-in", evs)
	}
	pat, alice := evs[0], evs[1]
	if pat.Email != "pat@elsewhere.test" || pat.Outcome != "refused" || pat.Reason != "domain_not_allowed" || pat.Check == "" ||
		pat.IdPName != "onelogin" || pat.Protocol != "saml" || pat.Time.IsZero() || pat.ID == "" {
		t.Errorf("Pat's refusal %+v", pat)
	}
	if alice.Email != "alice@initech.test" || alice.Outcome != "accepted" || alice.Reason != "" || alice.UserID == "" {
		t.Errorf("Alice's sign-in %+v", alice)
	}
	if evs, err := p.admin.Organizations.SSOEvents(ctx, "initech", 1); err != nil || len(evs) != 1 || evs[0].ID != pat.ID {
		t.Errorf("platform administrator, limit 1: %+v %v", evs, err)
	}
	for name, c := range map[string]*client.Client{"a viewer": keyFor("initech", "viewer"), "another organization's admin": keyFor("globex", "admin")} {
		var ce *client.Error
		if _, err := c.Organizations.SSOEvents(ctx, "initech", 0); !errors.As(err, &ce) || ce.Status != http.StatusForbidden {
			t.Errorf("%s read the log: %v", name, err)
		}
	}
	var unknown *client.Error
	if _, err := p.admin.Organizations.SSOEvents(ctx, "no-such-org", 0); !errors.As(err, &unknown) ||
		unknown.Status != http.StatusNotFound || unknown.Code != "not_found" {
		t.Errorf("an unknown organization's log: %v, want 404 not_found", err)
	}
	for _, limit := range []string{"0", "5", "-1", "x", "1e3"} { // 5: past the 3 kept and the 1 unverified
		req, _ := http.NewRequest("GET", p.app.URL+"/v1/organizations/initech/sso/events?limit="+limit, nil)
		k, _ := p.admin.APIKeys.Create(ctx, "initech", "q", "admin", time.Time{})
		req.Header.Set("Authorization", "Bearer "+k.Key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("limit=%s: %d, want 400", limit, resp.StatusCode)
		}
	}

	// Bounded: three more sign-ins leave the newest three.
	for range 3 {
		signIn("alice@initech.test")
	}
	if evs, _ := orgAdmin.Organizations.SSOEvents(ctx, "initech", 0); len(evs) != 3 || evs[0].Email != "alice@initech.test" || evs[2].Email != "alice@initech.test" {
		t.Errorf("after three more sign-ins: %+v", evs)
	}

	// The Clerk path: kept under the organization the Clerk organization
	// maps to.
	if _, _, status := p.browser(t, "bob@acme.test"); status != http.StatusOK {
		t.Fatalf("Clerk sign-in: %d", status)
	}
	if evs, err := p.admin.Organizations.SSOEvents(ctx, "acme", 0); err != nil || len(evs) != 1 ||
		evs[0].Email != "bob@acme.test" || evs[0].Outcome != "accepted" || evs[0].IdPName != "okta" {
		t.Errorf("acme's log after a Clerk sign-in: %+v %v", evs, err)
	}
	if evs, _ := orgAdmin.Organizations.SSOEvents(ctx, "initech", 0); len(evs) != 3 || evs[0].Email != "alice@initech.test" {
		t.Errorf("a Clerk sign-in reached another organization's log: %+v", evs)
	}

	mu.Lock()
	defer mu.Unlock()
	var kinds []string
	for _, e := range events {
		if e.Kind == ssoevent.SignIn {
			kinds = append(kinds, string(e.Outcome)+"/"+e.AuthMethod+"/"+e.Reason)
		}
	}
	got := strings.Join(kinds, " ")
	for _, want := range []string{"accepted/sso/", "refused/sso/domain_not_allowed", "refused/sso/unsolicited", "refused/password/"} {
		if !strings.Contains(got, want) {
			t.Errorf("OnEvent lacks %s: %s", want, got)
		}
	}
}

// TestSSOEventLogFlood: anyone can start a sign-in (GET /auth/sso/start
// gives a state cookie and its RelayState) and post junk to the ACS with
// it. Those refusals are kept as unverified, in a share of the log of
// their own: a flood of them never pushes out an accepted sign-in or a
// refusal the identity provider vouched for.
func TestSSOEventLogFlood(t *testing.T) {
	t.Parallel()
	p := newPlaneWith(t, nil, func(c *controlplane.Config) { c.SSOLogSize = 4 })
	ctx := context.Background()
	ol, _ := initechSAML(t, p, "")
	ol.PutUser(mockidp.UserConfig{Email: "pat@elsewhere.test", GivenName: "Pat"})
	for _, c := range []struct {
		email string
		want  int
	}{{"alice@initech.test", http.StatusOK}, {"pat@elsewhere.test", http.StatusForbidden}} {
		ol.QueueUser(c.email)
		if status, body := directSignIn(t, p, "initech"); status != c.want {
			t.Fatalf("%s: %d %s, want %d", c.email, status, body, c.want)
		}
	}
	for i := range 12 {
		atk, relay := startedSAMLSignIn(t, p, "initech")
		junk := []string{"PHNhbWxwOlJlc3BvbnNlLz4=", "not base64", ""}[i%3]
		resp, err := atk.PostForm(p.app.URL+"/auth/sso/acs/initech", url.Values{"SAMLResponse": {junk}, "RelayState": {relay}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("junk %d: %d", i, resp.StatusCode)
		}
	}
	evs, err := p.admin.Organizations.SSOEvents(ctx, "initech", 0)
	if err != nil {
		t.Fatal(err)
	}
	var kept, unverified []string
	for _, e := range evs {
		if e.Unverified {
			unverified = append(unverified, e.Reason)
			continue
		}
		kept = append(kept, e.Email+" "+e.Outcome)
	}
	if strings.Join(kept, ",") != "pat@elsewhere.test refused,alice@initech.test accepted" {
		t.Errorf("vouched-for events %q, want Pat's refusal and Alice's sign-in", kept)
	}
	if len(unverified) != 1 || unverified[0] != "malformed" {
		t.Errorf("unverified events %q, want the last junk post's alone (SSOLogSize/4, at least 1)", unverified)
	}
}

// TestConnectionIDIsTheOrganizations: organizations choose their
// connection's ID, which scopes the sign-in state; two that choose the same
// do not accept each other's state. A state started at initech and posted
// to hooli's ACS is refused as state (kept in no log), not checked as
// hooli's sign-in.
func TestConnectionIDIsTheOrganizations(t *testing.T) {
	t.Parallel()
	p := newPlaneWith(t, nil, nil)
	ctx := context.Background()
	ol, conn := initechSAML(t, p, "")
	if _, err := p.admin.Organizations.Create(ctx, "hooli", "Hooli", "enterprise"); err != nil {
		t.Fatal(err)
	}
	same := *conn
	s := *conn.SAML
	s.EntityID, s.ACSURL = p.app.URL+"/saml/hooli", p.app.URL+"/auth/sso/acs/hooli"
	same.SAML = &s
	if err := ol.RegisterServiceProvider(mockidp.ServiceProviderConfig{EntityID: s.EntityID, ACSURL: s.ACSURL}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.admin.Organizations.ConfigureSSO(ctx, "hooli", api.SSOSettings{Connection: rawJSON(t, &same),
		AllowedDomains: []string{"hooli.test"}, DefaultRole: "viewer"}); err != nil {
		t.Fatal(err)
	}
	c, relay := startedSAMLSignIn(t, p, "initech")
	resp, err := c.PostForm(p.app.URL+"/auth/sso/acs/hooli", url.Values{"SAMLResponse": {"PHNhbWxwOlJlc3BvbnNlLz4="}, "RelayState": {relay}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if evs, err := p.admin.Organizations.SSOEvents(ctx, "hooli", 0); err != nil || len(evs) != 0 {
		t.Fatalf("hooli checked initech's sign-in state as its own: %+v %v", evs, err)
	}
}

// startedSAMLSignIn starts a sign-in at org's direct SAML connection in a
// new browser, as anyone can, and returns the browser (its state cookie
// set) and the RelayState the IdP would post back.
func startedSAMLSignIn(t *testing.T, p *plane, org string) (*http.Client, string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(p.app.URL + "/auth/sso/start?org=" + org)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || loc.Query().Get("RelayState") == "" {
		t.Fatalf("no RelayState in %q", resp.Header.Get("Location"))
	}
	return c, loc.Query().Get("RelayState")
}

// TestSSOLogStatelessOIDCError: an OIDC callback link with error= and a
// text of anyone's choosing, without the state of a browser that started
// a sign-in, is kept in no log.
func TestSSOLogStatelessOIDCError(t *testing.T) {
	t.Parallel()
	p := newPlaneWith(t, nil, nil)
	globexOIDC(t, p)
	resp, err := http.Get(p.app.URL + "/auth/sso/oidc/globex?error=access_denied&error_description=" +
		url.QueryEscape("Your IdP certificate expired: upload the new one from https://evil.example/cert"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if evs, err := p.admin.Organizations.SSOEvents(context.Background(), "globex", 0); err != nil || len(evs) != 0 {
		t.Fatalf("kept %+v %v", evs, err)
	}
}

// TestSSOEventsAnswerShowsVouched: after a flood of unverified refusals
// (the default log keeps 50 of them), an answer of N events holds at most
// N/4 of them (none below four), so the accepted sign-in before the flood is still in the
// dashboard's 20 and the API's default 50.
func TestSSOEventsAnswerShowsVouched(t *testing.T) {
	t.Parallel()
	p := newPlaneWith(t, nil, nil)
	ctx := context.Background()
	ol, _ := initechSAML(t, p, "")
	ol.QueueUser("alice@initech.test")
	if status, body := directSignIn(t, p, "initech"); status != http.StatusOK {
		t.Fatalf("alice: %d %s", status, body)
	}
	for range 60 {
		atk, relay := startedSAMLSignIn(t, p, "initech")
		resp, err := atk.PostForm(p.app.URL+"/auth/sso/acs/initech", url.Values{"SAMLResponse": {"PHNhbWxwOlJlc3BvbnNlLz4="}, "RelayState": {relay}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	for _, limit := range []int{20, 0, 4, 1} {
		evs, err := p.admin.Organizations.SSOEvents(ctx, "initech", limit)
		if err != nil {
			t.Fatal(err)
		}
		want := limit
		if limit == 0 {
			want = 50
		}
		unverified, alice := 0, false
		for _, e := range evs {
			if e.Unverified {
				unverified++
			}
			alice = alice || e.Email == "alice@initech.test" && e.Outcome == "accepted"
		}
		if unverified > want/4 || !alice || len(evs) > want {
			t.Errorf("limit %d: %d events, %d unverified, Alice's sign-in shown %v", limit, len(evs), unverified, alice)
		}
	}
}
