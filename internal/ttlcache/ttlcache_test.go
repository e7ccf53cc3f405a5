package ttlcache

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"sync"
	"testing"
	"time"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newCache(t testing.TB, max int, ttl time.Duration) (*Cache[int], *clock) {
	t.Helper()
	clk := &clock{t: time.Unix(1_800_000_000, 0)}
	c, err := New[int](Config{MaxEntries: max, TTL: ttl, Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	return c, clk
}

func TestConfig(t *testing.T) {
	for _, cfg := range []Config{{TTL: time.Second}, {MaxEntries: 1}, {MaxEntries: -1, TTL: time.Second}} {
		if _, err := New[int](cfg); err == nil {
			t.Errorf("%+v accepted", cfg)
		}
	}
}

// An entry dies at the earlier of the TTL and its own expiry.
func TestExpiry(t *testing.T) {
	c, clk := newCache(t, 100, time.Minute)
	start := clk.now()
	c.Set("ttl", 1, time.Time{})
	c.Set("exp", 2, start.Add(10*time.Second))
	c.Set("late", 3, start.Add(time.Hour)) // exp after the TTL: the TTL wins
	c.Set("dead", 4, start)                // already expired: not stored
	if _, ok := c.Get("dead"); ok {
		t.Error("an entry stored already expired is served")
	}
	clk.add(10 * time.Second)
	if _, ok := c.Get("exp"); ok {
		t.Error("entry served at its exp")
	}
	if v, ok := c.Get("ttl"); !ok || v != 1 {
		t.Error("entry lost before its TTL")
	}
	clk.add(50 * time.Second)
	for _, k := range []string{"ttl", "late"} {
		if _, ok := c.Get(k); ok {
			t.Errorf("%s served past the TTL", k)
		}
	}
}

// However many keys arrive, the cache never holds more than its bound, and
// a full shard drops its expired entries before any live one.
func TestBound(t *testing.T) {
	const max = 256
	c, _ := newCache(t, max, time.Hour)
	for i := range 10 * max {
		c.Set(fmt.Sprint("k", i), i, time.Time{})
		if n := c.Len(); n > max {
			t.Fatalf("after %d inserts the cache holds %d > %d", i+1, n, max)
		}
	}
	// A full shard drops its expired entries first, all of them, and no
	// live one: one shard of 8, seven short-lived entries and a keeper.
	one, clk2 := newCache(t, 8, time.Hour)
	for i := range 7 {
		one.Set(fmt.Sprint("short", i), i, clk2.now().Add(time.Second))
	}
	one.Set("keeper", 1, time.Time{})
	clk2.add(2 * time.Second)
	one.Set("new", 2, time.Time{})
	if _, ok := one.Get("keeper"); !ok || one.Len() != 2 {
		t.Errorf("after one insert into a full shard of expired entries: keeper kept %v, %d entries (want 2)", ok, one.Len())
	}
}

func TestInsertIsSingleUse(t *testing.T) {
	c, clk := newCache(t, 100, time.Hour)
	exp := clk.now().Add(time.Minute)
	if err := c.Insert("id", 1, exp); err != nil {
		t.Fatalf("first Insert: %v", err)
	}
	if err := c.Insert("id", 2, exp); err != ErrExists {
		t.Fatalf("second Insert of a live key: %v", err)
	}
	if v, _ := c.Get("id"); v != 1 {
		t.Errorf("Insert overwrote: %d", v)
	}
	clk.add(time.Minute)
	if err := c.Insert("id", 3, clk.now().Add(time.Minute)); err != nil {
		t.Errorf("Insert of an expired key: %v", err)
	}
	var wg sync.WaitGroup
	wins := make(chan int, 50)
	for i := range 50 {
		wg.Go(func() {
			if c.Insert("race", i, time.Time{}) == nil {
				wins <- i
			}
		})
	}
	wg.Wait()
	close(wins)
	if n := len(wins); n != 1 {
		t.Errorf("%d concurrent Inserts of one key won, want 1", n)
	}
}

// A NoEvict cache full of live entries refuses new keys rather than
// forget a live one; once entries expire it takes new ones again.
func TestInsertNoEvict(t *testing.T) {
	clk := &clock{t: time.Unix(1_800_000_000, 0)}
	c, err := New[int](Config{MaxEntries: 16, TTL: time.Hour, Now: clk.now, NoEvict: true})
	if err != nil {
		t.Fatal(err)
	}
	stored, full := 0, 0
	for i := range 200 {
		switch err := c.Insert(fmt.Sprint("id-", i), i, clk.now().Add(time.Minute)); err {
		case nil:
			stored++
		case ErrFull:
			full++
		default:
			t.Fatal(err)
		}
	}
	if stored > c.Cap() || full == 0 || c.Len() != stored {
		t.Fatalf("stored %d (cap %d), refused %d, holds %d", stored, c.Cap(), full, c.Len())
	}
	for i := range 200 { // every stored key is still refused as a duplicate
		if _, ok := c.Get(fmt.Sprint("id-", i)); ok {
			if err := c.Insert(fmt.Sprint("id-", i), 0, time.Time{}); err != ErrExists {
				t.Fatalf("a live key inserted again: %v", err)
			}
		}
	}
	clk.add(time.Minute)
	if err := c.Insert("fresh", 1, time.Time{}); err != nil {
		t.Fatalf("after expiry: %v", err)
	}
}

func TestUpdateCounts(t *testing.T) {
	c, clk := newCache(t, 100, time.Hour)
	inc := func(old int, _ bool) int { return old + 1 }
	for range 3 {
		c.Update("ip", clk.now().Add(time.Minute), inc)
	}
	if v, _ := c.Get("ip"); v != 3 {
		t.Errorf("count %d, want 3", v)
	}
	clk.add(30 * time.Second)
	c.Update("ip", clk.now().Add(time.Minute), inc) // keeps the first window
	clk.add(30 * time.Second)
	if _, ok := c.Get("ip"); ok {
		t.Error("the window was extended by an update")
	}
	if v := c.Update("ip", clk.now().Add(time.Minute), inc); v != 1 {
		t.Errorf("a new window starts at %d, want 1", v)
	}
}

// RS256 tokens end in signature bytes; every shard must be used.
func TestShardsAllUsed(t *testing.T) {
	c, _ := newCache(t, 1<<16, time.Hour)
	used := map[*shard[int]]bool{}
	for range 2000 {
		sig := make([]byte, 256)
		rand.Read(sig)
		used[c.shard("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0."+base64.RawURLEncoding.EncodeToString(sig))] = true
	}
	if len(used) != len(c.shards) {
		t.Errorf("%d of %d shards used", len(used), len(c.shards))
	}
}

func TestGetAllocatesNothing(t *testing.T) {
	c, _ := newCache(t, 1000, time.Hour)
	key := "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlYnl0ZXM"
	c.Set(key, 1, time.Time{})
	if n := testing.AllocsPerRun(100, func() { c.Get(key) }); n != 0 {
		t.Errorf("Get allocates %v times", n)
	}
}

func BenchmarkGetHit(b *testing.B) {
	c := MustNew[int](Config{MaxEntries: 10000, TTL: time.Hour})
	key := "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlYnl0ZXNzaWduYXR1cmVieXRlcw"
	c.Set(key, 1, time.Time{})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c.Get(key)
		}
	})
}

// Stats counts lookups that found a live value and those that did not,
// an expired entry among the misses, across shards.
func TestStats(t *testing.T) {
	c, clk := newCache(t, 100, time.Minute)
	for i := range 10 {
		c.Set(fmt.Sprint("k", i), i, time.Time{})
	}
	for i := range 10 {
		c.Get(fmt.Sprint("k", i))
	}
	c.Get("absent")
	c.Get("also absent")
	clk.add(2 * time.Minute)
	c.Get("k0") // expired
	if hits, misses := c.Stats(); hits != 10 || misses != 3 {
		t.Fatalf("hits %d misses %d, want 10 and 3", hits, misses)
	}
}
