package controlplane

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ssokit/ssokit/store"
)

// TestSSOSettingsRuleNamesPrintable: a group rule's group, a Clerk role of
// clerk_role_map and the Clerk organization ID are held to printable text
// of bounded length, as an organization's name is: a NUL byte (which a
// PostgreSQL store refuses, answering an outage instead of the caller's
// mistake), a control character or a bidi override is refused 422
// invalid_settings and nothing is saved; real group names are kept.
func TestSSOSettingsRuleNamesPrintable(t *testing.T) {
	ctx := t.Context()
	a, err := New(Config{AppURL: "https://app.test", StateKey: bytes.Repeat([]byte{7}, 32), EphemeralSessionKey: true,
		BootstrapAdminKey: "platform-admin-key-0123456789"})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.st.CreateOrg(ctx, store.Org{ID: "acme", Name: "acme", Plan: "enterprise", DefaultRole: "viewer", ClerkOrgID: "org_acme"}); err != nil {
		t.Fatal(err)
	}
	adminKey, _, err := a.apiKeys.Create(ctx, "acme", "admin-bot", "admin", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	put := func(cred, body string) (int, string) {
		t.Helper()
		r := httptest.NewRequest("PUT", "/v1/organizations/acme/sso", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		if strings.HasPrefix(cred, "platform") {
			r.Header.Set("Authorization", "Bearer "+cred)
		} else {
			r.Header.Set("X-API-Key", cred)
		}
		w := httptest.NewRecorder()
		a.ServeHTTP(w, r)
		return w.Code, w.Body.String()
	}
	q := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	group := func(g string) string {
		return `{"clerk_org_id":"org_acme","allowed_domains":["acme.test"],"group_roles":[{"group":` + q(g) + `,"role":"viewer"}]}`
	}
	clerkRole := func(k string) string {
		return `{"clerk_org_id":"org_acme","allowed_domains":["acme.test"],"clerk_role_map":{` + q(k) + `:"viewer"}}`
	}
	for name, body := range map[string]string{
		"a NUL in a group":                group("eng\x00"),
		"a control character in a group":  group("eng\x07"),
		"a bidi override in a group":      group("\u202eeng"),
		"an overlong group":               group(strings.Repeat("g", 1025)),
		"a NUL in a Clerk role":           clerkRole("org:\x00admin"),
		"a bidi override in a Clerk role": clerkRole("org:\u202eadmin"),
	} {
		code, resp := put(adminKey, body)
		if code != http.StatusUnprocessableEntity || !strings.Contains(resp, `"invalid_settings"`) {
			t.Errorf("%s: %d %s, want 422 invalid_settings", name, code, resp)
		}
	}
	if code, resp := put("platform-admin-key-0123456789", `{"clerk_org_id":"org_\u0000acme","allowed_domains":["acme.test"]}`); code != http.StatusUnprocessableEntity {
		t.Errorf("a NUL in the Clerk organization ID: %d %s, want 422", code, resp)
	}
	if o, _ := a.st.GetOrg(ctx, "acme"); o.SSOConfigured || len(o.GroupRoles) != 0 || len(o.ClerkRoleMap) != 0 || o.ClerkOrgID != "org_acme" {
		t.Errorf("refused settings were saved: %+v", o)
	}
	for _, g := range []string{"CN=Engineering,OU=Groups,DC=acme,DC=test", "Ingénieurs", "00000000-0000-0000-0000-000000000001"} {
		if code, resp := put(adminKey, group(g)); code != http.StatusOK {
			t.Errorf("group %q: %d %s, want 200", g, code, resp)
		}
	}
}
