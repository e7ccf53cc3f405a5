package idp

import (
	"context"
	"crypto"
	"encoding/base64"
	"errors"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ssokit/ssokit/internal/jwks"
	"github.com/ssokit/ssokit/internal/state"
)

// FuzzIDToken feeds arbitrary strings to the ID token signature check, and
// arbitrary payloads signed with the IdP's key (sign=true): nothing panics,
// a refusal is a classified LoginError, an unsigned string is never
// accepted, and what is accepted is exactly the signed payload.
func FuzzIDToken(f *testing.F) {
	key, sign := newES256(f)
	ks := keySet{cache: &jwks.Cache{Fetch: func(context.Context) (map[string]crypto.PublicKey, error) {
		return map[string]crypto.PublicKey{"k1": &key.PublicKey}, nil
	}}}
	f.Add(false, sign(`{"alg":"ES256","kid":"k1"}`, `{"sub":"u","nonce":"n"}`))
	f.Add(false, sign(`{"alg":"ES256","kid":"other"}`, `{}`))
	f.Add(false, b64seg(`{"alg":"none","kid":"k1"}`)+"."+b64seg(`{"sub":"u"}`)+".")
	f.Add(false, b64seg(`{"alg":"HS256","kid":"k1"}`)+"."+b64seg(`{"sub":"u"}`)+".c2ln")
	f.Add(false, `{"payload":"e30","signatures":[{"protected":"eyJhbGciOiJFUzI1NiJ9","signature":""}]}`)
	f.Add(false, "..")
	f.Add(true, `{"sub":"u","aud":["a","b"],"exp":1e400}`)
	f.Add(true, "\xff")
	f.Fuzz(func(t *testing.T, signed bool, s string) {
		raw := s
		if signed {
			raw = sign(`{"alg":"ES256","kid":"k1","typ":"JWT"}`, s)
		}
		payload, err := ks.verify(context.Background(), raw, "ID token")
		if err != nil {
			var le *LoginError
			if !errors.As(err, &le) || le.Reason == "" {
				t.Fatalf("unclassified refusal %v", err)
			}
			if signed {
				t.Fatalf("refused a well-signed payload %q: %v", s, err)
			}
			return
		}
		if signed && string(payload) != s {
			t.Fatalf("verified %q as %q", s, payload)
		}
		if !signed && !strings.HasPrefix(raw, b64seg(`{"alg":"ES256","kid":"k1"}`)+".") {
			t.Fatalf("accepted %q, which this key did not sign", raw)
		}
	})
}

// FuzzLogoutResponse posts arbitrary LogoutResponses (base64 of the
// fuzzed XML, by the HTTP-POST binding) to a browser waiting for one:
// nothing panics, and every one is refused with a classified LoginError
// (no fuzzed input carries the IdP's signature).
func FuzzLogoutResponse(f *testing.F) {
	md := idpMetadataXML(selfSigned(f, time.Now().AddDate(1, 0, 0)), redirectSSO)
	md = strings.Replace(md, redirectSSO, redirectSSO+`<SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.test/slo"/>`, 1)
	c, err := New(context.Background(), Connection{ID: "fuzz", Protocol: "saml", Vendor: "okta", SAML: &SAMLSettings{
		IDPMetadataXML: md, EntityID: "https://sp.test/metadata", ACSURL: "https://sp.test/acs"}}, Options{StateKey: make([]byte, 32)})
	if err != nil {
		f.Fatal(err)
	}
	s := c.(*samlConnector)
	waiting := httptest.NewRecorder()
	if err := s.state.set(waiting, "relay", state.Payload{ConnectionID: s.conn.ID, LogoutRequestIDs: []string{"id-1"}}); err != nil {
		f.Fatal(err)
	}
	cookies := waiting.Result().Cookies()
	for _, x := range []string{
		`<samlp:LogoutResponse xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="r1" Version="2.0" IssueInstant="2026-01-01T00:00:00Z" Destination="https://sp.test/slo" InResponseTo="id-1"><saml:Issuer>https://idp.test/metadata</saml:Issuer><samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status></samlp:LogoutResponse>`,
		`<samlp:LogoutResponse xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" InResponseTo="other"/>`,
		`<!DOCTYPE a [<!ENTITY b "c">]><a>&b;</a>`, `<a>` + strings.Repeat("<b>", 200) + `</a>`, "", "not xml",
	} {
		f.Add([]byte(x))
	}
	f.Fuzz(func(t *testing.T, x []byte) {
		form := url.Values{"SAMLResponse": {base64.StdEncoding.EncodeToString(x)}, "RelayState": {"relay"}}
		r := httptest.NewRequest("POST", "https://sp.test/slo", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for _, ck := range cookies {
			r.AddCookie(ck)
		}
		err := s.FinishLogout(httptest.NewRecorder(), r)
		var le *LoginError
		if err == nil || !errors.As(err, &le) || le.Reason == "" {
			t.Fatalf("%q: %v", x, err)
		}
	})
}
