package controlplane_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ssokit/ssokit/api"
	"github.com/ssokit/ssokit/client"
	"github.com/ssokit/ssokit/controlplane"
	"github.com/ssokit/ssokit/idp"
	"github.com/ssokit/ssokit/sso"
)

// TestTenantURLsCannotReachInside: an org admin's connection cannot make
// the server fetch loopback, cloud-metadata or private addresses, and the
// 422 says which step failed, never what answered. Without
// Config.InsecureAllowLoopbackIdP even the loopback mock is out of reach.
func TestTenantURLsCannotReachInside(t *testing.T) {
	t.Parallel()
	var hits atomic.Int64
	inside := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Error(w, "SECRET internal answer", http.StatusTeapot)
	}))
	t.Cleanup(inside.Close)
	p := newPlaneWith(t, nil, func(c *controlplane.Config) { c.InsecureAllowLoopbackIdP = false })
	ctx := context.Background()
	if _, err := p.admin.Organizations.Create(ctx, "hooli", "Hooli", "enterprise"); err != nil {
		t.Fatal(err)
	}
	port := inside.URL[strings.LastIndex(inside.URL, ":")+1:]
	for _, u := range []string{
		inside.URL + "/metadata",
		"https://localhost:" + port + "/metadata",
		"https://169.254.169.254/latest/meta-data/",
		"https://[::ffff:169.254.169.254]/latest/meta-data/",
		"https://10.0.0.1/metadata",
		"https://100.64.0.1/metadata",
		"https://[fd00::1]/metadata",
		p.mock.Persona("okta").SAMLMetadataURL(),
	} {
		conn := &idp.Connection{ID: "hooli", Protocol: sso.SAML, Vendor: sso.Okta,
			SAML: &idp.SAMLSettings{IDPMetadataURL: u, EntityID: p.app.URL + "/saml/hooli", ACSURL: p.app.URL + "/auth/sso/acs/hooli"}}
		_, err := p.admin.Organizations.ConfigureSSO(ctx, "hooli", api.SSOSettings{Connection: rawJSON(t, conn), AllowedDomains: []string{"hooli.test"}})
		var e *client.Error
		if !errors.As(err, &e) || e.Status != http.StatusUnprocessableEntity || e.Code != "invalid_connection" {
			t.Fatalf("%s: %v, want 422 invalid_connection", u, err)
		}
		for _, leak := range []string{"SECRET", "418", "teapot", "refused", "dial"} {
			if strings.Contains(e.Message, leak) {
				t.Errorf("%s: the message %q shows %q", u, e.Message, leak)
			}
		}
	}
	oidc := &idp.Connection{ID: "hooli", Protocol: sso.OIDC, Vendor: sso.Okta, OIDC: &idp.OIDCSettings{
		Issuer: "https://localhost:" + port, ClientID: "a", ClientSecret: "b", RedirectURL: p.app.URL + "/auth/sso/oidc/hooli"}}
	_, err := p.admin.Organizations.ConfigureSSO(ctx, "hooli", api.SSOSettings{Connection: rawJSON(t, oidc), AllowedDomains: []string{"hooli.test"}})
	var e *client.Error
	if !errors.As(err, &e) || e.Code != "invalid_connection" || !strings.Contains(e.Message, "discovery fetch failed") {
		t.Fatalf("OIDC issuer on loopback by name: %v", err)
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("%d requests reached the internal server", n)
	}
}
