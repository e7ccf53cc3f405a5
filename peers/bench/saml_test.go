package bench

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/crewjam/saml"
	"github.com/ssokit/ssokit/mockidp"
)

// BenchmarkSAMLResponse measures signed responses per second in the Okta
// (response and assertion signed) and Azure AD (assertion signed) shapes,
// beside crewjam's own IdentityProvider making its default response (both
// signed) for the same service provider in the same run. crewjam's IdP
// signs with an RSA 2048 key of its own, the size of the persona's (whose
// key the mock does not export).
func BenchmarkSAMLResponse(b *testing.B) {
	cfg := mockidp.DefaultConfig()
	cfg.BaseURL = "http://127.0.0.1:4451"
	srv, err := mockidp.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	const spEntity, acs = "https://sp.example.test/saml/metadata", "https://sp.example.test/saml/acs"
	for _, name := range []string{"okta", "azure"} {
		p := srv.Persona(name)
		if err := p.RegisterServiceProvider(mockidp.ServiceProviderConfig{EntityID: spEntity, ACSURL: acs}); err != nil {
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
		key, cert := crewjamKeyPair(b)
		metadataURL, _ := url.Parse("http://127.0.0.1:4451/okta/saml/metadata")
		ssoURL, _ := url.Parse("http://127.0.0.1:4451/okta/saml/sso")
		idp := &saml.IdentityProvider{Key: key, Certificate: cert, MetadataURL: *metadataURL, SSOURL: *ssoURL}
		md := &saml.EntityDescriptor{EntityID: spEntity, SPSSODescriptors: []saml.SPSSODescriptor{{
			SSODescriptor: saml.SSODescriptor{RoleDescriptor: saml.RoleDescriptor{
				ProtocolSupportEnumeration: "urn:oasis:names:tc:SAML:2.0:protocol"}},
			AssertionConsumerServices: []saml.IndexedEndpoint{{Binding: saml.HTTPPostBinding, Location: acs, Index: 1}},
		}}}
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

// crewjamKeyPair is an RSA 2048 key and a self-signed certificate for it,
// as the mock makes for each persona.
func crewjamKeyPair(b *testing.B) (*rsa.PrivateKey, *x509.Certificate) {
	b.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "crewjam idp"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		b.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		b.Fatal(err)
	}
	return key, cert
}
