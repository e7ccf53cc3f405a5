package middleware

import (
	"context"
	"net/http/httptest"
	"slices"
	"testing"
)

// TestClerkLoginGroups: a groups claim that is an array gives its groups;
// one that is a string is one group unless JoinedGroups names the token's
// IdP, whose separator then splits it, so a group named with a ";" in it
// (which any Google Workspace user may create) never reads as a group the
// person is not in, whatever another IdP joins its groups with.
func TestClerkLoginGroups(t *testing.T) {
	f := newFixture(t, testKid, nil)
	oneLogin := map[string]string{"onelogin": ";"}
	for _, c := range []struct {
		name   string
		joined map[string]string
		idp    string
		claim  any
		groups []string
	}{
		{"array", nil, "google", []any{"Book club; admins", "engineering"}, []string{"Book club; admins", "engineering"}},
		{"array from the joining IdP", oneLogin, "onelogin", []any{"Book club; admins"}, []string{"Book club; admins"}},
		{"string", nil, "onelogin", "engineering;admins", []string{"engineering;admins"}},
		{"string from the joining IdP", oneLogin, "onelogin", "engineering;admins", []string{"engineering", "admins"}},
		{"string from another IdP", oneLogin, "google", "Book club;admins", []string{"Book club;admins"}},
		{"string with no IdP claim", oneLogin, "", "Book club;admins", []string{"Book club;admins"}},
		{"string, an empty IdP named", map[string]string{"": ";"}, "", "Book club;admins", []string{"Book club;admins"}},
		{"empty string", oneLogin, "onelogin", "", nil},
		{"absent", oneLogin, "onelogin", nil, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			a, err := NewAuthenticator(AuthenticatorConfig{Clerk: f.v, JoinedGroups: c.joined, Now: f.clk.Now})
			if err != nil {
				t.Fatal(err)
			}
			claims := with(v1Claims(f.clk.Now()), "email", "pat@acme.test")
			if c.idp != "" {
				claims = with(claims, "idp", c.idp)
			}
			if c.claim != nil {
				claims = with(claims, "groups", c.claim)
			}
			r := httptest.NewRequest("GET", "/", nil)
			r.Header.Set("Authorization", "Bearer "+mint(t, f.keys[0], hdr(testKid), claims))
			p, err := a.Authenticate(r)
			if err != nil {
				t.Fatal(err)
			}
			l, err := a.ClerkLogin(context.Background(), p)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(l.Groups, c.groups) || l.IdPName != c.idp {
				t.Fatalf("groups %q from %q, want %q from %q", l.Groups, l.IdPName, c.groups, c.idp)
			}
		})
	}
}
