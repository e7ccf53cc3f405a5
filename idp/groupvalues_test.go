package idp

import (
	"slices"
	"testing"

	"github.com/crewjam/saml"
	"github.com/ssokit/ssokit/sso"
)

// TestGroupValuesSplitOnlyOneLogin: only OneLogin joins groups with ";"
// (a parameter that is not multi-valued); any other vendor's group value
// is one group, so a group named "Book club; admins" gives no rule for
// "admins" its role.
func TestGroupValuesSplitOnlyOneLogin(t *testing.T) {
	assertion := func(groupsAttr string, values ...string) *saml.Assertion {
		var vs []saml.AttributeValue
		for _, v := range values {
			vs = append(vs, saml.AttributeValue{Value: v})
		}
		return &saml.Assertion{
			Subject: &saml.Subject{NameID: &saml.NameID{Value: "00u1", Format: "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"}},
			AttributeStatements: []saml.AttributeStatement{{Attributes: []saml.Attribute{
				{Name: "email", Values: []saml.AttributeValue{{Value: "mallory@acme.test"}}},
				{Name: groupsAttr, Values: vs},
			}}},
		}
	}
	for _, v := range []sso.Vendor{sso.Okta, sso.JumpCloud, sso.GoogleWorkspace, sso.Generic} {
		c := Connection{Vendor: v}
		id, err := samlIdentity(c, assertion(field(c, samlProfiles, "groups"), "Book club; admins", " eng "))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(id.Groups, []string{"Book club; admins", "eng"}) {
			t.Errorf("%s SAML groups %q, want the values whole", v, id.Groups)
		}
		if got := oidcIdentity(c, map[string]any{"sub": "x", field(c, oidcProfiles, "groups"): "Book club; admins"}).Groups; !slices.Equal(got, []string{"Book club; admins"}) {
			t.Errorf("%s OIDC string groups %q, want one", v, got)
		}
	}
	c := Connection{Vendor: sso.OneLogin}
	id, err := samlIdentity(c, assertion(field(c, samlProfiles, "groups"), "Sales;Engineering; Admins"))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(id.Groups, []string{"Sales", "Engineering", "Admins"}) {
		t.Errorf("OneLogin SAML groups %q, want the ;-joined value split", id.Groups)
	}
	if got := oidcIdentity(c, map[string]any{"sub": "x", field(c, oidcProfiles, "groups"): "Sales;Engineering"}).Groups; !slices.Equal(got, []string{"Sales", "Engineering"}) {
		t.Errorf("OneLogin OIDC string groups %q", got)
	}
}
