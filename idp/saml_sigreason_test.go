package idp

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"
	"github.com/crewjam/saml/xmlenc"
	"github.com/ssokit/ssokit/internal/state"
	"github.com/ssokit/ssokit/sso"
)

// TestSAMLSignatureRefusalReasonIsNotTheMessages: a signature that does
// not verify is refused as one (ReasonSignature, ErrInvalidResponse)
// whatever its SignatureMethod URI says. crewjam's refusal quotes the URI,
// which anyone who posts to the ACS chooses: read for words, it made a
// forged response a replay (ErrReplayed), a wrong Destination or an
// expired one in the SSO log, and an encrypted one stand apart from the
// one answer every undecryptable or unsigned plaintext gets.
func TestSAMLSignatureRefusalReasonIsNotTheMessages(t *testing.T) {
	t.Parallel()
	c := builtConnector(t, sso.Okta, false)
	forged := func(alg string) string {
		return `<saml2:Assertion xmlns:saml2="` + nsAssertion + `" ID="Aforged" IssueInstant="` + wholeSecond(time.Now()) + `" Version="2.0">` +
			`<saml2:Issuer>` + builtIdP + `</saml2:Issuer><ds:Signature xmlns:ds="` + nsDSig + `"><ds:SignedInfo>` +
			`<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><ds:SignatureMethod Algorithm="` + alg + `"/>` +
			`<ds:Reference URI="#Aforged"><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue>AA==</ds:DigestValue></ds:Reference>` +
			`</ds:SignedInfo><ds:SignatureValue>AA==</ds:SignatureValue></ds:Signature>` +
			`<saml2:Subject><saml2:NameID>mallory@example.test</saml2:NameID></saml2:Subject></saml2:Assertion>`
	}
	// in puts the assertion (or EncryptedAssertion) el in place of a built
	// response's own.
	in := func(enc bool, el *etree.Element) []byte {
		doc := etree.NewDocument()
		sh := shape{sign: "assertion"}
		if enc {
			sh.encrypt = "keyinfo"
		}
		if err := doc.ReadFromBytes(buildResponse(t, sh)); err != nil {
			t.Fatal(err)
		}
		old := doc.FindElement("//Assertion")
		if enc {
			old = doc.FindElement("//EncryptedAssertion/EncryptedData")
		}
		p := old.Parent()
		p.InsertChildAt(old.Index(), el)
		p.RemoveChild(old)
		b, err := doc.WriteToBytes()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, alg := range []string{"urn:already been used", "urn:Destination", "urn:expired", "urn:InResponseTo"} {
		_, err := c.consume(context.Background(), in(false, parseEl(t, forged(alg))), []string{builtReqID})
		if !errors.Is(err, ErrInvalidResponse) || errors.Is(err, ErrReplayed) || ReasonOf(err) != ReasonSignature {
			t.Errorf("SignatureMethod %q: %v (%s), want %s", alg, err, ReasonOf(err), ReasonSignature)
		}
		_, cert := builtSPKey()
		e := xmlenc.OAEP()
		e.BlockCipher = xmlenc.AES256CBC
		e.DigestMethod = &xmlenc.SHA1
		ed, err := e.Encrypt(cert, []byte(forged(alg)), nil)
		if err != nil {
			t.Fatal(err)
		}
		ed.CreateAttr("Type", "http://www.w3.org/2001/04/xmlenc#Element")
		_, err = c.consume(context.Background(), in(true, ed), []string{builtReqID})
		if !errors.Is(err, ErrInvalidResponse) || ReasonOf(err) != ReasonDecryption || !strings.Contains(err.Error(), "does not decrypt") {
			t.Errorf("encrypted, SignatureMethod %q: %v (%s), want %s", alg, err, ReasonOf(err), ReasonDecryption)
		}
	}
}

// TestSAMLMalformedRefusalReasonIsNotTheMessages: a response that does not
// parse is refused as malformed (ErrInvalidResponse, ReasonMalformed)
// whatever the parse error quotes of it: an element's name or a
// timestamp's text, which anyone who posts chooses, made it a replay
// (ErrReplayed), a wrong Destination or Recipient, or an expired one.
func TestSAMLMalformedRefusalReasonIsNotTheMessages(t *testing.T) {
	t.Parallel()
	c := builtConnector(t, sso.Okta, false)
	status := `<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>`
	for _, raw := range []string{
		`<samlp:Destination xmlns:samlp="` + nsProtocol + `"/>`,
		`<samlp:Response xmlns:samlp="` + nsProtocol + `" ID="R" Version="2.0" IssueInstant="already been used"/>`,
		`<samlp:Response xmlns:samlp="` + nsProtocol + `" ID="R" Version="2.0" IssueInstant="NotOnOrAfter"/>`,
		`<samlp:Response xmlns:samlp="` + nsProtocol + `" ID="R" Version="2.0" IssueInstant="` + wholeSecond(time.Now()) + `">` + status +
			`<saml:Assertion xmlns:saml="` + nsAssertion + `" IssueInstant="Recipient"/></samlp:Response>`,
	} {
		_, err := c.consume(context.Background(), []byte(raw), []string{builtReqID})
		if !errors.Is(err, ErrInvalidResponse) || errors.Is(err, ErrReplayed) || ReasonOf(err) != ReasonMalformed {
			t.Errorf("%s: %v (%s), want %s", raw, err, ReasonOf(err), ReasonMalformed)
		}
	}
}

// TestSAMLSHA1ReasonOnlyForSHA1Signatures: ReasonAlgorithm, whose message
// tells the administrator to switch the IdP to SHA-256 or allow SHA-1, is
// for a response crewjam refused for its SHA-1 signature only, not for
// one whose error merely quotes "sha1" or crewjam's words for it from the
// posted message (its Version, an unknown SignatureMethod).
func TestSAMLSHA1ReasonOnlyForSHA1Signatures(t *testing.T) {
	t.Parallel()
	c := builtConnector(t, sso.Okta, false)
	a := string(buildResponse(t, shape{sign: "assertion"}))
	words := "SHA-1 based signature algorithms are not accepted"
	sigWith := func(alg string) string {
		k := strings.Index(a, "<saml2:Assertion")
		l := strings.Index(a, "</saml2:Assertion>") + len("</saml2:Assertion>")
		return a[:k] + `<saml2:Assertion xmlns:saml2="` + nsAssertion + `" ID="x" IssueInstant="` + wholeSecond(time.Now()) + `" Version="2.0">` +
			`<saml2:Issuer>` + builtIdP + `</saml2:Issuer><ds:Signature xmlns:ds="` + nsDSig + `"><ds:SignedInfo>` +
			`<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><ds:SignatureMethod Algorithm="` + alg + `"/>` +
			`<ds:Reference URI="#x"><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue>AA==</ds:DigestValue></ds:Reference>` +
			`</ds:SignedInfo><ds:SignatureValue>AA==</ds:SignatureValue></ds:Signature></saml2:Assertion>` + a[l:]
	}
	version := func(v string) string {
		return strings.Replace(a, `" Version="2.0"><saml2:Issuer xmlns`, `" Version="`+v+`"><saml2:Issuer xmlns`, 1)
	}
	for name, raw := range map[string]string{
		"Version sha1":            version("sha1"),
		"Version quoting crewjam": version(words),
		"unknown SignatureMethod": sigWith("urn:x " + words),
	} {
		if _, err := c.consume(context.Background(), []byte(raw), []string{builtReqID}); ReasonOf(err) == ReasonAlgorithm {
			t.Errorf("%s: %v, want a reason other than %s", name, err, ReasonAlgorithm)
		}
	}
	// A real SHA-1 signature keeps ReasonAlgorithm.
	if _, err := c.consume(context.Background(), buildResponse(t, shape{sign: "assertion", sha1: true}), []string{builtReqID}); ReasonOf(err) != ReasonAlgorithm {
		t.Errorf("a SHA-1 signature: %v, want %s", err, ReasonAlgorithm)
	}
}

// TestSAMLRefusalReasonIsTheSentinels: a refusal's reason is the check
// crewjam's sentinel names, not a word its error quotes from the posted
// message: a Destination or a Version that reads "failed to decrypt",
// "already been used" or "AudienceRestriction" made a wrong Destination a
// decryption failure, and another SAML Version a replay (ErrReplayed) or a
// wrong audience.
func TestSAMLRefusalReasonIsTheSentinels(t *testing.T) {
	t.Parallel()
	c := builtConnector(t, sso.Okta, false)
	a := string(buildResponse(t, shape{sign: "assertion"}))
	destination := func(v string) string {
		return strings.Replace(a, `Destination="`+builtACS+`"`, `Destination="`+v+`"`, 1)
	}
	version := func(v string) string {
		return strings.Replace(a, `" Version="2.0"><saml2:Issuer xmlns`, `" Version="`+v+`"><saml2:Issuer xmlns`, 1)
	}
	for _, tc := range []struct{ raw, reason string }{
		{destination("https://sp.test/failed to decrypt"), ReasonDestination},
		{destination("https://sp.test/exactly one Assertion"), ReasonDestination},
		{destination("https://sp.test/trusted certs"), ReasonDestination},
		{version("already been used"), ReasonMalformed},
		{version("AudienceRestriction"), ReasonMalformed},
		{version("Destination"), ReasonMalformed},
	} {
		_, err := c.consume(context.Background(), []byte(tc.raw), []string{builtReqID})
		if !errors.Is(err, ErrInvalidResponse) || errors.Is(err, ErrReplayed) || ReasonOf(err) != tc.reason {
			t.Errorf("%v (%s), want %s", err, ReasonOf(err), tc.reason)
		}
	}
}

// TestSAMLLogoutInResponseToBySentinel: a LogoutResponse is refused as
// answering no logout of this browser (ErrNoLogin, ReasonInResponseTo)
// when crewjam found its InResponseTo wrong, not when its error quotes
// the word from the message: one that does not parse stays malformed.
func TestSAMLLogoutInResponseToBySentinel(t *testing.T) {
	t.Parallel()
	key, cert := builtSPKey()
	c, err := New(context.Background(), Connection{ID: "built", Protocol: sso.SAML, Vendor: sso.Okta, SAML: &SAMLSettings{
		IDPMetadataXML: idpMetadataXML(base64.StdEncoding.EncodeToString(builtIdPCert()), redirectSSO),
		EntityID:       builtSP, ACSURL: builtACS, SLOURL: builtSLO}},
		Options{StateKey: make([]byte, 32), SPKey: key, SPCertificate: cert})
	if err != nil {
		t.Fatal(err)
	}
	s := c.(*samlConnector)
	finish := func(issued, inResponseTo string) error {
		started := httptest.NewRecorder()
		if err := s.state.set(started, "relay", state.Payload{ConnectionID: s.conn.ID, LogoutRequestIDs: []string{"id-logout-request-1"}}); err != nil {
			t.Fatal(err)
		}
		el := parseEl(t, `<samlp:LogoutResponse xmlns:samlp="`+nsProtocol+`" ID="_r1" Version="2.0" IssueInstant="`+issued+
			`" Destination="`+builtSLO+`" InResponseTo="`+inResponseTo+`"><saml:Issuer xmlns:saml="`+nsAssertion+`">`+builtIdP+`</saml:Issuer>`+
			`<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status></samlp:LogoutResponse>`)
		doc := etree.NewDocument()
		doc.SetRoot(signBuilt(t, el, false))
		b, err := doc.WriteToBytes()
		if err != nil {
			t.Fatal(err)
		}
		form := url.Values{"SAMLResponse": {base64.StdEncoding.EncodeToString(b)}, "RelayState": {"relay"}}
		r := httptest.NewRequest("POST", builtSLO, strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for _, ck := range started.Result().Cookies() {
			r.AddCookie(ck)
		}
		return s.FinishLogout(httptest.NewRecorder(), r)
	}
	if err := finish("InResponseTo", "id-logout-request-1"); errors.Is(err, ErrNoLogin) || ReasonOf(err) != ReasonMalformed {
		t.Errorf("an IssueInstant that does not parse: %v (%s), want %s", err, ReasonOf(err), ReasonMalformed)
	}
	if err := finish(wholeSecond(time.Now()), "id-another-request"); !errors.Is(err, ErrNoLogin) || ReasonOf(err) != ReasonInResponseTo {
		t.Errorf("another request's response: %v (%s), want ErrNoLogin (%s)", err, ReasonOf(err), ReasonInResponseTo)
	}
}

// TestSAMLReplayOnlyBySentinel: a refusal is a replay (ErrReplayed) only
// when crewjam's ErrAssertionReplayed marks it (or ssokit's own replay
// cache refuses). Words of an error without a sentinel, which may quote
// the posted message, never make one.
func TestSAMLReplayOnlyBySentinel(t *testing.T) {
	t.Parallel()
	for _, err := range []error{
		errors.New("assertion has already been used"),
		&saml.InvalidResponseError{PrivateErr: errors.New(`Issuer "assertion has already been used" is unexpected`)},
	} {
		got := classifySAML(err)
		if errors.Is(got, ErrReplayed) || ReasonOf(got) == ReasonReplay {
			t.Errorf("%v: refused as a replay (%s)", err, ReasonOf(got))
		}
	}
	got := classifySAML(&saml.InvalidResponseError{PrivateErr: saml.ErrAssertionReplayed})
	if !errors.Is(got, ErrReplayed) || ReasonOf(got) != ReasonReplay {
		t.Errorf("crewjam's replay: %v (%s)", got, ReasonOf(got))
	}
}
