package middleware

import (
	"context"
	"net/http/httptest"
	"slices"
	"testing"
)

// TestClerkLoginGroups: a groups claim that is an array gives its groups;
// one that is a string is one group unless GroupsSeparator splits it, so a
// group named with a ";" in it (which any Google Workspace user may
// create) never reads as a group the person is not in.
func TestClerkLoginGroups(t *testing.T) {
	f := newFixture(t, testKid, nil)
	for _, c := range []struct {
		name   string
		sep    string
		claim  any
		groups []string
	}{
		{"array", "", []any{"Book club; admins", "engineering"}, []string{"Book club; admins", "engineering"}},
		{"array, separator set", ";", []any{"Book club; admins"}, []string{"Book club; admins"}},
		{"string", "", "Book club; admins", []string{"Book club; admins"}},
		{"string, separator set", ";", "engineering;admins", []string{"engineering", "admins"}},
		{"empty string", ";", "", nil},
		{"absent", ";", nil, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			a, err := NewAuthenticator(AuthenticatorConfig{Clerk: f.v, GroupsSeparator: c.sep, Now: f.clk.Now})
			if err != nil {
				t.Fatal(err)
			}
			claims := with(v1Claims(f.clk.Now()), "email", "pat@acme.test")
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
			if !slices.Equal(l.Groups, c.groups) {
				t.Fatalf("groups %q, want %q", l.Groups, c.groups)
			}
		})
	}
}
