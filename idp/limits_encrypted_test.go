package idp

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml/xmlenc"
	"github.com/ssokit/ssokit/internal/limittest"
	"github.com/ssokit/ssokit/sso"
)

// TestLimitEncryptedAssertionDepth: the depth check before parsing sees an
// encrypted assertion only as ciphertext, and anyone can encrypt to the
// SP's published certificate. Its plaintext, nested 50 000 deep, is
// refused after decryption by crewjam/saml's own bound (64, like
// MaxXMLDepth) with ReasonDecryption, fast and without following the
// nesting; one of 60 levels decrypts and reaches the signature check.
func TestLimitEncryptedAssertionDepth(t *testing.T) {
	certB64 := selfSigned(t, time.Now().AddDate(1, 0, 0))
	der, _ := base64.StdEncoding.DecodeString(certB64)
	cert, _ := x509.ParseCertificate(der)
	md := idpMetadataXML(certB64, redirectSSO)
	c, err := New(context.Background(), Connection{ID: "limits", Protocol: sso.SAML, Vendor: sso.Okta, SAML: &SAMLSettings{
		IDPMetadataXML: md, EntityID: "https://sp.test/metadata", ACSURL: "https://sp.test/acs", AllowIDPInitiated: true}},
		Options{StateKey: make([]byte, 32), SPKey: testKey(), SPCertificate: cert})
	if err != nil {
		t.Fatal(err)
	}
	s := c.(*samlConnector)
	encrypted := func(n int) []byte {
		plain := `<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="a1" Version="2.0" IssueInstant="2026-01-01T00:00:00Z"><saml:Issuer>https://idp.test/entity</saml:Issuer>` + strings.Repeat("<a>", n) + strings.Repeat("</a>", n) + `</saml:Assertion>`
		enc := xmlenc.OAEP()
		enc.BlockCipher = xmlenc.AES256GCM
		ed, err := enc.Encrypt(cert, []byte(plain), nil)
		if err != nil {
			t.Fatal(err)
		}
		doc := etree.NewDocument()
		resp := doc.CreateElement("samlp:Response")
		resp.CreateAttr("xmlns:samlp", "urn:oasis:names:tc:SAML:2.0:protocol")
		resp.CreateAttr("xmlns:saml", "urn:oasis:names:tc:SAML:2.0:assertion")
		resp.CreateAttr("ID", "r1")
		resp.CreateAttr("Version", "2.0")
		resp.CreateAttr("IssueInstant", time.Now().UTC().Format(time.RFC3339))
		resp.CreateElement("saml:Issuer").SetText("https://idp.test/entity")
		st := resp.CreateElement("samlp:Status").CreateElement("samlp:StatusCode")
		st.CreateAttr("Value", "urn:oasis:names:tc:SAML:2.0:status:Success")
		ea := resp.CreateElement("saml:EncryptedAssertion")
		ea.AddChild(ed)
		raw, err := doc.WriteToBytes()
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	deep := encrypted(50_000)
	alloc, took := limittest.Allocated(func() { _, err = s.consume(context.Background(), deep, []string{""}) })
	if !errors.Is(err, ErrInvalidResponse) || ReasonOf(err) != ReasonDecryption {
		t.Fatalf("an encrypted assertion nested 50 000 deep: %v", err)
	}
	if alloc > limittest.Bound(64<<20) || took > 5*time.Second {
		t.Errorf("refusing it allocated %d bytes in %s", alloc, took)
	}
	if _, err := s.consume(context.Background(), encrypted(60), []string{""}); ReasonOf(err) != ReasonSignature {
		t.Errorf("an encrypted assertion nested 60 deep: %v, want it decrypted and refused unsigned", err)
	}
}
