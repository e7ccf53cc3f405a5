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
	"github.com/ssokit/ssokit/internal/state"
	"github.com/ssokit/ssokit/sso"
)

const builtSLO = "https://sp.test/saml/slo"

// TestSAMLLogoutRefusalReasons: a signed LogoutResponse that answers this
// browser's LogoutRequest but fails a later check is refused for that
// check, as a login response is: the IdP's error status, the wrong
// Destination or Issuer, a stale IssueInstant, a SHA-1 signature. Only a
// missing or bad signature is ReasonSignature.
func TestSAMLLogoutRefusalReasons(t *testing.T) {
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
	const reqID = "id-logout-request-1"
	type logout struct {
		destination, issuer, status string
		issued                      time.Time
		sign, sha1                  bool
	}
	build := func(l logout) string {
		el := parseEl(t, `<samlp:LogoutResponse xmlns:samlp="`+nsProtocol+`" ID="_r1" Version="2.0" IssueInstant="`+
			l.issued.UTC().Format("2006-01-02T15:04:05Z")+`" Destination="`+l.destination+`" InResponseTo="`+reqID+`">`+
			`<saml:Issuer xmlns:saml="`+nsAssertion+`">`+l.issuer+`</saml:Issuer>`+
			`<samlp:Status><samlp:StatusCode Value="`+l.status+`"/></samlp:Status></samlp:LogoutResponse>`)
		if l.sign {
			el = signBuilt(t, el, l.sha1)
		}
		doc := etree.NewDocument()
		doc.SetRoot(el)
		b, err := doc.WriteToBytes()
		if err != nil {
			t.Fatal(err)
		}
		return base64.StdEncoding.EncodeToString(b)
	}
	finish := func(l logout) error {
		started := httptest.NewRecorder()
		if err := s.state.set(started, "relay", state.Payload{ConnectionID: s.conn.ID, LogoutRequestIDs: []string{reqID}}); err != nil {
			t.Fatal(err)
		}
		form := url.Values{"SAMLResponse": {build(l)}, "RelayState": {"relay"}}
		r := httptest.NewRequest("POST", builtSLO, strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for _, ck := range started.Result().Cookies() {
			r.AddCookie(ck)
		}
		return s.FinishLogout(httptest.NewRecorder(), r)
	}
	now := time.Now()
	good := logout{destination: builtSLO, issuer: builtIdP, status: "urn:oasis:names:tc:SAML:2.0:status:Success", issued: now, sign: true}
	if err := finish(good); err != nil {
		t.Fatalf("a good logout response refused: %v", err)
	}
	for _, tc := range []struct {
		name     string
		edit     func(*logout)
		sentinel error
		reason   string
		says     string // what the detail says after "logout response: "
	}{
		{"unsigned", func(l *logout) { l.sign = false }, ErrInvalidResponse, ReasonSignature, ""},
		{"error status", func(l *logout) { l.status = "urn:oasis:names:tc:SAML:2.0:status:Requester" }, ErrIdPRefused, ReasonIdPError, "the IdP answered with status urn:oasis:names:tc:SAML:2.0:status:Requester"},
		{"wrong destination", func(l *logout) { l.destination = "https://other.test/slo" }, ErrInvalidResponse, ReasonDestination, ""},
		{"wrong issuer", func(l *logout) { l.issuer = "https://other-idp.test/entity" }, ErrInvalidResponse, ReasonIssuer, ""},
		{"stale", func(l *logout) { l.issued = now.Add(-10 * time.Minute) }, ErrInvalidResponse, ReasonExpired, ""},
		{"from the future", func(l *logout) { l.issued = now.Add(10 * time.Minute) }, ErrInvalidResponse, ReasonNotYetValid, ""},
		{"sha1", func(l *logout) { l.sha1 = true }, ErrInvalidResponse, ReasonAlgorithm, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := good
			tc.edit(&l)
			err := finish(l)
			if !errors.Is(err, tc.sentinel) || ReasonOf(err) != tc.reason {
				t.Fatalf("got %v, want %v (%s)", err, tc.sentinel, tc.reason)
			}
			if !strings.Contains(err.Error(), "logout response: "+tc.says) {
				t.Fatalf("the detail of %v does not say %q", err, "logout response: "+tc.says)
			}
		})
	}
}
