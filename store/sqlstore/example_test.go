package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/ssokit/ssokit/store"
	"github.com/ssokit/ssokit/store/sqlstore"
)

func Example() {
	ctx := context.Background()
	// sqlite:./ssokit.db keeps the data in a file; postgres://… shares it
	// between replicas.
	s, err := sqlstore.Open(ctx, sqlstore.Config{DSN: "sqlite::memory:"})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	if err := s.CreateOrg(ctx, store.Org{ID: "acme", Plan: "enterprise", ClerkOrgID: "org_123", AllowedDomains: []string{"acme.test"}}); err != nil {
		log.Fatal(err)
	}
	o, _ := s.OrgByClerkID(ctx, "org_123")
	fmt.Println(o.ID, o.Plan, o.AllowedDomains)
	// The schema keeps one organization per Clerk organization.
	err = s.CreateOrg(ctx, store.Org{ID: "other", ClerkOrgID: "org_123"})
	fmt.Println(errors.Is(err, store.ErrExists))
	// Output:
	// acme enterprise [acme.test]
	// true
}
