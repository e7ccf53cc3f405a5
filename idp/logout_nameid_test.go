package idp

import (
	"bytes"
	"compress/flate"
	"context"
	"encoding/base64"
	"io"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/beevik/etree"
	"github.com/ssokit/ssokit/sso"
)

// TestSAMLLogoutRequestNameID: the LogoutRequest names the principal by
// the NameID the IdP issued, its Format included (SAML Core 3.7.1: "the
// identifier and associated attributes ... as currently recognized by the
// identity and service providers"), not by the Format this SP asked for in
// its AuthnRequests: JumpCloud's administrator picks the format whatever
// is asked, and Google sends none.
func TestSAMLLogoutRequestNameID(t *testing.T) {
	t.Parallel()
	key, cert := builtSPKey()
	slo := `<SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.test/slo"/>`
	c, err := New(context.Background(), Connection{ID: "built", Protocol: sso.SAML, Vendor: sso.JumpCloud, SAML: &SAMLSettings{
		IDPMetadataXML: idpMetadataXML(base64.StdEncoding.EncodeToString(builtIdPCert()), slo+redirectSSO),
		EntityID:       builtSP, ACSURL: builtACS, SLOURL: "https://sp.test/saml/slo"}},
		Options{StateKey: make([]byte, 32), SPKey: key, SPCertificate: cert})
	if err != nil {
		t.Fatal(err)
	}
	lo := c.(SingleLogout)
	for _, format := range []string{
		"urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
		"urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
		"", // no Format: Google's NameID
	} {
		w := httptest.NewRecorder()
		id := &Identity{NameID: "ana@example.test", NameIDFormat: format, SessionIndex: "_s1"}
		if err := lo.StartLogout(w, httptest.NewRequest("GET", "/logout", nil), id); err != nil {
			t.Fatal(err)
		}
		u, err := url.Parse(w.Header().Get("Location"))
		if err != nil {
			t.Fatal(err)
		}
		deflated, err := base64.StdEncoding.DecodeString(u.Query().Get("SAMLRequest"))
		if err != nil {
			t.Fatal(err)
		}
		xml, err := io.ReadAll(flate.NewReader(bytes.NewReader(deflated)))
		if err != nil {
			t.Fatal(err)
		}
		doc := etree.NewDocument()
		if err := doc.ReadFromBytes(xml); err != nil {
			t.Fatal(err)
		}
		nid := doc.FindElement("//NameID")
		if nid == nil || nid.Text() != id.NameID {
			t.Fatalf("LogoutRequest without the NameID %q:\n%s", id.NameID, xml)
		}
		if got := nid.SelectAttrValue("Format", ""); got != format {
			t.Errorf("LogoutRequest NameID Format %q, the IdP issued %q", got, format)
		}
	}
}
