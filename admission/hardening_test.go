package admission

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ssokit/ssokit/ssoerr"
	"github.com/ssokit/ssokit/store"
	"golang.org/x/crypto/bcrypt"
)

// flaky is a store whose chosen methods fail as an outage would (an error
// that is not store.ErrNotFound), and which records the emails it is asked
// about.
type flaky struct {
	*store.Memory
	mu     sync.Mutex
	fail   map[string]bool
	emails []string
}

var errOutage = errors.New("dial tcp 10.0.0.9:5432: connection refused")

func (f *flaky) down(method string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail[method] || f.fail["*"] {
		return errOutage
	}
	return nil
}

func (f *flaky) seen(email string) {
	f.mu.Lock()
	f.emails = append(f.emails, email)
	f.mu.Unlock()
}

func (f *flaky) GetOrg(ctx context.Context, id string) (store.Org, error) {
	if err := f.down("GetOrg"); err != nil {
		return store.Org{}, err
	}
	return f.Memory.GetOrg(ctx, id)
}

func (f *flaky) OrgByClerkID(ctx context.Context, id string) (store.Org, error) {
	if err := f.down("OrgByClerkID"); err != nil {
		return store.Org{}, err
	}
	return f.Memory.OrgByClerkID(ctx, id)
}

func (f *flaky) GetUser(ctx context.Context, id string) (store.User, error) {
	if err := f.down("GetUser"); err != nil {
		return store.User{}, err
	}
	return f.Memory.GetUser(ctx, id)
}

func (f *flaky) UserByEmail(ctx context.Context, org, email string) (store.User, error) {
	f.seen(email)
	if err := f.down("UserByEmail"); err != nil {
		return store.User{}, err
	}
	return f.Memory.UserByEmail(ctx, org, email)
}

func (f *flaky) CreateUserIfAbsent(ctx context.Context, u store.User) (store.User, bool, error) {
	f.seen(u.Email)
	if err := f.down("CreateUserIfAbsent"); err != nil {
		return store.User{}, false, err
	}
	return f.Memory.CreateUserIfAbsent(ctx, u)
}

func (f *flaky) UpdateUser(ctx context.Context, id string, fn func(*store.User) error) (store.User, error) {
	if err := f.down("UpdateUser"); err != nil {
		return store.User{}, err
	}
	return f.Memory.UpdateUser(ctx, id, fn)
}

func (f *flaky) ChangeRole(ctx context.Context, id, role string, at time.Time) (store.User, error) {
	if err := f.down("ChangeRole"); err != nil {
		return store.User{}, err
	}
	return f.Memory.ChangeRole(ctx, id, role, at)
}

