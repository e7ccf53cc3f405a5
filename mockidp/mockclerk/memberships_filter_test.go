package mockclerk_test

import (
	"context"
	"testing"

	"github.com/clerk/clerk-sdk-go/v2"
	"github.com/clerk/clerk-sdk-go/v2/organizationmembership"
	"github.com/ssokit/ssokit/mockidp"
)

// TestClerkMembershipListFilters: GET /organizations/{org}/memberships
// applies the filters Clerk's Backend API takes (user_id, with + and -
// prefixes, role, email_address) instead of answering every member: a
// client asking whether one person is a member, or who the admins are,
// gets the answer Clerk would give.
func TestClerkMembershipListFilters(t *testing.T) {
	t.Parallel()
	srv := mockidp.Start(t, mockidp.DefaultConfig())
	c := srv.Clerk("clerk")
	for email, role := range map[string]string{"alice@acme.test": "admin", "bob@acme.test": "member"} {
		if _, err := c.MintSessionToken(email, "acme", role, ""); err != nil {
			t.Fatal(err)
		}
	}
	alice, _ := c.UserID("alice@acme.test")
	bob, _ := c.UserID("bob@acme.test")
	if _, err := c.MintSessionToken("carol@contoso.test", "contoso", "member", ""); err != nil {
		t.Fatal(err)
	}
	carol, _ := c.UserID("carol@contoso.test")
	bapi, sk := c.BackendAPIURL(), c.SecretKey()
	ms := organizationmembership.NewClient(&clerk.ClientConfig{BackendConfig: clerk.BackendConfig{URL: &bapi, Key: &sk, HTTPClient: srv.Client()}})

	for _, tc := range []struct {
		name   string
		params organizationmembership.ListParams
		want   []string
	}{
		{"none", organizationmembership.ListParams{}, []string{alice, bob}},
		{"user_id", organizationmembership.ListParams{UserIDs: []string{bob}}, []string{bob}},
		{"user_id +", organizationmembership.ListParams{UserIDs: []string{"+" + alice}}, []string{alice}},
		{"user_id -", organizationmembership.ListParams{UserIDs: []string{"-" + alice}}, []string{bob}},
		{"user_id not a member", organizationmembership.ListParams{UserIDs: []string{carol}}, nil},
		{"role", organizationmembership.ListParams{Roles: []string{"org:admin"}}, []string{alice}},
		{"email_address", organizationmembership.ListParams{EmailAddresses: []string{"Bob@acme.test"}}, []string{bob}},
	} {
		tc.params.OrganizationID = "org_acme"
		list, err := ms.List(context.Background(), &tc.params)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		got := map[string]bool{}
		for _, m := range list.OrganizationMemberships {
			got[m.PublicUserData.UserID] = true
		}
		if int(list.TotalCount) != len(tc.want) || len(got) != len(tc.want) {
			t.Errorf("%s: members %v (total_count %d), want %v", tc.name, got, list.TotalCount, tc.want)
			continue
		}
		for _, id := range tc.want {
			if !got[id] {
				t.Errorf("%s: members %v, want %v", tc.name, got, tc.want)
			}
		}
	}
}
