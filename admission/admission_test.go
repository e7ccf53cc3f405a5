package admission

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ssokit/ssokit/internal/clerktest"
	"github.com/ssokit/ssokit/ssoerr"
	"github.com/ssokit/ssokit/store"
	"golang.org/x/crypto/bcrypt"
)

type env struct {
	clk *clerktest.Clock
	st  *store.Memory
	a   *Admitter
}

func newEnv(t testing.TB) *env {
	t.Helper()
	clk := clerktest.NewClock()
	st, _ := store.NewMemory(store.MemoryConfig{Now: clk.Now})
	ctx := context.Background()
	if err := st.CreateOrg(ctx, store.Org{ID: "acme", Plan: "enterprise", ClerkOrgID: "org_acme", AllowedDomains: []string{"acme.test", "*.corp.acme.test"},
		DefaultRole: "viewer", AutoCreateUsers: true,
		GroupRoles:   []store.GroupRule{{Group: "admins", Role: "admin"}, {Group: "engineering", Role: "editor"}},
		ClerkRoleMap: map[string]string{"org:admin": "admin"}}); err != nil {
		t.Fatal(err)
	}
	st.CreateOrg(ctx, store.Org{ID: "plain", Plan: "growth", ClerkOrgID: "org_plain", AllowedDomains: []string{"plain.test"}, DefaultRole: "viewer"})
	st.CreateOrg(ctx, store.Org{ID: "cheap", Plan: "free", ClerkOrgID: "org_cheap", AllowedDomains: []string{"cheap.test"}, AutoCreateUsers: true})
	a, err := New(Config{Store: st, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	return &env{clk: clk, st: st, a: a}
}

func wantReason(t testing.TB, err error, r ssoerr.Reason) {
	t.Helper()
	if err == nil {
		t.Fatalf("accepted; want %s", r)
	}
	if got := ssoerr.ReasonOf(err); got != r {
		t.Fatalf("reason %q (%v), want %q", got, err, r)
	}
}

func TestAdmit(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	login := func(l Login) (*Person, error) { return e.a.Admit(ctx, l) }

	for name, tc := range map[string]struct {
		l      Login
		reason ssoerr.Reason
	}{
		"unmapped Clerk org": {Login{ClerkOrgID: "org_other", Email: "a@acme.test"}, ssoerr.ReasonOrgNotMapped},
		"no active org":      {Login{Email: "a@acme.test"}, ssoerr.ReasonOrgNotMapped},
		"plan not entitled":  {Login{ClerkOrgID: "org_cheap", Email: "a@cheap.test"}, ssoerr.ReasonPlanNotEntitled},
		"no email":           {Login{ClerkOrgID: "org_acme"}, ssoerr.ReasonNoEmail},
		"other domain":       {Login{ClerkOrgID: "org_acme", Email: "a@evil.test"}, ssoerr.ReasonDomainNotAllowed},
		"suffix trick":       {Login{ClerkOrgID: "org_acme", Email: "a@acme.test.evil.test"}, ssoerr.ReasonDomainNotAllowed},
		"wildcard apex":      {Login{ClerkOrgID: "org_acme", Email: "a@corp.acme.test"}, ssoerr.ReasonDomainNotAllowed},
		"not provisioned":    {Login{ClerkOrgID: "org_plain", Email: "new@plain.test"}, ssoerr.ReasonUserNotProvisioned},
		"direct unknown org": {Login{OrgID: "nope", Email: "a@acme.test"}, ssoerr.ReasonOrgNotMapped},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := login(tc.l)
			wantReason(t, err, tc.reason)
			if !errors.Is(err, ssoerr.ErrForbidden) {
				t.Fatalf("not an ErrForbidden: %v", err)
			}
		})
	}

	// Roles from groups, else the Clerk role map, else the default; no
	// earlier role survives a login.
	for _, tc := range []struct {
		groups    []string
		clerkRole string
		want      string
	}{
		{[]string{"engineering", "admins"}, "", "admin"},
		{[]string{"engineering"}, "org:admin", "editor"}, // a group rule beats the Clerk role
		{nil, "org:admin", "admin"},
		{[]string{"sales"}, "org:member", "viewer"},
	} {
		p, err := login(Login{ClerkOrgID: "org_acme", Email: "Alice@ACME.test", Groups: tc.groups, ClerkRole: tc.clerkRole, IdPName: "okta"})
		if err != nil {
			t.Fatal(err)
		}
		if p.Role != tc.want || p.OrgID != "acme" || p.Email != "alice@acme.test" || p.AuthMethod != MethodSSO || p.IdPName != "okta" {
			t.Fatalf("groups %v clerk %s: %+v, want role %s", tc.groups, tc.clerkRole, p, tc.want)
		}
	}
	if org, _ := e.st.GetOrg(ctx, "acme"); org.LastSSOProvider != "okta" || org.LastSSOLogin.IsZero() {
		t.Fatalf("last SSO login not recorded: %+v", org)
	}
	// A subdomain admitted by the wildcard.
	if _, err := login(Login{ClerkOrgID: "org_acme", Email: "eve@eu.corp.acme.test"}); err != nil {
		t.Fatal(err)
	}
	// Without group rules the stored role stands.
	u, _, _ := e.st.CreateUserIfAbsent(ctx, store.User{ID: "u-plain", OrgID: "plain", Email: "pat@plain.test", Role: "editor"})
	p, err := login(Login{ClerkOrgID: "org_plain", Email: "pat@plain.test", Groups: []string{"admins"}, ClerkRole: "org:admin"})
	if err != nil || p.Role != "editor" || p.UserID != u.ID {
		t.Fatalf("stored role: %v %+v", err, p)
	}
}

func TestAdmitConcurrentFirstLogins(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var wg sync.WaitGroup
	ids := make(chan string, 40)
	for range 40 {
		wg.Go(func() {
			p, err := e.a.Admit(context.Background(), Login{ClerkOrgID: "org_acme", Email: "new@acme.test"})
			if err != nil {
				t.Error(err)
				return
			}
			ids <- p.UserID
		})
	}
	wg.Wait()
	close(ids)
	seen := map[string]bool{}
	for id := range ids {
		seen[id] = true
	}
	if users, _ := e.st.ListUsers(context.Background(), "acme"); len(seen) != 1 || len(users) != 1 {
		t.Fatalf("%d principals, %d users for one person", len(seen), len(users))
	}
}

func TestPasswordRateLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	hash, _ := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	e.st.CreateUserIfAbsent(ctx, store.User{ID: "u", OrgID: "plain", Email: "x@plain.test", PasswordHash: string(hash)})
	for i := range 10 {
		_, err := e.a.PasswordLogin(ctx, "plain", "x@plain.test", fmt.Sprint("guess", i), "10.0.0.2")
		wantReason(t, err, ssoerr.ReasonInvalidCredentials)
	}
	_, err := e.a.PasswordLogin(ctx, "plain", "x@plain.test", "pw", "10.0.0.3")
	wantReason(t, err, ssoerr.ReasonRateLimited)
	if !errors.Is(err, ssoerr.ErrRateLimited) {
		t.Fatalf("%v is not ErrRateLimited", err)
	}
	e.clk.Advance(16 * time.Minute)
	if _, err := e.a.PasswordLogin(ctx, "plain", "x@plain.test", "pw", "10.0.0.3"); err != nil {
		t.Fatalf("after the window: %v", err)
	}
}
