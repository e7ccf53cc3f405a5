package idp_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/ssokit/ssokit/idp"
	"github.com/ssokit/ssokit/mockidp"
)

func TestOIDCAdministratorChecks(t *testing.T) {
	t.Parallel()
	srv := mockidp.Start(t, mockidp.DefaultConfig())
	a := newApp(t)
	// JumpCloud's issuer has a trailing slash; without it discovery says so.
	jc := oidcConn(srv.Persona("jumpcloud"), a, idp.JumpCloud)
	jc.OIDC.Issuer = strings.TrimSuffix(jc.OIDC.Issuer, "/")
	if _, err := idp.New(context.Background(), jc, idp.Options{HTTPClient: srv.Client()}); !errors.Is(err, idp.ErrConfig) ||
		!strings.Contains(err.Error(), "trailing slash") {
		t.Fatalf("issuer mismatch: %v", err)
	}
	// The client secret, asked of the token endpoint.
	c := oidcConn(srv.Persona("okta"), a, idp.Okta)
	type checker interface{ CheckClientSecret(context.Context) error }
	conn := connect(t, srv, c, idp.Options{}).(checker)
	if err := conn.CheckClientSecret(context.Background()); err != nil {
		t.Fatalf("right secret: %v", err)
	}
	c.OIDC.ClientSecret = "wrong"
	conn = connect(t, srv, c, idp.Options{}).(checker)
	if err := conn.CheckClientSecret(context.Background()); !errors.Is(err, idp.ErrConfig) || !strings.Contains(err.Error(), "refused the client ID or secret") {
		t.Fatalf("wrong secret: %v", err)
	}
}
