package mockclerk_test

import (
	"fmt"
	"log"
	"strings"

	"github.com/ssokit/ssokit/mockidp"
	"github.com/ssokit/ssokit/mockidp/mockclerk"
)

// The mock Clerk of the default configuration: what an app configures,
// and a session token minted without the sign-in flow.
func Example() {
	srv, err := mockidp.NewServer(mockidp.DefaultConfig()) // in a test: mockidp.Start(t, cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	var clerk *mockclerk.Clerk = srv.Clerk("clerk")
	fmt.Println(clerk.Name())
	fmt.Println(clerk.FrontendAPIURL() == srv.URL+"/clerk", strings.HasPrefix(clerk.PublishableKey(), "pk_test_"))
	tok, err := clerk.MintSessionToken("alice@acme.test", "acme", "admin", "http://localhost:3000")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(strings.Count(tok, "."))
	// Output:
	// clerk
	// true true
	// 2
}

// The faults an instance can be switched into.
func ExampleFaults() {
	for _, f := range mockclerk.Faults() {
		fmt.Println(f.ID, f.Site)
	}
	// Output:
	// clerk_bapi_429 clerk_bapi
	// clerk_bapi_500 clerk_bapi
	// clerk_bapi_slow clerk_bapi
	// clerk_jwks_slow clerk_jwks
	// clerk_jwks_unavailable clerk_jwks
	// clerk_key_rotated clerk_token
}
