package mockidp_test

import (
	"context"
	"strings"
	"testing"

	"github.com/ssokit/ssokit/idp"
	"github.com/ssokit/ssokit/mockidp"
	"github.com/ssokit/ssokit/sso"
)

// headlessConn connects to the mock Okta over proto, as an app at
// https://app.example would (the connector runs in process).
func headlessConn(t *testing.T, srv *mockidp.Server, proto sso.Protocol) idp.Connector {
	t.Helper()
	p := srv.Persona("okta")
	c := idp.Connection{ID: "okta", Protocol: proto, Vendor: sso.Okta}
	switch proto {
	case sso.SAML:
		c.SAML = &idp.SAMLSettings{IDPMetadataURL: p.SAMLMetadataURL(), EntityID: "https://app.example/saml/metadata",
			ACSURL: "https://app.example/saml/acs"}
		if err := p.RegisterServiceProvider(mockidp.ServiceProviderConfig{EntityID: c.SAML.EntityID, ACSURL: c.SAML.ACSURL}); err != nil {
			t.Fatal(err)
		}
	case sso.OIDC:
		cl := p.Clients()[0]
		c.OIDC = &idp.OIDCSettings{Issuer: p.Issuer(), ClientID: cl.ClientID, ClientSecret: cl.ClientSecret,
			RedirectURL: "http://127.0.0.1:8080/callback", TokenEndpointAuthMethod: cl.TokenEndpointAuthMethod}
	}
	conn, err := idp.New(context.Background(), c, idp.Options{HTTPClient: srv.Client(), InsecureAllowLoopback: true, StateKey: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	return conn
}

// TestHeadlessLogin: a login driven headlessly through a persona reports
// every step and the Identity; an unknown user and a login page stop it
// at the step that failed. (Formerly idp's TestConnectionReport.)
func TestHeadlessLogin(t *testing.T) {
	t.Parallel()
	srv := mockidp.Start(t, mockidp.DefaultConfig())
	for _, proto := range []sso.Protocol{sso.OIDC, sso.SAML} {
		t.Run(string(proto), func(t *testing.T) {
			conn := headlessConn(t, srv, proto)
			rep := mockidp.HeadlessLogin(context.Background(), conn, srv.Client(), "bob@acme.test")
			if !rep.OK || rep.Identity == nil || rep.Identity.Email != "bob@acme.test" || len(rep.Steps) != 5 {
				t.Fatalf("report %+v", rep)
			}
			for _, s := range rep.Steps {
				if !s.OK {
					t.Fatalf("step %+v failed in an OK report", s)
				}
			}
			// A user the IdP does not know: the report says where it stopped.
			rep = mockidp.HeadlessLogin(context.Background(), conn, srv.Client(), "nobody@acme.test")
			if rep.OK || rep.Identity != nil || rep.Steps[len(rep.Steps)-1].OK {
				t.Fatalf("report for an unknown user %+v", rep)
			}
			// No hint: the persona shows its login page, which cannot be filled.
			rep = mockidp.HeadlessLogin(context.Background(), conn, srv.Client(), "")
			if last := rep.Steps[len(rep.Steps)-1]; rep.OK || last.Name != "identity provider answered" || !strings.Contains(last.Detail, "login page") {
				t.Fatalf("report without a hint %+v", rep)
			}
		})
	}
}
