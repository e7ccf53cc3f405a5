package idp

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml/xmlenc"
	dsig "github.com/russellhaering/goxmldsig"
	"github.com/ssokit/ssokit/sso"
)

// The tests below build and sign responses themselves, in the shapes the
// real captures have (captures_test.go): whole-second timestamps, SHA-1
// where OneLogin still defaults to it, and encrypted assertions with the
// EncryptedKey inside EncryptedData's KeyInfo (as crewjam's own encrypter
// and Entra put it) or beside EncryptedData, referenced by a
// RetrievalMethod (as Okta does).

const (
	builtIdP    = "https://idp.test/entity" // idpMetadataXML's entityID
	builtSP     = "https://sp.test/saml/metadata"
	builtACS    = "https://sp.test/saml/acs"
	builtReqID  = "id-4c1f5e0b8d2a4e7f9a3b6c5d"
	nsAssertion = "urn:oasis:names:tc:SAML:2.0:assertion"
	nsProtocol  = "urn:oasis:names:tc:SAML:2.0:protocol"
	nsXMLEnc    = "http://www.w3.org/2001/04/xmlenc#"
	nsDSig      = "http://www.w3.org/2000/09/xmldsig#"
)

// builtIdPCert is the IdP's certificate (testKey's), as in the metadata.
var builtIdPCert = sync.OnceValue(func() []byte {
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "idp"},
		NotBefore: time.Now().AddDate(-1, 0, 0), NotAfter: time.Now().AddDate(1, 0, 0)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &testKey().PublicKey, testKey())
	if err != nil {
		panic(err)
	}
	return der
})

// builtSPKey is our key pair, which encrypted assertions are encrypted to.
var builtSPKey = sync.OnceValues(func() (*rsa.PrivateKey, *x509.Certificate) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(8), Subject: pkix.Name{CommonName: "sp"},
		NotBefore: time.Now().AddDate(-1, 0, 0), NotAfter: time.Now().AddDate(1, 0, 0)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		panic(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return k, cert
})

// builtConnector is a SAML connection to the built IdP.
func builtConnector(t *testing.T, vendor sso.Vendor, allowSHA1 bool) *samlConnector {
	t.Helper()
	key, cert := builtSPKey()
	md := idpMetadataXML(base64.StdEncoding.EncodeToString(builtIdPCert()), redirectSSO)
	var attrs map[string]string
	if vendor == sso.Generic {
		attrs = map[string]string{"email": "email"}
	}
	c, err := New(context.Background(), Connection{ID: "built", Protocol: sso.SAML, Vendor: vendor, Attributes: attrs, SAML: &SAMLSettings{
		IDPMetadataXML: md, EntityID: builtSP, ACSURL: builtACS, AllowSHA1: allowSHA1}},
		Options{StateKey: make([]byte, 32), SPKey: key, SPCertificate: cert})
	if err != nil {
		t.Fatal(err)
	}
	return c.(*samlConnector)
}

// shape is how a built response is made.
type shape struct {
	sign    string // response, assertion, both
	sha1    bool   // rsa-sha1 and sha1 digests instead of SHA-256
	encrypt string // "": plaintext; keyinfo: EncryptedKey in EncryptedData's KeyInfo; beside: EncryptedKey its sibling, by RetrievalMethod
	issuer  string // the Assertion's Issuer; "" means the built IdP's (the Response's is always)
}

func (s shape) String() string {
	alg := "sha256"
	if s.sha1 {
		alg = "sha1"
	}
	enc := "plain"
	if s.encrypt != "" {
		enc = "encrypted-" + s.encrypt
	}
	return s.sign + "-signed/" + alg + "/" + enc
}

