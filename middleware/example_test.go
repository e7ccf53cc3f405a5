package middleware_test

import (
	"fmt"
	"log"
	"net/http"
	"os"

	"github.com/ssokit/ssokit/clerkauth"
	"github.com/ssokit/ssokit/middleware"
	"github.com/ssokit/ssokit/rbac"
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

// Protecting an existing handler with Clerk alone: any signed-in member on
// /api/, editors and admins on /api/admin/, the app role read from the
// Clerk organization role.
func ExampleAuthenticator_RequireRole() {
	v, err := clerkauth.New(clerkauth.Config{
		PublishableKey:    os.Getenv("CLERK_PUBLISHABLE_KEY"), // the issuer is https://<frontend API>
		SecretKey:         os.Getenv("CLERK_SECRET_KEY"),      // JWKS through the Backend API
		AuthorizedParties: []string{"https://app.example.com"},
	})
	if err != nil {
		log.Fatal(err)
	}
	auth, err := middleware.NewAuthenticator(middleware.AuthenticatorConfig{Clerk: v,
		ClerkRoles: map[string]rbac.Role{"org:admin": rbac.Admin, "org:member": rbac.Viewer}})
	if err != nil {
		log.Fatal(err)
	}
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := middleware.PrincipalFrom(r.Context()) // ClerkUserID, ClerkOrg{ID, Slug, Role}, Role, Clerk claims
		fmt.Fprintln(w, p.ClerkUserID, p.ClerkOrg.Slug, p.Role)
	})
	mux := http.NewServeMux()
	mux.Handle("/api/", auth.Handler(api))                                      // any signed-in member
	mux.Handle("/api/admin/", auth.Handler(auth.RequireRole(rbac.Editor)(api))) // editors and admins
	log.Fatal(http.ListenAndServe(":8080", mux))
}
