package mockclerk_test

import (
	"context"
	"testing"

	"github.com/clerk/clerk-sdk-go/v2"
	"github.com/clerk/clerk-sdk-go/v2/organization"
	"github.com/ssokit/ssokit/mockidp"
)

// TestClerkOrganizationMembersCount: an Organization carries members_count
// only when include_members_count=true asks for it, as Clerk's Backend API
// answers (the SDK's field is a pointer, omitted when absent): a client
// that reads it without asking gets nothing from Clerk, so it gets nothing
// from the mock either.
func TestClerkOrganizationMembersCount(t *testing.T) {
	t.Parallel()
	srv := mockidp.Start(t, mockidp.DefaultConfig())
	c := srv.Clerk("clerk")
	ctx := context.Background()
	bapi, sk := c.BackendAPIURL(), c.SecretKey()
	orgs := organization.NewClient(&clerk.ClientConfig{BackendConfig: clerk.BackendConfig{URL: &bapi, Key: &sk, HTTPClient: srv.Client()}})

	o, err := orgs.Get(ctx, "org_acme")
	if err != nil {
		t.Fatal(err)
	}
	if o.MembersCount != nil {
		t.Errorf("GET /organizations/org_acme without include_members_count: members_count %d", *o.MembersCount)
	}
	if o, err = orgs.GetWithParams(ctx, "org_acme", &organization.GetParams{IncludeMembersCount: clerk.Bool(true)}); err != nil || o.MembersCount == nil {
		t.Errorf("GET /organizations/org_acme?include_members_count=true: %v, members_count %v", err, o.MembersCount)
	}
	list, err := orgs.List(ctx, &organization.ListParams{})
	if err != nil || len(list.Organizations) == 0 {
		t.Fatalf("list: %v %+v", err, list)
	}
	for _, o := range list.Organizations {
		if o.MembersCount != nil {
			t.Errorf("GET /organizations: %s has members_count %d unasked", o.ID, *o.MembersCount)
		}
	}
	if list, err = orgs.List(ctx, &organization.ListParams{IncludeMembersCount: clerk.Bool(true)}); err != nil || len(list.Organizations) == 0 || list.Organizations[0].MembersCount == nil {
		t.Errorf("GET /organizations?include_members_count=true: %v %+v", err, list)
	}
}
