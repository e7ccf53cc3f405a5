package idp

import (
	"context"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/ssokit/ssokit/sso"
)

// skewedResponse is buildResponse's assertion-signed shape with its
// Conditions NotOnOrAfter and its SubjectConfirmationData NotOnOrAfter set
// by the caller ("" leaves the attribute out), issued at now.
func skewedResponse(t *testing.T, now time.Time, condNotOnOrAfter, scdNotOnOrAfter string) []byte {
	t.Helper()
	attr := func(name, v string) string {
		if v == "" {
			return ""
		}
		return ` ` + name + `="` + v + `"`
	}
	as := parseEl(t, `<saml2:Assertion xmlns:saml2="`+nsAssertion+`" ID="A`+randomToken(20)+`" IssueInstant="`+wholeSecond(now)+`" Version="2.0">`+
		`<saml2:Issuer>`+builtIdP+`</saml2:Issuer>`+
		`<saml2:Subject><saml2:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress">ana@example.test</saml2:NameID>`+
		`<saml2:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml2:SubjectConfirmationData InResponseTo="`+builtReqID+`"`+
		attr("NotOnOrAfter", scdNotOnOrAfter)+` Recipient="`+builtACS+`"/></saml2:SubjectConfirmation></saml2:Subject>`+
		`<saml2:Conditions NotBefore="`+wholeSecond(now.Add(-10*time.Second))+`"`+attr("NotOnOrAfter", condNotOnOrAfter)+`>`+
		`<saml2:AudienceRestriction><saml2:Audience>`+builtSP+`</saml2:Audience></saml2:AudienceRestriction></saml2:Conditions>`+
		`<saml2:AuthnStatement AuthnInstant="`+wholeSecond(now.Add(-time.Second))+`" SessionIndex="_s`+randomToken(8)+`"><saml2:AuthnContext>`+
		`<saml2:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml2:AuthnContextClassRef></saml2:AuthnContext></saml2:AuthnStatement>`+
		`</saml2:Assertion>`)
	resp := parseEl(t, `<saml2p:Response xmlns:saml2p="`+nsProtocol+`" Destination="`+builtACS+`" ID="R`+randomToken(20)+
		`" InResponseTo="`+builtReqID+`" IssueInstant="`+wholeSecond(now)+`" Version="2.0">`+
		`<saml2:Issuer xmlns:saml2="`+nsAssertion+`">`+builtIdP+`</saml2:Issuer>`+
		`<saml2p:Status><saml2p:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></saml2p:Status></saml2p:Response>`)
	resp.AddChild(signBuilt(t, as, false))
	doc := etree.NewDocument()
	doc.SetRoot(resp)
	b, err := doc.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSAMLStricterSkewOmittedNotOnOrAfter: Conditions without NotOnOrAfter
// (SAML Core 2.5.1.2: no end; crewjam accepts it, the bearer confirmation's
// NotOnOrAfter and the IssueInstant still bound it) is accepted under a
// connection's MaxClockSkew as without one.
func TestSAMLStricterSkewOmittedNotOnOrAfter(t *testing.T) {
	t.Parallel()
	now := time.Now()
	for _, skew := range []time.Duration{0, 30 * time.Second} {
		c := builtConnector(t, sso.Okta, false)
		c.conn.SAML.MaxClockSkew = skew
		raw := skewedResponse(t, now, "", wholeSecond(now.Add(3*time.Minute)))
		if id, err := c.consume(context.Background(), raw, []string{builtReqID}); err != nil || id.Email != "ana@example.test" {
			t.Fatalf("skew %s: %+v %v", skew, id, err)
		}
	}
}

// TestSAMLStricterSkewBearerConfirmation: a connection's MaxClockSkew holds
// the bearer SubjectConfirmationData's NotOnOrAfter too, not only the
// Conditions and IssueInstant: a confirmation that ended 100 s ago is
// within crewjam's 180 s but not a 30 s skew.
func TestSAMLStricterSkewBearerConfirmation(t *testing.T) {
	t.Parallel()
	now := time.Now()
	for _, tc := range []struct {
		skew   time.Duration
		scd    time.Duration // the confirmation's NotOnOrAfter from now
		reason string
	}{
		{0, -100 * time.Second, ""},
		{30 * time.Second, -100 * time.Second, ReasonExpired},
		{30 * time.Second, -20 * time.Second, ""},
		{30 * time.Second, 3 * time.Minute, ""},
	} {
		c := builtConnector(t, sso.Okta, false)
		c.conn.SAML.MaxClockSkew = tc.skew
		raw := skewedResponse(t, now, wholeSecond(now.Add(3*time.Minute)), wholeSecond(now.Add(tc.scd)))
		id, err := c.consume(context.Background(), raw, []string{builtReqID})
		switch {
		case tc.reason == "" && err != nil:
			t.Errorf("skew %s, confirmation %s: refused: %v", tc.skew, tc.scd, err)
		case tc.reason != "" && (id != nil || ReasonOf(err) != tc.reason):
			t.Errorf("skew %s, confirmation %s: %+v %v, want %s", tc.skew, tc.scd, id, err, tc.reason)
		}
	}
}
