package mockidp

import "testing"

// BenchmarkSAMLResponse measures signed responses per second in the Okta
// (response and assertion signed) and Azure AD (assertion signed) shapes.
// The comparison with crewjam's own IdentityProvider is peers/bench's
// BenchmarkSAMLResponse.
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
}
