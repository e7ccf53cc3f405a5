package idp_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"

	"github.com/ssokit/ssokit/idp"
	"github.com/ssokit/ssokit/mockidp"
	"github.com/ssokit/ssokit/sso"
)

// Connect an OIDC connection to the mock Okta and run the test-connection
// operation: a real login, reported step by step.
func ExampleTestConnection() {
	srv, err := mockidp.NewServer(mockidp.DefaultConfig())
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	okta := srv.Persona("okta")
	client := okta.Clients()[0]
	conn, err := idp.New(context.Background(), idp.Connection{
		ID: "acme", Protocol: sso.OIDC, Vendor: sso.Okta,
		OIDC: &idp.OIDCSettings{Issuer: okta.Issuer(), ClientID: client.ClientID, ClientSecret: client.ClientSecret,
			RedirectURL: "http://127.0.0.1:8080/callback"},
	}, idp.Options{HTTPClient: srv.Client()})
	if err != nil {
		log.Fatal(err)
	}
	rep := idp.TestConnection(context.Background(), conn, srv.Client(), "alice@acme.test")
	for _, s := range rep.Steps {
		fmt.Println(s.OK, s.Name)
	}
	fmt.Println(rep.Identity.Email, rep.Identity.Groups, rep.Identity.IdP)
	// Output:
	// true authorization request
	// true identity provider reached
	// true identity provider answered
	// true response verified
	// true identity
	// alice@acme.test [admins engineering] okta
}

// Finishing a login in an ACS or callback handler, and telling refusals
// apart.
func ExampleConnector_Finish() {
	var conn idp.Connector // from idp.New
	http.HandleFunc("POST /saml/acs", func(w http.ResponseWriter, r *http.Request) {
		id, returnTo, err := conn.Finish(w, r)
		switch {
		case errors.Is(err, idp.ErrNoLogin):
			http.Redirect(w, r, "/login?expired=1", http.StatusFound) // start again
		case errors.Is(err, idp.ErrUpstream):
			http.Error(w, "the identity provider is unavailable", http.StatusServiceUnavailable)
		case err != nil:
			http.Error(w, "sign-in refused", http.StatusForbidden) // idp.ReasonOf(err) goes to the log
		default:
			fmt.Fprintf(w, "welcome %s (%s), back to %s", id.Email, id.IdP, returnTo)
		}
	})
}
