package idp

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/crewjam/saml"
	"github.com/ssokit/ssokit/sso"
)

// Real vendor responses, as the crewjam/saml and gosaml2 modules ship them
// in the module cache (tests cannot download): Okta 2016 (both signed,
// InclusiveNamespaces) and 2017 (encrypted, EncryptedKey beside the
// EncryptedData), Okta 2020 (encrypted, three signing choices), Google
// Workspace 2016 (attributes without values), OneLogin 2016 (SHA-1,
// Response signed, empty AttributeValues, whole-second timestamps) and
// OneLogin 2017 (SHA-1, Assertion signed, IdP-initiated, no attributes).
// crewjam's Entra fixtures are generated and gosaml2's olgn09_* files are
// not OneLogin's, so neither is used. Each capture goes through the whole
// SAML service provider (signature, conditions, decryption, the SHA-1
// policy, the vendor profile) at the time it was captured.

// modDir is a module's directory in the module cache; "" when the module
// is not there (gosaml2 is a dependency of the peers module only).
func modDir(t *testing.T, path, version string) string {
	t.Helper()
	if out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", path).Output(); err == nil && strings.TrimSpace(string(out)) != "" {
		return strings.TrimSpace(string(out))
	}
	cache := os.Getenv("GOMODCACHE")
	if cache == "" {
		out, err := exec.Command("go", "env", "GOMODCACHE").Output()
		if err != nil {
			t.Skipf("no go command to find the module cache: %v", err)
		}
		cache = strings.TrimSpace(string(out))
	}
	dir := filepath.Join(cache, path+"@"+version)
	if _, err := os.Stat(dir); err != nil {
		return ""
	}
	return dir
}

func readCapture(t *testing.T, dir, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// b64Capture decodes a base64 capture (line breaks allowed).
func b64Capture(t *testing.T, b []byte) []byte {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(string(b)), ""))
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func pemKey(t *testing.T, b []byte) crypto.Signer {
	t.Helper()
	block, _ := pem.Decode(b)
	if block == nil {
		t.Fatal("no PEM block")
	}
	if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return k
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return k.(crypto.Signer)
}

