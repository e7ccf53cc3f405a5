package mockclerk_test

import (
	"context"
	"errors"
	"testing"

	"github.com/clerk/clerk-sdk-go/v2"
	"github.com/clerk/clerk-sdk-go/v2/samlconnection"
	"github.com/ssokit/ssokit/mockidp"
)

// TestClerkSAMLConnectionsAreSAMLOnly: the Backend API's /saml_connections
// holds SAML connections only, as Clerk's (an OIDC enterprise connection
// belongs to /enterprise_connections): the default configuration's OIDC
// connection (contoso.test through the Azure persona) is neither listed
// nor found, updated or deleted there.
func TestClerkSAMLConnectionsAreSAMLOnly(t *testing.T) {
	t.Parallel()
	srv := mockidp.Start(t, mockidp.DefaultConfig())
	c := srv.Clerk("clerk")
	ctx := context.Background()
	bapi, sk := c.BackendAPIURL(), c.SecretKey()
	conns := samlconnection.NewClient(&clerk.ClientConfig{BackendConfig: clerk.BackendConfig{URL: &bapi, Key: &sk, HTTPClient: srv.Client()}})

	list, err := conns.List(ctx, &samlconnection.ListParams{})
	if err != nil {
		t.Fatal(err)
	}
	if list.TotalCount != 1 || len(list.SAMLConnections) != 1 {
		t.Fatalf("GET /saml_connections: %d connections (total_count %d), want the one SAML connection", len(list.SAMLConnections), list.TotalCount)
	}
	for _, cn := range list.SAMLConnections {
		if cn.Provider == "oidc_custom" || cn.ID == "oidcc_contoso_azure" {
			t.Errorf("GET /saml_connections lists the OIDC connection %s (%s)", cn.ID, cn.Provider)
		}
	}
	var apiErr *clerk.APIErrorResponse
	if _, err := conns.Get(ctx, "oidcc_contoso_azure"); !errors.As(err, &apiErr) || apiErr.HTTPStatusCode != 404 {
		t.Errorf("GET /saml_connections/oidcc_contoso_azure: %v, want 404", err)
	}
	if _, err := conns.Update(ctx, "oidcc_contoso_azure", &samlconnection.UpdateParams{Name: clerk.String("x")}); !errors.As(err, &apiErr) || apiErr.HTTPStatusCode != 404 {
		t.Errorf("PATCH /saml_connections/oidcc_contoso_azure: %v, want 404", err)
	}
	if _, err := conns.Delete(ctx, "oidcc_contoso_azure"); !errors.As(err, &apiErr) || apiErr.HTTPStatusCode != 404 {
		t.Errorf("DELETE /saml_connections/oidcc_contoso_azure: %v, want 404", err)
	}
}
