package mockidp

import (
	"errors"
	"strings"
	"testing"

	"github.com/crewjam/saml"
)

// TestSAMLEntraNameIDFormats: Entra answers each NameIDPolicy Format as
// Microsoft's "SAML single sign-on protocol" says: unspecified lets Entra
// choose, and it issues the pairwise identifier, a persistent NameID
// (Format persistent, as service providers that asked for unspecified
// observe); a format it does not support is refused with
// AADSTS75016 (Saml2AuthenticationRequestInvalidNameIDPolicy), not with
// AADSTS75011, which is the authentication-context mismatch.
func TestSAMLEntraNameIDFormats(t *testing.T) {
	t.Parallel()
	srv := Start(t, DefaultConfig())
	p := srv.Persona("azure")
	u, ok := p.User("bob@contoso.test")
	if !ok {
		t.Fatal("no bob@contoso.test")
	}
	const sp = "https://sp.example.test/saml/metadata"
	_, persistent, err := p.saml.nameIDFor(u, sp, fmtPersistent, ServiceProviderConfig{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ requested, format, value string }{
		{fmtPersistent, fmtPersistent, persistent},
		{fmtUnspecified, fmtPersistent, persistent},
		{fmtEmail, fmtEmail, "bob@contoso.test"},
		{"", fmtEmail, "bob@contoso.test"},
	} {
		format, value, err := p.saml.nameIDFor(u, sp, tc.requested, ServiceProviderConfig{})
		if err != nil || format != tc.format || value != tc.value {
			t.Errorf("NameIDPolicy %q: %q %q %v; want %q %q", tc.requested, format, value, err, tc.format, tc.value)
		}
	}
	_, _, err = p.saml.nameIDFor(u, sp, "urn:oasis:names:tc:SAML:2.0:nameid-format:kerberos", ServiceProviderConfig{})
	var se *saml.StatusError
	if !errors.As(err, &se) || se.SecondLevel != saml.StatusInvalidNameIDPolicy || !strings.HasPrefix(se.Message, "AADSTS75016: ") {
		t.Fatalf("unsupported NameIDPolicy: %v", err)
	}
}