func pemCert(t *testing.T, b []byte) *x509.Certificate {
	t.Helper()
	block, _ := pem.Decode(b)
	if block == nil {
		t.Fatal("no PEM block")
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// capture is one real response and what ssokit must make of it.
type capture struct {
	name      string
	vendor    sso.Vendor
	response  []byte // decoded XML
	settings  SAMLSettings
	requestID string // "" for an IdP-initiated response
	at        time.Time
	spKey     crypto.Signer
	spCert    *x509.Certificate
	sha1      bool // signed with SHA-1: refused unless allowed
	// attributes overrides the profile's attribute names, as an
	// administrator does for an app with custom attribute statements.
	attributes map[string]string
	// want
	subject, email, first, last, nameIDFormat string
	groups                                    []string
	emptyAttrs                                []string // sent without a usable value
}

func captures(t *testing.T) []capture {
	t.Helper()
	var out []capture
	cj := modDir(t, "github.com/crewjam/saml", "v0.6.3")
	if cj == "" {
		t.Fatal("crewjam/saml is not in the module cache (run go mod download)")
	}
	td := filepath.Join(cj, "testdata")
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	// crewjam's captures were made for its test SP key.
	cjKey, cjCert := pemKey(t, readCapture(t, td, "sp_key.pem")), pemCert(t, readCapture(t, td, "sp_cert.pem"))
	for _, okta := range []struct{ file, req, at string }{
		{"TestSPCanHandleOktaSignedResponseEncryptedAssertion", "id-a7364d1e4432aa9085a7a8bd824ea2fa8fa8f684", "2020-03-03T19:24:28Z"},
		{"TestSPCanHandleOktaResponseEncryptedSignedAssertion", "id-6d976cdde8e76df5df0a8ff58148fc0b7ec6796d", "2020-03-03T19:31:55Z"},
		{"TestSPCanHandleOktaResponseEncryptedAssertionBothSigned", "id-953d4cab69ff475c5901d12e585b0bb15a7b85fe", "2020-03-03T19:40:54Z"},
	} {
		out = append(out, capture{name: "okta-2020/" + strings.TrimPrefix(okta.file, "TestSPCanHandleOkta"), vendor: sso.Okta,
			response: b64Capture(t, readCapture(t, td, okta.file+"_response")),
			settings: SAMLSettings{IDPMetadataXML: string(readCapture(t, td, okta.file+"_IDPMetadata")),
				EntityID: "http://localhost:8000/saml/metadata", ACSURL: "http://localhost:8000/saml/acs"},
			requestID: okta.req, at: at(okta.at), spKey: cjKey, spCert: cjCert,
			subject: "testuser@testrsc.com", email: "testuser@testrsc.com", nameIDFormat: string(saml.UnspecifiedNameIDFormat)})
	}
	out = append(out, capture{name: "google-2016", vendor: sso.GoogleWorkspace,
		response: b64Capture(t, readCapture(t, td, "TestSPCanHandlePlaintextResponse_response")),
		settings: SAMLSettings{IDPMetadataXML: string(readCapture(t, td, "TestSPCanHandlePlaintextResponse_IDPMetadata")),
			EntityID: "https://29ee6d2e.ngrok.io/saml/metadata", ACSURL: "https://29ee6d2e.ngrok.io/saml/acs"},
		requestID: "id-fd419a5ab0472645427f8e07d87a3a5dd0b2e9a6", at: at("2016-01-05T16:55:39Z"),
		subject: "ross@octolabs.io", email: "ross@octolabs.io", first: "Ross", last: "Kinder",
		emptyAttrs: []string{"phone", "address", "jobTitle"}})
	out = append(out, capture{name: "onelogin-2016", vendor: sso.OneLogin,
		response: b64Capture(t, readCapture(t, td, "TestSPCanHandleOneloginResponse_response")),
		settings: SAMLSettings{IDPMetadataXML: string(readCapture(t, td, "TestSPCanHandleOneloginResponse_IDPMetadata")),
			EntityID: "https://29ee6d2e.ngrok.io/saml/metadata", ACSURL: "https://29ee6d2e.ngrok.io/saml/acs"},
		requestID: "id-d40c15c104b52691eccf0a2a5c8a15595be75423", at: at("2016-01-05T17:53:12Z"), sha1: true,
		subject: "ross@kndr.org", email: "ross@kndr.org", first: "Ross", last: "Kinder", nameIDFormat: string(saml.EmailAddressNameIDFormat),
		emptyAttrs: []string{"memberOf", "PersonImmutableID"}})

	gs := modDir(t, "github.com/russellhaering/gosaml2", "v0.12.0")
	if gs == "" {
		t.Log("gosaml2 v0.12.0 is not in the module cache (the peers module requires it): its Okta 2016 and 2017 and OneLogin 2017 captures are not checked")
		return out
	}
	pt := filepath.Join(gs, "providertests", "testdata")
	certPEM := func(name string) string { return string(readCapture(t, pt, name)) }
	out = append(out, capture{name: "okta-2016", vendor: sso.Okta,
		response: readCapture(t, pt, "okta_response.xml"),
		settings: SAMLSettings{IDPEntityID: "http://www.okta.com/exk659aytfMeNI49v0h7", IDPSSOURL: "https://dev-116807.oktapreview.com/app/scaleftdev116807_test_1/exk659aytfMeNI49v0h7/sso/saml",
			IDPCertificatePEM: certPEM("okta_cert.pem"), EntityID: `"123"`, ACSURL: "http://localhost:8080/v1/_saml_callback"},
		requestID: "_15f66d2d-628b-4d9b-a99e-089d8da862e1", at: at("2016-07-25T23:20:20Z"),
		subject: "russellhaering", nameIDFormat: string(saml.UnspecifiedNameIDFormat)})
	out = append(out, capture{name: "okta-2017-encrypted-key-beside", vendor: sso.Okta,
		response: b64Capture(t, readCapture(t, pt, "oktaenc_response.b64")),
		settings: SAMLSettings{IDPEntityID: "http://www.okta.com/exkbb59wb20X96NY20h7", IDPSSOURL: "https://do.not.need/this/not/sending/authn",
			IDPCertificatePEM: certPEM("oktaenc_idp_signing_cert.pem"),
			EntityID:          "https://saml.test.nope/session/sso/saml/spentityid/skv8dv26wh", ACSURL: "https://saml.test.nope/session/sso/saml/acs/skv8dv26wh"},
		requestID: "_5260fc99-9c41-433b-8a31-b7a3e3a4e755", at: at("2017-09-06T22:13:30Z"),
		spKey: pemKey(t, readCapture(t, pt, "oktaenc_sp_encryption_key.pem")), spCert: pemCert(t, readCapture(t, pt, "oktaenc_sp_encryption_cert.pem")),
		attributes: map[string]string{"first_name": "givenName", "last_name": "sn", "groups": "group"},
		subject:    "fronkey@skyportsystems.com", email: "fronkey@skyportsystems.com", first: "Fronkey", last: "Kong",
		groups: []string{"red", "blue", "green", "Everyone"}, nameIDFormat: string(saml.EmailAddressNameIDFormat)})
	out = append(out, capture{name: "onelogin-2017", vendor: sso.OneLogin,
		response: readCapture(t, pt, "onelogin_response.xml"),
		settings: SAMLSettings{IDPEntityID: "https://app.onelogin.com/saml/metadata/634027", IDPSSOURL: "https://launchdarkly-dev.onelogin.com/trust/saml2/http-post/sso/634027",
			IDPCertificatePEM: certPEM("onelogin_cert.pem"), EntityID: "{audience}", ACSURL: "http://884d40bf.ngrok.io/api/sso/saml2/acs/58af624473d4f375b8e70d81",
			AllowIDPInitiated: true},
		at: at("2017-03-08T07:53:45Z"), sha1: true,
		subject: "arun@launchdarkly.com", email: "arun@launchdarkly.com", nameIDFormat: string(saml.EmailAddressNameIDFormat)})
	return out
}

// connectAt is the capture's connection, its clock at the capture.
func (c capture) connectAt(t *testing.T, allowSHA1 bool) *samlConnector {
	t.Helper()
	s := c.settings
	s.AllowSHA1 = allowSHA1
	conn, err := New(context.Background(), Connection{ID: "capture", Protocol: sso.SAML, Vendor: c.vendor, Attributes: c.attributes, SAML: &s},
		Options{StateKey: make([]byte, 32), Now: func() time.Time { return c.at }, SPKey: c.spKey, SPCertificate: c.spCert})
	if err != nil {
		t.Fatal(err)
	}
	return conn.(*samlConnector)
}

// TestCapturesThroughTheSP: every capture is accepted by the whole service
// provider at its time (SHA-1 ones only when the connection allows SHA-1;
// by default they are refused with the vendor's setting named), and the
// Identity is what the vendor profile should make of it: attributes
// without a value are no email, name or group.
func TestCapturesThroughTheSP(t *testing.T) {
	t.Parallel()
	for _, c := range captures(t) {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ids := []string{c.requestID}
			_, err := c.connectAt(t, false).consume(context.Background(), c.response, ids)
			if c.sha1 {
				if ReasonOf(err) != ReasonAlgorithm || !strings.Contains(err.Error(), "allow_sha1") ||
					(c.vendor == sso.OneLogin && !strings.Contains(err.Error(), "SAML Signature Algorithm: SHA-256")) {
					t.Fatalf("a SHA-1 capture by default: %v", err)
				}
			} else if err != nil {
				t.Fatalf("refused: %v", err)
			}
			id, err := c.connectAt(t, true).consume(context.Background(), c.response, ids)
			if err != nil {
				t.Fatalf("refused with allow_sha1: %v", err)
			}
			checkCaptureIdentity(t, c, id)
		})
	}
}

