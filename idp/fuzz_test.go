package idp

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ssokit/ssokit/sso"
)

// FuzzACS feeds arbitrary decoded responses to the ACS checks: nothing may
// panic, and every refusal is a classified LoginError. (No fuzzed input
// can carry a valid signature of the test key.)
func FuzzACS(f *testing.F) {
	md := idpMetadataXML(selfSigned(f, time.Now().AddDate(1, 0, 0)), redirectSSO)
	c, err := New(context.Background(), Connection{ID: "fuzz", Protocol: sso.SAML, Vendor: sso.Okta, SAML: &SAMLSettings{
		IDPMetadataXML: md, EntityID: "https://sp.test/metadata", ACSURL: "https://sp.test/acs", AllowIDPInitiated: true}}, Options{StateKey: make([]byte, 32)})
	if err != nil {
		f.Fatal(err)
	}
	s := c.(*samlConnector)
	f.Add([]byte(`<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="x" Version="2.0"><saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"/></samlp:Response>`))
	f.Add([]byte(`<!DOCTYPE a [<!ENTITY b "c">]><a>&b;</a>`))
	f.Add([]byte(`<a><b><c><d></d></c></b></a>`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		id, err := s.consume(context.Background(), raw, []string{""})
		if err == nil {
			t.Fatalf("accepted %q as %+v", raw, id)
		}
		var le *LoginError
		if !errors.As(err, &le) || le.Reason == "" {
			t.Fatalf("unclassified refusal %v", err)
		}
	})
}

// FuzzParseIdPMetadata: arbitrary metadata is refused with ErrConfig or
// accepted, never a panic.
func FuzzParseIdPMetadata(f *testing.F) {
	f.Add([]byte(idpMetadataXML(selfSigned(f, time.Now().AddDate(1, 0, 0)), redirectSSO)))
	f.Add([]byte(`<EntitiesDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata"><EntityDescriptor entityID="x"/></EntitiesDescriptor>`))
	f.Add([]byte("<"))
	f.Fuzz(func(t *testing.T, b []byte) {
		md, err := ParseIdPMetadata(b, time.Now())
		if err == nil && (md == nil || md.EntityID == "" || len(md.IDPSSODescriptors) == 0) {
			t.Fatalf("accepted unusable metadata %q", b)
		}
		if err != nil && !errors.Is(err, ErrConfig) {
			t.Fatalf("unclassified error %v", err)
		}
	})
}
