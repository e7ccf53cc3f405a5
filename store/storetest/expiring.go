package storetest

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ssokit/ssokit/store"
)

// start is where every contract clock starts.
var start = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// hostileKeys are keys an attacker may choose (SAML assertion IDs, svix
// IDs, emails as rate keys): separators (package idp joins the parts of
// its keys with NUL bytes), wildcards, quotes, non-ASCII, a long one. Each
// must be its own key.
var hostileKeys = []string{"a:b", "a", "a:", "*", "a*", "?", "[a]", "a b", "a\tb", "'; DROP TABLE x; --", `"a"`, "\\a",
	"saml\x00conn\x00idp\x00_id1", "saml\x00conn\x00idp\x00_id2", "saml\x00conn", "\xff\xfe",
	"ä", "a\u0308", "%", "_", "a%", "a_", "ünï©ødé-🔑", strings.Repeat("k", 400), strings.Repeat("k", 399) + "j"}

// RunExpiring runs every expiring-state contract against fresh instances
// from newExpiring.
func RunExpiring(t *testing.T, newExpiring func(t *testing.T, now func() time.Time) store.Expiring) {
	t.Run("revocations", func(t *testing.T) {
		RunRevocations(t, func(t *testing.T, now func() time.Time) store.Revocations { return newExpiring(t, now) })
	})
	t.Run("replay cache", func(t *testing.T) {
		RunReplayCache(t, func(t *testing.T, now func() time.Time) store.ReplayCache { return newExpiring(t, now) })
	})
	t.Run("webhook log", func(t *testing.T) {
		RunWebhookLog(t, func(t *testing.T, now func() time.Time) store.WebhookLog { return newExpiring(t, now) })
	})
	t.Run("rate counter", func(t *testing.T) {
		RunRateCounter(t, func(t *testing.T, now func() time.Time) store.RateCounter { return newExpiring(t, now) })
	})
}

// RunRevocations: a revoked token ID is revoked until the given time, by
// the implementation's clock, and no other ID is.
func RunRevocations(t *testing.T, newRevocations func(t *testing.T, now func() time.Time) store.Revocations) {
	ctx := context.Background()
	clk := &Clock{t: start}
	s := newRevocations(t, clk.Now)
	if err := s.RevokeToken(ctx, "jti-1", clk.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.IsRevoked(ctx, "jti-1"); !ok || err != nil {
		t.Fatalf("revoked: %v %v", ok, err)
	}
	if ok, err := s.IsRevoked(ctx, "jti-2"); ok || err != nil {
		t.Fatalf("an unrevoked token: %v %v", ok, err)
	}
	for _, k := range hostileKeys {
		if ok, err := s.IsRevoked(ctx, k); ok || err != nil {
			t.Fatalf("unrevoked %q: %v %v", k, ok, err)
		}
	}
	if err := s.RevokeToken(ctx, hostileKeys[0], clk.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	for _, k := range hostileKeys[1:] {
		if ok, _ := s.IsRevoked(ctx, k); ok {
			t.Errorf("revoking %q revoked %q", hostileKeys[0], k)
		}
	}
	// Revoking again never shortens a revocation.
	if err := s.RevokeToken(ctx, "jti-1", clk.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	clk.Advance(30 * time.Minute)
	if ok, _ := s.IsRevoked(ctx, "jti-1"); !ok {
		t.Error("a second, shorter revocation ended the first")
	}
	clk.Advance(31 * time.Minute)
	if ok, _ := s.IsRevoked(ctx, "jti-1"); ok {
		t.Error("a revocation outlived its token")
	}
}

// RunReplayCache: a key is consumed once until it expires, by the
// implementation's clock; concurrent consumers of one key see exactly one
// success; keys are distinct byte for byte.
func RunReplayCache(t *testing.T, newCache func(t *testing.T, now func() time.Time) store.ReplayCache) {
	ctx := context.Background()
	clk := &Clock{t: start}
	s := newCache(t, clk.Now)
	until := clk.Now().Add(5 * time.Minute)
	if err := s.Consume(ctx, "assertion-1", until); err != nil {
		t.Fatalf("first use: %v", err)
	}
	if err := s.Consume(ctx, "assertion-1", until); !errors.Is(err, store.ErrReplayed) {
		t.Fatalf("second use: %v", err)
	}
	for _, k := range hostileKeys {
		if err := s.Consume(ctx, k, until); err != nil {
			t.Errorf("first use of %q: %v", k, err)
		}
	}
	for _, k := range hostileKeys {
		if err := s.Consume(ctx, k, until); !errors.Is(err, store.ErrReplayed) {
			t.Errorf("second use of %q: %v", k, err)
		}
	}
	clk.Advance(4 * time.Minute)
	if err := s.Consume(ctx, "assertion-1", until); !errors.Is(err, store.ErrReplayed) {
		t.Fatalf("before it expires: %v", err)
	}
	clk.Advance(time.Minute)
	if err := s.Consume(ctx, "assertion-1", clk.Now().Add(time.Minute)); err != nil {
		t.Fatalf("after it expired: %v", err)
	}
	// Twenty consumers at once: one wins.
	var wins, replays int
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			err := s.Consume(ctx, "race", clk.Now().Add(time.Minute))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case errors.Is(err, store.ErrReplayed):
				replays++
			default:
				t.Errorf("concurrent consume: %v", err)
			}
		})
	}
	wg.Wait()
	if wins != 1 || replays != 19 {
		t.Errorf("concurrent consumers: %d won, %d refused", wins, replays)
	}
}

