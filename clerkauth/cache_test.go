package clerkauth

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ssokit/ssokit/ssoerr"
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
	// 1 miss, then 1 + 100 + AllocsPerRun's warm-up run hits.
	if st := v.Stats(); st.TokenCacheMisses != 1 || st.TokenCacheHits != 102 {
		t.Fatalf("Stats %+v, want 1 miss and 102 hits", st)
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
	wantReason(t, err, ssoerr.ErrExpired, ssoerr.ReasonExpired)
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

// The verified-token cache holds at most TokenCacheSize tokens, however
// many valid tokens arrive.
func TestTokenCacheBounded(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testKid, func(c *Config) { c.TokenCacheSize = 32 })
	for i := range 200 {
		tok := mint(t, f.keys[0], hdr(testKid), with(v1Claims(f.clk.Now()), "sid", fmt.Sprint("sess_", i)))
		if _, err := f.v.Verify(context.Background(), tok); err != nil {
			t.Fatal(err)
		}
		if n := f.v.cache.Len(); n > 32 {
			t.Fatalf("after %d tokens the cache holds %d > 32", i+1, n)
		}
	}
}
