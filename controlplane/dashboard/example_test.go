package dashboard_test

import (
	"context"
	"encoding/base64"
	"log"
	"net/http"
	"os"

	"github.com/ssokit/ssokit/appsession"
	"github.com/ssokit/ssokit/clerkauth"
	"github.com/ssokit/ssokit/controlplane"
	"github.com/ssokit/ssokit/controlplane/dashboard"
)

// The dashboard in front of a control plane on a real Clerk instance.
func Example() {
	key, err := appsession.ParseKeyPEM("app-1", []byte(os.Getenv("SSOKIT_SESSION_KEY")))
	if err != nil {
		log.Fatal(err)
	}
	stateKey, err := base64.StdEncoding.DecodeString(os.Getenv("SSOKIT_STATE_KEY")) // 32+ random bytes
	if err != nil {
		log.Fatal(err)
	}
	const appURL = "https://app.example.com"
	cp, err := controlplane.New(controlplane.Config{
		AppURL:   appURL,
		StateKey: stateKey,
		Clerk: clerkauth.Config{PublishableKey: os.Getenv("CLERK_PUBLISHABLE_KEY"),
			SecretKey: os.Getenv("CLERK_SECRET_KEY")},
		ClerkSignInURL:    "https://accounts.example.com/sign-in",
		WebhookSecret:     os.Getenv("CLERK_WEBHOOK_SIGNING_SECRET"),
		BootstrapAdminKey: os.Getenv("SSOKIT_BOOTSTRAP_ADMIN_KEY"),
		SessionKeys:       []appsession.Key{key},
		ErrorPage:         dashboard.ErrorPage,
	})
	if err != nil {
		log.Fatal(err)
	}
	d, err := dashboard.New(dashboard.Config{API: cp, AppURL: appURL})
	if err != nil {
		log.Fatal(err)
	}
	go cp.Run(context.Background())
	log.Fatal(http.ListenAndServe(":8080", d))
}
