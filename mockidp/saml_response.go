package mockidp

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strings"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"
	"github.com/crewjam/saml/xmlenc"
	dsig "github.com/russellhaering/goxmldsig"
	"github.com/ssokit/ssokit/sso"
)

const (
	nsProtocol  = "urn:oasis:names:tc:SAML:2.0:protocol"
	nsAssertion = "urn:oasis:names:tc:SAML:2.0:assertion"
	nsXS        = "http://www.w3.org/2001/XMLSchema"
	nsXSI       = "http://www.w3.org/2001/XMLSchema-instance"
	nsXMLEnc    = "http://www.w3.org/2001/04/xmlenc#"

	fmtUnspecified = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"
	fmtEmail       = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
	fmtPersistent  = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
	fmtTransient   = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"
	fmtEntity      = "urn:oasis:names:tc:SAML:2.0:nameid-format:entity"

	acPPT         = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
	acPassword    = "urn:oasis:names:tc:SAML:2.0:ac:classes:Password"
	acUnspecified = "urn:oasis:names:tc:SAML:2.0:ac:classes:unspecified"

	attrUnspecified = "urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified"
	attrBasic       = "urn:oasis:names:tc:SAML:2.0:attrname-format:basic"
)

// samlShape is a vendor's SAML wire format as a service provider sees it.
type samlShape struct {
	respPrefix, asrtPrefix string                     // "" on the assertion: unprefixed, default namespace (Entra)
	issuerFormat           bool                       // Format=entity on Issuers (Okta)
	nameIDFormat           string                     // "" : no Format attribute (Google)
	attrNameFormat         string                     // "" : none
	xsiType                string                     // "" : none
	xsNS                   nsPlace                    // where xmlns:xs and xmlns:xsi are declared (with xsiType)
	prefixList             string                     // exclusive c14n InclusiveNamespaces PrefixList on the Assertion's signature (Okta: xs); the Response's has none
	redeclare              bool                       // the prefix re-declared on Status and, in a signed Assertion, on each of its children (Okta 2020)
	xmlDecl                string                     // the XML declaration's content, "" for none (Okta: version="1.0" encoding="UTF-8")
	subjectName            bool                       // KeyInfo's X509Data names the certificate's subject before the certificate (Google)
	asrtNSOnResponse       bool                       // the assertion prefix declared on the Response, not on its Issuer (OneLogin)
	sigAlg                 string                     // the signature algorithm a new app of the vendor's signs with (OneLogin: rsa-sha1); "" rsa-sha256
	sessionIndex           func(rnd io.Reader) string // nil: "_" and 32 hex digits
	sigPrefix              string                     // "" : default namespace (Entra)
	attrsFirst             bool                       // AttributeStatement before AuthnStatement (Entra, Google)
	sessionIndexIsAssertID bool                       // SessionIndex is the assertion's ID (Entra, Google)
	authnWholeSecond       bool                       // AuthnInstant on a whole second (Google: ...:38.000Z)
	wholeSeconds           bool                       // every timestamp without fractional seconds (OneLogin: 2017-08-02T17:44:48Z)
	emptyAttr              emptyAttrStyle
	keyBeside              bool // an encrypted assertion's EncryptedKey is EncryptedData's sibling (Okta), not inside its KeyInfo
	authnContext           string
	sessionNotOnOrAfter    time.Duration
	before, after, scd     time.Duration // Conditions NotBefore/NotOnOrAfter, SubjectConfirmationData NotOnOrAfter
	sign                   string        // default: response, assertion, both
	attrs                  map[string]string
	responseID, assertID   func(rnd io.Reader) string // from rnd: at least 16 bytes (128 bits) each, see idBytes
}

// nsPlace is where a vendor declares the xs and xsi namespaces that
// xsi:type="xs:..." on AttributeValue names. Exclusive canonicalization
// renders a declaration only where an element or attribute name uses it,
// never for a QName inside an attribute value, so the declarations must be
// in the wire document itself for schema-validating service providers.
type nsPlace int

const (
	// nsOnValue: xmlns:xs and xmlns:xsi on each AttributeValue (Google, in
	// crewjam's TestSPCanHandlePlaintextResponse_response capture).
	nsOnValue nsPlace = iota
	// nsOnRootsAndValue: xmlns:xs on the Response and the Assertion as well
	// as xs and xsi on each AttributeValue (Okta, in gosaml2's
	// providertests/testdata/okta_response.xml capture).
	nsOnRootsAndValue
	// nsOnAssertion: xmlns:xs and xmlns:xsi on the Assertion, xmlns:xsi on
	// each AttributeValue (OneLogin, in crewjam's
	// TestSPCanHandleOneloginResponse_response capture).
	nsOnAssertion
	// nsOnSignedAssertionAndValue: xmlns:xs on the Assertion when it is
	// signed (its signature's PrefixList names xs), xs and xsi on each
	// AttributeValue, nothing on the Response (Okta, in crewjam's three
	// 2020 captures, TestSPCanHandleOkta*_response).
	nsOnSignedAssertionAndValue
)

