package mockidp

import (
	"encoding/base64"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"
	"github.com/ssokit/ssokit/internal/testenv"
	"github.com/ssokit/ssokit/sso"
)

// samlSchemaDir is where Debian's python3-onelogin-saml2 installs the OASIS
// SAML 2.0 schemas (with xmldsig, xenc and xml.xsd beside them, imported by
// relative path, so xmllint needs no network).
const samlSchemaDir = "/usr/lib/python3/dist-packages/onelogin/saml2/schemas"

// samlSchemas returns xmllint and the schema directory, or skips (fails
// under CI) when either is missing.
func samlSchemas(t *testing.T) (xmllint, dir string) {
	t.Helper()
	xmllint = testenv.LookPath(t, "xmllint", "apt-get install -y libxml2-utils")
	dir = samlSchemaDir
	if d := os.Getenv("SSOKIT_SAML_SCHEMAS"); d != "" {
		dir = d
	}
	if _, err := os.Stat(filepath.Join(dir, "saml-schema-protocol-2.0.xsd")); err != nil {
		testenv.Missing(t, "the OASIS SAML 2.0 schemas in "+dir,
			"apt-get install -y python3-onelogin-saml2, or set SSOKIT_SAML_SCHEMAS to a directory holding them")
	}
	return xmllint, dir
}

// validateXSD runs xmllint --noout --schema on doc and fails t with its
// report when the document is not valid.
func validateXSD(t *testing.T, xmllint, schema string, doc []byte) {
	t.Helper()
	f := filepath.Join(t.TempDir(), "doc.xml")
	if err := os.WriteFile(f, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(xmllint, "--noout", "--nonet", "--schema", schema, f).CombinedOutput()
	if err != nil {
		t.Errorf("not valid against %s: %v\n%s\ndocument:\n%s", filepath.Base(schema), err, out, doc)
	}
}

// TestSAMLResponsesValidateAgainstSchema validates every persona's response
// for each signing choice, plain and encrypted, against the OASIS protocol
// schema (and the decrypted assertion against the assertion schema), as
// strict service providers do (python3-saml, samlify).
func TestSAMLResponsesValidateAgainstSchema(t *testing.T) {
	t.Parallel()
	xmllint, dir := samlSchemas(t)
	cfg := DefaultConfig()
	cfg.BaseURL = "http://127.0.0.1:4452"
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	spCert, err := selfSigned(spKey(), "schema-sp")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range srv.Personas() {
		for _, sign := range []string{"response", "assertion", "both"} {
			for _, encrypt := range []bool{false, true} {
				name := p.Name() + "/" + sign
				if encrypt {
					name += "/encrypted"
				}
				t.Run(name, func(t *testing.T) {
					entity := "https://sp.example.test/" + name
					md := spMetadata(entity, "https://sp.example.test/saml/acs")
					md.SPSSODescriptors[0].KeyDescriptors = []saml.KeyDescriptor{{Use: "encryption",
						KeyInfo: saml.KeyInfo{X509Data: saml.X509Data{X509Certificates: []saml.X509Certificate{
							{Data: base64.StdEncoding.EncodeToString(spCert.Leaf.Raw)}}}}}}
					mdXML, err := xml.Marshal(md)
					if err != nil {
						t.Fatal(err)
					}
					if err := p.RegisterServiceProvider(ServiceProviderConfig{MetadataXML: string(mdXML),
						Sign: sign, EncryptAssertions: encrypt}); err != nil {
						t.Fatal(err)
					}
					b64, err := p.SAMLResponse(entity, p.Users()[0].Email, "id-schema-request")
					if err != nil {
						t.Fatal(err)
					}
					raw := decodeB64(t, b64)
					validateXSD(t, xmllint, filepath.Join(dir, "saml-schema-protocol-2.0.xsd"), raw)
					// The namespace declarations are outside what is signed:
					// the signatures must still verify.
					sp := saml.ServiceProvider{Key: spKey(), Certificate: spCert.Leaf, EntityID: entity,
						IDPMetadata: p.saml.idp.Metadata()}
					acs, _ := url.Parse("https://sp.example.test/saml/acs")
					sp.AcsURL = *acs
					if _, err := sp.ParseXMLResponse(raw, []string{"id-schema-request"}, *acs); err != nil {
						t.Errorf("crewjam refuses the response: %v", errDetail(err))
					}
					if !encrypt {
						return
					}
					doc := etree.NewDocument()
					if err := doc.ReadFromBytes(raw); err != nil {
						t.Fatal(err)
					}
					validateXSD(t, xmllint, filepath.Join(dir, "saml-schema-assertion-2.0.xsd"), decryptAssertion(t, doc.Root()))
				})
			}
		}
	}
}

// TestSAMLMetadataValidatesAgainstSchema validates every persona's IdP
// metadata document against the OASIS metadata schema.
func TestSAMLMetadataValidatesAgainstSchema(t *testing.T) {
	t.Parallel()
	xmllint, dir := samlSchemas(t)
	idp := Start(t, DefaultConfig())
	for _, p := range idp.Personas() {
		t.Run(p.Name(), func(t *testing.T) {
			resp, err := idp.Client().Get(p.SAMLMetadataURL())
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "EntityDescriptor") {
				t.Fatalf("status %d:\n%s", resp.StatusCode, body)
			}
			validateXSD(t, xmllint, filepath.Join(dir, "saml-schema-metadata-2.0.xsd"), body)
		})
	}
}

