package clerkauth_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/ssokit/ssokit/clerkauth"
	"github.com/ssokit/ssokit/ssoerr"
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
	k, err := clerkauth.ParsePublishableKey("pk_test_aGFwcHktb3R0ZXItMTIuY2xlcmsuYWNjb3VudHMuZGV2JA")
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
func ExampleVerifier_Verify_errorChecking() {
	v, err := clerkauth.New(clerkauth.Config{
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
		case errors.Is(err, ssoerr.ErrExpired):
			fmt.Println("expired: ask the frontend for a fresh token")
		case errors.Is(err, ssoerr.ErrUpstream):
			fmt.Println("JWKS unavailable: retry later")
		case errors.Is(err, ssoerr.ErrInvalidToken):
			fmt.Println("refused:", ssoerr.ReasonOf(err))
		}
	}
	// Output:
	// issuer: https://clerk.example.com
	// refused: empty_token
	// refused: malformed
	// refused: algorithm
}
