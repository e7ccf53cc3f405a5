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

// TestLimitEncryptedAssertionDepth: the tokenizing pass over a response
// sees an encrypted assertion only as ciphertext, and anyone can encrypt to
// the SP's published certificate. So the plaintext is held to the same
// bounds after a decryption of ssokit's own, before crewjam decrypts,
// parses and canonicalizes it: nested 50 000 deep, or with 45 000 comments
// (which cost crewjam's canonicalization seconds of CPU), it is refused
// with ReasonTooLarge, fast; nested 60 deep it decrypts and reaches the
// signature check.
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
	nested := func(n int) string { return strings.Repeat("<a>", n) + strings.Repeat("</a>", n) }
	// beside moves the EncryptedKey out of the EncryptedData's KeyInfo to
	// be its sibling, as Entra ID and AD FS place it.
	// decoy adds a second EncryptedData, in another namespace, which
	// crewjam (looking it up by namespace) ignores.
	encryptedBody := func(body string, beside bool, decoy ...bool) []byte {
		plain := `<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="a1" Version="2.0" IssueInstant="2026-01-01T00:00:00Z"><saml:Issuer>https://idp.test/entity</saml:Issuer>` + body + `</saml:Assertion>`
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
		if beside {
			ek := ed.FindElement("./KeyInfo/EncryptedKey")
			if ek == nil {
				t.Fatal("no EncryptedKey in the KeyInfo to move")
			}
			ek.Parent().RemoveChild(ek)
			ea.AddChild(ek)
		}
		if len(decoy) > 0 && decoy[0] {
			ea.CreateElement("d:EncryptedData").CreateAttr("xmlns:d", "urn:decoy")
		}
		raw, err := doc.WriteToBytes()
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	for _, c := range []struct {
		name, body, says string
		beside, decoy    bool
	}{
		{"nested 50 000 deep", nested(50_000), "deeper than 64", false, false},
		{"with 45 000 comments", strings.Repeat("x<!---->", 45_000), "more than 1000 comments", false, false},
		{"with 45 000 comments, its EncryptedKey beside", strings.Repeat("x<!---->", 45_000), "more than 1000 comments", true, false},
		{"with a second EncryptedData in another namespace", strings.Repeat("x<!---->", 45_000), "more than one EncryptedData", false, true},
	} {
		raw := encryptedBody(c.body, c.beside, c.decoy)
		alloc, took := limittest.Allocated(func() { _, err = s.consume(context.Background(), raw, []string{""}) })
		if !errors.Is(err, ErrInvalidResponse) || ReasonOf(err) != ReasonTooLarge || !strings.Contains(err.Error(), "encrypted assertion") ||
			!strings.Contains(err.Error(), c.says) {
			t.Fatalf("an encrypted assertion %s: %v", c.name, err)
		}
		if alloc > limittest.Bound(64<<20) || took > time.Second {
			t.Errorf("refusing an encrypted assertion %s allocated %d bytes in %s", c.name, alloc, took)
		}
	}
	for _, beside := range []bool{false, true} {
		// Within the bounds it is decrypted and found unsigned, which is
		// answered as every ciphertext that is not a signed assertion is
		// (TestSAMLEncryptedAssertionRefusalsAreOne), not as too large.
		if _, err := s.consume(context.Background(), encryptedBody(nested(60), beside), []string{""}); ReasonOf(err) != ReasonDecryption {
			t.Errorf("an encrypted assertion nested 60 deep (EncryptedKey beside: %v): %v, want it past the bounds and refused as not a signed assertion", beside, err)
		}
	}
}

// TestLimitEncryptedKeysOnce: a content key wrapped in each of an
// encrypted assertion's EncryptedKeys is tried once, not once for each: the
// plaintext is decrypted and checked once, whatever the number of copies.
func TestLimitEncryptedKeysOnce(t *testing.T) {
	certB64 := selfSigned(t, time.Now().AddDate(1, 0, 0))
	der, _ := base64.StdEncoding.DecodeString(certB64)
	cert, _ := x509.ParseCertificate(der)
	c, err := New(context.Background(), Connection{ID: "limits", Protocol: sso.SAML, Vendor: sso.Okta, SAML: &SAMLSettings{
		IDPMetadataXML: idpMetadataXML(certB64, redirectSSO), EntityID: "https://sp.test/metadata", ACSURL: "https://sp.test/acs", AllowIDPInitiated: true}},
		Options{StateKey: make([]byte, 32), SPKey: testKey(), SPCertificate: cert})
	if err != nil {
		t.Fatal(err)
	}
	s := c.(*samlConnector)
	plain := `<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="a1">` + strings.Repeat(`<a b="c">x</a>`, 9_000) + `</saml:Assertion>`
	enc := xmlenc.OAEP()
	enc.BlockCipher = xmlenc.AES256GCM
	ed, err := enc.Encrypt(cert, []byte(plain), nil)
	if err != nil {
		t.Fatal(err)
	}
	response := func(copies int) []byte {
		doc := etree.NewDocument()
		resp := doc.CreateElement("samlp:Response")
		resp.CreateAttr("xmlns:samlp", "urn:oasis:names:tc:SAML:2.0:protocol")
		resp.CreateAttr("xmlns:saml", "urn:oasis:names:tc:SAML:2.0:assertion")
		d := ed.Copy()
		ki := d.FindElement("./KeyInfo")
		for range copies - 1 {
			ki.AddChild(ki.FindElement("./EncryptedKey").Copy())
		}
		resp.CreateElement("saml:EncryptedAssertion").AddChild(d)
		raw, err := doc.WriteToBytes()
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	one, eight := response(1), response(maxEncryptedKeys)
	var shape string
	allocOne, _ := limittest.Allocated(func() { shape = s.encryptedShape(one) })
	if shape != "" {
		t.Fatalf("one EncryptedKey: %s", shape)
	}
	allocEight, _ := limittest.Allocated(func() { shape = s.encryptedShape(eight) })
	if shape != "" {
		t.Fatalf("%d EncryptedKeys: %s", maxEncryptedKeys, shape)
	}
	t.Logf("one EncryptedKey: %d bytes allocated; %d copies: %d", allocOne, maxEncryptedKeys, allocEight)
	if allocEight > 2*allocOne {
		t.Errorf("%d copies of the EncryptedKey allocated %d bytes, one %d: the plaintext was decrypted and checked for each", maxEncryptedKeys, allocEight, allocOne)
	}
}
