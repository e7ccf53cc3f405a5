package mockclerk_test

import (
	"context"
	"encoding/base64"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clerk/clerk-sdk-go/v2"
	"github.com/clerk/clerk-sdk-go/v2/session"
	"github.com/ssokit/ssokit/mockidp"
)

// TestClerkTokenFactorVerificationAge: a session token's fva is the
// minutes since the session's first factor was verified (its sign-in) and
// -1 for no second factor, as Clerk writes it; a token minted 30 minutes
// after the sign-in says 30, so a reverification check sees the real age.
func TestClerkTokenFactorVerificationAge(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	now := time.Now()
	cfg := mockidp.DefaultConfig()
	cfg.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	srv := mockidp.Start(t, cfg)
	c := srv.Clerk("clerk")

	fva := func(t *testing.T, tok string) (sid string, age [2]int64) {
		t.Helper()
		parts := strings.Split(tok, ".")
		b, err := base64.RawURLEncoding.DecodeString(parts[1])
		if err != nil {
			t.Fatal(err)
		}
		var claims struct {
			Sid string   `json:"sid"`
			Fva [2]int64 `json:"fva"`
		}
		if err := jsonUnmarshal(b, &claims); err != nil {
			t.Fatal(err)
		}
		return claims.Sid, claims.Fva
	}
	tok, err := c.MintSessionToken("alice@acme.test", "acme", "admin", "http://app.test")
	if err != nil {
		t.Fatal(err)
	}
	sid, age := fva(t, tok)
	if age != [2]int64{0, -1} {
		t.Fatalf("fva at sign-in: %v, want [0 -1]", age)
	}

	mu.Lock()
	now = now.Add(30*time.Minute + 20*time.Second)
	mu.Unlock()
	bapi, sk := c.BackendAPIURL(), c.SecretKey()
	sessions := session.NewClient(&clerk.ClientConfig{BackendConfig: clerk.BackendConfig{URL: &bapi, Key: &sk, HTTPClient: srv.Client()}})
	later, err := sessions.CreateToken(context.Background(), &session.CreateTokenParams{ID: sid})
	if err != nil {
		t.Fatal(err)
	}
	if _, age := fva(t, later.JWT); age != [2]int64{30, -1} {
		t.Errorf("fva 30 minutes after sign-in: %v, want [30 -1]", age)
	}
}