// RunWebhookLog: a claim is New once, InProgress while its lease runs,
// New again after Release or once the lease lapses, Applied after Done
// until that expires; concurrent claims of one ID see exactly one New.
func RunWebhookLog(t *testing.T, newLog func(t *testing.T, now func() time.Time) store.WebhookLog) {
	ctx := context.Background()
	clk := &Clock{t: start}
	s := newLog(t, clk.Now)
	claim := func(id string, want store.WebhookClaim) {
		t.Helper()
		got, err := s.Claim(ctx, id, clk.Now().Add(time.Minute))
		if err != nil || got != want {
			t.Fatalf("claim %q: %v %v, want %v", id, got, err, want)
		}
	}
	claim("msg_1", store.WebhookNew)
	claim("msg_1", store.WebhookInProgress)
	if err := s.Release(ctx, "msg_1"); err != nil {
		t.Fatal(err)
	}
	claim("msg_1", store.WebhookNew)
	clk.Advance(61 * time.Second) // the lease lapses: the delivery died
	claim("msg_1", store.WebhookNew)
	if err := s.Done(ctx, "msg_1", clk.Now().Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	claim("msg_1", store.WebhookApplied)
	if err := s.Release(ctx, "msg_1"); err != nil { // a late Release of another delivery
		t.Fatal(err)
	}
	claim("msg_1", store.WebhookApplied)
	clk.Advance(23 * time.Hour)
	claim("msg_1", store.WebhookApplied)
	clk.Advance(time.Hour)
	claim("msg_1", store.WebhookNew)
	for _, k := range hostileKeys {
		claim(k, store.WebhookNew)
	}
	var news int
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			got, err := s.Claim(ctx, "msg_race", clk.Now().Add(time.Minute))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				t.Errorf("concurrent claim: %v", err)
			case got == store.WebhookNew:
				news++
			case got != store.WebhookInProgress:
				t.Errorf("concurrent claim: %v", got)
			}
		})
	}
	wg.Wait()
	if news != 1 {
		t.Errorf("%d concurrent claims were new", news)
	}
}

