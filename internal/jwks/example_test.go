package jwks_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/ssokit/ssokit/internal/jwks"
)

// A verifier's key cache: known keys come from memory, an unknown kid
// refetches at most once per interval.
func Example() {
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	fetches := 0
	cache := &jwks.Cache{
		// In a program: jwks.HTTPFetcher(client, discovery.JWKSURI, nil).
		Fetch: func(context.Context) (map[string]crypto.PublicKey, error) {
			fetches++
			return map[string]crypto.PublicKey{"k1": &priv.PublicKey}, nil
		},
		TTL:      time.Hour,
		Interval: time.Minute,
	}
	ctx := context.Background()
	k, err := cache.Key(ctx, "k1")
	fmt.Println(k == &priv.PublicKey, err)
	_, err = cache.Key(ctx, "k1")
	fmt.Println(err, fetches)
	_, err = cache.Key(ctx, "rotated-in-later")
	fmt.Println(errors.Is(err, jwks.ErrUnknownKey), fetches)
	// Output:
	// true <nil>
	// <nil> 1
	// true 1
}
