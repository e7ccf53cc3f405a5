package app_test

import (
	"log"
	"net/http"
	"os"

	"github.com/ssokit/ssokit/examples/controlplane/app"
	"github.com/ssokit/ssokit/middleware"
)

// The example control plane against a real Clerk instance.
func Example() {
	key, err := middleware.ParseSessionKeyPEM("app-1", []byte(os.Getenv("SSOKIT_SESSION_KEY")))
	if err != nil {
		log.Fatal(err)
	}
	a, err := app.New(app.Config{
		AppURL: "https://app.example.com",
		Clerk: middleware.ClerkConfig{PublishableKey: os.Getenv("CLERK_PUBLISHABLE_KEY"),
			SecretKey: os.Getenv("CLERK_SECRET_KEY")},
		ClerkSignInURL:    "https://accounts.example.com/sign-in",
		WebhookSecret:     os.Getenv("CLERK_WEBHOOK_SIGNING_SECRET"),
		BootstrapAdminKey: os.Getenv("SSOKIT_BOOTSTRAP_ADMIN_KEY"),
		SessionKey:        key,
	})
	if err != nil {
		log.Fatal(err)
	}
	log.Fatal(http.ListenAndServe(":8080", a))
}
