package controlplane_test

import (
	"context"
	"encoding/base64"
	"log"
	"net/http"
	"os"

	"github.com/ssokit/ssokit/appsession"
	"github.com/ssokit/ssokit/clerkauth"
	"github.com/ssokit/ssokit/controlplane"
)

// The whole control plane from configuration: Clerk, app sessions, API
// keys, admission and the authenticator in one call, the API mounted on the
// app's mux, the app's own routes behind the same Authenticator.
func Example() {
	key, err := appsession.ParseKeyPEM("2026-11", []byte(os.Getenv("SSOKIT_SESSION_KEY")))
	if err != nil {
		log.Fatal(err)
	}
	stateKey, err := base64.StdEncoding.DecodeString(os.Getenv("SSOKIT_STATE_KEY")) // 32+ random bytes
	if err != nil {
		log.Fatal(err)
	}
	cp, err := controlplane.New(controlplane.Config{
		AppURL:   "https://app.example.com",
		StateKey: stateKey,
		Clerk: clerkauth.Config{
			PublishableKey: os.Getenv("CLERK_PUBLISHABLE_KEY"),
			SecretKey:      os.Getenv("CLERK_SECRET_KEY"),
		},
		ClerkSignInURL:    "https://accounts.example.com/sign-in",
		WebhookSecret:     os.Getenv("CLERK_WEBHOOK_SIGNING_SECRET"),
		SessionKeys:       []appsession.Key{key},
		BootstrapAdminKey: os.Getenv("SSOKIT_BOOTSTRAP_ADMIN_KEY"),
	})
	if err != nil {
		log.Fatal(err)
	}
	go cp.Run(context.Background()) // API keys' last use, written in batches
	auth := cp.Authenticator()
	mux := http.NewServeMux()
	for _, p := range []string{"/auth/", "/v1/", "/webhooks/", "/.well-known/"} {
		mux.Handle(p, cp)
	}
	mux.Handle("/app/", auth.Handler(auth.RequireRole("editor")(http.NotFoundHandler())))
	log.Fatal(http.ListenAndServe(":8080", mux))
}

// Replicas: records in PostgreSQL, the expiring state in Redis, client
// secrets sealed before they are stored. Every replica takes the same
// configuration.
func Example_replicas() {
	stateKey, _ := base64.StdEncoding.DecodeString(os.Getenv("SSOKIT_STATE_KEY"))
	secretsKey, _ := base64.StdEncoding.DecodeString(os.Getenv("SSOKIT_SECRETS_KEYS"))
	key, err := appsession.ParseKeyPEM("2026-11", []byte(os.Getenv("SSOKIT_SESSION_KEY")))
	if err != nil {
		log.Fatal(err)
	}
	cp, err := controlplane.New(controlplane.Config{
		AppURL:      "https://app.example.com",
		StateKey:    stateKey,
		SessionKeys: []appsession.Key{key},
		StoreDSN:    "postgres://ssokit@db.internal:5432/ssokit?sslmode=verify-full",
		RedisURL:    "redis://cache.internal:6379/0", // optional
		SecretsKeys: [][]byte{secretsKey},            // 32 bytes: seals OIDC client secrets
	})
	if err != nil {
		log.Fatal(err)
	}
	defer cp.Close() // closes what StoreDSN and RedisURL opened
	log.Fatal(http.ListenAndServe(":8080", cp))
}