// emptyAttrStyle is what a vendor sends for a mapped attribute the user
// has no value for.
type emptyAttrStyle int

const (
	// emptyOmitted: no Attribute at all (Okta, Entra, JumpCloud).
	emptyOmitted emptyAttrStyle = iota
	// emptyAttribute: <Attribute Name="phone"/>, no value (Google, in
	// crewjam's TestSPCanHandlePlaintextResponse_response capture).
	emptyAttribute
	// emptyValue: the Attribute with one empty AttributeValue (OneLogin,
	// memberOf and PersonImmutableID in crewjam's
	// TestSPCanHandleOneloginResponse_response capture).
	emptyValue
)

func randHex(n int) string {
	return hex.EncodeToString(randomBytes(rand.Reader, n))
}

// idBytes is how many random bytes every generated identifier carries at
// least (Response and Assertion IDs, SessionIndex, EncryptedData and
// EncryptedKey Ids): 128 bits, so that no ID is guessable.
const idBytes = 16

// randomBytes reads n bytes from rnd. A failing source of randomness
// is not survivable: crypto/rand's Read does not fail on supported
// systems, and an ID made of zeros must never go out.
func randomBytes(rnd io.Reader, n int) []byte {
	b := make([]byte, n)
	if _, err := io.ReadFull(rnd, b); err != nil {
		panic("mockidp: reading random bytes: " + err.Error())
	}
	return b
}

// randomHex is n random bytes from rnd in hex.
func randomHex(rnd io.Reader, n int) string { return hex.EncodeToString(randomBytes(rnd, n)) }