func newFlaky(t *testing.T) (*flaky, *Admitter, *env) {
	t.Helper()
	e := newEnv(t)
	f := &flaky{Memory: e.st, fail: map[string]bool{}}
	a, err := New(Config{Store: f, Now: e.clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	return f, a, e
}

// TestStoreEmailsAreCanonical: whatever spelling a login brings, the store
// is only ever asked about the canonical form, and the spellings of one
// person are one account.
func TestStoreEmailsAreCanonical(t *testing.T) {
	t.Parallel()
	f, a, e := newFlaky(t)
	ctx := context.Background()
	var ids []string
	for _, spelling := range []string{"Alice@ACME.test", "alice@acme.test", "ALICE@acme.TEST", "alice@Acme.Test"} {
		p, err := a.Admit(ctx, Login{ClerkOrgID: "org_acme", Email: spelling})
		if err != nil {
			t.Fatalf("%q: %v", spelling, err)
		}
		ids = append(ids, p.UserID)
		if p.Email != "alice@acme.test" {
			t.Fatalf("%q: person's email %q", spelling, p.Email)
		}
	}
	for _, id := range ids[1:] {
		if id != ids[0] {
			t.Fatalf("one person, accounts %v", ids)
		}
	}
	hash, _ := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	e.st.UpdateUser(ctx, ids[0], func(u *store.User) error { u.PasswordHash = string(hash); return nil })
	if _, err := a.PasswordLogin(ctx, "acme", "ALICE@Acme.TEST", "pw", "10.0.0.1"); err != nil {
		t.Fatalf("password login by another spelling: %v", err)
	}
	if _, ok, err := a.Lookup(ctx, "org_acme", "Alice@ACME.TEST", ""); !ok || err != nil {
		t.Fatalf("lookup by another spelling: %v %v", ok, err)
	}
	// Refused spellings never reach the store, and are refused for their reason.
	for _, hostile := range []string{"alice@acme.test.", "alice@\uff41cme.test", "alice@ac\u200bme.test", "\"alice\"@acme.test", "alice@acme\u3002test"} {
		_, err := a.Admit(ctx, Login{ClerkOrgID: "org_acme", Email: hostile})
		if r := ssoerr.ReasonOf(err); r != ssoerr.ReasonDomainNotAllowed && r != ssoerr.ReasonInvalidEmail {
			t.Errorf("%q: %v", hostile, err)
		}
		if _, err := a.PasswordLogin(ctx, "acme", hostile, "pw", "10.0.0.1"); ssoerr.ReasonOf(err) != ssoerr.ReasonInvalidCredentials {
			t.Errorf("password login as %q: %v", hostile, err)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, email := range f.emails {
		if email != "alice@acme.test" {
			t.Errorf("the store was asked about %q", email)
		}
	}
	if users, _ := e.st.ListUsers(ctx, "acme"); len(users) != 1 {
		t.Fatalf("%d accounts for one person", len(users))
	}
}

// TestSubjectBinding: the first SSO login binds the IdP's subject; a later
// login for the same email with another subject from the same IdP, or
// with none, is refused with subject_mismatch and changes nothing.
func TestSubjectBinding(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	direct := func(email, idpName, sub string, groups ...string) (*Person, error) {
		return e.a.Admit(ctx, Login{OrgID: "acme", Email: email, IdPName: idpName, Subject: sub, Groups: groups})
	}
	p, err := direct("bob@acme.test", "okta", "00u-bob")
	if err != nil {
		t.Fatal(err)
	}
	if u, _ := e.st.GetUser(ctx, p.UserID); u.Subject != "00u-bob" || u.SubjectIssuer != "okta" {
		t.Fatalf("not bound: %+v", u)
	}
	if _, err := direct("Bob@acme.test", "okta", "00u-bob"); err != nil {
		t.Fatalf("the same subject again: %v", err)
	}
	for name, sub := range map[string]string{"another subject": "00u-mallory", "no subject": "", "case-changed subject": "00U-BOB"} {
		_, err := direct("bob@acme.test", "okta", sub, "admins")
		wantReason(t, err, ssoerr.ReasonSubjectMismatch)
		if !errors.Is(err, ssoerr.ErrForbidden) {
			t.Fatalf("%s: not ErrForbidden: %v", name, err)
		}
		if u, _ := e.st.GetUser(ctx, p.UserID); u.Subject != "00u-bob" || u.Role != "viewer" {
			t.Fatalf("%s: a refused login changed the person: %+v", name, u)
		}
	}
	// Another IdP (a migration from Okta to Azure AD) binds its own subject.
	if _, err := direct("bob@acme.test", "azure_ad", "oid-bob"); err != nil {
		t.Fatalf("another IdP: %v", err)
	}
	_, err = direct("bob@acme.test", "azure_ad", "oid-mallory")
	wantReason(t, err, ssoerr.ReasonSubjectMismatch)

	// The Clerk path binds the Clerk user.
	clerk := func(user, sub string) (*Person, error) {
		return e.a.Admit(ctx, Login{ClerkOrgID: "org_acme", Email: "carol@acme.test", ClerkUserID: user, Subject: sub})
	}
	if _, err := clerk("user_carol", "user_carol"); err != nil {
		t.Fatal(err)
	}
	_, err = clerk("user_mallory", "user_mallory")
	wantReason(t, err, ssoerr.ReasonSubjectMismatch)
	_, err = clerk("user_mallory", "") // the Clerk user ID stands in for a missing Subject
	wantReason(t, err, ssoerr.ReasonSubjectMismatch)
	_, err = clerk("", "")
	wantReason(t, err, ssoerr.ReasonSubjectMismatch)
	if _, err := clerk("user_carol", ""); err != nil {
		t.Fatal(err)
	}
	// A Clerk session of another Clerk user does not map to the person.
	_, ok, err := e.a.Lookup(ctx, "org_acme", "carol@acme.test", "user_mallory")
	wantReason(t, err, ssoerr.ReasonSubjectMismatch)
	if ok {
		t.Fatal("mapped")
	}
	if p, ok, err := e.a.Lookup(ctx, "org_acme", "carol@acme.test", "user_carol"); err != nil || !ok || p.Email != "carol@acme.test" {
		t.Fatalf("lookup: %v %v %+v", err, ok, p)
	}
}

// TestSubjectBindingConcurrentFirstLogins: of two first logins for one
// email with different subjects, one binds and every other is refused.
func TestSubjectBindingConcurrentFirstLogins(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var wg sync.WaitGroup
	var mu sync.Mutex
	admitted := map[string]int{}
	for i := range 20 {
		wg.Go(func() {
			sub := fmt.Sprint("sub-", i%2)
			_, err := e.a.Admit(context.Background(), Login{OrgID: "acme", Email: "dan@acme.test", IdPName: "okta", Subject: sub})
			if err != nil && ssoerr.ReasonOf(err) != ssoerr.ReasonSubjectMismatch {
				t.Error(err)
			}
			if err == nil {
				mu.Lock()
				admitted[sub]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(admitted) != 1 {
		t.Fatalf("subjects admitted for one account: %v", admitted)
	}
}

// TestStoreOutageIsNotUnknown: on every path, a store failure is
// ErrUpstream (503), never the refusal an unknown person, org, session or
// wrong password would get.
func TestStoreOutageIsNotUnknown(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	hash, _ := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	n := 0
	for _, c := range []struct {
		method string
		run    func(a *Admitter) error
	}{
		{"GetOrg", func(a *Admitter) error {
			_, err := a.Admit(ctx, Login{OrgID: "acme", Email: "a@acme.test"})
			return err
		}},
		{"OrgByClerkID", func(a *Admitter) error {
			_, err := a.Admit(ctx, Login{ClerkOrgID: "org_acme", Email: "a@acme.test"})
			return err
		}},
		{"UserByEmail", func(a *Admitter) error {
			_, err := a.Admit(ctx, Login{ClerkOrgID: "org_acme", Email: "a@acme.test"})
			return err
		}},
		{"CreateUserIfAbsent", func(a *Admitter) error {
			n++ // a new person each time
			_, err := a.Admit(ctx, Login{ClerkOrgID: "org_acme", Email: fmt.Sprintf("new%d@acme.test", n)})
			return err
		}},
		{"UpdateUser", func(a *Admitter) error {
			_, err := a.Admit(ctx, Login{ClerkOrgID: "org_acme", Email: "a@acme.test"})
			return err
		}},
		{"OrgByClerkID", func(a *Admitter) error { _, _, err := a.Lookup(ctx, "org_acme", "a@acme.test", ""); return err }},
		{"UserByEmail", func(a *Admitter) error { _, _, err := a.Lookup(ctx, "org_acme", "a@acme.test", ""); return err }},
		{"GetOrg", func(a *Admitter) error {
			_, err := a.PasswordLogin(ctx, "acme", "a@acme.test", "pw", "10.0.0.1")
			return err
		}},
		{"UserByEmail", func(a *Admitter) error {
			_, err := a.PasswordLogin(ctx, "acme", "a@acme.test", "pw", "10.0.0.1")
			return err
		}},
		{"GetUser", func(a *Admitter) error {
			return a.CheckSession(ctx, Session{UserID: "u-a", OrgID: "acme", AuthMethod: MethodSSO, IssuedAt: time.Now()})
		}},
		{"GetOrg", func(a *Admitter) error {
			return a.CheckSession(ctx, Session{UserID: "u-a", OrgID: "acme", AuthMethod: MethodPassword, IssuedAt: time.Now()})
		}},
		{"GetOrg", func(a *Admitter) error { return a.CheckAPIKey(ctx, store.APIKey{ID: "k", OrgID: "acme"}) }},
		{"ChangeRole", func(a *Admitter) error { _, err := a.ChangeRole(ctx, "u-a", "admin"); return err }},
		{"UpdateUser", func(a *Admitter) error { return a.RevokeUser(ctx, "u-a") }},
	} {
		f, a, e := newFlaky(t)
		e.st.CreateUserIfAbsent(ctx, store.User{ID: "u-a", OrgID: "acme", Email: "a@acme.test", Role: "viewer", PasswordHash: string(hash)})
		if err := c.run(a); err != nil {
			t.Fatalf("%s up: %v", c.method, err)
		}
		f.fail[c.method] = true
		err := c.run(a)
		if !errors.Is(err, ssoerr.ErrUpstream) || ssoerr.ReasonOf(err) != ssoerr.ReasonStore || !errors.Is(err, errOutage) {
			t.Errorf("%s down: %v; want ErrUpstream (store_unavailable)", c.method, err)
		}
		for _, verdict := range []error{ssoerr.ErrInvalidToken, ssoerr.ErrInvalidCredentials, ssoerr.ErrForbidden, store.ErrNotFound} {
			if errors.Is(err, verdict) {
				t.Errorf("%s down reads as a verdict: %v", c.method, err)
			}
		}
	}
}

// TestChangeRoleAtomic: a role change and the revocation of the person's
// sessions are both written or, when the store fails, neither.
func TestChangeRoleAtomic(t *testing.T) {
	t.Parallel()
	f, a, e := newFlaky(t)
	ctx := context.Background()
	e.st.CreateUserIfAbsent(ctx, store.User{ID: "u", OrgID: "acme", Email: "u@acme.test", Role: "viewer"})
	f.fail["ChangeRole"] = true
	f.fail["UpdateUser"] = true
	if _, err := a.ChangeRole(ctx, "u", "admin"); !errors.Is(err, ssoerr.ErrUpstream) {
		t.Fatalf("failed change: %v", err)
	}
	if u, _ := e.st.GetUser(ctx, "u"); u.Role != "viewer" || !u.ValidAfter.IsZero() {
		t.Fatalf("half state after a failed change: %+v", u)
	}
	f.fail = map[string]bool{}
	e.clk.Advance(time.Minute)
	u, err := a.ChangeRole(ctx, "u", "admin")
	if err != nil || u.Role != "admin" || !u.ValidAfter.Equal(store.Stamp(e.clk.Now())) {
		t.Fatalf("change: %v %+v", err, u)
	}
	if err := a.CheckSession(ctx, Session{UserID: "u", OrgID: "acme", AuthMethod: MethodSSO, IssuedAt: e.clk.Now()}); ssoerr.ReasonOf(err) != ssoerr.ReasonSessionRevoked {
		t.Fatalf("a session from before the change still counts: %v", err)
	}
	if _, err := a.ChangeRole(ctx, "nope", "admin"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown person: %v", err)
	}
	if _, err := a.ChangeRole(ctx, "u", "overlord"); err == nil {
		t.Fatal("an undefined role was set")
	}
	if u, _ := e.st.GetUser(ctx, "u"); u.Role != "admin" {
		t.Fatalf("refused role written: %+v", u)
	}
}

func TestClientKey(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"203.0.113.7":                "203.0.113.7",
		"::ffff:203.0.113.7":         "203.0.113.7", // IPv4-mapped: the same client
		"2001:db8:1:2:3:4:5:6":       "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff:ffff:0:1": "2001:db8:1:2::/64", // the same /64
		"2001:db8:1:3::1":            "2001:db8:1:3::/64",
		"fe80::1%eth0":               "fe80::/64",
		"fe80::1%eth1":               "fe80::/64",
		"not-an-address":             "not-an-address",
		"":                           "",
	} {
		if got := ClientKey(in); got != want {
			t.Errorf("ClientKey(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestPasswordIPLimitPerSlash64: addresses of one IPv6 /64 share one
// count, so rotating through the /64 does not reset it.
func TestPasswordIPLimitPerSlash64(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	lim, _ := NewMemoryLimiter(LimiterConfig{Max: 3, Window: time.Minute, Now: e.clk.Now})
	a, _ := New(Config{Store: e.st, IPLimit: lim, Now: e.clk.Now})
	ctx := context.Background()
	for i := range 3 {
		_, err := a.PasswordLogin(ctx, "plain", fmt.Sprintf("p%d@plain.test", i), "x", fmt.Sprintf("2001:db8::%x", i+1))
		wantReason(t, err, ssoerr.ReasonInvalidCredentials)
	}
	_, err := a.PasswordLogin(ctx, "plain", "p9@plain.test", "x", "2001:db8::ffff:1")
	wantReason(t, err, ssoerr.ReasonRateLimited)
	if _, err := a.PasswordLogin(ctx, "plain", "p9@plain.test", "x", "2001:db8:0:1::1"); ssoerr.ReasonOf(err) != ssoerr.ReasonInvalidCredentials {
		t.Fatalf("another /64 was limited: %v", err)
	}
}

// TestMemoryLimiterBounded: a flood of distinct keys never grows the
// limiter past MaxKeys.
func TestMemoryLimiterBounded(t *testing.T) {
	t.Parallel()
	l, err := NewMemoryLimiter(LimiterConfig{Max: 5, Window: time.Hour, MaxKeys: 64})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10_000 {
		l.Allow(context.Background(), fmt.Sprint("203.0.", i/256, ".", i%256))
	}
	if n, c := l.counts.Len(), l.counts.Cap(); n > c || c > 128 {
		t.Fatalf("%d keys kept (cap %d) for a bound of 64", n, c)
	}
	if _, err := NewMemoryLimiter(LimiterConfig{Max: 0, Window: time.Hour}); err == nil {
		t.Fatal("Max 0 accepted")
	}
}
