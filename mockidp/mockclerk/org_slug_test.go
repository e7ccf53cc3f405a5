package mockclerk_test

import (
	"context"
	"errors"
	"regexp"
	"testing"

	"github.com/clerk/clerk-sdk-go/v2"
	"github.com/clerk/clerk-sdk-go/v2/organization"
	"github.com/ssokit/ssokit/mockidp"
)

// TestClerkOrganizationSlugRules: an organization slug is lowercase
// letters, digits and dashes, unique in the instance, as Clerk's Backend
// API requires: creating with another slug, or renaming to another
// organization's slug, is refused 422; a slug derived from the name
// follows the same rule.
func TestClerkOrganizationSlugRules(t *testing.T) {
	t.Parallel()
	srv := mockidp.Start(t, mockidp.DefaultConfig())
	c := srv.Clerk("clerk")
	ctx := context.Background()
	bapi, sk := c.BackendAPIURL(), c.SecretKey()
	orgs := organization.NewClient(&clerk.ClientConfig{BackendConfig: clerk.BackendConfig{URL: &bapi, Key: &sk, HTTPClient: srv.Client()}})
	refused := func(t *testing.T, what string, err error) {
		t.Helper()
		var apiErr *clerk.APIErrorResponse
		if !errors.As(err, &apiErr) || apiErr.HTTPStatusCode != 422 {
			t.Errorf("%s: %v, want 422", what, err)
		}
	}

	for _, slug := range []string{"Initech", "init tech", "init_tech", "init/tech", "initéch"} {
		_, err := orgs.Create(ctx, &organization.CreateParams{Name: clerk.String("Initech"), Slug: clerk.String(slug)})
		refused(t, "create with slug "+slug, err)
	}
	o, err := orgs.Create(ctx, &organization.CreateParams{Name: clerk.String("Initech, Inc.")})
	if err != nil || !slugRE.MatchString(o.Slug) {
		t.Fatalf("create without a slug: %v, slug %q", err, o.Slug)
	}
	_, err = orgs.Update(ctx, o.ID, &organization.UpdateParams{Slug: clerk.String("acme")})
	refused(t, "rename to another organization's slug", err)
	_, err = orgs.Update(ctx, o.ID, &organization.UpdateParams{Slug: clerk.String("Init Tech")})
	refused(t, "rename to an invalid slug", err)
	if got, err := orgs.Get(ctx, "acme"); err != nil || got.ID != "org_acme" {
		t.Errorf("acme after the refused rename: %v %+v", err, got)
	}
	if o, err = orgs.Update(ctx, o.ID, &organization.UpdateParams{Slug: clerk.String("initech-2")}); err != nil || o.Slug != "initech-2" {
		t.Errorf("rename to a free slug: %v", err)
	}
}

var slugRE = regexp.MustCompile(`^[a-z0-9-]+$`)
