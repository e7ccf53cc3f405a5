package controlplane_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ssokit/ssokit/store"
)

// TestOnlyThePlatformAdminLinksAClerkOrganization: an organization admin
// cannot point the organization at a Clerk organization, mapped to another
// or to none (whose members would land in their organization at their next
// sign-in), first link or change; 403 clerk_org_link, nothing written, and
// no 409 that would tell whether another organization holds it. They may
// keep the stored one or remove it; the platform admin links any.
func TestOnlyThePlatformAdminLinksAClerkOrganization(t *testing.T) {
	t.Parallel()
	p := newPlaneWith(t, nil, nil)
	ctx := context.Background()
	for _, o := range []store.Org{
		{ID: "globex", Name: "Globex", Plan: "enterprise", DefaultRole: "viewer"},
		{ID: "hooli", Name: "Hooli", Plan: "enterprise", DefaultRole: "viewer", ClerkOrgID: "org_hooli"},
	} {
		if err := p.st.CreateOrg(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	orgAdmin, _, err := p.api.APIKeys().Create(ctx, "globex", "admin-bot", "admin", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	put := func(cred, clerkOrg string) (int, string) {
		t.Helper()
		body := `{"clerk_org_id":"` + clerkOrg + `","allowed_domains":["globex.test"],"default_role":"viewer"}`
		req, _ := http.NewRequest("PUT", p.app.URL+"/v1/organizations/globex/sso", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if cred == orgAdmin {
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
	stored := func() string {
		t.Helper()
		o, err := p.st.GetOrg(ctx, "globex")
		if err != nil {
			t.Fatal(err)
		}
		return o.ClerkOrgID
	}
	refused := func(what, clerkOrg, want string) {
		t.Helper()
		if status, body := put(orgAdmin, clerkOrg); status != http.StatusForbidden || !strings.Contains(body, `"clerk_org_link"`) {
			t.Errorf("org admin %s: %d %s, want 403 clerk_org_link", what, status, body)
		}
		if got := stored(); got != want {
			t.Errorf("after the org admin %s the stored Clerk organization is %q, want %q", what, got, want)
		}
	}
	refused("links an unmapped Clerk organization", "org_unmapped", "")
	refused("links one mapped to another organization", "org_hooli", "")

	if status, body := put(adminKey, "org_globex"); status != http.StatusOK || stored() != "org_globex" {
		t.Fatalf("platform admin links the Clerk organization: %d %s, stored %q", status, body, stored())
	}
	if status, body := put(orgAdmin, "org_globex"); status != http.StatusOK {
		t.Errorf("org admin saves the stored Clerk organization: %d %s", status, body)
	}
	refused("changes it", "org_unmapped", "org_globex")
	if status, body := put(adminKey, "org_hooli"); status != http.StatusConflict || !strings.Contains(body, "clerk_org_taken") {
		t.Errorf("platform admin links one mapped to another organization: %d %s, want 409", status, body)
	}
	if status, body := put(orgAdmin, ""); status != http.StatusUnprocessableEntity {
		// Removing it leaves no identity source: refused for that reason,
		// not as a link.
		t.Errorf("org admin removes the only identity source: %d %s, want 422", status, body)
	}
}
