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

// Check a connection as an administrator's "test connection" button does:
// the metadata or discovery, the keys and the credentials, with no sign-in.
func ExampleCheckConnection() {
	srv, err := mockidp.NewServer(mockidp.DefaultConfig())
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	okta := srv.Persona("okta")
	client := okta.Clients()[0]
	rep := idp.CheckConnection(context.Background(), idp.Connection{
		ID: "acme", Protocol: sso.OIDC, Vendor: sso.Okta,
		OIDC: &idp.OIDCSettings{Issuer: okta.Issuer(), ClientID: client.ClientID, ClientSecret: client.ClientSecret,
			RedirectURL: "https://app.example/callback"},
	}, idp.Options{HTTPClient: srv.Client(), InsecureAllowLoopback: true})
	for _, s := range rep.Steps {
		fmt.Println(s.OK, s.Name)
	}
	fmt.Println(rep.OK)
	// Output:
	// true discovery
	// true signing keys
	// true client credentials
	// true
}

// Finishing a login in an ACS or callback handler, and telling refusals
// apart.
func ExampleConnector_Finish() {
	var conn idp.Connector // from idp.New
	http.HandleFunc("POST /saml/acs", func(w http.ResponseWriter, r *http.Request) {
		id, returnTo, err := conn.Finish(w, r)
		switch {
		case errors.Is(err, idp.ErrReauthenticate):
			return // Finish has sent the browser back to the IdP (ForceAuthn)
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
