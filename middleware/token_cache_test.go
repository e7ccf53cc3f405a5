package middleware

import (
	"context"
	"fmt"
	"testing"
	"time"
)

func TestTokenCacheHitIsTheSamePrincipal(t *testing.T) { // not parallel: AllocsPerRun
	f := newFixture(t, testKid, nil)
	clk, keys, v := f.clk, f.keys, f.v
	tok := mint(t, keys[0], hdr(testKid), v1Claims(clk.Now()))
	p1, err := v.Verify(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	p2, err := v.Verify(context.Background(), tok)
	if err != nil || p1 != p2 {
		t.Fatalf("second verification %p %v, want the cached %p", p2, err, p1)
	}
	if allocs := testing.AllocsPerRun(100, func() { _, _ = v.Verify(context.Background(), tok) }); allocs != 0 {
		t.Fatalf("cache hit allocates %v times", allocs)
	}
	// The entry dies at exp: one nanosecond later the full check runs again
	// (and still accepts within the leeway), after the leeway it refuses.
	clk.Advance(time.Minute)
	p3, err := v.Verify(context.Background(), tok)
	if err != nil || p3 == p1 {
		t.Fatalf("at exp: %p %v; want a fresh verification", p3, err)
	}
	clk.Advance(DefaultLeeway)
	_, err = v.Verify(context.Background(), tok)
	wantReason(t, err, ErrExpired, ReasonExpired)
}

func TestTokenCacheOff(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testKid, noCache)
	clk, keys, v := f.clk, f.keys, f.v
	tok := mint(t, keys[0], hdr(testKid), v1Claims(clk.Now()))
	p1, _ := v.Verify(context.Background(), tok)
	p2, _ := v.Verify(context.Background(), tok)
	if p1 == nil || p1 == p2 || v.cache != nil {
		t.Fatal("DisableTokenCache still caches")
	}
}

func TestTokenCacheBounded(t *testing.T) {
	t.Parallel()
	c := newTokenCache[int](64)
	now := int64(1000)
	for i := range 10_000 {
		c.put(fmt.Sprintf("token-%d", i), i, now+100, now)
	}
	if n := c.len(); n > 64 {
		t.Fatalf("cache holds %d entries, limit 64", n)
	}
	// Dead entries are swept before live ones are evicted.
	d := newTokenCache[int](cacheShards)
	for i := range cacheShards * 4 {
		d.put(fmt.Sprintf("old-%d", i), i, now+1, now)
	}
	d.put("fresh-token", 1, now+100, now+50)
	if v, ok := d.get("fresh-token", now+60); !ok || v != 1 {
		t.Fatal("fresh entry missing")
	}
	if _, ok := d.get("fresh-token", now+100); ok {
		t.Fatal("entry outlived its expiry")
	}
	d.put("already-dead", 1, now, now)
	if _, ok := d.get("already-dead", now-1); ok {
		t.Fatal("an expired token was cached")
	}
	d.remove("fresh-token")
	if _, ok := d.get("fresh-token", now+60); ok {
		t.Fatal("removed entry still served")
	}
}
