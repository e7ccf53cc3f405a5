// Package storetest is the contract every store implementation must pass,
// split by interface. A store.Store calls Run, which also runs the
// expiring-state contracts (RunExpiring) when the store implements
// store.Expiring; an implementation of only the expiring state (Redis)
// calls RunExpiring, and one of a single interface its Run function
// (RunRevocations, RunReplayCache, RunWebhookLog, RunRateCounter):
//
//	func TestContract(t *testing.T) {
//		storetest.Run(t, func(t *testing.T, now func() time.Time) store.Store { m, _ := store.NewMemory(store.MemoryConfig{Now: now}); return m })
//	}
//
// Each constructor call must return an empty store of its own (a fresh
// database schema, key prefix or instance): subtests run in parallel.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ssokit/ssokit/store"
)

// Clock is a settable clock for the contract.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Run runs the contract against fresh stores from newStore.
func Run(t *testing.T, newStore func(t *testing.T, now func() time.Time) store.Store) {
	ctx := context.Background()
	fresh := func(t *testing.T) (store.Store, *Clock) {
		clk := &Clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
		return newStore(t, clk.Now), clk
	}

	// Times read back exactly as written, at store.Precision in UTC,
	// whatever zone and nanoseconds they were written with.
	t.Run("times", func(t *testing.T) {
		s, clk := fresh(t)
		zone := time.FixedZone("UTC+5:30", 5*3600+1800)
		clk.t = time.Date(2026, 3, 4, 5, 6, 7, 123456789, zone)
		if err := s.CreateOrg(ctx, store.Org{ID: "acme"}); err != nil {
			t.Fatal(err)
		}
		o, _ := s.GetOrg(ctx, "acme")
		if want := store.Stamp(clk.t); !o.Created.Equal(want) || o.Created.Location() != time.UTC || o.Created.Nanosecond() != 123456000 {
			t.Errorf("org created %v, want %v", o.Created, want)
		}
		created := time.Date(2026, 3, 4, 5, 6, 7, 987654321, zone)
		expires := created.Add(time.Hour)
		if err := s.CreateAPIKey(ctx, store.APIKey{ID: "k1", OrgID: "acme", Hash: "h1", Created: created, Expires: store.Stamp(expires)}); err != nil {
			t.Fatal(err)
		}
		ks, _ := s.ListAPIKeys(ctx, "acme")
		if len(ks) != 1 || !ks[0].Created.Equal(store.Stamp(created)) || !ks[0].Expires.Equal(store.Stamp(expires)) {
			t.Errorf("key times %+v, want created %v", ks, store.Stamp(created))
		}
		if ks[0].LastUsed != (time.Time{}) {
			t.Errorf("an unused key has LastUsed %v", ks[0].LastUsed)
		}
	})

	t.Run("orgs", func(t *testing.T) {
		s, _ := fresh(t)
		o := store.Org{ID: "acme", Name: "Acme", Plan: "enterprise", ClerkOrgID: "org_1", AllowedDomains: []string{"acme.test"},
			GroupRoles: []store.GroupRule{{Group: "admins", Role: "admin"}}, ClerkRoleMap: map[string]string{"org:admin": "admin"}}
		if err := s.CreateOrg(ctx, o); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateOrg(ctx, o); !errors.Is(err, store.ErrExists) {
			t.Fatalf("duplicate org: %v", err)
		}
		if err := s.CreateOrg(ctx, store.Org{ID: "other", ClerkOrgID: "org_1"}); !errors.Is(err, store.ErrExists) {
			t.Fatalf("a Clerk org mapped twice: %v", err)
		}
		got, err := s.GetOrg(ctx, "acme")
		if err != nil || got.Name != "Acme" || got.AllowedDomains[0] != "acme.test" || got.ClerkRoleMap["org:admin"] != "admin" || got.Created.IsZero() {
			t.Fatalf("get: %v %+v", err, got)
		}
		got.AllowedDomains[0] = "mutated.test" // a copy: the store is unchanged
		if again, _ := s.GetOrg(ctx, "acme"); again.AllowedDomains[0] != "acme.test" {
			t.Fatal("the store handed out its own slice")
		}
		if byClerk, err := s.OrgByClerkID(ctx, "org_1"); err != nil || byClerk.ID != "acme" {
			t.Fatalf("by Clerk ID: %v", err)
		}
		for _, id := range []string{"org_2", ""} {
			if _, err := s.OrgByClerkID(ctx, id); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("unmapped Clerk org %q: %v", id, err)
			}
		}
		if _, err := s.GetOrg(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("missing org: %v", err)
		}
		// A failed update writes nothing.
		boom := errors.New("boom")
		if _, err := s.UpdateOrg(ctx, "acme", func(o *store.Org) error { o.Name = "Half"; return boom }); !errors.Is(err, boom) {
			t.Fatal(err)
		}
		if got, _ := s.GetOrg(ctx, "acme"); got.Name != "Acme" {
			t.Fatal("a failed update was written")
		}
		up, err := s.UpdateOrg(ctx, "acme", func(o *store.Org) error { o.RequireSSO = true; o.ID = "hijack"; return nil })
		if err != nil || !up.RequireSSO || up.ID != "acme" {
			t.Fatalf("update: %v %+v", err, up)
		}
		if _, err := s.UpdateOrg(ctx, "nope", func(*store.Org) error { return nil }); !errors.Is(err, store.ErrNotFound) {
			t.Fatal(err)
		}
		s.CreateOrg(ctx, store.Org{ID: "beta"})
		if _, err := s.UpdateOrg(ctx, "beta", func(o *store.Org) error { o.ClerkOrgID = "org_1"; return nil }); !errors.Is(err, store.ErrExists) {
			t.Fatalf("remapping a mapped Clerk org: %v", err)
		}
		if list, _ := s.ListOrgs(ctx); len(list) != 2 || list[0].ID != "acme" {
			t.Fatalf("list %+v", list)
		}
	})

	t.Run("users", func(t *testing.T) {
		s, _ := fresh(t)
		s.CreateOrg(ctx, store.Org{ID: "acme"})
		if _, _, err := s.CreateUserIfAbsent(ctx, store.User{ID: "u0", OrgID: "nope", Email: "a@x.test"}); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("user in a missing org: %v", err)
		}
		// Concurrent first logins of one person create one user.
		var wg sync.WaitGroup
		var mu sync.Mutex
		created, ids := 0, map[string]bool{}
		for i := range 50 {
			wg.Go(func() {
				u, ok, err := s.CreateUserIfAbsent(ctx, store.User{ID: fmt.Sprintf("u%d", i), OrgID: "acme", Email: "alice@acme.test", Role: "viewer"})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				defer mu.Unlock()
				ids[u.ID] = true
				if ok {
					created++
				}
			})
		}
		wg.Wait()
		if created != 1 || len(ids) != 1 {
			t.Fatalf("%d users created, %d distinct", created, len(ids))
		}
		u, err := s.UserByEmail(ctx, "acme", "alice@acme.test")
		if err != nil || u.Email != "alice@acme.test" || u.Created.IsZero() {
			t.Fatalf("by email: %v %+v", err, u)
		}
		// Emails arrive canonical and are compared byte for byte: the store
		// neither re-cases nor folds them, and tags and dots are other
		// people.
		for _, other := range []string{"Alice@acme.test", "alice@ACME.test", "alice+x@acme.test", "a.lice@acme.test", "alice@acme.test.", " alice@acme.test"} {
			if got, err := s.UserByEmail(ctx, "acme", other); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("%q found %+v (%v): emails are compared byte for byte", other, got, err)
			}
		}
		if tagged, ok, err := s.CreateUserIfAbsent(ctx, store.User{ID: "u-tag", OrgID: "acme", Email: "alice+x@acme.test"}); err != nil || !ok || tagged.ID != "u-tag" {
			t.Fatalf("a +tag address is another person: %v %v %+v", err, ok, tagged)
		}
		s.DeleteUser(ctx, "u-tag", nil)
		// The subject binding reads back as written.
		if b, err := s.UpdateUser(ctx, u.ID, func(x *store.User) error {
			x.Subject, x.SubjectIssuer, x.ClerkUserID = "00u1", "okta", "user_1"
			return nil
		}); err != nil || b.Subject != "00u1" || b.SubjectIssuer != "okta" || b.ClerkUserID != "user_1" {
			t.Fatalf("binding: %v %+v", err, b)
		}
		if b, _ := s.GetUser(ctx, u.ID); b.Subject != "00u1" || b.SubjectIssuer != "okta" || b.ClerkUserID != "user_1" {
			t.Fatalf("binding read back %+v", b)
		}
		// A failed update writes nothing.
		boom := errors.New("boom")
		if _, err := s.UpdateUser(ctx, u.ID, func(x *store.User) error { x.Role = "admin"; x.Subject = "evil"; return boom }); !errors.Is(err, boom) {
			t.Fatal(err)
		}
		if b, _ := s.GetUser(ctx, u.ID); b.Role != "viewer" || b.Subject != "00u1" {
			t.Fatalf("a failed update was written: %+v", b)
		}
		if _, err := s.UserByEmail(ctx, "other", "alice@acme.test"); !errors.Is(err, store.ErrNotFound) {
			t.Fatal("a user leaked into another org")
		}
		up, err := s.UpdateUser(ctx, u.ID, func(x *store.User) error { x.Role = "admin"; x.Email = "evil@x.test"; return nil })
		if err != nil || up.Role != "admin" || up.Email != "alice@acme.test" {
			t.Fatalf("update: %v %+v", err, up)
		}
		if list, _ := s.ListUsers(ctx, "acme"); len(list) != 1 {
			t.Fatalf("list %v", list)
		}
		if _, err := s.ChangeRole(ctx, "nope", "admin", time.Now()); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("role change of a missing user: %v", err)
		}
		// A removal its judge refuses removes nothing and returns the
		// judge's error as it is; the judge sees the user as stored.
		errNo := errors.New("not this one")
		var judged store.User
		if err := s.DeleteUser(ctx, u.ID, func(x store.User) error { judged = x; return errNo }); err != errNo {
			t.Fatalf("a refused removal: %v", err)
		}
		if judged.Role != "admin" || judged.Email != "alice@acme.test" {
			t.Fatalf("the judge saw %+v, not the stored user", judged)
		}
		if _, err := s.GetUser(ctx, u.ID); err != nil {
			t.Fatalf("a refused removal removed the user: %v", err)
		}
		if err := s.DeleteUser(ctx, u.ID, func(store.User) error { return nil }); err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetUser(ctx, u.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatal("deleted user still there")
		}
		if _, err := s.UserByEmail(ctx, "acme", "alice@acme.test"); !errors.Is(err, store.ErrNotFound) {
			t.Fatal("deleted user still found by email")
		}
		if err := s.DeleteUser(ctx, u.ID, nil); !errors.Is(err, store.ErrNotFound) {
			t.Fatal(err)
		}
	})

	// A role change and the revocation of the person's sessions are one
	// write: both are there together, the revocation time at
	// store.Precision, and it never moves back.
	t.Run("change role", func(t *testing.T) {
		s, clk := fresh(t)
		s.CreateOrg(ctx, store.Org{ID: "acme"})
		s.CreateUserIfAbsent(ctx, store.User{ID: "u", OrgID: "acme", Email: "a@acme.test", Role: "viewer", Subject: "s", SubjectIssuer: "okta"})
		at := clk.Now().Add(123456789 * time.Nanosecond)
		u, err := s.ChangeRole(ctx, "u", "admin", at)
		if err != nil || u.Role != "admin" || !u.ValidAfter.Equal(store.Stamp(at)) || u.Email != "a@acme.test" || u.Subject != "s" {
			t.Fatalf("change role: %v %+v", err, u)
		}
		if got, _ := s.GetUser(ctx, "u"); got.Role != "admin" || !got.ValidAfter.Equal(store.Stamp(at)) {
			t.Fatalf("read back %+v", got)
		}
		u, err = s.ChangeRole(ctx, "u", "editor", at.Add(-time.Hour))
		if err != nil || u.Role != "editor" || !u.ValidAfter.Equal(store.Stamp(at)) {
			t.Fatalf("an earlier revocation moved ValidAfter back: %v %+v", err, u)
		}
		if got, _ := s.GetUser(ctx, "u"); got.Role != "editor" || !got.ValidAfter.Equal(store.Stamp(at)) {
			t.Fatalf("read back %+v", got)
		}
		if v, ok := s.(store.Versioned); ok {
			before := v.Version()
			s.ChangeRole(ctx, "u", "viewer", clk.Now())
			if v.Version() == before {
				t.Error("a role change did not change the version")
			}
		}
		if _, err := s.ChangeRole(ctx, "nope", "admin", at); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("missing user: %v", err)
		}
	})

	t.Run("api keys", func(t *testing.T) {
		s, clk := fresh(t)
		// Keys belong to an organization that exists, as every caller's
		// do (a SQL store refuses others).
		if err := s.CreateOrg(ctx, store.Org{ID: "acme"}); err != nil {
			t.Fatal(err)
		}
		k := store.APIKey{ID: "k1", OrgID: "acme", Name: "ci", Role: "editor", Prefix: "ssk_live_ab", Hash: "h1"}
		if err := s.CreateAPIKey(ctx, k); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateAPIKey(ctx, store.APIKey{ID: "k2", OrgID: "acme", Hash: "h1"}); !errors.Is(err, store.ErrExists) {
			t.Fatalf("duplicate hash: %v", err)
		}
		got, err := s.APIKeyByHash(ctx, "h1")
		if err != nil || got.ID != "k1" || got.Revoked {
			t.Fatalf("by hash: %v", err)
		}
		if _, err := s.APIKeyByHash(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
			t.Fatal(err)
		}
		clk.Advance(time.Minute)
		if err := s.TouchAPIKeys(ctx, map[string]time.Time{"k1": clk.Now(), "gone": clk.Now()}); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.APIKeyByHash(ctx, "h1"); !got.LastUsed.Equal(clk.Now()) {
			t.Fatalf("last used %v", got.LastUsed)
		}
		if err := s.RevokeAPIKey(ctx, "other-org", "k1"); !errors.Is(err, store.ErrNotFound) {
			t.Fatal("another org revoked the key")
		}
		if err := s.RevokeAPIKey(ctx, "acme", "k1"); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.APIKeyByHash(ctx, "h1"); !got.Revoked {
			t.Fatal("not revoked")
		}
		if list, _ := s.ListAPIKeys(ctx, "acme"); len(list) != 1 {
			t.Fatalf("list %v", list)
		}
	})

	t.Run("version", func(t *testing.T) {
		s, clk := fresh(t)
		v, ok := s.(store.Versioned)
		if !ok {
			t.Skip("the store does not report versions; callers check every request in full")
		}
		s.CreateOrg(ctx, store.Org{ID: "acme"})
		s.CreateUserIfAbsent(ctx, store.User{ID: "u", OrgID: "acme", Email: "a@acme.test"})
		s.CreateAPIKey(ctx, store.APIKey{ID: "k", OrgID: "acme", Hash: "h"})
		for name, change := range map[string]func(){
			"revocation":     func() { s.RevokeToken(ctx, "j", clk.Now().Add(time.Hour)) },
			"user update":    func() { s.UpdateUser(ctx, "u", func(u *store.User) error { u.ValidAfter = clk.Now(); return nil }) },
			"org update":     func() { s.UpdateOrg(ctx, "acme", func(o *store.Org) error { o.RequireSSO = true; return nil }) },
			"key revocation": func() { s.RevokeAPIKey(ctx, "acme", "k") },
			"user removal":   func() { s.DeleteUser(ctx, "u", nil) },
		} {
			before := v.Version()
			change()
			if v.Version() == before {
				t.Errorf("%s did not change the version", name)
			}
		}
	})

	if _, ok := newStore(t, time.Now).(store.Expiring); ok {
		t.Run("expiring", func(t *testing.T) {
			RunExpiring(t, func(t *testing.T, now func() time.Time) store.Expiring {
				return newStore(t, now).(store.Expiring)
			})
		})
	} else {
		t.Run("revocations", func(t *testing.T) {
			RunRevocations(t, func(t *testing.T, now func() time.Time) store.Revocations { return newStore(t, now) })
		})
	}
}
