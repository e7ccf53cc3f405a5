package controlplane_test

import (
	"log"
	"net/http"
	"os"

	"github.com/ssokit/ssokit/controlplane"
	"github.com/ssokit/ssokit/middleware"
	"github.com/ssokit/ssokit/store"
)

// Wiring the control plane: a Clerk verifier, app sessions, API keys and a
// store behind one Authenticator, and the API mounted on the app's mux.
func Example() {
	st := store.NewMemory(nil)
	verifier, err := middleware.NewClerkVerifier(middleware.ClerkConfig{
		PublishableKey: os.Getenv("CLERK_PUBLISHABLE_KEY"), SecretKey: os.Getenv("CLERK_SECRET_KEY"),
		AuthorizedParties: []string{"https://app.example.com"}})
	if err != nil {
		log.Fatal(err)
	}
	key, err := middleware.ParseSessionKeyPEM("2026-11", []byte(os.Getenv("SSOKIT_SESSION_KEY")))
	if err != nil {
		log.Fatal(err)
	}
	sessions, _ := middleware.NewSessions(middleware.SessionConfig{Keys: []middleware.SessionKey{key}, Issuer: "https://app.example.com"})
	auth, _ := middleware.NewAuthenticator(middleware.AuthenticatorConfig{Clerk: verifier, Sessions: sessions, Store: st,
		APIKeys: middleware.NewAPIKeys(st, "", nil)})
	api, err := controlplane.New(controlplane.Config{Auth: auth, AppURL: "https://app.example.com",
		ClerkSignInURL: "https://accounts.example.com/sign-in", WebhookSecret: os.Getenv("CLERK_WEBHOOK_SIGNING_SECRET"),
		BootstrapAdminKey: os.Getenv("SSOKIT_BOOTSTRAP_ADMIN_KEY")})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/auth/", api)
	mux.Handle("/v1/", api)
	mux.Handle("/webhooks/", api)
	mux.Handle("/app/", auth.Handler(auth.RequireRole("editor")(http.NotFoundHandler())))
}
