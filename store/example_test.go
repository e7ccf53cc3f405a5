package store_test

import (
	"context"
	"fmt"

	"github.com/ssokit/ssokit/store"
)

func ExampleMemory() {
	s, _ := store.NewMemory(store.MemoryConfig{})
	ctx := context.Background()
	s.CreateOrg(ctx, store.Org{ID: "acme", Plan: "enterprise", ClerkOrgID: "org_123", AllowedDomains: []string{"acme.test"}})
	// Emails are canonical (admission.CanonicalEmail) before they reach the store.
	u, created, _ := s.CreateUserIfAbsent(ctx, store.User{ID: "u1", OrgID: "acme", Email: "alice@acme.test", Role: "viewer", Source: "sso"})
	again, createdAgain, _ := s.CreateUserIfAbsent(ctx, store.User{ID: "u2", OrgID: "acme", Email: "alice@acme.test"})
	fmt.Println(u.Email, created, again.ID, createdAgain)
	// Output: alice@acme.test true u1 false
}
