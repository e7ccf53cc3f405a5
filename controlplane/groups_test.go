package controlplane_test

import (
	"context"
	"testing"

	"github.com/ssokit/ssokit/controlplane"
	"github.com/ssokit/ssokit/mockidp"
)

// TestClerkJoinedGroups: a Clerk token whose groups claim is one string
// ("engineering;admins", as OneLogin joins them) is one group, so no admin
// role, unless Config.ClerkJoinedGroups names the token's IdP (its idp
// claim: the persona the mock Clerk brokered to) with the separator.
func TestClerkJoinedGroups(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		joined map[string]string
		role   string
	}{
		{nil, "viewer"},
		{map[string]string{"onelogin": ";"}, "viewer"}, // Alice signs in at Okta
		{map[string]string{"okta": ";"}, "admin"},
	} {
		p := newPlaneWith(t, func(c *mockidp.Config) {
			c.Clerk[0].Claims = map[string]string{"groups": "engineering;admins", "email": "{{user.primary_email_address}}", "idp": "{{session.idp}}"}
		}, func(cfg *controlplane.Config) { cfg.ClerkJoinedGroups = c.joined })
		cl, _, _ := p.browser(t, "alice@acme.test")
		me, err := cl.Auth.WhoAmI(context.Background())
		if err != nil || me.Role != c.role {
			t.Errorf("joined %v: whoami %+v %v, want role %s", c.joined, me, err, c.role)
		}
	}
}
