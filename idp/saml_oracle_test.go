package idp

import (
	"context"
	"encoding/base64"
	"errors"
	"testing"

	"github.com/beevik/etree"
	"github.com/crewjam/saml/xmlenc"
	"github.com/ssokit/ssokit/sso"
)

// TestSAMLEncryptedAssertionRefusalsAreOne: whatever an encrypted
// assertion's ciphertext decrypts to (nothing: a tampered block or a key
// for someone else; bytes that are not XML; an assertion nobody signed),
// the refusal is the same, reason and words: the SSO log would otherwise
// be a decryption oracle to anyone who can post to an ACS of theirs.
func TestSAMLEncryptedAssertionRefusalsAreOne(t *testing.T) {
	t.Parallel()
	c := builtConnector(t, sso.OneLogin, false)
	_, cert := builtSPKey()
	// withEncryptedData replaces the EncryptedData of a built encrypted
	// response by f's.
	withEncryptedData := func(f func(ed *etree.Element) *etree.Element) []byte {
		t.Helper()
		doc := etree.NewDocument()
		if err := doc.ReadFromBytes(buildResponse(t, shape{sign: "assertion", encrypt: "keyinfo"})); err != nil {
			t.Fatal(err)
		}
		ea := doc.FindElement("//EncryptedAssertion")
		ed := ea.FindElement("./EncryptedData")
		ea.RemoveChild(ed)
		ea.AddChild(f(ed))
		b, err := doc.WriteToBytes()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	encrypt := func(plain string) func(*etree.Element) *etree.Element {
		return func(*etree.Element) *etree.Element {
			enc := xmlenc.OAEP()
			enc.BlockCipher = xmlenc.AES256CBC
			enc.DigestMethod = &xmlenc.SHA1
			ed, err := enc.Encrypt(cert, []byte(plain), nil)
			if err != nil {
				t.Fatal(err)
			}
			ed.CreateAttr("Type", "http://www.w3.org/2001/04/xmlenc#Element")
			return ed
		}
	}
	tamper := func(i int) func(*etree.Element) *etree.Element {
		return func(ed *etree.Element) *etree.Element {
			cv := ed.FindElement("./CipherData/CipherValue")
			b, err := base64.StdEncoding.DecodeString(cv.Text())
			if err != nil {
				t.Fatal(err)
			}
			b[len(b)+i] ^= 0x5a
			cv.SetText(base64.StdEncoding.EncodeToString(b))
			return ed
		}
	}
	unsigned := `<saml2:Assertion xmlns:saml2="` + nsAssertion + `" ID="Ax" IssueInstant="2026-01-01T00:00:00Z" Version="2.0">` +
		`<saml2:Issuer>` + builtIdP + `</saml2:Issuer><saml2:Subject><saml2:NameID>ana@example.test</saml2:NameID></saml2:Subject></saml2:Assertion>`
	cases := map[string][]byte{
		"the last block tampered":    withEncryptedData(tamper(-1)),
		"the first block tampered":   withEncryptedData(tamper(-48)),
		"bytes that are not XML":     withEncryptedData(encrypt("not xml at all, but padded well")),
		"an assertion nobody signed": withEncryptedData(encrypt(unsigned)),
	}
	var first string
	for name, raw := range cases {
		id, err := c.consume(context.Background(), raw, []string{builtReqID})
		if id != nil || !errors.Is(err, ErrInvalidResponse) || ReasonOf(err) != ReasonDecryption {
			t.Errorf("%s: %+v %v (%s), want %s", name, id, err, ReasonOf(err), ReasonDecryption)
			continue
		}
		if first == "" {
			first = err.Error()
		} else if err.Error() != first {
			t.Errorf("%s: %q, where another ciphertext got %q", name, err, first)
		}
	}
	// A refusal the ciphertext does not decide keeps its reason.
	raw := buildResponse(t, shape{sign: "assertion", encrypt: "keyinfo"})
	if _, err := c.consume(context.Background(), raw, []string{"another-request"}); ReasonOf(err) == ReasonDecryption {
		t.Errorf("a response to another request: %v, want its own reason", err)
	}
}
