package captures

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/beevik/etree"
	"github.com/ssokit/ssokit/mockidp"
)

// encryptionShape lists, in document order, every element under an
// EncryptedAssertion: its depth, prefixed name, the namespaces it
// declares, its attributes (algorithm URIs and types as they are, IDs by
// shape, references by what they point at) and nothing of the
// ciphertext or the certificate.
func encryptionShape(ea *etree.Element) []string {
	ids := map[string]string{}
	var index func(*etree.Element)
	index = func(el *etree.Element) {
		if id := el.SelectAttrValue("Id", ""); id != "" {
			ids["#"+id] = el.Tag
		}
		for _, c := range el.ChildElements() {
			index(c)
		}
	}
	index(ea)
	var out []string
	var walk func(el *etree.Element, depth int)
	walk = func(el *etree.Element, depth int) {
		var attrs []string
		for _, a := range el.Attr {
			if a.Space == "xmlns" || (a.Space == "" && a.Key == "xmlns") {
				continue
			}
			v := a.Value
			switch a.Key {
			case "Id":
				v = idShape(v)
			case "URI":
				v = "→" + ids[v]
			}
			attrs = append(attrs, a.FullKey()+"="+v)
		}
		out = append(out, fmt.Sprintf("%s%s [xmlns: %s] %s", strings.Repeat("  ", depth), el.FullTag(), nsDecls(el), strings.Join(attrs, " ")))
		for _, c := range el.ChildElements() {
			walk(c, depth+1)
		}
	}
	walk(ea, 0)
	return out
}

// TestOktaEncryptionMatchesCapture: with assertion encryption on, the Okta
// persona's EncryptedAssertion has the structure of Okta's 2020 capture
// (crewjam/saml's TestSPCanHandleOktaResponseEncryptedAssertionBothSigned):
// the EncryptedKey beside the EncryptedData, found through a
// RetrievalMethod and naming the data back in a ReferenceList, the same
// algorithms, namespace declarations and ID shapes. The capture's key and
// data IDs are "_" and 32 hex digits, 128 bits: the mock's match.
func TestOktaEncryptionMatchesCapture(t *testing.T) {
	cj := filepath.Join(modDir(t, "github.com/crewjam/saml"), "testdata")
	capDoc := etree.NewDocument()
	if err := capDoc.ReadFromBytes(unb64(t, read(t, cj, "TestSPCanHandleOktaResponseEncryptedAssertionBothSigned_response"))); err != nil {
		t.Fatal(err)
	}
	capEA := capDoc.Root().FindElement("./EncryptedAssertion")
	if capEA == nil {
		t.Fatal("the capture has no EncryptedAssertion")
	}

	// A service provider whose metadata carries crewjam's test certificate
	// for encryption, so that the mock's response can be decrypted with the
	// key the capture was made for.
	block, _ := pem.Decode(read(t, cj, "sp_cert.pem"))
	if _, err := x509.ParseCertificate(block.Bytes); err != nil {
		t.Fatal(err)
	}
	const entity, acs = "https://sp.example/saml/metadata", "https://sp.example/saml/acs"
	md := `<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="` + entity + `">` +
		`<SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">` +
		`<KeyDescriptor use="encryption"><KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><X509Data><X509Certificate>` +
		base64.StdEncoding.EncodeToString(block.Bytes) + `</X509Certificate></X509Data></KeyInfo></KeyDescriptor>` +
		`<AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="` + acs + `" index="1"/>` +
		`</SPSSODescriptor></EntityDescriptor>`

	srv := mockidp.Start(t, mockidp.DefaultConfig())
	for _, persona := range []string{"okta", "azure"} {
		t.Run(persona, func(t *testing.T) {
			p := srv.Persona(persona)
			if err := p.RegisterServiceProvider(mockidp.ServiceProviderConfig{MetadataXML: md, EncryptAssertions: true}); err != nil {
				t.Fatal(err)
			}
			b64, err := p.SAMLResponse(entity, p.Users()[0].Email, "id-7c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d")
			if err != nil {
				t.Fatal(err)
			}
			doc := etree.NewDocument()
			if err := doc.ReadFromBytes(unb64(t, []byte(b64))); err != nil {
				t.Fatal(err)
			}
			ea := doc.Root().FindElement("./EncryptedAssertion")
			if ea == nil {
				t.Fatal("no EncryptedAssertion")
			}
			mock, want := encryptionShape(ea), encryptionShape(capEA)
			same := strings.Join(mock, "\n") == strings.Join(want, "\n")
			if persona == "okta" && !same {
				t.Errorf("the Okta persona's EncryptedAssertion differs from Okta's capture:\ncapture:\n%s\nmock:\n%s", strings.Join(want, "\n"), strings.Join(mock, "\n"))
			}
			// Entra puts the EncryptedKey inside EncryptedData's KeyInfo;
			// the Azure persona must not take Okta's placement.
			if persona == "azure" && (same || ea.FindElement("./EncryptedData/KeyInfo/EncryptedKey") == nil) {
				t.Errorf("the Azure persona's EncryptedKey is not inside the KeyInfo:\n%s", strings.Join(mock, "\n"))
			}
			// And the assertion inside is the persona's, readable with the
			// certificate's key.
			keyBlock, _ := pem.Decode(read(t, cj, "sp_key.pem"))
			key, err := x509.ParsePKCS1PrivateKey(keyBlock.Bytes)
			if err != nil {
				t.Fatal(err)
			}
			decryptInPlace(t, doc, key)
			if as := doc.Root().FindElement("./Assertion"); as == nil || !strings.Contains(fmt.Sprint(as.FindElement(".//NameID").Text()), "@") {
				t.Fatal("the decrypted assertion has no NameID")
			}
		})
	}
}