// errDetail is crewjam's private reason behind an InvalidResponseError.
func errDetail(err error) error {
	var ire *saml.InvalidResponseError
	if errors.As(err, &ire) {
		return ire.PrivateErr
	}
	return err
}

// TestSAMLVendorDetailsFromCaptures checks details taken from real
// captures, for a user with every mapped attribute and for one with only
// an email (validated against the schema too):
//   - Google (crewjam testdata/TestSPCanHandlePlaintextResponse_response,
//     2016): AttributeStatement before AuthnStatement, SessionIndex equal
//     to the assertion ID, AuthnInstant on a whole second (…:38.000Z), an
//     attribute without value sent as <saml2:Attribute Name="phone"/>;
//   - OneLogin (crewjam testdata/TestSPCanHandleOneloginResponse_response,
//     2016): an attribute without value sent with one empty
//     <saml:AttributeValue xsi:type="xs:string"/> (memberOf);
//   - the others leave such an attribute out.
func TestSAMLVendorDetailsFromCaptures(t *testing.T) {
	t.Parallel()
	xmllint, dir := samlSchemas(t)
	cfg := DefaultConfig()
	cfg.BaseURL = "http://127.0.0.1:4454"
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range srv.Personas() {
		t.Run(p.Name(), func(t *testing.T) {
			entity := "https://sp.example.test/details/" + p.Name()
			if err := p.RegisterServiceProvider(ServiceProviderConfig{EntityID: entity, ACSURL: "https://sp.example.test/saml/acs"}); err != nil {
				t.Fatal(err)
			}
			full := p.Users()[0]
			_, domain, _ := strings.Cut(full.Email, "@")
			bare := UserConfig{Email: "bare@" + domain}
			if err := p.PutUser(bare); err != nil {
				t.Fatal(err)
			}
			for _, u := range []UserConfig{full, bare} {
				b64, err := p.SAMLResponse(entity, u.Email, "id-details-request")
				if err != nil {
					t.Fatal(err)
				}
				raw := decodeB64(t, b64)
				if u.Email == bare.Email {
					validateXSD(t, xmllint, filepath.Join(dir, "saml-schema-protocol-2.0.xsd"), raw)
				}
				doc := etree.NewDocument()
				if err := doc.ReadFromBytes(raw); err != nil {
					t.Fatal(err)
				}
				as := findChild(doc.Root(), "Assertion")
				if as == nil {
					t.Fatalf("no plain Assertion:\n%s", raw)
				}
				var order []string
				for _, c := range as.ChildElements() {
					order = append(order, c.Tag)
				}
				authn := findChild(as, "AuthnStatement")
				attrs := findChild(as, "AttributeStatement")
				if authn == nil || attrs == nil {
					t.Fatalf("Assertion children %v", order)
				}
				attrsFirst := attrs.Index() < authn.Index()
				sessionIndex := authn.SelectAttrValue("SessionIndex", "")
				authnInstant := authn.SelectAttrValue("AuthnInstant", "")
				switch p.Vendor() {
				case sso.GoogleWorkspace:
					if !attrsFirst {
						t.Errorf("Google sends the AttributeStatement before the AuthnStatement; got %v", order)
					}
					if id := as.SelectAttrValue("ID", ""); sessionIndex != id {
						t.Errorf("SessionIndex %q, want the assertion ID %q", sessionIndex, id)
					}
					if !strings.HasSuffix(authnInstant, ".000Z") {
						t.Errorf("AuthnInstant %q is not on a whole second", authnInstant)
					}
				case sso.AzureAD:
					if !attrsFirst {
						t.Errorf("Entra sends the AttributeStatement before the AuthnStatement; got %v", order)
					}
				default:
					if attrsFirst {
						t.Errorf("%s sends the AuthnStatement before the AttributeStatement; got %v", p.Vendor(), order)
					}
				}
				firstName := p.attrName(ServiceProviderConfig{}, "first_name")
				var first *etree.Element
				for _, at := range attrs.ChildElements() {
					if at.SelectAttrValue("Name", "") == firstName {
						first = at
					}
				}
				if u.Email == full.Email {
					if first == nil || len(first.ChildElements()) != 1 || first.ChildElements()[0].Text() != full.GivenName {
						t.Errorf("attribute %s for %s: want one value %q", firstName, u.Email, full.GivenName)
					}
					continue
				}
				switch p.Vendor() {
				case sso.GoogleWorkspace:
					if first == nil || len(first.Child) != 0 {
						t.Errorf("Google sends an empty attribute as <Attribute Name=%q/>; got %v", firstName, first)
					}
				case sso.OneLogin:
					if first == nil || len(first.ChildElements()) != 1 || first.ChildElements()[0].Text() != "" ||
						first.ChildElements()[0].SelectAttrValue("xsi:type", "") != "xs:string" {
						t.Errorf("OneLogin sends an empty attribute with one empty xs:string AttributeValue; got %v", first)
					}
				default:
					if first != nil {
						t.Errorf("%s leaves an empty attribute out; got %s with %d values", p.Vendor(), firstName, len(first.ChildElements()))
					}
				}
			}
		})
	}
}
