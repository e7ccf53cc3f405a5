package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ssokit/ssokit/store"
)

// SSOLogStore is a store with organizations that keeps their SSO logs.
type SSOLogStore interface {
	store.Store
	store.SSOLog
}

// RunSSOLog checks the SSOLog contract: events only under an existing
// organization, newest first, the newest keep kept per organization even
// under concurrent writers, fields read back exactly (times at
// store.Precision in UTC, the store's clock for a zero time), hostile text
// cleaned as store.CleanSSOEvent cleans it, organizations apart, and
// unverified events trimmed apart from the others.
func RunSSOLog(t *testing.T, newStore func(t *testing.T, now func() time.Time) SSOLogStore) {
	ctx := context.Background()
	fresh := func(t *testing.T) (SSOLogStore, *Clock) {
		clk := &Clock{t: time.Date(2026, 5, 6, 7, 8, 9, 123456789, time.UTC)}
		s := newStore(t, clk.Now)
		for _, id := range []string{"acme", "globex"} {
			if err := s.CreateOrg(ctx, store.Org{ID: id}); err != nil {
				t.Fatal(err)
			}
		}
		return s, clk
	}

	t.Run("unknown organization", func(t *testing.T) {
		s, _ := fresh(t)
		err := s.AddSSOEvent(ctx, store.SSOEvent{OrgID: "initech", Outcome: "refused"}, 10)
		if !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("an event for an unknown organization: %v, want ErrNotFound", err)
		}
		if evs, err := s.SSOEvents(ctx, "initech", 10); err != nil || len(evs) != 0 {
			t.Fatalf("unknown organization's events: %v %v", evs, err)
		}
	})

	t.Run("round trip and clock", func(t *testing.T) {
		s, clk := fresh(t)
		zone := time.FixedZone("UTC-3", -3*3600)
		at := time.Date(2026, 5, 6, 4, 0, 0, 987654321, zone)
		want := store.SSOEvent{ID: "ev1", OrgID: "acme", Time: at, Email: "pat@acme.test", UserID: "u_1", IdPName: "okta",
			Protocol: "saml", Outcome: "refused", Reason: "domain_not_allowed", Check: "the email domain is not one of the organization's"}
		if err := s.AddSSOEvent(ctx, want, 10); err != nil {
			t.Fatal(err)
		}
		if err := s.AddSSOEvent(ctx, store.SSOEvent{OrgID: "acme", Outcome: "accepted"}, 10); err != nil {
			t.Fatal(err)
		}
		evs, err := s.SSOEvents(ctx, "acme", 10)
		if err != nil || len(evs) != 2 {
			t.Fatalf("events %v %v", evs, err)
		}
		if got := evs[1]; got.Time.Location() != time.UTC || !got.Time.Equal(store.Stamp(at)) || got.Time.Nanosecond() != 987654000 {
			t.Errorf("time %v, want %v at microseconds in UTC", got.Time, store.Stamp(at))
		}
		want.Time = store.Stamp(at)
		if evs[1] != want {
			t.Errorf("read back\n %+v\nwant\n %+v", evs[1], want)
		}
		if got := evs[0]; got.ID == "" || got.ID == "ev1" || !got.Time.Equal(store.Stamp(clk.Now())) {
			t.Errorf("a zero ID and time: %+v (want an ID and the store's clock %v)", got, store.Stamp(clk.Now()))
		}
	})

	t.Run("newest kept, newest first", func(t *testing.T) {
		s, clk := fresh(t)
		for i := range 7 {
			clk.Advance(time.Second)
			if err := s.AddSSOEvent(ctx, store.SSOEvent{OrgID: "acme", Outcome: "refused", Reason: fmt.Sprint("r", i)}, 4); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.AddSSOEvent(ctx, store.SSOEvent{OrgID: "globex", Outcome: "accepted"}, 4); err != nil {
			t.Fatal(err)
		}
		evs, err := s.SSOEvents(ctx, "acme", 10)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range evs {
			got = append(got, e.Reason)
		}
		if strings.Join(got, ",") != "r6,r5,r4,r3" {
			t.Fatalf("kept %v, want the newest four, newest first", got)
		}
		if evs, _ := s.SSOEvents(ctx, "acme", 2); len(evs) != 2 || evs[0].Reason != "r6" {
			t.Fatalf("limit 2: %v", evs)
		}
		if evs, _ := s.SSOEvents(ctx, "globex", 10); len(evs) != 1 || evs[0].OrgID != "globex" {
			t.Fatalf("the other organization's log: %v", evs)
		}
		if err := s.AddSSOEvent(ctx, store.SSOEvent{OrgID: "acme"}, 0); err == nil {
			t.Fatal("keep 0 accepted")
		}
	})

	t.Run("unverified events are kept apart", func(t *testing.T) {
		// A flood of unverified refusals pushes out only unverified ones:
		// the accepted sign-in and the vouched-for refusal stay, however
		// many come after them.
		s, clk := fresh(t)
		add := func(e store.SSOEvent, keep int) {
			t.Helper()
			clk.Advance(time.Second)
			e.OrgID = "acme"
			if err := s.AddSSOEvent(ctx, e, keep); err != nil {
				t.Fatal(err)
			}
		}
		add(store.SSOEvent{Outcome: "accepted", Email: "pat@acme.test"}, 4)
		add(store.SSOEvent{Outcome: "refused", Reason: "domain_not_allowed"}, 4)
		for i := range 20 {
			add(store.SSOEvent{Outcome: "refused", Reason: fmt.Sprint("junk", i), Unverified: true}, 3)
		}
		evs, err := s.SSOEvents(ctx, "acme", 10)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range evs {
			got = append(got, fmt.Sprint(e.Outcome, ":", e.Reason, ":", e.Unverified))
		}
		want := "refused:junk19:true,refused:junk18:true,refused:junk17:true,refused:domain_not_allowed:false,accepted::false"
		if strings.Join(got, ",") != want {
			t.Fatalf("kept\n %v\nwant\n %v", strings.Join(got, ","), want)
		}
		// The vouched-for events are trimmed on their own count.
		for i := range 5 {
			add(store.SSOEvent{Outcome: "accepted", Reason: fmt.Sprint("ok", i)}, 4)
		}
		evs, _ = s.SSOEvents(ctx, "acme", 100)
		unverified := 0
		for _, e := range evs {
			if e.Unverified {
				unverified++
			}
		}
		if len(evs) != 7 || unverified != 3 || evs[0].Reason != "ok4" {
			t.Fatalf("after five accepted sign-ins: %d events, %d unverified, newest %+v; want 4 + 3", len(evs), unverified, evs[0])
		}
	})

	t.Run("concurrent writers stay bounded", func(t *testing.T) {
		s, _ := fresh(t)
		var wg sync.WaitGroup
		for w := range 8 {
			wg.Go(func() {
				for i := range 10 {
					if err := s.AddSSOEvent(ctx, store.SSOEvent{OrgID: "acme", Outcome: "refused", Reason: fmt.Sprint(w, "_", i)}, 25); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		evs, err := s.SSOEvents(ctx, "acme", 1000)
		if err != nil || len(evs) != 25 {
			t.Fatalf("%d events kept (%v), want 25", len(evs), err)
		}
	})

	t.Run("hostile text", func(t *testing.T) {
		s, _ := fresh(t)
		nasty := "pat\x00@acme.test\r\n<script>alert(1)</script>\xff\xfe" + strings.Repeat("é", 400)
		e := store.SSOEvent{OrgID: "acme", Email: nasty, Check: nasty, Reason: nasty, Outcome: "refused", IdPName: "\x1b[31mokta"}
		if err := s.AddSSOEvent(ctx, e, 10); err != nil {
			t.Fatal(err)
		}
		evs, err := s.SSOEvents(ctx, "acme", 1)
		if err != nil || len(evs) != 1 {
			t.Fatalf("%v %v", evs, err)
		}
		want := store.CleanSSOEvent(e)
		got := evs[0]
		if got.Email != want.Email || got.Check != want.Check || got.Reason != want.Reason || got.IdPName != "[31mokta" {
			t.Errorf("cleaned %+v, want %+v", got, want)
		}
		if len(got.Email) > store.MaxSSOEventField || strings.ContainsAny(got.Email, "\x00\r\n") {
			t.Errorf("email kept as %q", got.Email)
		}
	})
}
