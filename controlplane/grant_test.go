package controlplane

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ssokit/ssokit/admission"
	"github.com/ssokit/ssokit/rbac"
	"github.com/ssokit/ssokit/store"
)

// TestNoGrantAboveOwnRank: an organization admin can give no role ranked
// above admin (here an owner role of the host's policy), through an API
// key, a person's role or the SSO settings, and cannot change or remove a
// person ranked above them; the platform administrator can do all of it.
func TestNoGrantAboveOwnRank(t *testing.T) {
	ctx := t.Context()
	pol, err := rbac.NewPolicy(append(rbac.DefaultRoles(), rbac.RoleDef{Name: "owner", Rank: 40, Inherits: []rbac.Role{rbac.Admin},
		Permissions: []rbac.Permission{"billing:delete"}})...)
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(Config{AppURL: "https://app.test", StateKey: bytes.Repeat([]byte{7}, 32), EphemeralSessionKey: true,
		Policy: pol, BootstrapAdminKey: "platform-admin-key-0123456789"})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.st.CreateOrg(ctx, store.Org{ID: "acme", Name: "acme", Plan: "enterprise", DefaultRole: "viewer", ClerkOrgID: "org_acme"}); err != nil {
		t.Fatal(err)
	}
	for _, u := range []store.User{
		{ID: "u_viewer", OrgID: "acme", Email: "vic@acme.test", Role: "viewer", Source: "admin"},
		{ID: "u_owner", OrgID: "acme", Email: "olga@acme.test", Role: "owner", Source: "admin"},
	} {
		if _, _, err := a.st.CreateUserIfAbsent(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	adminKey, _, err := a.apiKeys.Create(ctx, "acme", "admin-bot", "admin", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	do := func(cred, method, path, body string) int {
		t.Helper()
		r := httptest.NewRequest(method, path, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		if strings.HasPrefix(cred, "platform") {
			r.Header.Set("Authorization", "Bearer "+cred)
		} else {
			r.Header.Set("X-API-Key", cred)
		}
		w := httptest.NewRecorder()
		a.ServeHTTP(w, r)
		if w.Code == http.StatusForbidden && !strings.Contains(w.Body.String(), `"insufficient_scope"`) {
			t.Errorf("%s %s: 403 %s, want insufficient_scope", method, path, w.Body)
		}
		return w.Code
	}
	sso := func(field string) string {
		return `{"clerk_org_id":"org_acme","allowed_domains":["acme.test"],"default_role":"viewer",` + field + `}`
	}
	const keys, users, settings = "/v1/organizations/acme/api-keys", "/v1/organizations/acme/users/", "/v1/organizations/acme/sso"
	refused := []struct{ name, method, path, body string }{
		{"API key with the owner role", "POST", keys, `{"name":"x","role":"owner"}`},
		{"a viewer made owner", "PATCH", users + "u_viewer", `{"role":"owner"}`},
		{"the owner demoted", "PATCH", users + "u_owner", `{"role":"viewer"}`},
		{"the owner removed", "DELETE", users + "u_owner", ``},
		{"default role owner", "PUT", settings, `{"clerk_org_id":"org_acme","allowed_domains":["acme.test"],"default_role":"owner"}`},
		{"a group rule to owner", "PUT", settings, sso(`"group_roles":[{"group":"eng","role":"owner"}]`)},
		{"a Clerk role mapped to owner", "PUT", settings, sso(`"clerk_role_map":{"org:admin":"owner"}`)},
	}
	for _, c := range refused {
		if got := do(adminKey, c.method, c.path, c.body); got != http.StatusForbidden {
			t.Errorf("admin: %s: %d, want 403", c.name, got)
		}
	}
	if u, _ := a.st.GetUser(ctx, "u_viewer"); u.Role != "viewer" {
		t.Errorf("the viewer's role is now %q", u.Role)
	}
	if u, err := a.st.GetUser(ctx, "u_owner"); err != nil || u.Role != "owner" {
		t.Errorf("the owner is now %q, %v", u.Role, err)
	}
	if ks, _ := a.st.ListAPIKeys(ctx, "acme"); len(ks) != 1 {
		t.Errorf("%d API keys, want the admin's alone", len(ks))
	}
	// Up to their own rank, the admin may.
	allowed := []struct {
		name, method, path, body string
		want                     int
	}{
		{"API key with the admin role", "POST", keys, `{"name":"y","role":"admin"}`, http.StatusCreated},
		{"a viewer made admin", "PATCH", users + "u_viewer", `{"role":"admin"}`, http.StatusOK},
		// Rules that decide roles at sign-in are not the admin's to change
		// while the owner is there (see TestNoDemotionThroughRoleRules).
		{"settings giving admin, an owner there", "PUT", settings, sso(`"group_roles":[{"group":"eng","role":"admin"}],"clerk_role_map":{"org:admin":"admin"}`), http.StatusForbidden},
	}
	for _, c := range allowed {
		if got := do(adminKey, c.method, c.path, c.body); got != c.want {
			t.Errorf("admin: %s: %d, want %d", c.name, got, c.want)
		}
	}
	// The platform administrator gives any role.
	for _, c := range refused {
		want := map[string]int{"POST": http.StatusCreated, "PATCH": http.StatusOK, "DELETE": http.StatusNoContent, "PUT": http.StatusOK}[c.method]
		if c.name == "the owner demoted" || c.name == "the owner removed" {
			continue
		}
		if got := do("platform-admin-key-0123456789", c.method, c.path, c.body); got != want {
			t.Errorf("platform admin: %s: %d, want %d", c.name, got, want)
		}
	}
	if got := do("platform-admin-key-0123456789", "DELETE", users+"u_owner", ""); got != http.StatusNoContent {
		t.Errorf("platform admin: the owner removed: %d", got)
	}
	// The platform admin made the viewer owner above: removed too, so no
	// one ranks above the admin now.
	if got := do("platform-admin-key-0123456789", "DELETE", users+"u_viewer", ""); got != http.StatusNoContent {
		t.Errorf("platform admin: the second owner removed: %d", got)
	}

	// Settings the platform admin gave owner rules: the admin may keep
	// them as they are while changing the rest, never change or remove
	// them.
	withOwners := `{"clerk_org_id":"org_acme","allowed_domains":["acme.test"%s],"default_role":"viewer",` +
		`"group_roles":[{"group":"owners","role":"owner"}%s],"clerk_role_map":{"org:owner":"owner"%s}}`
	if got := do("platform-admin-key-0123456789", "PUT", settings, fmt.Sprintf(withOwners, "", "", "")); got != http.StatusOK {
		t.Fatalf("platform admin sets owner rules: %d", got)
	}
	if got := do(adminKey, "PUT", settings, fmt.Sprintf(withOwners, `,"corp.acme.test"`, `,{"group":"eng","role":"editor"}`, `,"org:member":"viewer"`)); got != http.StatusOK {
		t.Errorf("admin keeps the owner rules and changes the rest: %d", got)
	}
	for name, body := range map[string]string{
		"the owner group rule removed":    sso(`"clerk_role_map":{"org:owner":"owner"}`),
		"every owner rule removed":        sso(`"group_roles":[{"group":"eng","role":"editor"}]`),
		"the owner group rule renamed":    `{"clerk_org_id":"org_acme","allowed_domains":["acme.test"],"default_role":"viewer","group_roles":[{"group":"everyone","role":"owner"}],"clerk_role_map":{"org:owner":"owner"}}`,
		"the owner group rule demoted":    `{"clerk_org_id":"org_acme","allowed_domains":["acme.test"],"default_role":"viewer","group_roles":[{"group":"owners","role":"viewer"}],"clerk_role_map":{"org:owner":"owner"}}`,
		"the owner Clerk mapping dropped": `{"clerk_org_id":"org_acme","allowed_domains":["acme.test"],"default_role":"viewer","group_roles":[{"group":"owners","role":"owner"}]}`,
	} {
		if got := do(adminKey, "PUT", settings, body); got != http.StatusForbidden {
			t.Errorf("admin: %s: %d, want 403", name, got)
		}
	}
	if o, _ := a.st.GetOrg(ctx, "acme"); len(o.GroupRoles) != 2 || o.GroupRoles[0].Role != "owner" || o.ClerkRoleMap["org:owner"] != "owner" {
		t.Errorf("the owner rules after refused writes: %+v %v", o.GroupRoles, o.ClerkRoleMap)
	}
}

// TestOrgAdminIsOneOrgs: an organization admin's credential opens no other
// organization's admin routes, read or write.
func TestOrgAdminIsOneOrgs(t *testing.T) {
	ctx := t.Context()
	a, err := New(Config{AppURL: "https://app.test", StateKey: bytes.Repeat([]byte{7}, 32), EphemeralSessionKey: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"acme", "beta"} {
		if err := a.st.CreateOrg(ctx, store.Org{ID: id, Name: id, Plan: "enterprise", DefaultRole: "viewer"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := a.st.CreateUserIfAbsent(ctx, store.User{ID: "u_beta", OrgID: "beta", Email: "bea@beta.test", Role: "viewer", Source: "admin"}); err != nil {
		t.Fatal(err)
	}
	_, betaKey, err := a.apiKeys.Create(ctx, "beta", "beta-bot", "viewer", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	acmeAdmin, _, err := a.apiKeys.Create(ctx, "acme", "admin-bot", "admin", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	const beta = "/v1/organizations/beta"
	for _, c := range []struct{ method, path, body string }{
		{"GET", beta + "/users", ""},
		{"PATCH", beta + "/users/u_beta", `{"role":"admin"}`},
		{"DELETE", beta + "/users/u_beta", ""},
		{"GET", beta + "/api-keys", ""},
		{"POST", beta + "/api-keys", `{"name":"x","role":"viewer"}`},
		{"DELETE", beta + "/api-keys/" + betaKey.ID, ""},
		{"PUT", beta + "/sso", `{"clerk_org_id":"org_beta","allowed_domains":["beta.test"],"default_role":"viewer"}`},
		{"PATCH", beta, `{"require_sso":true}`},
		{"GET", beta + "/sso/status", ""},
		{"GET", beta + "/sso/events", ""},
		{"GET", beta + "/sso/saml", ""},
		{"POST", beta + "/sso/test", `{}`},
	} {
		r := httptest.NewRequest(c.method, c.path, strings.NewReader(c.body))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("X-API-Key", acmeAdmin)
		w := httptest.NewRecorder()
		a.ServeHTTP(w, r)
		if w.Code != http.StatusForbidden {
			t.Errorf("acme's admin: %s %s: %d %s", c.method, c.path, w.Code, w.Body)
		}
	}
	if u, err := a.st.GetUser(ctx, "u_beta"); err != nil || u.Role != "viewer" {
		t.Errorf("beta's person: %+v %v", u, err)
	}
	if ks, _ := a.st.ListAPIKeys(ctx, "beta"); len(ks) != 1 || ks[0].Revoked {
		t.Errorf("beta's keys: %+v", ks)
	}
	if o, _ := a.st.GetOrg(ctx, "beta"); o.RequireSSO || o.ClerkOrgID != "" {
		t.Errorf("beta's settings: %+v", o)
	}
}

// TestNoDemotionThroughRoleRules: while a person ranked above an
// organization admin is in the organization, the admin cannot change the
// rules that decide roles at sign-in and on membership webhooks: turning
// group rules on (the owner's next sign-in would take their role from
// them and fall to the default role), adding a rule below theirs (a
// match outranks the Clerk mapping an owner holds their role by),
// changing the Clerk role mapping, or the default role under group rules.
// What decides no one's role stays theirs (allowed domains; the default
// role without group rules, a new person's first role), and once no one
// ranks above them the rules are theirs up to their rank. The owner still
// signs in as owner after every refused write.
func TestNoDemotionThroughRoleRules(t *testing.T) {
	ctx := t.Context()
	pol, err := rbac.NewPolicy(append(rbac.DefaultRoles(), rbac.RoleDef{Name: "owner", Rank: 40, Inherits: []rbac.Role{rbac.Admin}})...)
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(Config{AppURL: "https://app.test", StateKey: bytes.Repeat([]byte{7}, 32), EphemeralSessionKey: true, Policy: pol})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range []store.Org{
		{ID: "plain", Name: "plain", Plan: "enterprise", DefaultRole: "viewer", ClerkOrgID: "org_plain", AllowedDomains: []string{"plain.test"}},
		{ID: "grouped", Name: "grouped", Plan: "enterprise", DefaultRole: "viewer", ClerkOrgID: "org_grouped", AllowedDomains: []string{"grouped.test"},
			GroupRoles: []store.GroupRule{{Group: "ops", Role: "editor"}}, ClerkRoleMap: map[string]string{"org:owner": "owner"}},
	} {
		if err := a.st.CreateOrg(ctx, o); err != nil {
			t.Fatal(err)
		}
		if _, _, err := a.st.CreateUserIfAbsent(ctx, store.User{ID: "u_" + o.ID, OrgID: o.ID, Email: "olga@" + o.ID + ".test", Role: "owner", Source: "admin"}); err != nil {
			t.Fatal(err)
		}
	}
	put := func(org, body string) int {
		t.Helper()
		key, _, err := a.apiKeys.Create(ctx, org, "admin-bot", "admin", time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		r := httptest.NewRequest("PUT", "/v1/organizations/"+org+"/sso", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("X-API-Key", key)
		w := httptest.NewRecorder()
		a.ServeHTTP(w, r)
		if w.Code == http.StatusForbidden && !strings.Contains(w.Body.String(), `"insufficient_scope"`) {
			t.Errorf("%s: 403 %s, want insufficient_scope", body, w.Body)
		}
		return w.Code
	}
	settings := func(org, rest string) string {
		return `{"clerk_org_id":"org_` + org + `","allowed_domains":["` + org + `.test"],` + rest + `}`
	}
	// The owner of each organization signs in: Clerk role org:owner, in
	// the eng group (no rule names it: the owner of grouped holds their
	// role by the Clerk mapping).
	signIn := func(org string) string {
		t.Helper()
		p, err := a.admit.Admit(ctx, admission.Login{ClerkOrgID: "org_" + org, Email: "olga@" + org + ".test", ClerkRole: "org:owner", Groups: []string{"eng"}})
		if err != nil {
			t.Fatalf("%s: the owner's sign-in: %v", org, err)
		}
		return p.Role
	}
	for name, c := range map[string]struct{ org, body string }{
		"group rules turned on":              {"plain", settings("plain", `"default_role":"viewer","group_roles":[{"group":"nobody","role":"viewer"}]`)},
		"a Clerk mapping added":              {"plain", settings("plain", `"default_role":"viewer","clerk_role_map":{"org:owner":"viewer"}`)},
		"a rule below the owner's added":     {"grouped", settings("grouped", `"default_role":"viewer","group_roles":[{"group":"ops","role":"editor"},{"group":"eng","role":"viewer"}],"clerk_role_map":{"org:owner":"owner"}`)},
		"a group rule changed":               {"grouped", settings("grouped", `"default_role":"viewer","group_roles":[{"group":"ops","role":"viewer"}],"clerk_role_map":{"org:owner":"owner"}`)},
		"the default role under group rules": {"grouped", settings("grouped", `"default_role":"editor","group_roles":[{"group":"ops","role":"editor"}],"clerk_role_map":{"org:owner":"owner"}`)},
	} {
		if got := put(c.org, c.body); got != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", name, got)
		}
	}
	for _, org := range []string{"plain", "grouped"} {
		if role := signIn(org); role != "owner" {
			t.Errorf("%s: the owner signs in as %q after the refused writes", org, role)
		}
	}
	// What decides no one's role stays the admin's.
	if got := put("plain", settings("plain", `"default_role":"editor"`)); got != http.StatusOK {
		t.Errorf("plain: the default role without group rules: %d", got)
	}
	if got := put("grouped", `{"clerk_org_id":"org_grouped","allowed_domains":["grouped.test","corp.grouped.test"],"default_role":"viewer",`+
		`"group_roles":[{"group":"ops","role":"editor"}],"clerk_role_map":{"org:owner":"owner"}}`); got != http.StatusOK {
		t.Errorf("grouped: the same rules, another domain: %d", got)
	}
	// With no one above them, the rules are the admin's up to their rank.
	if err := a.st.DeleteUser(ctx, "u_plain", nil); err != nil {
		t.Fatal(err)
	}
	if got := put("plain", settings("plain", `"default_role":"viewer","group_roles":[{"group":"eng","role":"admin"}],"clerk_role_map":{"org:admin":"admin"}`)); got != http.StatusOK {
		t.Errorf("plain: rules up to admin, no one above: %d", got)
	}
}
