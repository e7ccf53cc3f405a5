package controlplane_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/ssokit/ssokit/api"
	"github.com/ssokit/ssokit/client"
	"github.com/ssokit/ssokit/idp"
	"github.com/ssokit/ssokit/sso"
)

// TestDirectConnectionURLsArePinned: a direct connection's ACS URL and
// OIDC redirect URL are the ones this control plane serves for the
// organization. Another organization's ACS URL (a response addressed to
// it would be accepted here a second time, under this organization's
// replay cache), another host, or another path is refused with 422
// invalid_connection naming the URL to give; left out, it is filled in.
func TestDirectConnectionURLsArePinned(t *testing.T) {
	t.Parallel()
	p := newPlane(t)
	ctx := context.Background()
	okta := p.mock.Persona("okta")
	saml := func(acs string) *idp.Connection {
		return &idp.Connection{ID: "acme", Protocol: sso.SAML, Vendor: sso.Okta,
			SAML: &idp.SAMLSettings{IDPMetadataURL: okta.SAMLMetadataURL(), EntityID: p.app.URL + "/saml/acme", ACSURL: acs}}
	}
	oidc := func(redirect string) *idp.Connection {
		return &idp.Connection{ID: "acme", Protocol: sso.OIDC, Vendor: sso.Okta, OIDC: &idp.OIDCSettings{
			Issuer: okta.Issuer(), ClientID: "a", ClientSecret: "b", RedirectURL: redirect}}
	}
	configure := func(c *idp.Connection) error {
		_, err := p.admin.Organizations.ConfigureSSO(ctx, "acme", api.SSOSettings{Connection: rawJSON(t, c), AllowedDomains: []string{"acme.test"}})
		return err
	}
	for name, c := range map[string]*idp.Connection{
		"another organization's ACS":   saml(p.app.URL + "/auth/sso/acs/contoso"),
		"another host's ACS":           saml("https://elsewhere.test/auth/sso/acs/acme"),
		"another path":                 saml(p.app.URL + "/acs"),
		"a trailing slash":             saml(p.app.URL + "/auth/sso/acs/acme/"),
		"another organization's OIDC":  oidc(p.app.URL + "/auth/sso/oidc/contoso"),
		"another host's OIDC redirect": oidc("https://elsewhere.test/auth/sso/oidc/acme"),
	} {
		var e *client.Error
		if err := configure(c); !errors.As(err, &e) || e.Status != http.StatusUnprocessableEntity || e.Code != "invalid_connection" ||
			!strings.Contains(e.Message, p.app.URL+"/auth/sso/") {
			t.Errorf("%s: %v, want 422 invalid_connection naming the URL", name, err)
		}
	}
	if err := configure(saml("")); err != nil {
		t.Fatalf("an ACS URL left out: %v", err)
	}
	sp, err := p.admin.Organizations.SAMLServiceProvider(ctx, "acme")
	if err != nil || sp.ACSURL != p.app.URL+"/auth/sso/acs/acme" {
		t.Errorf("the ACS URL filled in: %+v %v", sp, err)
	}
	if err := configure(saml(p.app.URL + "/auth/sso/acs/acme")); err != nil {
		t.Errorf("the organization's own ACS URL: %v", err)
	}
	if err := configure(oidc("")); err != nil {
		t.Errorf("a redirect URL left out: %v", err)
	}
}
