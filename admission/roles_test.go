package admission

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/ssokit/ssokit/ssoerr"
	"github.com/ssokit/ssokit/store"
)

// updateRacer runs between once, just before the first UpdateUser: what an
// administrator's write landing mid-login looks like.
type updateRacer struct {
	*store.Memory
	once    sync.Once
	between func()
}

func (r *updateRacer) UpdateUser(ctx context.Context, id string, fn func(*store.User) error) (store.User, error) {
	r.once.Do(r.between)
	return r.Memory.UpdateUser(ctx, id, fn)
}

// TestLoginKeepsAConcurrentDemotion: an administrator's role change that
// lands between a login's read of the person and its write stands; the
// login admits the person with the new role.
func TestLoginKeepsAConcurrentDemotion(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.st.CreateUserIfAbsent(ctx, store.User{ID: "u1", OrgID: "plain", Email: "pat@plain.test", Role: "admin"})
	r := &updateRacer{Memory: e.st}
	a, err := New(Config{Store: r, Now: e.clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	r.between = func() {
		if _, err := a.ChangeRole(ctx, "u1", "viewer"); err != nil {
			t.Error(err)
		}
	}
	p, err := a.Admit(ctx, Login{ClerkOrgID: "org_plain", ClerkUserID: "user_1", Email: "pat@plain.test"})
	if err != nil {
		t.Fatal(err)
	}
	if u, _ := e.st.GetUser(ctx, "u1"); u.Role != "viewer" || p.Role != "viewer" {
		t.Fatalf("stored %q, admitted as %q: the demotion was written over", u.Role, p.Role)
	}
}

// TestLoginThatLowersTheRoleEndsOlderSessions: with group_roles, a person
// who left the IdP's admins group signs in as editor; their sessions from
// earlier seconds, which say admin, end; the new one stands.
func TestLoginThatLowersTheRoleEndsOlderSessions(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	admin, err := e.a.Admit(ctx, Login{ClerkOrgID: "org_acme", ClerkUserID: "user_a", Email: "alice@acme.test", Groups: []string{"admins"}})
	if err != nil || admin.Role != "admin" {
		t.Fatalf("%+v %v", admin, err)
	}
	old := e.clk.Now().Truncate(time.Second)
	e.clk.Advance(2 * time.Second)
	p, err := e.a.Admit(ctx, Login{ClerkOrgID: "org_acme", ClerkUserID: "user_a", Email: "alice@acme.test", Groups: []string{"engineering"}})
	if err != nil || p.Role != "editor" {
		t.Fatalf("%+v %v", p, err)
	}
	err = e.a.CheckSession(ctx, Session{UserID: p.UserID, OrgID: p.OrgID, AuthMethod: MethodSSO, IssuedAt: old})
	wantReason(t, err, ssoerr.ReasonSessionRevoked)
	if err := e.a.CheckSession(ctx, Session{UserID: p.UserID, OrgID: p.OrgID, AuthMethod: MethodSSO, IssuedAt: e.clk.Now().Truncate(time.Second)}); err != nil {
		t.Fatalf("the new session: %v", err)
	}
	// Signing in again with the same role ends nothing.
	e.clk.Advance(2 * time.Second)
	fresh := e.clk.Now().Truncate(time.Second)
	e.clk.Advance(2 * time.Second)
	if _, err := e.a.Admit(ctx, Login{ClerkOrgID: "org_acme", ClerkUserID: "user_a", Email: "alice@acme.test", Groups: []string{"engineering"}}); err != nil {
		t.Fatal(err)
	}
	if err := e.a.CheckSession(ctx, Session{UserID: p.UserID, OrgID: p.OrgID, AuthMethod: MethodSSO, IssuedAt: fresh}); err != nil {
		t.Fatalf("a session after a login with the same role: %v", err)
	}
}

// TestRevokeUserNeverMovesBack: a replica whose clock is behind revokes
// "until now" without reviving sessions another replica ended later.
func TestRevokeUserNeverMovesBack(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.st.CreateUserIfAbsent(ctx, store.User{ID: "u1", OrgID: "plain", Email: "pat@plain.test", Role: "admin"})
	t0 := e.clk.Now()
	ahead, _ := New(Config{Store: e.st, Now: func() time.Time { return t0.Add(10 * time.Second) }})
	behind, _ := New(Config{Store: e.st, Now: func() time.Time { return t0 }})
	if _, err := ahead.ChangeRole(ctx, "u1", "viewer"); err != nil {
		t.Fatal(err)
	}
	s := Session{UserID: "u1", OrgID: "plain", AuthMethod: MethodSSO, IssuedAt: t0.Add(5 * time.Second)}
	wantReason(t, behind.CheckSession(ctx, s), ssoerr.ReasonSessionRevoked)
	if err := behind.RevokeUser(ctx, "u1"); err != nil {
		t.Fatal(err)
	}
	wantReason(t, behind.CheckSession(ctx, s), ssoerr.ReasonSessionRevoked)
}
