package dashboard_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/ssokit/ssokit/controlplane"
	"github.com/ssokit/ssokit/controlplane/dashboard"
	"github.com/ssokit/ssokit/rbac"
	"github.com/ssokit/ssokit/store"
	"golang.org/x/crypto/bcrypt"
)

// TestDashboardAdminsByRank: the dashboard's admin sections and forms are
// for everyone the API admits to an organization's admin routes — a role
// ranked at or above admin, such as an owner of the host's policy — not
// only for the role named "admin".
func TestDashboardAdminsByRank(t *testing.T) {
	ctx := t.Context()
	pol, err := rbac.NewPolicy(append(rbac.DefaultRoles(), rbac.RoleDef{Name: "owner", Rank: 40, Inherits: []rbac.Role{rbac.Admin}})...)
	if err != nil {
		t.Fatal(err)
	}
	const appURL = "https://app.test"
	api, err := controlplane.New(controlplane.Config{AppURL: appURL, StateKey: bytes.Repeat([]byte{7}, 32), EphemeralSessionKey: true, Policy: pol})
	if err != nil {
		t.Fatal(err)
	}
	d, err := dashboard.New(dashboard.Config{API: api, AppURL: appURL})
	if err != nil {
		t.Fatal(err)
	}
	if err := api.Store().CreateOrg(ctx, store.Org{ID: "acme", Name: "acme", Plan: "enterprise", DefaultRole: "viewer",
		ClerkOrgID: "org_acme", AllowedDomains: []string{"acme.test"}, SSOConfigured: true}); err != nil {
		t.Fatal(err)
	}
	hash, _ := bcrypt.GenerateFromPassword([]byte("owner-password"), bcrypt.MinCost)
	if _, _, err := api.Store().CreateUserIfAbsent(ctx, store.User{ID: "usr_olga", OrgID: "acme", Email: "olga@acme.test",
		Role: "owner", PasswordHash: string(hash), Source: "password"}); err != nil {
		t.Fatal(err)
	}
	var cookies []*http.Cookie
	post := func(path string, form url.Values) (int, string) {
		t.Helper()
		r := httptest.NewRequest("POST", appURL+path, strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for _, c := range cookies {
			r.AddCookie(c)
		}
		w := httptest.NewRecorder()
		d.ServeHTTP(w, r)
		cookies = append(cookies, w.Result().Cookies()...)
		return w.Code, w.Body.String()
	}
	if code, body := post("/dashboard/login", url.Values{"org": {"acme"}, "email": {"olga@acme.test"}, "password": {"owner-password"}}); code != http.StatusSeeOther {
		t.Fatalf("owner login: %d %s", code, body)
	}
	r := httptest.NewRequest("GET", appURL+"/", nil)
	for _, c := range cookies {
		r.AddCookie(c)
	}
	w := httptest.NewRecorder()
	d.ServeHTTP(w, r)
	if !strings.Contains(w.Body.String(), `id="role">owner<`) || !strings.Contains(w.Body.String(), `id="settings"`) {
		t.Errorf("the owner's dashboard has no admin sections: %d %s", w.Code, w.Body)
	}
	if code, body := post("/dashboard/settings", url.Values{"require_sso": {"on"}}); code != http.StatusSeeOther {
		t.Errorf("the owner's settings: %d %s", code, body)
	}
	if o, _ := api.Store().GetOrg(ctx, "acme"); !o.RequireSSO {
		t.Error("the owner could not turn require_sso on")
	}
}
