package controlplane_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/ssokit/ssokit/api"
)

// TestDuplicateMembersAreRefused: a body in which one object names a
// member twice, or twice in different letter cases, at any depth, means
// whatever the parser picks (encoding/json keeps the last and folds case;
// a proxy, an audit log or a client library may keep the first). Every
// route refuses it (400 invalid_json) and nothing is written.
func TestDuplicateMembersAreRefused(t *testing.T) {
	t.Parallel()
	p := newPlane(t)
	ctx := context.Background()
	before, err := p.st.GetOrg(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ method, path, body string }{
		{"PATCH", "/v1/organizations/acme", `{"require_sso":false,"require_sso":true}`},
		{"PATCH", "/v1/organizations/acme", `{"disable_api_key_auth":false,"DISABLE_API_KEY_AUTH":true}`},
		{"PATCH", "/v1/organizations/acme", `{"name":"Acme","Name":"Evil"}`},
		{"PUT", "/v1/organizations/acme/sso", `{"clerk_org_id":"org_acme","allowed_domains":["acme.test"],"default_role":"viewer","group_roles":[{"group":"admins","role":"viewer","role":"admin"}]}`},
		{"PUT", "/v1/organizations/acme/sso", `{"clerk_org_id":"org_acme","allowed_domains":["acme.test"],"default_role":"viewer","clerk_role_map":{"org:member":"viewer","org:member":"admin"}}`},
		{"PUT", "/v1/organizations/acme/sso", `{"clerk_org_id":"org_acme","clerk_org_id":"org_other","allowed_domains":["acme.test"]}`},
		{"POST", "/v1/organizations/acme/api-keys", `{"name":"bot","role":"viewer","role":"admin"}`},
		{"POST", "/v1/organizations", `{"id":"dup","name":"Dup","plan":"free","plan":"enterprise"}`},
		{"POST", "/v1/auth/login", `{"org":"acme","email":"a@acme.test","email":"b@acme.test","password":"x"}`},
	} {
		status, resp := p.call(t, c.method, c.path, c.body)
		var e api.Error
		json.Unmarshal([]byte(resp), &e)
		if status != 400 || e.Code != "invalid_json" || !strings.Contains(e.Message, "twice") {
			t.Errorf("%s %s %s: %d %s, want 400 invalid_json naming a member twice", c.method, c.path, c.body, status, resp)
		}
	}
	after, _ := p.st.GetOrg(ctx, "acme")
	if after.RequireSSO != before.RequireSSO || after.DisableAPIKeyAuth != before.DisableAPIKeyAuth || after.Name != before.Name ||
		after.ClerkOrgID != before.ClerkOrgID || len(after.GroupRoles) != len(before.GroupRoles) || len(after.ClerkRoleMap) != 0 {
		t.Errorf("acme changed: %+v", after)
	}
	if ks, _ := p.st.ListAPIKeys(ctx, "acme"); len(ks) != 0 {
		t.Errorf("%d API keys made", len(ks))
	}
	if _, err := p.st.GetOrg(ctx, "dup"); err == nil {
		t.Error("organization dup made")
	}
	// A body that names each member once is still read.
	if status, resp := p.call(t, "PATCH", "/v1/organizations/acme", `{"require_sso":false,"name":"Acme"}`); status != 200 {
		t.Errorf("a plain body: %d %s", status, resp)
	}
}

// TestFieldNamesAreExact: encoding/json takes ROLE for role. A member
// whose name matches a field only in another letter case is refused (400
// invalid_json, nothing written), at any depth, since a proxy, an audit
// log or a client reading the API's exact names does not see it; map keys
// (Clerk roles, group names) are data and keep their case.
func TestFieldNamesAreExact(t *testing.T) {
	t.Parallel()
	p := newPlane(t)
	ctx := context.Background()
	before, err := p.st.GetOrg(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ method, path, body string }{
		{"PATCH", "/v1/organizations/acme", `{"REQUIRE_SSO":true}`},
		{"PATCH", "/v1/organizations/acme", `{"Name":"Evil"}`},
		{"PUT", "/v1/organizations/acme/sso", `{"Clerk_Org_ID":"org_other","allowed_domains":["acme.test"],"default_role":"viewer"}`},
		{"PUT", "/v1/organizations/acme/sso", `{"clerk_org_id":"org_acme","allowed_domains":["acme.test"],"default_role":"viewer","group_roles":[{"GROUP":"admins","role":"admin"}]}`},
		{"PUT", "/v1/organizations/acme/sso", `{"allowed_domains":["acme.test"],"default_role":"viewer","connection":{"id":"acme","protocol":"saml","Vendor":"okta"}}`},
		{"PUT", "/v1/organizations/acme/sso", `{"allowed_domains":["acme.test"],"default_role":"viewer","connection":{"id":"acme","protocol":"saml","vendor":"okta","saml":{"IDP_Metadata_URL":"https://idp.test/m"}}}`},
		{"POST", "/v1/organizations/acme/api-keys", `{"name":"bot","Role":"admin"}`},
		{"POST", "/v1/organizations", `{"ID":"caps","name":"Caps","plan":"free"}`},
	} {
		status, resp := p.call(t, c.method, c.path, c.body)
		var e api.Error
		json.Unmarshal([]byte(resp), &e)
		if status != 400 || e.Code != "invalid_json" || !strings.Contains(e.Message, "unknown field") {
			t.Errorf("%s %s %s: %d %s, want 400 invalid_json naming an unknown field", c.method, c.path, c.body, status, resp)
		}
	}
	after, _ := p.st.GetOrg(ctx, "acme")
	if after.RequireSSO != before.RequireSSO || after.Name != before.Name || after.ClerkOrgID != before.ClerkOrgID || len(after.GroupRoles) != len(before.GroupRoles) {
		t.Errorf("acme changed: %+v", after)
	}
	if ks, _ := p.st.ListAPIKeys(ctx, "acme"); len(ks) != 0 {
		t.Errorf("%d API keys made", len(ks))
	}
	// Map keys keep their case: a Clerk role spelled in capitals is data.
	if status, resp := p.call(t, "PUT", "/v1/organizations/acme/sso",
		`{"clerk_org_id":"org_acme","allowed_domains":["acme.test"],"default_role":"viewer","clerk_role_map":{"ORG:ADMIN":"admin"}}`); status != 200 {
		t.Errorf("a capitalized map key: %d %s", status, resp)
	}
}
