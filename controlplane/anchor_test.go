package controlplane_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ssokit/ssokit/api"
	"github.com/ssokit/ssokit/controlplane"
	"github.com/ssokit/ssokit/idp"
	"github.com/ssokit/ssokit/rbac"
	"github.com/ssokit/ssokit/sso"
	"github.com/ssokit/ssokit/store"
)

// TestNoIdentitySourceSwapAboveOwnRank: an organization admin who may give
// no role above their own cannot reach one by choosing where identities
// come from. While the organization holds a person ranked above the admin
// (an owner), the admin may not give it a direct connection other than
// the stored one: an identity provider of the admin's choosing would
// assert the owner's address, whose stored owner role stands. While its
// settings hold a rule above the admin, neither another connection nor
// another Clerk organization (where the admin's Clerk role or groups would
// match the rule). Saving the same source again is allowed; with nobody
// and no rule above the admin, so is a new one; the platform
// administrator may always.
func TestNoIdentitySourceSwapAboveOwnRank(t *testing.T) {
	t.Parallel()
	pol, err := rbac.NewPolicy(append(rbac.DefaultRoles(), rbac.RoleDef{Name: "owner", Rank: 40, Inherits: []rbac.Role{rbac.Admin}})...)
	if err != nil {
		t.Fatal(err)
	}
	p := newPlaneWith(t, nil, func(c *controlplane.Config) { c.Policy = pol })
	ctx := context.Background()
	_, conn := initechSAML(t, p, "")
	if _, _, err := p.st.CreateUserIfAbsent(ctx, store.User{ID: "u_owner", OrgID: "initech", Email: "olga@initech.test", Role: "owner", Source: "admin"}); err != nil {
		t.Fatal(err)
	}
	adminKey, _, err := p.api.APIKeys().Create(ctx, "initech", "admin-bot", "admin", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	put := func(cred string, s api.SSOSettings) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("PUT", p.app.URL+"/v1/organizations/initech/sso", strings.NewReader(string(rawJSON(t, s))))
		req.Header.Set("Content-Type", "application/json")
		if cred == adminKey {
			req.Header.Set("X-API-Key", cred)
		} else {
			req.Header.Set("Authorization", "Bearer "+cred)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, readAll(resp)
	}
	settings := func(c *idp.Connection, clerkOrg string, rules ...api.GroupRule) api.SSOSettings {
		s := api.SSOSettings{ClerkOrgID: clerkOrg, AllowedDomains: []string{"initech.test"}, DefaultRole: "viewer", AutoCreateUsers: true, GroupRoles: rules}
		if c != nil {
			s.Connection = rawJSON(t, c)
		}
		return s
	}
	refused := func(what string, s api.SSOSettings) {
		t.Helper()
		if status, body := put(adminKey, s); status != http.StatusForbidden || !strings.Contains(body, "insufficient_scope") {
			t.Errorf("admin: %s: %d %s, want 403 insufficient_scope", what, status, body)
		}
	}
	// The admin's own IdP, which would assert olga@initech.test.
	okta := p.mock.Persona("okta")
	theirs := &idp.Connection{ID: "initech", Protocol: sso.SAML, Vendor: sso.Okta,
		SAML: &idp.SAMLSettings{IDPMetadataURL: okta.SAMLMetadataURL(), EntityID: conn.SAML.EntityID, ACSURL: conn.SAML.ACSURL}}
	remapped := *conn
	remapped.Attributes = map[string]string{"email": "User.other"}

	// An owner in the organization.
	refused("another direct connection, an owner in the organization", settings(theirs, ""))
	refused("the same IdP's attributes remapped, an owner in the organization", settings(&remapped, ""))
	if o, _ := p.st.GetOrg(ctx, "initech"); !strings.Contains(string(o.Connection), `"vendor":"onelogin"`) || strings.Contains(string(o.Connection), "User.other") {
		t.Errorf("the organization's connection changed: %s", o.Connection)
	}
	same := settings(conn, "")
	same.AllowedDomains = append(same.AllowedDomains, "corp.initech.test")
	if status, body := put(adminKey, same); status != http.StatusOK {
		t.Errorf("admin saves the same connection, the rest changed: %d %s", status, body)
	}

	// A rule above the admin, set by the platform administrator.
	owners := api.GroupRule{Group: "owners", Role: "owner"}
	if status, body := put(adminKeyOfPlatform, settings(conn, "org_initech", owners)); status != http.StatusOK {
		t.Fatalf("platform admin sets an owner rule: %d %s", status, body)
	}
	if err := p.st.DeleteUser(ctx, "u_owner", nil); err != nil {
		t.Fatal(err)
	}
	refused("another direct connection under an owner rule", settings(theirs, "org_initech", owners))
	refused("another Clerk organization under an owner rule", settings(conn, "org_theirs", owners))
	refused("a Clerk organization for the connection under an owner rule", settings(nil, "org_theirs", owners))
	if o, _ := p.st.GetOrg(ctx, "initech"); o.ClerkOrgID != "org_initech" || !strings.Contains(string(o.Connection), `"vendor":"onelogin"`) {
		t.Errorf("the organization's identity source changed: clerk %q, connection %s", o.ClerkOrgID, o.Connection)
	}
	if status, body := put(adminKey, settings(conn, "org_initech", owners)); status != http.StatusOK {
		t.Errorf("admin saves the same sources under an owner rule: %d %s", status, body)
	}

	// The platform administrator may swap them; with nobody and no rule
	// above the admin, the admin may too.
	if status, body := put(adminKeyOfPlatform, settings(theirs, "org_theirs", owners)); status != http.StatusOK {
		t.Errorf("platform admin swaps the sources: %d %s", status, body)
	}
	if status, body := put(adminKeyOfPlatform, settings(theirs, "org_theirs")); status != http.StatusOK {
		t.Fatalf("platform admin drops the owner rule: %d %s", status, body)
	}
	if status, body := put(adminKey, settings(conn, "org_theirs")); status != http.StatusOK {
		t.Errorf("admin swaps the connection with nobody above: %d %s", status, body)
	}
	// The Clerk organization is the platform admin's to link, whoever is
	// above (TestOnlyThePlatformAdminLinksAClerkOrganization).
	if status, body := put(adminKey, settings(conn, "org_initech")); status != http.StatusForbidden || !strings.Contains(body, "clerk_org_link") {
		t.Errorf("admin links another Clerk organization: %d %s", status, body)
	}
}

// adminKeyOfPlatform is the plane's bootstrap key: the platform
// administrator.
const adminKeyOfPlatform = adminKey
