package idp

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/ssokit/ssokit/sso"
)

// TestSAMLShapeRefusalReasons: an assertion the IdP signed, with a valid
// signature, that is no login (no Conditions, no AuthnStatement, no NameID,
// no bearer confirmation, another SAML Version) is refused as malformed:
// ReasonSignature would send the operator to the certificates. A response
// without any signature stays ReasonSignature.
func TestSAMLShapeRefusalReasons(t *testing.T) {
	t.Parallel()
	now := time.Now()
	authn := `<saml2:AuthnStatement AuthnInstant="` + wholeSecond(now.Add(-time.Second)) + `" SessionIndex="_s1"><saml2:AuthnContext>` +
		`<saml2:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml2:AuthnContextClassRef></saml2:AuthnContext></saml2:AuthnStatement>`
	conditions := `<saml2:Conditions NotBefore="` + wholeSecond(now.Add(-3*time.Minute)) + `" NotOnOrAfter="` + wholeSecond(now.Add(3*time.Minute)) + `">` +
		`<saml2:AudienceRestriction><saml2:Audience>` + builtSP + `</saml2:Audience></saml2:AudienceRestriction></saml2:Conditions>`
	nameID := `<saml2:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress">ana@example.test</saml2:NameID>`
	assertion := `<saml2:Assertion xmlns:saml2="` + nsAssertion + `" ID="A1" IssueInstant="` + wholeSecond(now) + `" Version="2.0">` +
		`<saml2:Issuer>` + builtIdP + `</saml2:Issuer><saml2:Subject>` + nameID +
		`<saml2:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml2:SubjectConfirmationData InResponseTo="` + builtReqID +
		`" NotOnOrAfter="` + wholeSecond(now.Add(3*time.Minute)) + `" Recipient="` + builtACS + `"/></saml2:SubjectConfirmation></saml2:Subject>` +
		conditions + authn + `</saml2:Assertion>`
	response := func(as string, sign string) []byte {
		el := parseEl(t, as)
		if sign == "assertion" || sign == "both" {
			el = signBuilt(t, el, false)
		}
		resp := parseEl(t, `<saml2p:Response xmlns:saml2p="`+nsProtocol+`" Destination="`+builtACS+`" ID="R1" InResponseTo="`+builtReqID+
			`" IssueInstant="`+wholeSecond(now)+`" Version="2.0"><saml2:Issuer xmlns:saml2="`+nsAssertion+`">`+builtIdP+`</saml2:Issuer>`+
			`<saml2p:Status><saml2p:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></saml2p:Status></saml2p:Response>`)
		resp.AddChild(el)
		if sign == "response" || sign == "both" {
			resp = signBuilt(t, resp, false)
		}
		doc := etree.NewDocument()
		doc.SetRoot(resp)
		b, err := doc.WriteToBytes()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	c := builtConnector(t, sso.Okta, false)
	if _, err := c.parse(response(assertion, "both"), []string{builtReqID}); err != nil {
		t.Fatalf("the good assertion refused: %v", err)
	}
	for _, tc := range []struct{ name, from, to string }{
		{"no Conditions", conditions, ""},
		{"no AuthnStatement", authn, ""},
		{"no NameID", nameID, ""},
		{"holder-of-key only", "cm:bearer", "cm:holder-of-key"},
		{"SAML 1.1", `Version="2.0">`, `Version="1.1">`},
	} {
		for _, sign := range []string{"assertion", "response", "both"} {
			t.Run(tc.name+"/"+sign, func(t *testing.T) {
				_, err := c.parse(response(strings.Replace(assertion, tc.from, tc.to, 1), sign), []string{builtReqID})
				if !errors.Is(err, ErrInvalidResponse) || ReasonOf(err) != ReasonMalformed {
					t.Fatalf("got %v, want %s", err, ReasonMalformed)
				}
			})
		}
	}
	if _, err := c.parse(response(assertion, "none"), []string{builtReqID}); ReasonOf(err) != ReasonSignature {
		t.Fatalf("unsigned: %v, want %s", err, ReasonSignature)
	}
}
