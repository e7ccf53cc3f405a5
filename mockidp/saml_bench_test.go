package mockidp

import (
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/crewjam/saml"
)

// BenchmarkSAMLResponse measures signed responses per second in the Okta
// (response and assertion signed) and Azure AD (assertion signed) shapes,
// beside crewjam's own IdentityProvider making its default response (both
// signed) for the same service provider in the same run.
func BenchmarkSAMLResponse(b *testing.B) {
	cfg := DefaultConfig()
	cfg.BaseURL = "http://127.0.0.1:4451"
	srv, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	const spEntity, acs = "https://sp.example.test/saml/metadata", "https://sp.example.test/saml/acs"
	for _, name := range []string{"okta", "azure"} {
		p := srv.Persona(name)
		if err := p.RegisterServiceProvider(ServiceProviderConfig{EntityID: spEntity, ACSURL: acs}); err != nil {
			b.Fatal(err)
		}
		email := p.Users()[0].Email
		b.Run("ssokit_"+name, func(b *testing.B) {
			if _, err := p.SAMLResponse(spEntity, email, "id-1"); err != nil { // key made outside the loop
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := p.SAMLResponse(spEntity, email, "id-1"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("crewjam_default", func(b *testing.B) {
		p := srv.Persona("okta")
		cert, err := p.SAMLCertificate()
		if err != nil {
			b.Fatal(err)
		}
		metadataURL, _ := url.Parse("http://127.0.0.1:4451/okta/saml/metadata")
		ssoURL, _ := url.Parse("http://127.0.0.1:4451/okta/saml/sso")
		idp := &saml.IdentityProvider{Key: p.saml.idp.Key, Certificate: cert, MetadataURL: *metadataURL, SSOURL: *ssoURL}
		md := spMetadata(spEntity, acs)
		session := &saml.Session{ID: "s1", CreateTime: time.Now(), ExpireTime: time.Now().Add(time.Hour), Index: "1",
			NameID: "alice@acme.test", UserEmail: "alice@acme.test", UserGivenName: "Alice", UserSurname: "Admin",
			Groups: []string{"admins", "engineering"}}
		b.ReportAllocs()
		for b.Loop() {
			req := &saml.IdpAuthnRequest{IDP: idp, HTTPRequest: httptest.NewRequest("POST", ssoURL.String(), nil),
				Now: time.Now(), ServiceProviderMetadata: md, SPSSODescriptor: &md.SPSSODescriptors[0],
				ACSEndpoint: &md.SPSSODescriptors[0].AssertionConsumerServices[0], Request: saml.AuthnRequest{ID: "id-1", IssueInstant: time.Now()}}
			if err := (saml.DefaultAssertionMaker{}).MakeAssertion(req, session); err != nil {
				b.Fatal(err)
			}
			if _, err := req.PostBinding(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
