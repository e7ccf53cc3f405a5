package middleware_test

import (
	"fmt"
	"log"
	"net/http"

	"github.com/ssokit/ssokit/clerkauth"
	"github.com/ssokit/ssokit/middleware"
	"github.com/ssokit/ssokit/ssoerr"
)

// Wrapping an existing handler: the principal is in the request context,
// and so are clerk-sdk-go's claims for code written against that SDK.
func ExampleAuthenticator_Handler() {
	v, err := clerkauth.New(clerkauth.Config{
		PublishableKey:    "pk_live_Y2xlcmsuZXhhbXBsZS5jb20k",
		SecretKey:         "sk_live_...", // keys from the Backend API's /v1/jwks
		AuthorizedParties: []string{"https://app.example.com"},
	})
	if err != nil {
		log.Fatal(err)
	}
	auth, err := middleware.NewAuthenticator(middleware.AuthenticatorConfig{Clerk: v})
	if err != nil {
		log.Fatal(err)
	}
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := middleware.PrincipalFrom(r.Context())
		if !p.Clerk.Claims.HasPermission("org:billing:manage") {
			middleware.WriteError(w, r, ssoerr.ErrForbidden)
			return
		}
		fmt.Fprintf(w, "hello %s of %s\n", p.ClerkUserID, p.ClerkOrg.Slug)
	})
	http.Handle("/api/", auth.Handler(api))
}
