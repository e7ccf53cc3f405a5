package middleware

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ssokit/ssokit/admission"
	"github.com/ssokit/ssokit/apikey"
	"github.com/ssokit/ssokit/appsession"
	"github.com/ssokit/ssokit/rbac"
	"github.com/ssokit/ssokit/ssoerr"
	"github.com/ssokit/ssokit/store"
	"golang.org/x/crypto/bcrypt"
)

type env struct {
	clk  *fakeClock
	st   *store.Memory
	adm  *admission.Admitter
	a    *Authenticator
	sess *appsession.Manager
	keys *apikey.Manager
}

func newEnv(t testing.TB) *env {
	t.Helper()
	clk := newClock()
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
	sess, err := appsession.New(appsession.Config{Keys: []appsession.Key{appsession.EphemeralKey()}, Issuer: "https://app.test", Now: clk.Now, InsecureCookie: true, Revocations: st})
	if err != nil {
		t.Fatal(err)
	}
	keys, err := apikey.New(apikey.Config{Store: st, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	adm, err := admission.New(admission.Config{Store: st, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	a, err := NewAuthenticator(AuthenticatorConfig{Sessions: sess, APIKeys: keys, Admission: adm, Versions: st, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	return &env{clk: clk, st: st, adm: adm, a: a, sess: sess, keys: keys}
}

// wantCode fails unless err answers with the stable code.
func wantCode(t testing.TB, err error, code string) {
	t.Helper()
	if err == nil {
		t.Fatalf("accepted; want %s", code)
	}
	if got := Classify(err).Code; got != code {
		t.Fatalf("code %q (%v), want %q", got, err, code)
	}
}

func TestAppSessionLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	p, err := e.adm.Admit(ctx, admission.Login{ClerkOrgID: "org_acme", Email: "bob@acme.test", Groups: []string{"engineering"}, IdPName: "azure_ad"})
	if err != nil {
		t.Fatal(err)
	}
	r := sessionRequest(t, e, p)
	got, err := e.a.Authenticate(r)
	if err != nil || got.UserID != p.UserID || got.Role != "editor" || got.AuthMethod != admission.MethodSSO || got.IdPName != "azure_ad" || got.Credential != CredentialAppSession {
		t.Fatalf("session: %v %+v", err, got)
	}
	// Logout revokes this session only.
	other := sessionRequest(t, e, p)
	if err := e.a.Logout(ctx, httptest.NewRecorder(), got); err != nil {
		t.Fatal(err)
	}
	_, err = e.a.Authenticate(r)
	wantCode(t, err, "session_revoked")
	if _, err := e.a.Authenticate(other); err != nil {
		t.Fatalf("another session of the person ended too: %v", err)
	}
	// Revoke-all for the person.
	e.clk.Advance(2 * time.Second)
	if err := e.adm.RevokeUser(ctx, p.UserID); err != nil {
		t.Fatal(err)
	}
	_, err = e.a.Authenticate(other)
	wantCode(t, err, "session_revoked")
	e.clk.Advance(2 * time.Second)
	fresh := sessionRequest(t, e, p)
	if _, err := e.a.Authenticate(fresh); err != nil {
		t.Fatalf("a session after revoke-all: %v", err)
	}
	// Removed person.
	e.st.DeleteUser(ctx, p.UserID, nil)
	_, err = e.a.Authenticate(fresh)
	wantCode(t, err, "session_revoked")
	// Expiry.
	p2, _ := e.adm.Admit(ctx, admission.Login{ClerkOrgID: "org_acme", Email: "carl@acme.test"})
	r2 := sessionRequest(t, e, p2)
	e.clk.Advance(13 * time.Hour)
	if _, err := e.a.Authenticate(r2); !errors.Is(err, ssoerr.ErrExpired) {
		t.Fatalf("expired session: %v", err)
	}
}

func sessionRequest(t testing.TB, e *env, p *admission.Person) *http.Request {
	t.Helper()
	w := httptest.NewRecorder()
	if _, err := e.a.StartSession(w, p); err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("GET", "/api", nil)
	for _, c := range w.Result().Cookies() {
		if c.Name == appsession.DefaultCookie && (!c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/") {
			t.Fatalf("cookie attributes %+v", c)
		}
		r.AddCookie(c)
	}
	return r
}

func TestRequireSSOAndAPIKeys(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	hash, _ := bcrypt.GenerateFromPassword([]byte("correct horse"), bcrypt.MinCost)
	e.st.CreateUserIfAbsent(ctx, store.User{ID: "u-pw", OrgID: "acme", Email: "pw@acme.test", Role: "editor", PasswordHash: string(hash), Source: admission.MethodPassword})

	// Password login: one error for a wrong password and an unknown person.
	_, err := e.adm.PasswordLogin(ctx, "acme", "pw@acme.test", "wrong", "10.0.0.1")
	wantCode(t, err, CodeInvalidCredentials)
	_, err2 := e.adm.PasswordLogin(ctx, "acme", "ghost@acme.test", "wrong", "10.0.0.1")
	wantCode(t, err2, CodeInvalidCredentials)
	if Classify(err).Message != Classify(err2).Message || Classify(err).Status != 401 {
		t.Fatal("unknown user and wrong password answer differently")
	}
	pw, err := e.adm.PasswordLogin(ctx, "acme", "PW@acme.test", "correct horse", "10.0.0.1")
	if err != nil || pw.AuthMethod != admission.MethodPassword || pw.Role != "editor" {
		t.Fatalf("password login: %v %+v", err, pw)
	}
	pwSession := sessionRequest(t, e, pw)
	sso, _ := e.adm.Admit(ctx, admission.Login{ClerkOrgID: "org_acme", Email: "sso@acme.test"})
	ssoSession := sessionRequest(t, e, sso)
	plain, key, err := e.keys.Create(ctx, "acme", "ci", "editor", time.Time{})
	if err != nil || key.Hash == plain || len(plain) < 40 {
		t.Fatalf("key: %v", err)
	}

	// require_sso on: password logins and earlier password sessions stop;
	// SSO sessions and API keys keep working.
	e.clk.Advance(time.Second)
	now := e.clk.Now()
	e.st.UpdateOrg(ctx, "acme", func(o *store.Org) error { o.RequireSSO, o.RequireSSOSince = true, now; return nil })
	_, err = e.adm.PasswordLogin(ctx, "acme", "pw@acme.test", "correct horse", "10.0.0.1")
	wantCode(t, err, "sso_required")
	_, err = e.a.Authenticate(pwSession)
	wantCode(t, err, "sso_required")
	if Classify(err).Status != 401 {
		t.Fatalf("status %d", Classify(err).Status)
	}
	if _, err := e.a.Authenticate(ssoSession); err != nil {
		t.Fatalf("SSO session under require_sso: %v", err)
	}
	r := httptest.NewRequest("GET", "/api", nil)
	r.Header.Set("X-API-Key", plain)
	ak, err := e.a.Authenticate(r)
	if err != nil || ak.AuthMethod != admission.MethodAPIKey || ak.Role != "editor" || ak.OrgID != "acme" {
		t.Fatalf("API key under require_sso: %v %+v", err, ak)
	}
	rb := httptest.NewRequest("GET", "/api", nil)
	rb.Header.Set("Authorization", "Bearer "+plain)
	if _, err := e.a.Authenticate(rb); err != nil {
		t.Fatalf("API key as Bearer: %v", err)
	}
	// Last use is written in a batch.
	if err := e.keys.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if ks, _ := e.st.ListAPIKeys(ctx, "acme"); ks[0].LastUsed.IsZero() {
		t.Fatal("last use not recorded")
	}
	// disable_api_key_auth, then revoked, unknown and expired keys.
	e.st.UpdateOrg(ctx, "acme", func(o *store.Org) error { o.DisableAPIKeyAuth = true; return nil })
	_, err = e.a.Authenticate(r)
	wantCode(t, err, "api_key_auth_disabled")
	e.st.UpdateOrg(ctx, "acme", func(o *store.Org) error { o.DisableAPIKeyAuth = false; return nil })
	e.st.RevokeAPIKey(ctx, "acme", key.ID)
	_, err = e.a.Authenticate(r)
	if ssoerr.ReasonOf(err) != ssoerr.ReasonAPIKeyRevoked {
		t.Fatalf("revoked key: %v", err)
	}
	r.Header.Set("X-API-Key", "ssk_live_"+strings.Repeat("x", 32))
	if _, err := e.a.Authenticate(r); ssoerr.ReasonOf(err) != ssoerr.ReasonUnknownAPIKey {
		t.Fatalf("unknown key: %v", err)
	}
	short, _, _ := e.keys.Create(ctx, "acme", "short", "viewer", e.clk.Now().Add(time.Minute))
	r.Header.Set("X-API-Key", short)
	if _, err := e.a.Authenticate(r); err != nil { // now cached
		t.Fatal(err)
	}
	e.clk.Advance(2 * time.Minute)
	if _, err := e.a.Authenticate(r); !errors.Is(err, ssoerr.ErrExpired) {
		t.Fatalf("expired key: %v", err)
	}
}

func TestRequireRoleAndPermission(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
	for _, tc := range []struct {
		role   string
		mw     func(http.Handler) http.Handler
		status int
	}{
		{"editor", e.a.RequireRole(rbac.Editor), 204},
		{"viewer", e.a.RequireRole(rbac.Editor), 403},
		{"admin", e.a.RequireRole(rbac.Editor), 204},
		{"custom", e.a.RequireRole(rbac.Viewer), 403},
		{"viewer", e.a.RequirePermission("projects:read"), 204},
		{"viewer", e.a.RequirePermission("projects:write"), 403},
		{"admin", e.a.RequirePermission("sso:configure"), 204},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r = r.WithContext(WithPrincipal(r.Context(), &Principal{Role: tc.role}))
		w := httptest.NewRecorder()
		tc.mw(ok).ServeHTTP(w, r)
		if w.Code != tc.status {
			t.Errorf("%s: %d, want %d", tc.role, w.Code, tc.status)
		}
		if w.Code == 403 && w.Header().Get("WWW-Authenticate") != `Bearer realm="ssokit", error="insufficient_scope"` {
			t.Errorf("403 challenge %q", w.Header().Get("WWW-Authenticate"))
		}
	}
	w := httptest.NewRecorder()
	e.a.RequireRole(rbac.Viewer)(ok).ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if w.Code != 403 {
		t.Fatalf("no principal: %d", w.Code)
	}
}

// TestSSOAppSessionEndsWithTheOrgsConsent: an app session from an SSO
// sign-in ends once a sign-in would be refused for the organization's
// reasons (the person's domain no longer allowed, the plan no longer
// entitled to SSO), checked again as soon as the store changes, and is
// taken again once restored; a password session is not held to either.
func TestSSOAppSessionEndsWithTheOrgsConsent(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name            string
		change, restore func(o *store.Org)
		code            string
	}{
		{"domain removed", func(o *store.Org) { o.AllowedDomains = []string{"other.test"} },
			func(o *store.Org) { o.AllowedDomains = []string{"acme.test"} }, "domain_not_allowed"},
		{"plan downgraded", func(o *store.Org) { o.Plan = "free" },
			func(o *store.Org) { o.Plan = "enterprise" }, "plan_not_entitled"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			ctx := context.Background()
			p, err := e.adm.Admit(ctx, admission.Login{ClerkOrgID: "org_acme", Email: "bob@acme.test"})
			if err != nil {
				t.Fatal(err)
			}
			r := sessionRequest(t, e, p)
			if _, err := e.a.Authenticate(r); err != nil {
				t.Fatal(err)
			}
			pw := &admission.Person{UserID: p.UserID, Email: p.Email, OrgID: p.OrgID, Role: p.Role, AuthMethod: admission.MethodPassword}
			password := sessionRequest(t, e, pw)
			update := func(f func(o *store.Org)) {
				t.Helper()
				if _, err := e.st.UpdateOrg(ctx, "acme", func(o *store.Org) error { f(o); return nil }); err != nil {
					t.Fatal(err)
				}
			}
			update(c.change)
			_, err = e.a.Authenticate(r)
			wantCode(t, err, c.code)
			if Classify(err).Status != http.StatusUnauthorized {
				t.Fatalf("status %d, want 401 (the session ended)", Classify(err).Status)
			}
			if _, err := e.a.Authenticate(password); err != nil {
				t.Fatalf("a password session: %v", err)
			}
			update(c.restore)
			if _, err := e.a.Authenticate(r); err != nil {
				t.Fatalf("restored: %v", err)
			}
		})
	}
}
