package controlplane_test

import (
	"context"
	"testing"

	"github.com/ssokit/ssokit/controlplane"
	"github.com/ssokit/ssokit/mockidp"
)

// TestClerkGroupsSeparator: a Clerk token whose groups claim is one
// string ("engineering;admins", as OneLogin joins them) is one group, so
// no admin role, unless Config.ClerkGroupsSeparator splits it.
func TestClerkGroupsSeparator(t *testing.T) {
	t.Parallel()
	for sep, role := range map[string]string{"": "viewer", ";": "admin"} {
		p := newPlaneWith(t, func(c *mockidp.Config) {
			c.Clerk[0].Claims = map[string]string{"groups": "engineering;admins", "email": "{{user.primary_email_address}}", "idp": "{{session.idp}}"}
		}, func(c *controlplane.Config) { c.ClerkGroupsSeparator = sep })
		c, _, _ := p.browser(t, "alice@acme.test")
		me, err := c.Auth.WhoAmI(context.Background())
		if err != nil || me.Role != role {
			t.Errorf("separator %q: whoami %+v %v, want role %s", sep, me, err, role)
		}
	}
}
