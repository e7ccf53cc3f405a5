package jwtkeys_test

import (
	"fmt"
	"log"
	"strings"

	"github.com/ssokit/ssokit/mockidp/internal/jwtkeys"
)

// A ring signs with its active key and publishes every key it still
// honours; after a rotation both keys are in the JWKS.
func Example() {
	var ring jwtkeys.Ring
	key, err := ring.Active()
	if err != nil {
		log.Fatal(err)
	}
	tok, err := jwtkeys.Sign(key, map[string]any{"alg": "RS256", "kid": key.KID}, map[string]any{"sub": "alice"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(strings.Count(tok, "."))
	if _, err := ring.Rotate(); err != nil {
		log.Fatal(err)
	}
	set, _ := ring.JWKS()
	fmt.Println(len(set["keys"].([]any)))
	// Output:
	// 2
	// 2
}
