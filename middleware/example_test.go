package middleware_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"

	"github.com/ssokit/ssokit/middleware"
)

// Clerk's dashboard shows this as the instance's "JWT public key".
const jwtPublicKey = `-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA0RI1A0F7SKHnJs+19NaG
ojMWTw1KPKgvY7rl4FTY3PO9E+TvZMGL5WubtDfFHsRuj/jxAXBf4lLYpEAxxUND
Hf5aqgHFdPVGOsRPcxnj4HAsge+06fVMXZZcXvB8k8m0PesZtYYpoWzVI/yqk0BS
/ldi/MWWJl39b7mGn3Asq223tBJY2seXJEZQ7QYDl3oAoDeZUX2iXCupCVg34WPw
r3yTBzbWlCt7ID3JuOwtqEOGC13tXbib6n+QSmuGO4J8mDp0YH/+usyXOZtf7ybF
68RcyV38auOBWrg00vbaRYgap3GNt0hPlhzO83rBYpEJXVFpJHG0AebMNf7vMh4S
/QIDAQAB
-----END PUBLIC KEY-----`

func ExampleParsePublishableKey() {
	k, err := middleware.ParsePublishableKey("pk_test_aGFwcHktb3R0ZXItMTIuY2xlcmsuYWNjb3VudHMuZGV2JA")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(k.FrontendAPI, k.Live)
	fmt.Println(k.Issuer(false))
	// Output:
	// happy-otter-12.clerk.accounts.dev false
	// https://happy-otter-12.clerk.accounts.dev
}

// Networkless verification with the instance's PEM public key, and how to
// tell refusals apart.
func ExampleClerkVerifier_Verify_errorChecking() {
	v, err := middleware.NewClerkVerifier(middleware.ClerkConfig{
		PublishableKey: "pk_live_Y2xlcmsuZXhhbXBsZS5jb20k", // clerk.example.com
		PublicKeyPEM:   jwtPublicKey,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("issuer:", v.Issuer())
	for _, tok := range []string{
		"",
		"not-a-token",
		"eyJhbGciOiJub25lIiwia2lkIjoiaW5zXzEifQ.eyJzdWIiOiJ1c2VyXzEifQ.", // alg none
	} {
		_, err := v.Verify(context.Background(), tok)
		switch {
		case errors.Is(err, middleware.ErrExpired):
			fmt.Println("expired: ask the frontend for a fresh token")
		case errors.Is(err, middleware.ErrUpstream):
			fmt.Println("JWKS unavailable: retry later")
		case errors.Is(err, middleware.ErrInvalidToken):
			fmt.Println("refused:", middleware.ReasonOf(err))
		}
	}
	// Output:
	// issuer: https://clerk.example.com
	// refused: empty_token
	// refused: malformed
	// refused: algorithm
}

// Wrapping an existing handler: the principal is in the request context,
// and so are clerk-sdk-go's claims for code written against that SDK.
func ExampleAuthenticator_Handler() {
	v, err := middleware.NewClerkVerifier(middleware.ClerkConfig{
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
		if !p.Clerk.HasPermission("org:billing:manage") {
			middleware.WriteError(w, r, middleware.ErrForbidden)
			return
		}
		fmt.Fprintf(w, "hello %s of %s\n", p.UserID, p.ClerkOrg.Slug)
	})
	http.Handle("/api/", auth.Handler(api))
}