// wholeSecond is the timestamp format OneLogin sends (no fraction).
func wholeSecond(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// buildResponse makes a response for builtReqID from the built IdP,
// for ana@example.test, shaped by sh.
func buildResponse(t *testing.T, sh shape) []byte {
	t.Helper()
	now := time.Now()
	as := parseEl(t, `<saml2:Assertion xmlns:saml2="`+nsAssertion+`" ID="A`+randomToken(20)+`" IssueInstant="`+wholeSecond(now)+`" Version="2.0">`+
		`<saml2:Issuer>`+cmp.Or(sh.issuer, builtIdP)+`</saml2:Issuer>`+
		`<saml2:Subject><saml2:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress">ana@example.test</saml2:NameID>`+
		`<saml2:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml2:SubjectConfirmationData InResponseTo="`+builtReqID+
		`" NotOnOrAfter="`+wholeSecond(now.Add(3*time.Minute))+`" Recipient="`+builtACS+`"/></saml2:SubjectConfirmation></saml2:Subject>`+
		`<saml2:Conditions NotBefore="`+wholeSecond(now.Add(-3*time.Minute))+`" NotOnOrAfter="`+wholeSecond(now.Add(3*time.Minute))+`">`+
		`<saml2:AudienceRestriction><saml2:Audience>`+builtSP+`</saml2:Audience></saml2:AudienceRestriction></saml2:Conditions>`+
		`<saml2:AuthnStatement AuthnInstant="`+wholeSecond(now.Add(-time.Second))+`" SessionIndex="_s`+randomToken(8)+`"><saml2:AuthnContext>`+
		`<saml2:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml2:AuthnContextClassRef></saml2:AuthnContext></saml2:AuthnStatement>`+
		`<saml2:AttributeStatement xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">`+
		`<saml2:Attribute Name="User.FirstName"><saml2:AttributeValue xsi:type="xs:string">Ana</saml2:AttributeValue></saml2:Attribute>`+
		`<saml2:Attribute Name="firstName"><saml2:AttributeValue xsi:type="xs:string">Ana</saml2:AttributeValue></saml2:Attribute>`+
		`<saml2:Attribute Name="memberOf"><saml2:AttributeValue xsi:type="xs:string"/></saml2:Attribute>`+
		`</saml2:AttributeStatement></saml2:Assertion>`)
	if sh.sign == "assertion" || sh.sign == "both" {
		as = signBuilt(t, as, sh.sha1)
	}
	if sh.encrypt != "" {
		as = encryptBuilt(t, as, sh.encrypt == "beside")
	}
	resp := parseEl(t, `<saml2p:Response xmlns:saml2p="`+nsProtocol+`" Destination="`+builtACS+`" ID="R`+randomToken(20)+
		`" InResponseTo="`+builtReqID+`" IssueInstant="`+wholeSecond(now)+`" Version="2.0">`+
		`<saml2:Issuer xmlns:saml2="`+nsAssertion+`">`+builtIdP+`</saml2:Issuer>`+
		`<saml2p:Status><saml2p:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></saml2p:Status></saml2p:Response>`)
	resp.AddChild(as)
	if sh.sign == "response" || sh.sign == "both" {
		resp = signBuilt(t, resp, sh.sha1)
	}
	doc := etree.NewDocument()
	doc.SetRoot(resp)
	b, err := doc.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func parseEl(t *testing.T, s string) *etree.Element {
	t.Helper()
	doc := etree.NewDocument()
	if err := doc.ReadFromString(s); err != nil {
		t.Fatal(err)
	}
	return doc.Root()
}

// signBuilt signs el enveloped with exclusive c14n and puts the Signature
// right after its Issuer, where every vendor puts it.
func signBuilt(t *testing.T, el *etree.Element, sha1 bool) *etree.Element {
	t.Helper()
	ctx := dsig.NewDefaultSigningContext(dsig.TLSCertKeyStore(tls.Certificate{Certificate: [][]byte{builtIdPCert()}, PrivateKey: testKey()}))
	ctx.Prefix = "ds"
	ctx.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	method := dsig.RSASHA256SignatureMethod
	if sha1 {
		method = dsig.RSASHA1SignatureMethod
	}
	if err := ctx.SetSignatureMethod(method); err != nil {
		t.Fatal(err)
	}
	signed, err := ctx.SignEnveloped(el)
	if err != nil {
		t.Fatal(err)
	}
	kids := signed.ChildElements()
	out := signed.Copy()
	out.Child = nil
	for i, c := range kids[:len(kids)-1] {
		out.AddChild(c.Copy())
		if i == 0 { // the Issuer
			out.AddChild(kids[len(kids)-1].Copy())
		}
	}
	return out
}

// encryptBuilt encrypts the assertion to our certificate (RSA-OAEP-MGF1P,
// AES-256-CBC) in an EncryptedAssertion; beside moves the EncryptedKey out
// of EncryptedData's KeyInfo to be its sibling, referenced by a
// RetrievalMethod and referencing the EncryptedData back, as Okta sends it.
func encryptBuilt(t *testing.T, as *etree.Element, beside bool) *etree.Element {
	t.Helper()
	doc := etree.NewDocument()
	doc.SetRoot(as)
	plain, err := doc.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	_, cert := builtSPKey()
	enc := xmlenc.OAEP()
	enc.BlockCipher = xmlenc.AES256CBC
	enc.DigestMethod = &xmlenc.SHA1
	ed, err := enc.Encrypt(cert, plain, nil)
	if err != nil {
		t.Fatal(err)
	}
	ed.CreateAttr("Type", "http://www.w3.org/2001/04/xmlenc#Element")
	ea := etree.NewElement("saml2:EncryptedAssertion")
	ea.CreateAttr("xmlns:saml2", nsAssertion)
	ea.AddChild(ed)
	if !beside {
		if ed.FindElement("./KeyInfo/EncryptedKey") == nil {
			t.Fatal("crewjam's encrypter put no EncryptedKey in the KeyInfo")
		}
		return ea
	}
	ki := ed.FindElement("./KeyInfo")
	ek := ki.FindElement("./EncryptedKey")
	ki.RemoveChild(ek)
	keyID, dataID := "_k"+randomToken(16), "_d"+randomToken(16)
	ek.RemoveAttr("Id")
	ek.CreateAttr("Id", keyID)
	ek.CreateAttr("xmlns:ds", nsDSig) // its KeyInfo leaned on the outer declaration
	if ek.SelectAttr("xmlns:xenc") == nil {
		ek.CreateAttr("xmlns:xenc", nsXMLEnc)
	}
	ek.CreateElement("xenc:ReferenceList").CreateElement("xenc:DataReference").CreateAttr("URI", "#"+dataID)
	ed.RemoveAttr("Id")
	ed.CreateAttr("Id", dataID)
	rm := ki.CreateElement("ds:RetrievalMethod")
	rm.CreateAttr("Type", "http://www.w3.org/2001/04/xmlenc#EncryptedKey")
	rm.CreateAttr("URI", "#"+keyID)
	ea.AddChild(ek)
	return ea
}

// TestSAMLSHA1Policy: a response signed with SHA-1 (in any place: the
// Response, the Assertion, an encrypted Assertion) is refused by default
// with ReasonAlgorithm and a message naming the vendor's setting, and
// accepted when the connection allows SHA-1. SHA-256 passes either way.
func TestSAMLSHA1Policy(t *testing.T) {
	t.Parallel()
	advice := map[sso.Vendor]string{
		sso.Okta:     `"Signature Algorithm: RSA-SHA256"`,
		sso.OneLogin: `"SAML Signature Algorithm: SHA-256"`,
		sso.AzureAD:  `"Signing Algorithm: SHA-256"`,
		sso.Generic:  "sign with RSA-SHA256",
	}
	shapes := []shape{
		{sign: "response"}, {sign: "assertion"}, {sign: "both"},
		{sign: "response", encrypt: "keyinfo"}, {sign: "assertion", encrypt: "beside"}, {sign: "both", encrypt: "beside"},
	}
	for vendor, says := range advice {
		for _, sh := range shapes {
			for _, sha1 := range []bool{false, true} {
				sh := sh
				sh.sha1 = sha1
				t.Run(string(vendor)+"/"+sh.String(), func(t *testing.T) {
					t.Parallel()
					raw := buildResponse(t, sh)
					refused := builtConnector(t, vendor, false)
					id, err := refused.consume(context.Background(), raw, []string{builtReqID})
					if !sha1 {
						if err != nil || id.Email != "ana@example.test" {
							t.Fatalf("SHA-256 refused: %v", err)
						}
						return
					}
					if ReasonOf(err) != ReasonAlgorithm || !strings.Contains(err.Error(), says) || !strings.Contains(err.Error(), "allow_sha1") {
						t.Fatalf("SHA-1 by default: %v; want %s naming %s and allow_sha1", err, ReasonAlgorithm, says)
					}
					allowed := builtConnector(t, vendor, true)
					id, err = allowed.consume(context.Background(), raw, []string{builtReqID})
					if err != nil || id.Email != "ana@example.test" {
						t.Fatalf("SHA-1 with allow_sha1: %v", err)
					}
				})
			}
		}
	}
}

// TestSAMLEncryptedKeyPlacements: an encrypted assertion decrypts with its
// EncryptedKey in EncryptedData's KeyInfo and beside it (RetrievalMethod),
// whichever elements are signed, with whole-second timestamps; the
// Identity reads the decrypted assertion (an empty memberOf value is no
// group).
func TestSAMLEncryptedKeyPlacements(t *testing.T) {
	t.Parallel()
	for _, placement := range []string{"keyinfo", "beside"} {
		for _, sign := range []string{"response", "assertion", "both"} {
			sh := shape{sign: sign, encrypt: placement}
			t.Run(sh.String(), func(t *testing.T) {
				t.Parallel()
				raw := buildResponse(t, sh)
				if placement == "beside" && !strings.Contains(string(raw), "RetrievalMethod") {
					t.Fatal("no RetrievalMethod in the built response")
				}
				id, err := builtConnector(t, sso.OneLogin, false).consume(context.Background(), raw, []string{builtReqID})
				if err != nil {
					t.Fatal(err)
				}
				if id.Email != "ana@example.test" || id.FirstName != "Ana" || len(id.Groups) != 0 || id.SessionIndex == "" {
					t.Fatalf("identity %+v", id)
				}
				// A service provider holding another key cannot read it.
				other := builtConnector(t, sso.OneLogin, false)
				otherKey, err := rsa.GenerateKey(rand.Reader, 2048)
				if err != nil {
					t.Fatal(err)
				}
				other.sp.Key = otherKey
				id, err = other.consume(context.Background(), raw, []string{builtReqID})
				if id != nil || !errors.Is(err, ErrInvalidResponse) || ReasonOf(err) != ReasonDecryption {
					t.Fatalf("another key: %+v %v (%s)", id, err, ReasonOf(err))
				}
			})
		}
	}
}
