package middleware

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/ssokit/ssokit/rbac"
	"github.com/ssokit/ssokit/store"
	"golang.org/x/crypto/bcrypt"
)

type env struct {
	clk  *fakeClock
	st   *store.Memory
	a    *Authenticator
	sess *Sessions
	keys *APIKeys
}

func newEnv(t testing.TB) *env {
	t.Helper()
	clk := newClock()
	st := store.NewMemory(clk.Now)
	ctx := context.Background()
	if err := st.CreateOrg(ctx, store.Org{ID: "acme", Plan: "enterprise", ClerkOrgID: "org_acme", AllowedDomains: []string{"acme.test", "*.corp.acme.test"},
		DefaultRole: "viewer", AutoCreateUsers: true,
		GroupRoles:   []store.GroupRule{{Group: "admins", Role: "admin"}, {Group: "engineering", Role: "editor"}},
		ClerkRoleMap: map[string]string{"org:admin": "admin"}}); err != nil {
		t.Fatal(err)
	}
	st.CreateOrg(ctx, store.Org{ID: "plain", Plan: "growth", ClerkOrgID: "org_plain", AllowedDomains: []string{"plain.test"}, DefaultRole: "viewer"})
	st.CreateOrg(ctx, store.Org{ID: "cheap", Plan: "free", ClerkOrgID: "org_cheap", AllowedDomains: []string{"cheap.test"}, AutoCreateUsers: true})
	sess, err := NewSessions(SessionConfig{Keys: []SessionKey{EphemeralSessionKey()}, Issuer: "https://app.test", Now: clk.Now, InsecureCookie: true})
	if err != nil {
		t.Fatal(err)
	}
	keys := NewAPIKeys(st, "", clk.Now)
	a, err := NewAuthenticator(AuthenticatorConfig{Sessions: sess, APIKeys: keys, Store: st, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	return &env{clk: clk, st: st, a: a, sess: sess, keys: keys}
}

func wantCode(t testing.TB, err error, code string) {
	t.Helper()
	if err == nil {
		t.Fatalf("accepted; want %s", code)
	}
	if got := CodeOf(err); got != code {
		t.Fatalf("code %q (%v), want %q", got, err, code)
	}
}

func TestAdmit(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	login := func(l SSOLogin) (*Principal, error) { return e.a.Admit(ctx, l) }

	for name, tc := range map[string]struct {
		l    SSOLogin
		code string
	}{
		"unmapped Clerk org": {SSOLogin{ClerkOrgID: "org_other", Email: "a@acme.test"}, CodeOrgNotMapped},
		"no active org":      {SSOLogin{Email: "a@acme.test"}, CodeOrgNotMapped},
		"plan not entitled":  {SSOLogin{ClerkOrgID: "org_cheap", Email: "a@cheap.test"}, CodePlanNotEntitled},
		"no email":           {SSOLogin{ClerkOrgID: "org_acme"}, CodeNoEmail},
		"other domain":       {SSOLogin{ClerkOrgID: "org_acme", Email: "a@evil.test"}, CodeDomainNotAllowed},
		"suffix trick":       {SSOLogin{ClerkOrgID: "org_acme", Email: "a@acme.test.evil.test"}, CodeDomainNotAllowed},
		"wildcard apex":      {SSOLogin{ClerkOrgID: "org_acme", Email: "a@corp.acme.test"}, CodeDomainNotAllowed},
		"not provisioned":    {SSOLogin{ClerkOrgID: "org_plain", Email: "new@plain.test"}, CodeUserNotProvisioned},
		"direct unknown org": {SSOLogin{OrgID: "nope", Email: "a@acme.test"}, CodeOrgNotMapped},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := login(tc.l)
			wantCode(t, err, tc.code)
			if !errors.Is(err, ErrForbidden) || Classify(err).Status != http.StatusForbidden || Classify(err).Challenge == "" {
				t.Fatalf("not a 403 with a challenge: %v %+v", err, Classify(err))
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
		p, err := login(SSOLogin{ClerkOrgID: "org_acme", Email: "Alice@ACME.test", Groups: tc.groups, ClerkRole: tc.clerkRole, IdPName: "okta"})
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
	if _, err := login(SSOLogin{ClerkOrgID: "org_acme", Email: "eve@eu.corp.acme.test"}); err != nil {
		t.Fatal(err)
	}
	// Without group rules the stored role stands.
	u, _, _ := e.st.CreateUserIfAbsent(ctx, store.User{ID: "u-plain", OrgID: "plain", Email: "pat@plain.test", Role: "editor"})
	p, err := login(SSOLogin{ClerkOrgID: "org_plain", Email: "pat@plain.test", Groups: []string{"admins"}, ClerkRole: "org:admin"})
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
			p, err := e.a.Admit(context.Background(), SSOLogin{ClerkOrgID: "org_acme", Email: "new@acme.test"})
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

func sessionRequest(t testing.TB, e *env, p *Principal) *http.Request {
	t.Helper()
	w := httptest.NewRecorder()
	if err := e.a.StartSession(w, p); err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("GET", "/api", nil)
	for _, c := range w.Result().Cookies() {
		if c.Name == DefaultAppCookie && (!c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/") {
			t.Fatalf("cookie attributes %+v", c)
		}
		r.AddCookie(c)
	}
	return r
}

func TestAppSessionLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	p, err := e.a.Admit(ctx, SSOLogin{ClerkOrgID: "org_acme", Email: "bob@acme.test", Groups: []string{"engineering"}, IdPName: "azure_ad"})
	if err != nil {
		t.Fatal(err)
	}
	r := sessionRequest(t, e, p)
	got, err := e.a.Authenticate(r)
	if err != nil || got.UserID != p.UserID || got.Role != "editor" || got.AuthMethod != MethodSSO || got.IdPName != "azure_ad" || got.Credential != CredentialAppSession {
		t.Fatalf("session: %v %+v", err, got)
	}
	// Logout revokes this session only.
	other := sessionRequest(t, e, p)
	if err := e.a.Logout(ctx, httptest.NewRecorder(), got); err != nil {
		t.Fatal(err)
	}
	_, err = e.a.Authenticate(r)
	wantCode(t, err, CodeSessionRevoked)
	if _, err := e.a.Authenticate(other); err != nil {
		t.Fatalf("another session of the person ended too: %v", err)
	}
	// Revoke-all for the person.
	e.clk.Advance(2 * time.Second)
	if err := e.a.RevokeUser(ctx, p.UserID); err != nil {
		t.Fatal(err)
	}
	_, err = e.a.Authenticate(other)
	wantCode(t, err, CodeSessionRevoked)
	e.clk.Advance(2 * time.Second)
	fresh := sessionRequest(t, e, p)
	if _, err := e.a.Authenticate(fresh); err != nil {
		t.Fatalf("a session after revoke-all: %v", err)
	}
	// Removed person.
	e.st.DeleteUser(ctx, p.UserID)
	_, err = e.a.Authenticate(fresh)
	wantCode(t, err, CodeSessionRevoked)
	// Expiry.
	p2, _ := e.a.Admit(ctx, SSOLogin{ClerkOrgID: "org_acme", Email: "carl@acme.test"})
	r2 := sessionRequest(t, e, p2)
	e.clk.Advance(13 * time.Hour)
	if _, err := e.a.Authenticate(r2); !errors.Is(err, ErrExpired) {
		t.Fatalf("expired session: %v", err)
	}
}

func TestSessionsKeys(t *testing.T) {
	t.Parallel()
	clk := newClock()
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	oldKey := SessionKey{ID: "old", Key: rsaKey}
	newKey := EphemeralSessionKey()
	old, _ := NewSessions(SessionConfig{Keys: []SessionKey{oldKey}, Issuer: "https://app.test", Now: clk.Now})
	rotated, _ := NewSessions(SessionConfig{Keys: []SessionKey{newKey, oldKey}, Issuer: "https://app.test", Now: clk.Now})
	tok, _, err := old.Issue(AppClaims{Subject: "u", OrgID: "o", Role: "viewer", AuthMethod: MethodSSO})
	if err != nil {
		t.Fatal(err)
	}
	if _, c, err := rotated.Verify(tok); err != nil || c.Subject != "u" {
		t.Fatalf("a token of the rotated-out key: %v", err)
	}
	newTok, _, _ := rotated.Issue(AppClaims{Subject: "u", OrgID: "o", Role: "viewer"})
	if _, _, err := old.Verify(newTok); ReasonOf(err) != ReasonUnknownKeyID {
		t.Fatalf("a key the verifier does not hold: %v", err)
	}
	otherIssuer, _ := NewSessions(SessionConfig{Keys: []SessionKey{oldKey}, Issuer: "https://other.test", Now: clk.Now})
	if _, _, err := otherIssuer.Verify(tok); ReasonOf(err) != ReasonIssuer {
		t.Fatalf("another issuer: %v", err)
	}
	// alg swapped to the other algorithm: refused.
	forged := mint(t, rsaKey, map[string]any{"alg": "EdDSA", "kid": "old"}, map[string]any{"sub": "u"})
	if _, _, err := rotated.Verify(forged); ReasonOf(err) != ReasonAlgorithm {
		t.Fatalf("alg confusion: %v", err)
	}
	jwks := rotated.JWKS()["keys"].([]map[string]any)
	if len(jwks) != 2 || jwks[0]["alg"] != "EdDSA" || jwks[1]["alg"] != "RS256" {
		t.Fatalf("JWKS %v", jwks)
	}
	if _, err := NewSessions(SessionConfig{Issuer: "x"}); err == nil {
		t.Fatal("sessions without a key")
	}
}

func TestRequireSSOAndAPIKeys(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	hash, _ := bcrypt.GenerateFromPassword([]byte("correct horse"), bcrypt.MinCost)
	e.st.CreateUserIfAbsent(ctx, store.User{ID: "u-pw", OrgID: "acme", Email: "pw@acme.test", Role: "editor", PasswordHash: string(hash), Source: MethodPassword})

	// Password login: one error for a wrong password and an unknown person.
	_, err := e.a.PasswordLogin(ctx, "acme", "pw@acme.test", "wrong", "10.0.0.1")
	wantCode(t, err, CodeInvalidCredentials)
	_, err2 := e.a.PasswordLogin(ctx, "acme", "ghost@acme.test", "wrong", "10.0.0.1")
	wantCode(t, err2, CodeInvalidCredentials)
	if Classify(err).Message != Classify(err2).Message || Classify(err).Status != 401 {
		t.Fatal("unknown user and wrong password answer differently")
	}
	pw, err := e.a.PasswordLogin(ctx, "acme", "PW@acme.test", "correct horse", "10.0.0.1")
	if err != nil || pw.AuthMethod != MethodPassword || pw.Role != "editor" {
		t.Fatalf("password login: %v %+v", err, pw)
	}
	pwSession := sessionRequest(t, e, pw)
	sso, _ := e.a.Admit(ctx, SSOLogin{ClerkOrgID: "org_acme", Email: "sso@acme.test"})
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
	_, err = e.a.PasswordLogin(ctx, "acme", "pw@acme.test", "correct horse", "10.0.0.1")
	wantCode(t, err, CodeSSORequired)
	_, err = e.a.Authenticate(pwSession)
	wantCode(t, err, CodeSSORequired)
	if Classify(err).Status != 401 {
		t.Fatalf("status %d", Classify(err).Status)
	}
	if _, err := e.a.Authenticate(ssoSession); err != nil {
		t.Fatalf("SSO session under require_sso: %v", err)
	}
	r := httptest.NewRequest("GET", "/api", nil)
	r.Header.Set("X-API-Key", plain)
	ak, err := e.a.Authenticate(r)
	if err != nil || ak.AuthMethod != MethodAPIKey || ak.Role != "editor" || ak.OrgID != "acme" {
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
	wantCode(t, err, CodeAPIKeyDisabled)
	e.st.UpdateOrg(ctx, "acme", func(o *store.Org) error { o.DisableAPIKeyAuth = false; return nil })
	e.st.RevokeAPIKey(ctx, "acme", key.ID)
	_, err = e.a.Authenticate(r)
	wantCode(t, err, CodeSessionRevoked)
	r.Header.Set("X-API-Key", "ssk_live_"+randomKey(32))
	if _, err := e.a.Authenticate(r); ReasonOf(err) != ReasonSignature {
		t.Fatalf("unknown key: %v", err)
	}
	short, _, _ := e.keys.Create(ctx, "acme", "short", "viewer", e.clk.Now().Add(time.Minute))
	r.Header.Set("X-API-Key", short)
	if _, err := e.a.Authenticate(r); err != nil { // now cached
		t.Fatal(err)
	}
	e.clk.Advance(2 * time.Minute)
	if _, err := e.a.Authenticate(r); !errors.Is(err, ErrExpired) {
		t.Fatalf("expired key: %v", err)
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
		wantCode(t, err, CodeInvalidCredentials)
	}
	_, err := e.a.PasswordLogin(ctx, "plain", "x@plain.test", "pw", "10.0.0.3")
	wantCode(t, err, CodeRateLimited)
	if Classify(err).Status != http.StatusTooManyRequests {
		t.Fatalf("status %d", Classify(err).Status)
	}
	e.clk.Advance(16 * time.Minute)
	if _, err := e.a.PasswordLogin(ctx, "plain", "x@plain.test", "pw", "10.0.0.3"); err != nil {
		t.Fatalf("after the window: %v", err)
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

func TestSessionKeyLoading(t *testing.T) {
	t.Parallel()
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	der, _ := x509.MarshalPKCS8PrivateKey(rsaKey)
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	k, err := ParseSessionKeyPEM("k1", pemKey)
	if err != nil || k.ID != "k1" {
		t.Fatalf("PEM: %v", err)
	}
	ed := EphemeralSessionKey()
	jwk, _ := jose.JSONWebKey{Key: ed.Key, KeyID: "k2", Algorithm: "EdDSA"}.MarshalJSON()
	k2, err := ParseSessionKeyJWK(jwk)
	if err != nil || k2.ID != "k2" {
		t.Fatalf("JWK: %v", err)
	}
	pubOnly, _ := jose.JSONWebKey{Key: &rsaKey.PublicKey, KeyID: "k3"}.MarshalJSON()
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	smallDER, _ := x509.MarshalPKCS8PrivateKey(small)
	for name, f := range map[string]func() error{
		"not PEM": func() error { _, err := ParseSessionKeyPEM("x", []byte("nope")); return err },
		"short RSA": func() error {
			_, err := ParseSessionKeyPEM("x", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: smallDER}))
			return err
		},
		"public JWK": func() error { _, err := ParseSessionKeyJWK(pubOnly); return err },
		"JWK without kid": func() error {
			j, _ := jose.JSONWebKey{Key: ed.Key}.MarshalJSON()
			_, err := ParseSessionKeyJWK(j)
			return err
		},
		"not JSON": func() error { _, err := ParseSessionKeyJWK([]byte("{")); return err },
	} {
		if f() == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// Both verify what they sign.
	s, _ := NewSessions(SessionConfig{Keys: []SessionKey{k, k2}, Issuer: "https://app.test"})
	tok, _, _ := s.Issue(AppClaims{Subject: "u", OrgID: "o"})
	if _, _, err := s.Verify(tok); err != nil {
		t.Fatal(err)
	}
}