// RunRateCounter: hits are counted per key in windows aligned to the
// epoch; a new window starts from one, a hit stamped in an earlier one
// (a clock behind) never starts it over; concurrent hits are each counted
// once.
func RunRateCounter(t *testing.T, newCounter func(t *testing.T, now func() time.Time) store.RateCounter) {
	ctx := context.Background()
	clk := &Clock{t: start.Truncate(15 * time.Minute).Add(time.Minute)}
	s := newCounter(t, clk.Now)
	for i := int64(1); i <= 3; i++ {
		if n, err := s.Hit(ctx, "ip:203.0.113.9", 15*time.Minute); err != nil || n != i {
			t.Fatalf("hit %d: %d %v", i, n, err)
		}
	}
	for _, k := range hostileKeys {
		if n, err := s.Hit(ctx, k, 15*time.Minute); err != nil || n != 1 {
			t.Errorf("first hit of %q: %d %v", k, n, err)
		}
	}
	// The same key with another window length is another count.
	if n, err := s.Hit(ctx, "ip:203.0.113.9", time.Hour); err != nil || n != 1 {
		t.Errorf("another window length: %d %v", n, err)
	}
	clk.Advance(13 * time.Minute) // still the same 15-minute window
	if n, _ := s.Hit(ctx, "ip:203.0.113.9", 15*time.Minute); n != 4 {
		t.Errorf("later in the window: %d", n)
	}
	clk.Advance(2 * time.Minute) // the next window
	if n, _ := s.Hit(ctx, "ip:203.0.113.9", 15*time.Minute); n != 1 {
		t.Errorf("the next window: %d", n)
	}
	// A replica whose clock is a moment behind hits in the window before:
	// that never starts the count over, and the next hit on time still
	// counts it (replicas straddling a boundary would otherwise reset each
	// other to one, hit after hit).
	clk.Advance(-time.Minute - time.Second) // a second before the boundary
	if n, _ := s.Hit(ctx, "ip:203.0.113.9", 15*time.Minute); n < 2 {
		t.Errorf("a hit stamped in the window before: %d, the count started over", n)
	}
	clk.Advance(time.Minute + time.Second)
	if n, _ := s.Hit(ctx, "ip:203.0.113.9", 15*time.Minute); n < 2 {
		t.Errorf("the next hit on time: %d, the count started over", n)
	}
	if _, err := s.Hit(ctx, "k", 0); err == nil {
		t.Error("a zero window accepted")
	}
	// Windows are aligned to the Unix epoch, not to Go's zero time
	// (t.Truncate): for a length that does not divide a day they differ.
	// 7-second windows of the epoch start at t0; those of the zero time
	// start 3 seconds later, so t0+6s is in t0's window for one and not the
	// other, and t0+7s the other way round.
	t0 := time.Unix(start.Unix()/7*7, 0).UTC()
	if t0.Truncate(7 * time.Second).Equal(t0) {
		t.Fatal("the 7-second case does not tell the alignments apart")
	}
	clk7 := &Clock{t: t0}
	s7 := newCounter(t, clk7.Now)
	for _, step := range []struct {
		advance time.Duration
		want    int64
	}{{0, 1}, {6 * time.Second, 2}, {time.Second, 1}, {6 * time.Second, 2}} {
		clk7.Advance(step.advance)
		if n, err := s7.Hit(ctx, "acct:seven", 7*time.Second); err != nil || n != step.want {
			t.Errorf("7-second window at t0+%v: %d %v, want %d (windows start at multiples of 7 s since the Unix epoch)",
				clk7.Now().Sub(t0), n, err, step.want)
		}
	}
	// Before 1970 (no clock should read it, but nothing breaks) windows
	// are aligned the same way: 1969-12-31 23:59:50 is in the window that
	// starts 14 s before the epoch, not in the one that starts 7 s before.
	clkOld := &Clock{t: time.Unix(-10, 0).UTC()}
	sOld := newCounter(t, clkOld.Now)
	for _, step := range []struct {
		advance time.Duration
		want    int64
	}{{0, 1}, {2 * time.Second, 2}, {time.Second, 1}} {
		clkOld.Advance(step.advance)
		if n, err := sOld.Hit(ctx, "acct:seven", 7*time.Second); err != nil || n != step.want {
			t.Errorf("7-second window at %v: %d %v, want %d", clkOld.Now(), n, err, step.want)
		}
	}
	seen := map[int64]bool{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 30 {
		wg.Go(func() {
			n, err := s.Hit(ctx, "acct:race", 15*time.Minute)
			mu.Lock()
			defer mu.Unlock()
			if err != nil || seen[n] {
				t.Errorf("concurrent hit: %d %v (seen: %v)", n, err, seen[n])
			}
			seen[n] = true
		})
	}
	wg.Wait()
	for i := int64(1); i <= 30; i++ {
		if !seen[i] {
			t.Errorf("concurrent hits: count %d never returned", i)
			break
		}
	}
}
