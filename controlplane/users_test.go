package controlplane

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ssokit/ssokit/admission"
	"github.com/ssokit/ssokit/rbac"
	"github.com/ssokit/ssokit/store"
	"github.com/ssokit/ssokit/store/sqlstore"
	"golang.org/x/crypto/bcrypt"
)

// failing is a memory store with switchable outages: a failed method
// answers an error that is not store.ErrNotFound. UpdateUser fails when
// "revoke" is set and the update would move ValidAfter, so a role change
// written in two steps fails half-way.
type failing struct {
	*store.Memory
	mu   sync.Mutex
	down map[string]bool
}

var errOutage = errors.New("dial tcp 10.0.0.9:5432: connection refused")

func (f *failing) is(m string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.down[m]
}

func (f *failing) set(ms ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down = map[string]bool{}
	for _, m := range ms {
		f.down[m] = true
	}
}

func (f *failing) GetOrg(ctx context.Context, id string) (store.Org, error) {
	if f.is("GetOrg") {
		return store.Org{}, errOutage
	}
	return f.Memory.GetOrg(ctx, id)
}

func (f *failing) GetUser(ctx context.Context, id string) (store.User, error) {
	if f.is("GetUser") {
		return store.User{}, errOutage
	}
	return f.Memory.GetUser(ctx, id)
}

func (f *failing) UserByEmail(ctx context.Context, org, email string) (store.User, error) {
	if f.is("UserByEmail") {
		return store.User{}, errOutage
	}
	return f.Memory.UserByEmail(ctx, org, email)
}

func (f *failing) UpdateUser(ctx context.Context, id string, fn func(*store.User) error) (store.User, error) {
	if f.is("revoke") {
		u, err := f.Memory.GetUser(ctx, id)
		if err == nil {
			probe := u
			if fn(&probe) == nil && !probe.ValidAfter.Equal(u.ValidAfter) {
				return store.User{}, errOutage
			}
		}
	}
	return f.Memory.UpdateUser(ctx, id, fn)
}

func (f *failing) ChangeRole(ctx context.Context, id, role string, at time.Time) (store.User, error) {
	if f.is("revoke") {
		return store.User{}, errOutage
	}
	return f.Memory.ChangeRole(ctx, id, role, at)
}

const testAdminKey = "platform-admin-key-for-user-tests"

func newFailingPlane(t *testing.T, mod func(*Config)) (*API, *failing) {
	t.Helper()
	mem, _ := store.NewMemory(store.MemoryConfig{})
	f := &failing{Memory: mem}
	cfg := Config{AppURL: "https://app.test", StateKey: bytes.Repeat([]byte{7}, 32), EphemeralSessionKey: true,
		BootstrapAdminKey: testAdminKey, Store: f}
	if mod != nil {
		mod(&cfg)
	}
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := mem.CreateOrg(ctx, store.Org{ID: "acme", Plan: "enterprise", AllowedDomains: []string{"acme.test"}}); err != nil {
		t.Fatal(err)
	}
	hash, _ := bcrypt.GenerateFromPassword([]byte("correct-horse"), bcrypt.MinCost)
	if _, _, err := mem.CreateUserIfAbsent(ctx, store.User{ID: "u1", OrgID: "acme", Email: "pat@acme.test", Role: "viewer",
		PasswordHash: string(hash), Source: admission.MethodPassword}); err != nil {
		t.Fatal(err)
	}
	return a, f
}

func serve(a *API, method, path, body string, mod func(*http.Request)) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	if mod != nil {
		mod(r)
	}
	w := httptest.NewRecorder()
	a.ServeHTTP(w, r)
	return w
}

func asAdmin(r *http.Request) { r.Header.Set("Authorization", "Bearer "+testAdminKey) }

func errorCode(w *httptest.ResponseRecorder) string {
	var e struct {
		Error string `json:"error"`
	}
	json.Unmarshal(w.Body.Bytes(), &e)
	return e.Error
}

// login signs pat in with the password and returns the session cookie.
func login(t *testing.T, a *API) *http.Cookie {
	t.Helper()
	w := serve(a, "POST", "/v1/auth/login", `{"org":"acme","email":"pat@acme.test","password":"correct-horse"}`, nil)
	if w.Code != http.StatusOK {
		t.Fatalf("login: %d %s", w.Code, w.Body)
	}
	for _, c := range w.Result().Cookies() {
		if c.Value != "" {
			return c
		}
	}
	t.Fatal("no session cookie")
	return nil
}