func checkCaptureIdentity(t *testing.T, c capture, id *Identity) {
	t.Helper()
	if id.Subject != c.subject || id.Email != c.email || id.FirstName != c.first || id.LastName != c.last ||
		!slices.Equal(id.Groups, c.groups) || id.IdP != c.vendor || !id.EmailVerified {
		t.Errorf("identity %+v; want subject %q email %q names %q %q groups %v", id, c.subject, c.email, c.first, c.last, c.groups)
	}
	if c.nameIDFormat != "" && id.NameIDFormat != c.nameIDFormat {
		t.Errorf("NameID format %q, want %q", id.NameIDFormat, c.nameIDFormat)
	}
	if id.SessionIndex == "" {
		t.Errorf("no SessionIndex")
	}
	for _, name := range c.emptyAttrs {
		v, ok := id.Raw[name]
		if vs, _ := v.([]string); !ok || len(vs) != 0 {
			t.Errorf("Raw[%q] = %#v, want the attribute with no values", name, v)
		}
	}
}

// TestCaptureProfilesIgnoreEmptyValues feeds the plaintext captures'
// assertions, as the SP has them after its checks, through the vendor
// profile with each identity attribute emptied in the ways vendors send
// "no value" (an empty element, blanks, no AttributeValue at all): the
// email falls back to the NameID, names and groups stay empty, and a
// real value after an empty one is still read.
func TestCaptureProfilesIgnoreEmptyValues(t *testing.T) {
	t.Parallel()
	for _, c := range captures(t) {
		var resp saml.Response
		if err := xml.Unmarshal(c.response, &resp); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if resp.Assertion == nil {
			continue // encrypted: covered through the SP above
		}
		conn := Connection{ID: "capture", Protocol: sso.SAML, Vendor: c.vendor, Attributes: c.attributes}
		id, err := samlIdentity(conn, resp.Assertion)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		checkCaptureIdentity(t, c, id)
		if c.at.IsZero() || resp.Assertion.IssueInstant.IsZero() || resp.Assertion.IssueInstant.Sub(c.at).Abs() > time.Minute {
			t.Errorf("%s: IssueInstant %s read from %q", c.name, resp.Assertion.IssueInstant, c.at)
		}
		for _, empty := range [][]saml.AttributeValue{nil, {{Type: "xs:string"}}, {{Type: "xs:string", Value: "  "}}} {
			as := *resp.Assertion
			as.AttributeStatements = []saml.AttributeStatement{{Attributes: append(slices.Clone(attributesOf(resp.Assertion)),
				saml.Attribute{Name: field(conn, samlProfiles, "email"), Values: empty},
				saml.Attribute{Name: field(conn, samlProfiles, "first_name"), Values: empty},
				saml.Attribute{Name: field(conn, samlProfiles, "last_name"), Values: empty},
				saml.Attribute{Name: "memberOf", Values: empty},
				saml.Attribute{Name: "groups", Values: empty})}}
			// The capture's own values for those names go first; drop them
			// so only the emptied ones remain.
			as.AttributeStatements[0].Attributes = slices.DeleteFunc(as.AttributeStatements[0].Attributes, func(a saml.Attribute) bool {
				return len(a.Values) > 0 && strings.TrimSpace(a.Values[0].Value) != "" && isIdentityAttr(conn, a.Name)
			})
			id, err := samlIdentity(conn, &as)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			wantEmail := ""
			if strings.Contains(id.NameID, "@") {
				wantEmail = id.NameID
			}
			if id.Email != wantEmail || id.FirstName != "" || id.LastName != "" || len(id.Groups) != 0 {
				t.Errorf("%s with empty values %#v: %+v", c.name, empty, id)
			}
		}
		// An empty value then a real one: the real one is read.
		as := *resp.Assertion
		as.AttributeStatements = []saml.AttributeStatement{{Attributes: []saml.Attribute{
			{Name: field(conn, samlProfiles, "first_name"), Values: []saml.AttributeValue{{Value: ""}, {Value: "Ada"}}},
			{Name: "memberOf", Values: []saml.AttributeValue{{Value: ""}, {Value: "eng;;ops"}}},
			{Name: "groups", Values: []saml.AttributeValue{{Value: " "}, {Value: "eng"}}},
		}}}
		id, err = samlIdentity(conn, &as)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if id.FirstName != "Ada" {
			t.Errorf("%s: first name %q after an empty value", c.name, id.FirstName)
		}
		switch field(conn, samlProfiles, "groups") {
		case "memberOf":
			if !slices.Equal(id.Groups, []string{"eng", "ops"}) {
				t.Errorf("%s: groups %q", c.name, id.Groups)
			}
		case "groups":
			if !slices.Equal(id.Groups, []string{"eng"}) {
				t.Errorf("%s: groups %q", c.name, id.Groups)
			}
		}
	}
}

func attributesOf(as *saml.Assertion) []saml.Attribute {
	var out []saml.Attribute
	for _, st := range as.AttributeStatements {
		out = append(out, st.Attributes...)
	}
	return out
}

func isIdentityAttr(c Connection, name string) bool {
	for _, k := range []string{"email", "first_name", "last_name", "groups"} {
		if field(c, samlProfiles, k) == name {
			return true
		}
	}
	return name == "memberOf" || name == "groups"
}
