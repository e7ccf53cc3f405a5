package mockclerk_test

import (
	"context"
	"net/http"
	"slices"
	"testing"

	"github.com/clerk/clerk-sdk-go/v2"
	"github.com/clerk/clerk-sdk-go/v2/organization"
	"github.com/ssokit/ssokit/mockidp"
)

// TestClerkOrganizationListFilters: GET /organizations applies user_id
// (organizations that have any of the users as a member) and
// organization_id, as Clerk's Backend API does, instead of listing every
// organization of the instance.
func TestClerkOrganizationListFilters(t *testing.T) {
	t.Parallel()
	srv := mockidp.Start(t, mockidp.DefaultConfig())
	c := srv.Clerk("clerk")
	if _, err := c.MintSessionToken("alice@acme.test", "acme", "admin", ""); err != nil {
		t.Fatal(err)
	}
	alice, _ := c.UserID("alice@acme.test")
	bapi, sk := c.BackendAPIURL(), c.SecretKey()
	orgs := organization.NewClient(&clerk.ClientConfig{BackendConfig: clerk.BackendConfig{URL: &bapi, Key: &sk, HTTPClient: srv.Client()}})
	ids := func(t *testing.T, p organization.ListParams) []string {
		t.Helper()
		list, err := orgs.List(context.Background(), &p)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, o := range list.Organizations {
			out = append(out, o.ID)
		}
		if int(list.TotalCount) != len(out) {
			t.Errorf("total_count %d for %d organizations", list.TotalCount, len(out))
		}
		slices.Sort(out)
		return out
	}
	if got := ids(t, organization.ListParams{}); len(got) < 2 {
		t.Fatalf("all organizations: %v", got)
	}
	if got := ids(t, organization.ListParams{UserIDs: []string{alice}}); !slices.Equal(got, []string{"org_acme"}) {
		t.Errorf("user_id=%s: %v, want [org_acme]", alice, got)
	}
	if got := ids(t, organization.ListParams{UserIDs: []string{"user_nobody"}}); len(got) != 0 {
		t.Errorf("user_id of no member: %v, want none", got)
	}
	req, _ := http.NewRequest("GET", bapi+"/organizations?organization_id=org_contoso", nil)
	req.Header.Set("Authorization", "Bearer "+sk)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var list struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
		TotalCount int `json:"total_count"`
	}
	if err := jsonDecode(resp, &list); err != nil || list.TotalCount != 1 || len(list.Data) != 1 || list.Data[0].ID != "org_contoso" {
		t.Errorf("organization_id=org_contoso: %v %+v", err, list)
	}
}