func whoami(a *API, c *http.Cookie) *httptest.ResponseRecorder {
	return serve(a, "GET", "/v1/auth/whoami", "", func(r *http.Request) { r.AddCookie(c) })
}

// TestRoleChangeAndRevocationTogether: a role change ends the person's
// sessions (which carry the old role) in the same write; when that write
// fails the answer is a 503 and neither the role nor the sessions changed.
func TestRoleChangeAndRevocationTogether(t *testing.T) {
	t.Parallel()
	a, f := newFailingPlane(t, nil)
	cookie := login(t, a)
	time.Sleep(1100 * time.Millisecond) // sessions have second precision: issue the next one after the change in a later second

	f.set("revoke")
	w := serve(a, "PATCH", "/v1/organizations/acme/users/u1", `{"role":"admin"}`, asAdmin)
	if w.Code != http.StatusServiceUnavailable || errorCode(w) != codeUpstream {
		t.Fatalf("failed role change: %d %s", w.Code, w.Body)
	}
	if u, _ := f.Memory.GetUser(context.Background(), "u1"); u.Role != "viewer" || !u.ValidAfter.IsZero() {
		t.Fatalf("half state: %+v", u)
	}
	if w := whoami(a, cookie); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"role":"viewer"`) {
		t.Fatalf("the session after a failed change: %d %s", w.Code, w.Body)
	}

	f.set()
	w = serve(a, "PATCH", "/v1/organizations/acme/users/u1", `{"role":"admin"}`, asAdmin)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"role":"admin"`) {
		t.Fatalf("role change: %d %s", w.Code, w.Body)
	}
	if w := whoami(a, cookie); w.Code != http.StatusUnauthorized || errorCode(w) != "session_revoked" {
		t.Fatalf("a session with the old role after the change: %d %s", w.Code, w.Body)
	}
	time.Sleep(1100 * time.Millisecond)
	if w := whoami(a, login(t, a)); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"role":"admin"`) {
		t.Fatalf("a new session: %d %s", w.Code, w.Body)
	}
	if w := serve(a, "PATCH", "/v1/organizations/acme/users/nope", `{"role":"admin"}`, asAdmin); w.Code != http.StatusNotFound {
		t.Fatalf("unknown person: %d %s", w.Code, w.Body)
	}
}

// TestUsersAndLoginStoreOutage: a store outage is a 503, never the 404 of
// an unknown person or the 401 of a wrong password.
func TestUsersAndLoginStoreOutage(t *testing.T) {
	t.Parallel()
	a, f := newFailingPlane(t, nil)
	for _, c := range []struct{ down, method, path, body string }{
		{"GetUser", "PATCH", "/v1/organizations/acme/users/u1", `{"role":"admin"}`},
		{"GetUser", "DELETE", "/v1/organizations/acme/users/u1", ""},
		{"GetOrg", "POST", "/v1/auth/login", `{"org":"acme","email":"pat@acme.test","password":"correct-horse"}`},
		{"UserByEmail", "POST", "/v1/auth/login", `{"org":"acme","email":"pat@acme.test","password":"correct-horse"}`},
		{"UserByEmail", "POST", "/v1/auth/login", `{"org":"acme","email":"nobody@acme.test","password":"x"}`},
	} {
		f.set(c.down)
		w := serve(a, c.method, c.path, c.body, asAdmin)
		f.set()
		if w.Code != http.StatusServiceUnavailable || errorCode(w) != codeUpstream {
			t.Errorf("%s %s with %s down: %d %s", c.method, c.path, c.down, w.Code, w.Body)
		}
	}
	if _, err := f.Memory.GetUser(context.Background(), "u1"); err != nil {
		t.Fatalf("the person is gone after a failed delete: %v", err)
	}
}

// TestLoginLimitThroughTrustedProxies: the per-address password limit
// counts the client as seen through the configured proxies; forged
// X-Forwarded-For entries neither spread one client over many counts nor
// put it on another's.
func TestLoginLimitThroughTrustedProxies(t *testing.T) {
	t.Parallel()
	limiter := func() admission.Limiter {
		l, _ := admission.NewMemoryLimiter(admission.LimiterConfig{Max: 3, Window: time.Hour})
		return l
	}
	attempt := func(a *API, remote string, xff ...string) int {
		return serve(a, "POST", "/v1/auth/login", `{"org":"acme","email":"pat@acme.test","password":"wrong"}`, func(r *http.Request) {
			r.RemoteAddr = remote
			for _, v := range xff {
				r.Header.Add("X-Forwarded-For", v)
			}
		}).Code
	}
	t.Run("behind trusted proxies", func(t *testing.T) {
		t.Parallel()
		a, _ := newFailingPlane(t, func(c *Config) {
			c.PasswordIPLimit = limiter()
			c.PasswordLimit, _ = admission.NewMemoryLimiter(admission.LimiterConfig{Max: 1000, Window: time.Hour})
			c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
		})
		for i := range 3 {
			if code := attempt(a, "10.0.0.2:443", fmt.Sprintf("192.0.2.%d, 198.51.100.7", i)); code != http.StatusUnauthorized {
				t.Fatalf("attempt %d: %d", i, code)
			}
		}
		if code := attempt(a, "10.0.0.3:443", "203.0.113.1, 198.51.100.7"); code != http.StatusTooManyRequests {
			t.Fatalf("a forged left entry escaped the limit: %d", code)
		}
		if code := attempt(a, "10.0.0.2:443", "198.51.100.8"); code != http.StatusUnauthorized {
			t.Fatalf("another client behind the proxy was limited: %d", code)
		}
	})
	t.Run("without trusted proxies", func(t *testing.T) {
		t.Parallel()
		a, _ := newFailingPlane(t, func(c *Config) {
			c.PasswordIPLimit = limiter()
			c.PasswordLimit, _ = admission.NewMemoryLimiter(admission.LimiterConfig{Max: 1000, Window: time.Hour})
		})
		for i := range 3 {
			attempt(a, "203.0.113.9:5555", fmt.Sprintf("198.51.100.%d", i))
		}
		if code := attempt(a, "203.0.113.9:5555", "198.51.100.200"); code != http.StatusTooManyRequests {
			t.Fatalf("X-Forwarded-For moved the count of an unproxied client: %d", code)
		}
	})
}

// plainExpiring is a store.Expiring that reports no version.
type plainExpiring struct{ store.Expiring }

// TestLogoutWithUnversionedExpiring: revocations written to an Expiring
// store that reports no version move nothing the principal cache watches,
// so with one the cache is off and a logged-out session is refused at once.
func TestLogoutWithUnversionedExpiring(t *testing.T) {
	t.Parallel()
	exp, _ := store.NewMemory(store.MemoryConfig{})
	a, _ := newFailingPlane(t, func(c *Config) { c.Expiring = plainExpiring{exp} })
	cookie := login(t, a)
	if w := whoami(a, cookie); w.Code != http.StatusOK {
		t.Fatalf("whoami: %d", w.Code)
	}
	if w := serve(a, "POST", "/v1/auth/logout", "", func(r *http.Request) { r.AddCookie(cookie) }); w.Code != http.StatusNoContent {
		t.Fatalf("logout: %d %s", w.Code, w.Body)
	}
	if w := whoami(a, cookie); w.Code != http.StatusUnauthorized {
		t.Fatalf("whoami after logout: %d, want 401", w.Code)
	}
}

// TestSignInRoutesStoreOutage: the sign-in routes that read the
// organization answer a store outage with 503, never the 404 of an
// organization without a connection, the 422 of one without a
// connection to test, or another sign-in path than the organization's.
func TestSignInRoutesStoreOutage(t *testing.T) {
	t.Parallel()
	a, f := newFailingPlane(t, nil)
	for _, c := range []struct{ method, path, body string }{
		{"GET", "/auth/sso/start?org=acme", ""},
		{"POST", "/auth/sso/acs/acme", ""},
		{"GET", "/auth/sso/oidc/acme?code=x&state=y", ""},
		{"GET", "/v1/organizations/acme/sso/test/start", ""},
	} {
		f.set("GetOrg")
		w := serve(a, c.method, c.path, c.body, func(r *http.Request) {
			asAdmin(r)
			if c.method == "POST" {
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
		})
		f.set()
		if w.Code != http.StatusServiceUnavailable || errorCode(w) != codeUpstream || w.Header().Get("Location") != "" {
			t.Errorf("%s %s with the store down: %d %s %q", c.method, c.path, w.Code, w.Body, w.Header().Get("Location"))
		}
	}
}

// promotedAfterRead is a memory store where the person id is given role
// right after a request first reads them: another administrator's change,
// or a sign-in's group rules, landing on another replica between a
// handler's read and its write.
type promotedAfterRead struct {
	store.Store
	id, role string
	once     sync.Once
}

func (p *promotedAfterRead) GetUser(ctx context.Context, id string) (store.User, error) {
	u, err := p.Store.GetUser(ctx, id)
	if err == nil && id == p.id {
		p.once.Do(func() {
			if _, err := p.Store.ChangeRole(ctx, id, p.role, time.Now()); err != nil {
				panic(err)
			}
		})
	}
	return u, err
}

// TestRoleChangeJudgesThePersonAsWritten: an organization admin's role
// change of a person who was promoted above them after the handler read
// them (by another request, on another replica) is refused, and the
// promotion stands: the rank check and the write are one atomic step.
func TestRoleChangeJudgesThePersonAsWritten(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pol, err := rbac.NewPolicy(append(rbac.DefaultRoles(), rbac.RoleDef{Name: "owner", Rank: 40, Inherits: []rbac.Role{rbac.Admin}})...)
	if err != nil {
		t.Fatal(err)
	}
	mem, _ := store.NewMemory(store.MemoryConfig{})
	st := &promotedAfterRead{Store: mem, id: "u_pat", role: "owner"}
	a, err := New(Config{AppURL: "https://app.test", StateKey: bytes.Repeat([]byte{7}, 32), EphemeralSessionKey: true,
		Policy: pol, Store: st})
	if err != nil {
		t.Fatal(err)
	}
	if err := mem.CreateOrg(ctx, store.Org{ID: "acme", Plan: "enterprise"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := mem.CreateUserIfAbsent(ctx, store.User{ID: "u_pat", OrgID: "acme", Email: "pat@acme.test", Role: "editor", Source: "admin"}); err != nil {
		t.Fatal(err)
	}
	adminKey, _, err := a.apiKeys.Create(ctx, "acme", "admin-bot", "admin", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	w := serve(a, "PATCH", "/v1/organizations/acme/users/u_pat", `{"role":"viewer"}`, func(r *http.Request) { r.Header.Set("X-API-Key", adminKey) })
	if w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), "insufficient_scope") {
		t.Errorf("an admin changed a person promoted to owner meanwhile: %d %s", w.Code, w.Body)
	}
	if u, _ := mem.GetUser(ctx, "u_pat"); u.Role != "owner" {
		t.Errorf("the promotion to owner was written over: role %q", u.Role)
	}
}

// TestRemovalJudgesThePersonAsRemoved: an organization admin's removal
// of a person promoted above them after the handler read them is
// refused, and the person stays: the rank check and the removal are one
// atomic step, on the memory store and on SQLite.
func TestRemovalJudgesThePersonAsRemoved(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pol, err := rbac.NewPolicy(append(rbac.DefaultRoles(), rbac.RoleDef{Name: "owner", Rank: 40, Inherits: []rbac.Role{rbac.Admin}})...)
	if err != nil {
		t.Fatal(err)
	}
	sq, err := sqlstore.Open(ctx, sqlstore.Config{DSN: "sqlite::memory:"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sq.Close() })
	mem, _ := store.NewMemory(store.MemoryConfig{})
	for name, under := range map[string]store.Store{"memory": mem, "sqlite": sq} {
		st := &promotedAfterRead{Store: under, id: "u_pat", role: "owner"}
		a, err := New(Config{AppURL: "https://app.test", StateKey: bytes.Repeat([]byte{7}, 32), EphemeralSessionKey: true,
			Policy: pol, Store: st})
		if err != nil {
			t.Fatal(err)
		}
		if err := under.CreateOrg(ctx, store.Org{ID: "acme", Plan: "enterprise"}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := under.CreateUserIfAbsent(ctx, store.User{ID: "u_pat", OrgID: "acme", Email: "pat@acme.test", Role: "editor", Source: "admin"}); err != nil {
			t.Fatal(err)
		}
		adminKey, _, err := a.apiKeys.Create(ctx, "acme", "admin-bot", "admin", time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		w := serve(a, "DELETE", "/v1/organizations/acme/users/u_pat", "", func(r *http.Request) { r.Header.Set("X-API-Key", adminKey) })
		if w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), "insufficient_scope") {
			t.Errorf("%s: an admin removed a person promoted to owner meanwhile: %d %s", name, w.Code, w.Body)
		}
		if u, err := under.GetUser(ctx, "u_pat"); err != nil || u.Role != "owner" {
			t.Errorf("%s: the owner is gone or changed: %v %+v", name, err, u)
		}
		// One still ranked at most the admin is removed.
		if _, _, err := under.CreateUserIfAbsent(ctx, store.User{ID: "u_sam", OrgID: "acme", Email: "sam@acme.test", Role: "editor", Source: "admin"}); err != nil {
			t.Fatal(err)
		}
		if w := serve(a, "DELETE", "/v1/organizations/acme/users/u_sam", "", func(r *http.Request) { r.Header.Set("X-API-Key", adminKey) }); w.Code != http.StatusNoContent {
			t.Errorf("%s: removing an editor: %d %s", name, w.Code, w.Body)
		}
	}
}

// TestAPIKeyForAnUnknownOrganization: an API key for an organization that
// does not exist is a 404, on a store that refuses it (SQL: a foreign
// key) and on one that would keep it: never the 503 of an outage, nor a
// key that an organization created later under that ID would take up.
func TestAPIKeyForAnUnknownOrganization(t *testing.T) {
	t.Parallel()
	for _, dsn := range []string{"", "sqlite::memory:"} {
		a, err := New(Config{AppURL: "https://app.test", StateKey: bytes.Repeat([]byte{7}, 32), EphemeralSessionKey: true,
			BootstrapAdminKey: testAdminKey, StoreDSN: dsn})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { a.Close() })
		w := serve(a, "POST", "/v1/organizations/nope/api-keys", `{"name":"bot","role":"viewer"}`, asAdmin)
		if w.Code != http.StatusNotFound || errorCode(w) != codeNotFound {
			t.Errorf("store %q: a key for an unknown organization: %d %s", dsn, w.Code, w.Body)
		}
		if ks, _ := a.st.ListAPIKeys(context.Background(), "nope"); len(ks) != 0 {
			t.Errorf("store %q: a key kept for an unknown organization: %+v", dsn, ks)
		}
	}
}

// TestRequireSSONeedsSSO: require_sso cannot be turned on for an
// organization whose SSO settings were never saved (with no way to sign
// in by SSO, nobody could sign in, its admins included): 422
// sso_not_configured and nothing saved; once SSO is configured it can.
func TestRequireSSONeedsSSO(t *testing.T) {
	t.Parallel()
	a, err := New(Config{AppURL: "https://app.test", StateKey: bytes.Repeat([]byte{7}, 32), EphemeralSessionKey: true, BootstrapAdminKey: testAdminKey})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := a.st.CreateOrg(ctx, store.Org{ID: "acme", Name: "acme", Plan: "enterprise", DefaultRole: "viewer"}); err != nil {
		t.Fatal(err)
	}
	if w := serve(a, "PATCH", "/v1/organizations/acme", `{"require_sso":true}`, asAdmin); w.Code != http.StatusUnprocessableEntity || errorCode(w) != codeSSONotConfigured {
		t.Errorf("require_sso with no SSO: %d %s", w.Code, w.Body)
	}
	if o, _ := a.st.GetOrg(ctx, "acme"); o.RequireSSO {
		t.Error("require_sso saved with no SSO")
	}
	if w := serve(a, "PUT", "/v1/organizations/acme/sso", `{"clerk_org_id":"org_acme","allowed_domains":["acme.test"],"default_role":"viewer"}`, asAdmin); w.Code != http.StatusOK {
		t.Fatalf("SSO settings: %d %s", w.Code, w.Body)
	}
	if w := serve(a, "PATCH", "/v1/organizations/acme", `{"require_sso":true}`, asAdmin); w.Code != http.StatusOK {
		t.Errorf("require_sso with SSO configured: %d %s", w.Code, w.Body)
	}
	if o, _ := a.st.GetOrg(ctx, "acme"); !o.RequireSSO {
		t.Error("require_sso not saved")
	}
}
