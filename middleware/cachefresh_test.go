package middleware

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ssokit/ssokit/admission"
	"github.com/ssokit/ssokit/ssoerr"
	"github.com/ssokit/ssokit/store"
)

// TestClerkPrincipalFollowsTheStore: a Clerk token's principal is cached,
// but a change in the store (a role change, the person removed) is seen by
// the next request with the same token, not when the token expires.
func TestClerkPrincipalFollowsTheStore(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := newFixture(t, testKid, nil)
	a, err := NewAuthenticator(AuthenticatorConfig{Clerk: f.v, Admission: e.adm, Versions: e.st, Now: f.clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	person, err := e.adm.Admit(ctx, admission.Login{ClerkOrgID: "org_acme", ClerkUserID: "user_1", Email: "pat@acme.test", Groups: []string{"admins"}})
	if err != nil || person.Role != "admin" {
		t.Fatalf("%+v %v", person, err)
	}
	tok := mint(t, f.keys[0], hdr(testKid), with(v1Claims(f.clk.Now()), "sub", "user_1", "org_id", "org_acme", "email", "pat@acme.test"))
	auth := func() *Principal {
		t.Helper()
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		p, err := a.Authenticate(r)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	if p := auth(); p.UserID != person.UserID || p.Role != "admin" {
		t.Fatalf("first request: %+v", p)
	}
	auth() // from the cache
	if _, err := e.adm.ChangeRole(ctx, person.UserID, "viewer"); err != nil {
		t.Fatal(err)
	}
	if p := auth(); p.Role != "viewer" {
		t.Fatalf("after a demotion: role %q", p.Role)
	}
	if err := e.st.DeleteUser(ctx, person.UserID, nil); err != nil {
		t.Fatal(err)
	}
	if p := auth(); p.UserID != "" {
		t.Fatalf("after the person was removed: still app user %q", p.UserID)
	}
}

// TestTwoAPIKeyHeadersAreRefused: two X-API-Key headers are ambiguous
// (a proxy or a log may read the other one), whichever is valid.
func TestTwoAPIKeyHeadersAreRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	plain, _, err := e.keys.Create(context.Background(), "acme", "ci", "editor", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Add("X-API-Key", plain)
	r.Header.Add("X-API-Key", "sk_other")
	_, err = e.a.Authenticate(r)
	if Classify(err).Status != 401 || ssoerr.ReasonOf(err) != ssoerr.ReasonAmbiguous {
		t.Fatalf("%v, want 401 ambiguous_request", err)
	}
}

// TestClerkSessionLosesWhatASignInWouldLose: a Clerk session outlives an
// administrator's change, but its requests do not: once the person's
// domain is no longer allowed, or the organization's plan no longer
// entitled to SSO, the same token is refused for that reason (cached or
// not), as a sign-in would be; restored, it is taken again.
func TestClerkSessionLosesWhatASignInWouldLose(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name    string
		change  func(o *store.Org)
		restore func(o *store.Org)
		reason  ssoerr.Reason
	}{
		{"domain removed", func(o *store.Org) { o.AllowedDomains = []string{"other.test"} },
			func(o *store.Org) { o.AllowedDomains = []string{"acme.test"} }, ssoerr.ReasonDomainNotAllowed},
		{"plan downgraded", func(o *store.Org) { o.Plan = "free" },
			func(o *store.Org) { o.Plan = "enterprise" }, ssoerr.ReasonPlanNotEntitled},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			f := newFixture(t, testKid, nil)
			a, err := NewAuthenticator(AuthenticatorConfig{Clerk: f.v, Admission: e.adm, Versions: e.st, Now: f.clk.Now})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			person, err := e.adm.Admit(ctx, admission.Login{ClerkOrgID: "org_acme", ClerkUserID: "user_1", Email: "pat@acme.test"})
			if err != nil {
				t.Fatal(err)
			}
			tok := mint(t, f.keys[0], hdr(testKid), with(v1Claims(f.clk.Now()), "sub", "user_1", "org_id", "org_acme", "email", "pat@acme.test"))
			auth := func() (*Principal, error) {
				r := httptest.NewRequest("GET", "/", nil)
				r.Header.Set("Authorization", "Bearer "+tok)
				return a.Authenticate(r)
			}
			update := func(f func(o *store.Org)) {
				t.Helper()
				if _, err := e.st.UpdateOrg(ctx, "acme", func(o *store.Org) error { f(o); return nil }); err != nil {
					t.Fatal(err)
				}
			}
			if p, err := auth(); err != nil || p.UserID != person.UserID {
				t.Fatalf("before the change: %+v %v", p, err)
			}
			update(c.change)
			for i := range 2 { // the cached principal too
				if p, err := auth(); ssoerr.ReasonOf(err) != c.reason || Classify(err).Status != 403 {
					t.Fatalf("after the change (request %d): %+v %v, want 403 %s", i, p, err, c.reason)
				}
			}
			update(c.restore)
			if p, err := auth(); err != nil || p.UserID != person.UserID {
				t.Fatalf("restored: %+v %v", p, err)
			}
		})
	}
}
