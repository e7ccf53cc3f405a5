package redisstore_test

import (
	"context"
	"errors"
	"log"
	"time"

	"github.com/ssokit/ssokit/store"
	"github.com/ssokit/ssokit/store/redisstore"
)

// Example opens the Redis store every replica shares, under the prefix of
// one deployment, and consumes a SAML assertion ID once. (It needs a
// Redis, so it is compiled, not run.)
func Example() {
	ctx := context.Background()
	s, err := redisstore.New(ctx, redisstore.Config{
		URL:    "redis://127.0.0.1:6379/0",
		Prefix: "ssokit:",
	})
	if err != nil {
		log.Fatal(err) // Redis does not answer: wraps store.ErrUnavailable
	}
	defer s.Close()

	assertionID, notOnOrAfter := "_a75adf55-01d7-40cc-929f-dbd8372ebdfc", time.Now().Add(5*time.Minute)
	switch err := s.Consume(ctx, assertionID, notOnOrAfter); {
	case errors.Is(err, store.ErrReplayed):
		log.Print("replayed assertion: refuse the login")
	case err != nil:
		log.Print("cannot tell (store.ErrUnavailable): answer 503, never accept")
	default:
		log.Print("first use: continue the login")
	}
}