// guidShaped formats 16 bytes as 8-4-4-4-12 hex digits, keeping all 128
// bits (no RFC 4122 version and variant bits, as xmlseclibs' pfx IDs
// show: crewjam's TestSPCanHandleOneloginResponse_response has
// pfxed88c43d-6504-e1f1-...).
func guidShaped(b []byte) string {
	h := hex.EncodeToString(b[:16])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// oktaIDDigits is the length of the mock's Okta-shaped decimal IDs: "id"
// and digits, as Okta writes them (gosaml2's okta_response.xml:
// id12433943337943699538801121, 26 digits), but 39 digits rather than 26:
// 26 digits hold only 86 bits, and every ID the mock makes carries 128
// bits of randomness (a deliberate difference, listed in the capture
// comparison of peers/interop/captures).
const oktaIDDigits = 39

var oktaIDModulus = new(big.Int).Exp(big.NewInt(10), big.NewInt(oktaIDDigits), nil)

// oktaID is "id" and 39 decimal digits holding 16 random bytes (10^39 >
// 2^128: the value is not reduced).
func oktaID(rnd io.Reader) string {
	n := new(big.Int).SetBytes(randomBytes(rnd, idBytes))
	return fmt.Sprintf("id%0*s", oktaIDDigits, n.Mod(n, oktaIDModulus).String())
}

// underscoreGUID is Entra's "_" and a GUID-shaped 128-bit value.
func underscoreGUID(rnd io.Reader) string { return "_" + guidShaped(randomBytes(rnd, idBytes)) }

// underscoreHex is "_" and 32 hex digits (Google, JumpCloud).
func underscoreHex(rnd io.Reader) string { return "_" + randomHex(rnd, idBytes) }

var samlShapes = map[sso.Vendor]*samlShape{
	sso.Okta: {respPrefix: "saml2p", asrtPrefix: "saml2", issuerFormat: true, nameIDFormat: fmtUnspecified,
		attrNameFormat: attrUnspecified, xsiType: "xs:string", xsNS: nsOnSignedAssertionAndValue, prefixList: "xs", keyBeside: true,
		redeclare: true, xmlDecl: `version="1.0" encoding="UTF-8"`,
		sigPrefix: "ds", authnContext: acPPT, before: 5 * time.Minute, after: 5 * time.Minute, scd: 5 * time.Minute, sign: "both",
		attrs:      map[string]string{"email": "email", "first_name": "firstName", "last_name": "lastName", "groups": "groups"},
		responseID: oktaID, assertID: oktaID},
	sso.AzureAD: {respPrefix: "samlp", asrtPrefix: "", nameIDFormat: fmtEmail, sigPrefix: "", authnContext: acPassword,
		attrsFirst: true, sessionIndexIsAssertID: true,
		before: 5 * time.Minute, after: 70 * time.Minute, scd: 5 * time.Minute, sign: "assertion",
		attrs: map[string]string{
			"email":        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
			"first_name":   "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname",
			"last_name":    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname",
			"display_name": "http://schemas.microsoft.com/identity/claims/displayname",
			"groups":       "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups",
		},
		responseID: underscoreGUID, assertID: underscoreGUID},
	sso.GoogleWorkspace: {respPrefix: "saml2p", asrtPrefix: "saml2", nameIDFormat: "", xsiType: "xs:anyType", xsNS: nsOnValue, sigPrefix: "ds",
		// Google's capture (crewjam TestSPCanHandlePlaintextResponse_response):
		// attributes before the AuthnStatement, SessionIndex = the assertion
		// ID, AuthnInstant on a whole second, empty attributes as <Attribute/>.
		attrsFirst: true, sessionIndexIsAssertID: true, authnWholeSecond: true, emptyAttr: emptyAttribute,
		xmlDecl: `version="1.0" encoding="UTF-8" standalone="no"`, subjectName: true,
		authnContext: acUnspecified, before: 5 * time.Minute, after: 5 * time.Minute, scd: 5 * time.Minute, sign: "assertion",
		attrs:      map[string]string{"email": "email", "first_name": "firstName", "last_name": "lastName"},
		responseID: underscoreHex, assertID: underscoreHex},
	sso.OneLogin: {respPrefix: "samlp", asrtPrefix: "saml", nameIDFormat: fmtEmail, attrNameFormat: attrBasic, xsiType: "xs:string", xsNS: nsOnAssertion, emptyAttr: emptyValue,
		// Both OneLogin captures (crewjam 2016, gosaml2 2017) are signed with
		// rsa-sha1 and sha1 digests, the "SAML Signature Algorithm" a new app
		// starts with (OneLogin's docs name no default; service providers'
		// OneLogin guides tell administrators to change it to SHA-256). Their
		// SessionIndex is "_" and a UUID; xmlns:saml is declared on the
		// Response.
		sigAlg: "rsa-sha1", sessionIndex: underscoreGUID, asrtNSOnResponse: true,
		wholeSeconds: true, // IssueInstant="2017-08-02T17:44:48Z" and the rest (crewjam's and gosaml2's OneLogin captures)
		sigPrefix:    "ds", authnContext: acPPT, sessionNotOnOrAfter: 24 * time.Hour,
		before: 3 * time.Minute, after: 3 * time.Minute, scd: 3 * time.Minute, sign: "response",
		attrs:      map[string]string{"email": "User.email", "first_name": "User.FirstName", "last_name": "User.LastName", "groups": "memberOf"},
		responseID: func(rnd io.Reader) string { return "pfx" + guidShaped(randomBytes(rnd, idBytes)) },
		assertID:   func(rnd io.Reader) string { return "A" + randomHex(rnd, 20) }},
	sso.JumpCloud: {respPrefix: "saml2p", asrtPrefix: "saml2", nameIDFormat: fmtEmail, attrNameFormat: attrUnspecified, xsiType: "xs:string", xsNS: nsOnRootsAndValue,
		sigPrefix: "ds", authnContext: acPPT, before: 5 * time.Minute, after: 5 * time.Minute, scd: 5 * time.Minute, sign: "assertion",
		attrs:      map[string]string{"email": "email", "first_name": "firstname", "last_name": "lastname", "groups": "memberOf"},
		responseID: underscoreHex, assertID: underscoreHex},
}

// samlParams is everything one response is made of. Attacks change it
// before the response is built and signed.
type samlParams struct {
	sp                      ServiceProviderConfig
	spEntity, acs           string
	inResponseTo            string
	user                    UserConfig
	nameID, nameIDFormat    string
	responseID, assertID    string
	issueInstant            time.Time
	notBefore, notOnOrAfter time.Time
	scdNotOnOrAfter         time.Time
	authnInstant            time.Time
	audience, destination   string
	recipient               string
	sign                    string // response, assertion, both, none
	sigAlg                  string
	encryptTo               []byte // DER certificate; nil: no encryption
}

func samlTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// stamp is t as the vendor writes its timestamps.
func (sh *samlShape) stamp(t time.Time) string {
	if sh.wholeSeconds {
		return t.UTC().Format("2006-01-02T15:04:05Z")
	}
	return samlTime(t)
}

func (sh *samlShape) tag(prefix, local string) string {
	if prefix == "" {
		return local
	}
	return prefix + ":" + local
}

// attrName is the attribute name for key, from the service provider's
// config, the persona's, or the vendor's default.
func (p *Persona) attrName(sp ServiceProviderConfig, key string) string {
	if n, ok := sp.Attributes[key]; ok {
		return n
	}
	if n, ok := p.cfg.SAML.Attributes[key]; ok {
		return n
	}
	return samlShapes[p.cfg.Vendor].attrs[key]
}

// buildAssertion makes the (unsigned) assertion element.
func (s *samlIdP) buildAssertion(pp *samlParams) *etree.Element {
	p := s.p
	sh := samlShapes[p.cfg.Vendor]
	a := func(local string) string { return sh.tag(sh.asrtPrefix, local) }
	as := etree.NewElement(a("Assertion"))
	if sh.asrtPrefix == "" {
		as.CreateAttr("xmlns", nsAssertion)
	} else {
		as.CreateAttr("xmlns:"+sh.asrtPrefix, nsAssertion)
	}
	signed := pp.sign == "assertion" || pp.sign == "both"
	if sh.xsiType != "" && (sh.xsNS == nsOnRootsAndValue || sh.xsNS == nsOnAssertion || sh.xsNS == nsOnSignedAssertionAndValue && signed) {
		as.CreateAttr("xmlns:xs", nsXS)
		if sh.xsNS == nsOnAssertion {
			as.CreateAttr("xmlns:xsi", nsXSI)
		}
	}
	as.CreateAttr("ID", pp.assertID)
	as.CreateAttr("IssueInstant", sh.stamp(pp.issueInstant))
	as.CreateAttr("Version", "2.0")
	iss := as.CreateElement(a("Issuer"))
	if sh.issuerFormat {
		iss.CreateAttr("Format", fmtEntity)
	}
	iss.SetText(p.samlEntityID())

	subj := as.CreateElement(a("Subject"))
	nid := subj.CreateElement(a("NameID"))
	if pp.nameIDFormat != "" {
		nid.CreateAttr("Format", pp.nameIDFormat)
	}
	nid.SetText(pp.nameID)
	sc := subj.CreateElement(a("SubjectConfirmation"))
	sc.CreateAttr("Method", "urn:oasis:names:tc:SAML:2.0:cm:bearer")
	scd := sc.CreateElement(a("SubjectConfirmationData"))
	if pp.inResponseTo != "" {
		scd.CreateAttr("InResponseTo", pp.inResponseTo)
	}
	scd.CreateAttr("NotOnOrAfter", sh.stamp(pp.scdNotOnOrAfter))
	scd.CreateAttr("Recipient", pp.recipient)

	cond := as.CreateElement(a("Conditions"))
	cond.CreateAttr("NotBefore", sh.stamp(pp.notBefore))
	cond.CreateAttr("NotOnOrAfter", sh.stamp(pp.notOnOrAfter))
	cond.CreateElement(a("AudienceRestriction")).CreateElement(a("Audience")).SetText(pp.audience)

	// Entra and Google put the attributes before the AuthnStatement; the
	// others after.
	var attrStmt *etree.Element
	if sh.attrsFirst {
		attrStmt = as.CreateElement(a("AttributeStatement"))
	}
	authn := as.CreateElement(a("AuthnStatement"))
	authnInstant := pp.authnInstant
	if sh.authnWholeSecond {
		authnInstant = authnInstant.Truncate(time.Second)
	}
	authn.CreateAttr("AuthnInstant", sh.stamp(authnInstant))
	switch {
	case p.cfg.Vendor == sso.Okta:
		idx := pp.inResponseTo
		if idx == "" {
			idx = pp.assertID
		}
		authn.CreateAttr("SessionIndex", idx)
	case sh.sessionIndexIsAssertID:
		authn.CreateAttr("SessionIndex", pp.assertID)
	case sh.sessionIndex != nil:
		authn.CreateAttr("SessionIndex", sh.sessionIndex(s.random()))
	default:
		authn.CreateAttr("SessionIndex", "_"+randomHex(s.random(), idBytes))
	}
	if sh.sessionNotOnOrAfter > 0 {
		authn.CreateAttr("SessionNotOnOrAfter", sh.stamp(pp.issueInstant.Add(sh.sessionNotOnOrAfter)))
	}
	authn.CreateElement(a("AuthnContext")).CreateElement(a("AuthnContextClassRef")).SetText(sh.authnContext)

	if attrStmt == nil {
		attrStmt = as.CreateElement(a("AttributeStatement"))
	}
	addAttr := func(name string, values ...string) {
		if name == "" || len(values) == 0 && sh.emptyAttr == emptyOmitted {
			return
		}
		if len(values) == 0 && sh.emptyAttr == emptyValue {
			values = []string{""}
		}
		at := attrStmt.CreateElement(a("Attribute"))
		at.CreateAttr("Name", name)
		if sh.attrNameFormat != "" {
			at.CreateAttr("NameFormat", sh.attrNameFormat)
		}
		for _, v := range values {
			av := at.CreateElement(a("AttributeValue"))
			if sh.xsiType != "" {
				if sh.xsNS != nsOnAssertion {
					av.CreateAttr("xmlns:xs", nsXS)
				}
				av.CreateAttr("xmlns:xsi", nsXSI)
				av.CreateAttr("xsi:type", sh.xsiType)
			}
			if v != "" {
				av.SetText(v)
			}
		}
	}
	u := pp.user
	display := strings.TrimSpace(u.GivenName + " " + u.FamilyName)
	if p.cfg.Vendor == sso.AzureAD {
		oid := p.userID(&u)
		addAttr("http://schemas.microsoft.com/identity/claims/tenantid", p.tenant)
		addAttr("http://schemas.microsoft.com/identity/claims/objectidentifier", oid)
		addAttr(p.attrName(pp.sp, "display_name"), display)
		if len(u.Groups) > 150 {
			// Entra's overage indicator names the legacy Azure AD Graph
			// (Microsoft's "SAML token claims reference"); a service
			// provider never fetches it.
			addAttr("http://schemas.microsoft.com/claims/groups.link", "https://graph.windows.net/"+p.tenant+"/users/"+oid+"/getMemberObjects")
		} else if len(u.Groups) > 0 {
			addAttr(p.attrName(pp.sp, "groups"), p.groupIDs(u.Groups)...)
		}
		if len(u.Roles) > 0 {
			addAttr("http://schemas.microsoft.com/ws/2008/06/identity/claims/role", u.Roles...)
		}
		addAttr("http://schemas.microsoft.com/identity/claims/identityprovider", p.samlEntityID())
		addAttr("http://schemas.microsoft.com/claims/authnmethodsreferences", "http://schemas.microsoft.com/ws/2008/06/identity/authenticationmethod/password")
		addAttr(p.attrName(pp.sp, "first_name"), nonEmpty(u.GivenName)...)
		addAttr(p.attrName(pp.sp, "last_name"), nonEmpty(u.FamilyName)...)
		addAttr(p.attrName(pp.sp, "email"), u.Email)
		addAttr("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name", u.Email)
	} else {
		addAttr(p.attrName(pp.sp, "email"), u.Email)
		addAttr(p.attrName(pp.sp, "first_name"), nonEmpty(u.GivenName)...)
		addAttr(p.attrName(pp.sp, "last_name"), nonEmpty(u.FamilyName)...)
		addAttr(p.attrName(pp.sp, "display_name"), nonEmpty(display)...)
		addAttr(p.attrName(pp.sp, "groups"), u.Groups...)
	}
	if len(attrStmt.ChildElements()) == 0 {
		as.RemoveChild(attrStmt)
	}
	if sh.redeclare && signed && sh.asrtPrefix != "" {
		// Okta's signed assertions re-declare the prefix on each child;
		// exclusive c14n renders none of them, so the digest is the same.
		for _, c := range as.ChildElements() {
			c.CreateAttr("xmlns:"+sh.asrtPrefix, nsAssertion)
		}
	}
	return as
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

// buildResponse wraps an assertion (or EncryptedAssertion) element.
func (s *samlIdP) buildResponse(pp *samlParams, assertion *etree.Element) *etree.Element {
	sh := samlShapes[s.p.cfg.Vendor]
	r := func(local string) string { return sh.tag(sh.respPrefix, local) }
	resp := etree.NewElement(r("Response"))
	resp.CreateAttr("xmlns:"+sh.respPrefix, nsProtocol)
	if sh.xsiType != "" && sh.xsNS == nsOnRootsAndValue {
		resp.CreateAttr("xmlns:xs", nsXS)
	}
	resp.CreateAttr("Destination", pp.destination)
	resp.CreateAttr("ID", pp.responseID)
	if pp.inResponseTo != "" {
		resp.CreateAttr("InResponseTo", pp.inResponseTo)
	}
	resp.CreateAttr("IssueInstant", sh.stamp(pp.issueInstant))
	resp.CreateAttr("Version", "2.0")
	var iss *etree.Element
	if sh.asrtPrefix == "" {
		iss = resp.CreateElement("Issuer")
		iss.CreateAttr("xmlns", nsAssertion)
	} else {
		iss = resp.CreateElement(sh.tag(sh.asrtPrefix, "Issuer"))
		if sh.asrtNSOnResponse {
			resp.CreateAttr("xmlns:"+sh.asrtPrefix, nsAssertion)
		} else {
			iss.CreateAttr("xmlns:"+sh.asrtPrefix, nsAssertion)
		}
	}
	if sh.issuerFormat {
		iss.CreateAttr("Format", fmtEntity)
	}
	iss.SetText(s.p.samlEntityID())
	st := resp.CreateElement(r("Status"))
	if sh.redeclare {
		st.CreateAttr("xmlns:"+sh.respPrefix, nsProtocol)
	}
	st.CreateElement(r("StatusCode")).CreateAttr("Value", saml.StatusSuccess)
	resp.AddChild(assertion)
	return resp
}

// signEl signs el with an enveloped signature placed right after its
// Issuer, as every vendor does. A non-empty prefixList is announced in an
// ec:InclusiveNamespaces element inside the exclusive-c14n Transform (Okta
// sends PrefixList="xs") and used for the digest.
//
// goxmldsig canonicalizes the element it digests in place, dropping every
// namespace declaration exclusive c14n does not render, among them the
// xmlns:xs that only an xsi:type value uses. So the digest is taken over a
// copy, and the element goes on the wire with the declarations it was
// built with, as the vendors' responses do.
func signEl(el *etree.Element, cert tls.Certificate, sigPrefix, alg, prefixList string) (*etree.Element, error) {
	ctx := dsig.NewDefaultSigningContext(dsig.TLSCertKeyStore(cert))
	if prefixList != "" {
		// addInclusiveNamespaces changes SignedInfo after goxmldsig has
		// signed it and signs it again; goxmldsig's signature is never
		// sent, so it is made with a placeholder instead of an RSA key.
		key, ok := cert.PrivateKey.(*rsa.PrivateKey)
		if !ok {
			return nil, errors.New("signing key is not RSA")
		}
		var err error
		if ctx, err = dsig.NewSigningContext(placeholderSigner{&key.PublicKey}, cert.Certificate[:1]); err != nil {
			return nil, err
		}
	}
	ctx.Prefix = sigPrefix
	ctx.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList(prefixList)
	method := dsig.RSASHA256SignatureMethod
	if alg == "rsa-sha1" {
		method = dsig.RSASHA1SignatureMethod
	}
	if err := ctx.SetSignatureMethod(method); err != nil {
		return nil, err
	}
	sig, err := ctx.ConstructSignature(el.Copy(), true)
	if err != nil {
		return nil, err
	}
	if prefixList != "" {
		if err := addInclusiveNamespaces(sig, ctx, cert, prefixList); err != nil {
			return nil, err
		}
	}
	out := el.Copy()
	out.Child = nil
	placed := false
	for _, c := range el.ChildElements() {
		out.AddChild(c.Copy())
		if c.Tag == "Issuer" && !placed {
			out.AddChild(sig)
			placed = true
		}
	}
	if !placed {
		out.InsertChildAt(0, sig)
	}
	return out, nil
}

// nsExcC14N is the namespace of exclusive c14n's InclusiveNamespaces.
const nsExcC14N = "http://www.w3.org/2001/10/xml-exc-c14n#"

// addInclusiveNamespaces puts <ec:InclusiveNamespaces PrefixList=...> in
// sig's exclusive-c14n Reference Transform, which goxmldsig does not write,
// and signs the changed SignedInfo again.
func addInclusiveNamespaces(sig *etree.Element, ctx *dsig.SigningContext, cert tls.Certificate, prefixList string) error {
	si := findChild(sig, "SignedInfo")
	if si == nil {
		return errors.New("signature without SignedInfo")
	}
	for _, tr := range findDeep(si, "Transforms").ChildElements() {
		if tr.SelectAttrValue("Algorithm", "") == string(dsig.CanonicalXML10ExclusiveAlgorithmId) {
			in := tr.CreateElement("ec:InclusiveNamespaces")
			in.CreateAttr("xmlns:ec", nsExcC14N)
			in.CreateAttr("PrefixList", prefixList)
		}
	}
	// SignedInfo is canonicalized (exclusive, no prefix list) on its own,
	// with the signature namespace it inherits declared on it.
	detached := si.Copy()
	xmlns := "xmlns"
	if ctx.Prefix != "" {
		xmlns += ":" + ctx.Prefix
	}
	detached.CreateAttr(xmlns, dsig.Namespace)
	canonical, err := dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("").Canonicalize(detached)
	if err != nil {
		return err
	}
	key, ok := cert.PrivateKey.(*rsa.PrivateKey)
	if !ok {
		return errors.New("signing key is not RSA")
	}
	h := ctx.Hash.New()
	h.Write(canonical)
	value, err := rsa.SignPKCS1v15(nil, key, ctx.Hash, h.Sum(nil))
	if err != nil {
		return err
	}
	sv := findChild(sig, "SignatureValue")
	if sv == nil {
		return errors.New("signature without SignatureValue")
	}
	sv.SetText(base64.StdEncoding.EncodeToString(value))
	return nil
}

// encryptAssertion wraps a (signed) assertion in an EncryptedAssertion for
// the service provider's certificate: RSA-OAEP-MGF1P key transport and
// AES-256-CBC, as Okta and Entra send.
func (s *samlIdP) encryptAssertion(as *etree.Element, certDER []byte) (*etree.Element, error) {
	doc := etree.NewDocument()
	doc.SetRoot(as.Copy())
	plain, err := doc.WriteToBytes()
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(certDER)
	if err != nil {
		return nil, err
	}
	enc := xmlenc.OAEP()
	enc.BlockCipher = xmlenc.AES256CBC
	enc.DigestMethod = &xmlenc.SHA1
	ed, err := enc.Encrypt(cert, plain, nil)
	if err != nil {
		return nil, err
	}
	ed.CreateAttr("Type", "http://www.w3.org/2001/04/xmlenc#Element")
	// xmlenc draws the Ids from its package-wide RandReader; they are made
	// again from the persona's source, so that every ID comes from one.
	dataID := "_" + randomHex(s.random(), idBytes)
	ed.CreateAttr("Id", dataID)
	ek := findDeep(ed, "EncryptedKey")
	if ek == nil {
		return nil, errors.New("mockidp: the encrypter made no EncryptedKey")
	}
	keyID := "_" + randomHex(s.random(), idBytes)
	ek.CreateAttr("Id", keyID)
	sh := samlShapes[s.p.cfg.Vendor]
	var beside *etree.Element
	if sh.keyBeside {
		beside = moveKeyBeside(ed, ek, dataID, keyID)
	}
	prefix := sh.asrtPrefix
	var ea *etree.Element
	if prefix == "" {
		ea = etree.NewElement("EncryptedAssertion")
		ea.CreateAttr("xmlns", nsAssertion)
	} else {
		ea = etree.NewElement(prefix + ":EncryptedAssertion")
		ea.CreateAttr("xmlns:"+prefix, nsAssertion)
	}
	ea.AddChild(ed)
	if beside != nil {
		ea.AddChild(beside)
	}
	return ea, nil
}

// moveKeyBeside takes the EncryptedKey out of EncryptedData's KeyInfo and
// returns it to be EncryptedData's sibling, as Okta places it (its 2017
// and 2020 captures, in gosaml2's and crewjam's testdata): the KeyInfo
// keeps only a RetrievalMethod naming the key, and the key names the data
// back in a ReferenceList. Each element declares its own namespace, as
// Okta's do. SPs that look for the key only inside KeyInfo fail against
// this shape as they do against Okta.
func moveKeyBeside(ed, ek *etree.Element, dataID, keyID string) *etree.Element {
	ki := ek.Parent()
	ki.RemoveChild(ek)
	if ki.SelectAttr("xmlns:ds") == nil && ki.Space == "ds" {
		ki.CreateAttr("xmlns:ds", dsig.Namespace)
	}
	rm := ki.CreateElement(ki.Space + ":RetrievalMethod")
	if ki.Space == "" {
		rm.Tag, rm.Space = "RetrievalMethod", ""
	}
	rm.CreateAttr("Type", "http://www.w3.org/2001/04/xmlenc#EncryptedKey")
	rm.CreateAttr("URI", "#"+keyID)
	if ek.Space != "" && ek.SelectAttr("xmlns:"+ek.Space) == nil {
		ek.CreateAttr("xmlns:"+ek.Space, nsXMLEnc)
	}
	if eki := ek.FindElement("./KeyInfo"); eki != nil && eki.Space != "" && eki.SelectAttr("xmlns:"+eki.Space) == nil {
		eki.CreateAttr("xmlns:"+eki.Space, dsig.Namespace)
	}
	if dm := ek.FindElement("./EncryptionMethod/DigestMethod"); dm != nil && dm.Space != "" && dm.SelectAttr("xmlns:"+dm.Space) == nil {
		dm.CreateAttr("xmlns:"+dm.Space, dsig.Namespace)
	}
	rl := ek.CreateElement(prefixed(ek.Space, "ReferenceList"))
	rl.CreateElement(prefixed(ek.Space, "DataReference")).CreateAttr("URI", "#"+dataID)
	return ek
}

// prefixed is local with the namespace prefix p, if any.
func prefixed(p, local string) string {
	if p == "" {
		return local
	}
	return p + ":" + local
}

// build makes the signed response document for pp with the persona's key.
func (s *samlIdP) build(pp *samlParams, cert tls.Certificate) (*etree.Document, error) {
	sh := samlShapes[s.p.cfg.Vendor]
	as := s.buildAssertion(pp)
	var err error
	if pp.sign == "assertion" || pp.sign == "both" {
		if as, err = signEl(as, cert, sh.sigPrefix, pp.sigAlg, sh.prefixList); err != nil {
			return nil, err
		}
		if sh.subjectName {
			nameSubject(as, cert)
		}
	}
	if pp.encryptTo != nil {
		if as, err = s.encryptAssertion(as, pp.encryptTo); err != nil {
			return nil, err
		}
	}
	resp := s.buildResponse(pp, as)
	if pp.sign == "response" || pp.sign == "both" {
		if resp, err = signEl(resp, cert, sh.sigPrefix, pp.sigAlg, ""); err != nil {
			return nil, err
		}
		if sh.subjectName {
			nameSubject(resp, cert)
		}
	}
	doc := etree.NewDocument()
	if sh.xmlDecl != "" {
		doc.CreateProcInst("xml", sh.xmlDecl)
	}
	doc.SetRoot(resp)
	return doc, nil
}

// nameIDFor picks the NameID format and value as the vendor does, honouring
// the request's NameIDPolicy where the vendor does (Entra).
func (s *samlIdP) nameIDFor(u UserConfig, spEntity, requested string, sp ServiceProviderConfig) (string, string, error) {
	p := s.p
	format := samlShapes[p.cfg.Vendor].nameIDFormat
	if sp.NameIDFormat != "" {
		format = sp.NameIDFormat
	}
	if p.cfg.Vendor == sso.AzureAD && requested != "" {
		switch requested {
		case fmtPersistent, fmtEmail, fmtTransient:
			format = requested
		case fmtUnspecified:
			// "permits Microsoft Entra ID to select the claim format":
			// it issues the pairwise identifier, a persistent NameID.
			format = fmtPersistent
		default:
			return "", "", &saml.StatusError{TopLevel: saml.StatusRequester, SecondLevel: saml.StatusInvalidNameIDPolicy,
				Message: "AADSTS75016: Saml2AuthenticationRequestInvalidNameIDPolicy - SAML2 Authentication Request has invalid NameIdPolicy."}
		}
	}
	switch format {
	case fmtTransient:
		return format, "_" + randomHex(s.random(), 20), nil // a new value every login
	case fmtPersistent:
		h := p.hash("persistent", strings.ToLower(u.Email)+"\x00"+spEntity)
		return format, base64.StdEncoding.EncodeToString(h[:32]), nil
	}
	return format, u.Email, nil
}

var errNoACS = errors.New("the service provider has no HTTP-POST assertion consumer service")

// nameSubject puts an X509SubjectName before the X509Certificate in the
// KeyInfo of el's own signature, as Google does. KeyInfo is outside
// SignedInfo, so el's signature stays valid; it is called before an
// enclosing element is signed.
func nameSubject(el *etree.Element, cert tls.Certificate) {
	if len(cert.Certificate) == 0 {
		return
	}
	c, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		return
	}
	for _, sig := range el.FindElements("./Signature") {
		xd := sig.FindElement("./KeyInfo/X509Data")
		xc := sig.FindElement("./KeyInfo/X509Data/X509Certificate")
		if xd == nil || xc == nil {
			continue
		}
		sn := etree.NewElement(prefixed(xc.Space, "X509SubjectName"))
		sn.SetText(c.Subject.String())
		xd.InsertChildAt(xc.Index(), sn)
	}
}

// placeholderSigner stands in for the key when goxmldsig builds a
// signature whose SignedInfo is signed again afterwards: its Sign costs
// nothing and its output is overwritten.
type placeholderSigner struct{ pub *rsa.PublicKey }

func (p placeholderSigner) Public() crypto.PublicKey { return p.pub }

func (placeholderSigner) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return []byte{0}, nil
}
