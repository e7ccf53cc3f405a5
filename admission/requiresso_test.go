package admission

import (
	"context"
	"testing"
	"time"

	"github.com/ssokit/ssokit/ssoerr"
	"github.com/ssokit/ssokit/store"
	"golang.org/x/crypto/bcrypt"
)

// TestRequireSSOAnswersAlike: under require_sso a password login gets the
// same answer for the right password, a wrong one, an unknown address and
// one with no canonical form, so the answer tells nothing about the
// password.
func TestRequireSSOAnswersAlike(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	hash, _ := bcrypt.GenerateFromPassword([]byte("Winter2025!"), bcrypt.MinCost)
	e.st.CreateUserIfAbsent(ctx, store.User{ID: "usr_bob", OrgID: "acme", Email: "bob@acme.test", Role: "admin", PasswordHash: string(hash)})
	e.st.UpdateOrg(ctx, "acme", func(o *store.Org) error { o.RequireSSO, o.RequireSSOSince = true, e.clk.Now(); return nil })
	var first string
	for i, c := range [][2]string{{"bob@acme.test", "Winter2025!"}, {"bob@acme.test", "Summer2025!"}, {"nobody@acme.test", "x"}, {"not an address", "x"}} {
		_, err := e.a.PasswordLogin(ctx, "acme", c[0], c[1], "198.51.100.7")
		wantReason(t, err, ssoerr.ReasonSSORequired)
		if i == 0 {
			first = err.Error()
		} else if err.Error() != first {
			t.Errorf("%q, %q: %q; the right password got %q", c[0], c[1], err, first)
		}
	}
}

// A login that read the organization just before require_sso was turned
// on finishes after it, with a session whose iat is later than
// RequireSSOSince: that session ends all the same.
type racingStore struct {
	*store.Memory
	during func()
}

func (s racingStore) UserByEmail(ctx context.Context, org, email string) (store.User, error) {
	u, err := s.Memory.UserByEmail(ctx, org, email)
	if s.during != nil {
		s.during()
	}
	return u, err
}

func TestPasswordSessionRacingRequireSSOEnds(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	hash, _ := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	e.st.CreateUserIfAbsent(ctx, store.User{ID: "usr_bob", OrgID: "acme", Email: "bob@acme.test", Role: "admin", PasswordHash: string(hash)})
	e.clk.Advance(800 * time.Millisecond) // the clock starts on a whole second
	a, err := New(Config{Store: racingStore{Memory: e.st, during: func() {
		e.clk.Advance(100 * time.Millisecond)
		e.st.UpdateOrg(ctx, "acme", func(o *store.Org) error { o.RequireSSO, o.RequireSSOSince = true, e.clk.Now(); return nil })
	}}, Now: e.clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	p, err := a.PasswordLogin(ctx, "acme", "bob@acme.test", "pw", "198.51.100.7")
	if err != nil {
		t.Fatal(err) // the organization was read before require_sso
	}
	e.clk.Advance(250 * time.Millisecond) // bcrypt, then the session is issued
	iat := time.Unix(e.clk.Now().Unix(), 0)
	if org, _ := e.st.GetOrg(ctx, "acme"); !iat.After(org.RequireSSOSince) {
		t.Fatalf("iat %v is not after RequireSSOSince %v: not the race", iat, org.RequireSSOSince)
	}
	err = a.CheckSession(ctx, Session{UserID: p.UserID, OrgID: p.OrgID, AuthMethod: p.AuthMethod, IssuedAt: iat})
	wantReason(t, err, ssoerr.ReasonSSORequired)
}
