// Command chirouter protects a chi router with ssokit: the Authenticator's
// Handler and RequireRole are ordinary func(http.Handler) http.Handler
// middleware, so r.Use and r.With take them as they are. It lives in its
// own module so that ssokit itself does not depend on a router.
//
//	CLERK_PUBLISHABLE_KEY=pk_... CLERK_SECRET_KEY=sk_... go run .
//	curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8081/api/whoami
package main

import (
	"encoding/json"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/ssokit/ssokit/clerkauth"
	"github.com/ssokit/ssokit/middleware"
	"github.com/ssokit/ssokit/rbac"
)

func newRouter(auth *middleware.Authenticator) http.Handler {
	r := chi.NewRouter()
	r.Get("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	r.Route("/api", func(r chi.Router) {
		r.Use(auth.Handler) // every /api route needs a Clerk session
		r.Get("/whoami", func(w http.ResponseWriter, r *http.Request) {
			p, _ := middleware.PrincipalFrom(r.Context())
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]string{"clerk_user_id": p.ClerkUserID, "role": p.Role, "clerk_org_id": p.ClerkOrg.ID})
		})
		r.With(auth.RequireRole(rbac.Editor)).Post("/reindex", func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusAccepted)
		})
	})
	return r
}

func main() {
	v, err := clerkauth.New(clerkauth.Config{PublishableKey: os.Getenv("CLERK_PUBLISHABLE_KEY"),
		SecretKey: os.Getenv("CLERK_SECRET_KEY")})
	if err != nil {
		log.Fatalf("chirouter: %v (set CLERK_PUBLISHABLE_KEY)", err)
	}
	auth, err := middleware.NewAuthenticator(middleware.AuthenticatorConfig{Clerk: v,
		ClerkRoles: map[string]rbac.Role{"org:admin": rbac.Admin, "org:member": rbac.Viewer}})
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Addr: "127.0.0.1:8081", Handler: newRouter(auth), ReadHeaderTimeout: 5 * time.Second,
		MaxHeaderBytes: maxHeaderBytes}
	log.Fatal(srv.ListenAndServe())
}

// maxHeaderBytes bounds a request's headers (net/http's default is 1 MiB):
// Clerk's cookies stay under 16 KiB and a session token over 8 KiB is
// refused anyway, so a larger request is answered 431 unread.
const maxHeaderBytes = 64 << 10
