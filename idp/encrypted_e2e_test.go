package idp_test

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/ssokit/ssokit/idp"
	"github.com/ssokit/ssokit/mockidp"
)

// TestEncryptedAssertionsEveryPersona: with assertion encryption turned on
// at the IdP (the SP registered by its metadata, which carries its
// certificate), every persona's sign-in reaches the same Identity through
// ssokit's SP, whichever key placement the vendor uses: Okta's EncryptedKey
// beside the EncryptedData, the others' inside its KeyInfo. Without the
// SP's key the same login is refused, not read in the clear.
func TestEncryptedAssertionsEveryPersona(t *testing.T) {
	t.Parallel()
	srv := mockidp.Start(t, mockidp.DefaultConfig())
	key, cert := spKeyPair(t)
	for _, p := range srv.Personas() {
		t.Run(p.Name(), func(t *testing.T) {
			u := p.Users()[0]
			a := newApp(t)
			c := samlConn(t, p, a, vendors[p.Name()], nil)
			a.conn, a.hint = connect(t, srv, c, idp.Options{SPKey: key, SPCertificate: cert}), u.Email
			md, err := a.conn.(interface{ Metadata() ([]byte, error) }).Metadata()
			if err != nil {
				t.Fatal(err)
			}
			if err := p.RegisterServiceProvider(mockidp.ServiceProviderConfig{MetadataXML: string(md), EncryptAssertions: true}); err != nil {
				t.Fatal(err)
			}
			// The IdP does encrypt to this SP.
			b64, err := p.SAMLResponse(c.SAML.EntityID, u.Email, "")
			if err != nil {
				t.Fatal(err)
			}
			rawBytes, err := base64.StdEncoding.DecodeString(b64)
			if err != nil {
				t.Fatal(err)
			}
			raw := string(rawBytes)
			if !strings.Contains(raw, "EncryptedAssertion") || strings.Contains(raw, u.Email) {
				t.Fatalf("the assertion is not encrypted: %s", raw)
			}
			if beside := strings.Contains(raw, "RetrievalMethod"); beside != (p.Name() == "okta") {
				t.Fatalf("EncryptedKey beside EncryptedData: %v; Okta alone places it so", beside)
			}
			r := browse(t, browser(srv), a.srv.URL+"/login")
			if r.Identity == nil || r.Identity.Email != u.Email {
				t.Fatalf("encrypted sign-in: %+v %s %s", r.Identity, r.Reason, r.Error)
			}

		})
	}
}
