package middleware

import (
	"sync"
)

// tokenCache remembers tokens that verified, so a token seen again skips the
// signature check. It is keyed by the token string itself: a Go map with
// string keys hashes with a per-process random seed and compares the whole
// key, so a lookup copies nothing and a near-miss never matches. Entries
// never outlive the token's exp. The cache is split into shards picked by
// the token's last bytes (signature bytes, which are uniform for tokens that
// verified), so concurrent requests rarely share a lock.
type tokenCache[V any] struct {
	shards   [cacheShards]cacheShard[V]
	perShard int
}

const cacheShards = 16

type cacheShard[V any] struct {
	mu sync.RWMutex
	m  map[string]cacheEntry[V]
}

type cacheEntry[V any] struct {
	v   V
	exp int64 // unix nanoseconds; the entry is dead from this instant on
}

// newTokenCache returns a cache holding at most about max entries.
func newTokenCache[V any](max int) *tokenCache[V] {
	per := max / cacheShards
	if per < 1 {
		per = 1
	}
	c := &tokenCache[V]{perShard: per}
	for i := range c.shards {
		c.shards[i].m = make(map[string]cacheEntry[V])
	}
	return c
}

func (c *tokenCache[V]) shard(tok string) *cacheShard[V] {
	n := len(tok)
	if n < 2 {
		return &c.shards[0]
	}
	return &c.shards[(uint(tok[n-1])^uint(tok[n-2])<<2)%cacheShards]
}

// get returns the value cached for tok if it is still alive at nowNanos.
func (c *tokenCache[V]) get(tok string, nowNanos int64) (V, bool) {
	s := c.shard(tok)
	s.mu.RLock()
	e, ok := s.m[tok]
	s.mu.RUnlock()
	if !ok || nowNanos >= e.exp {
		var zero V
		return zero, false
	}
	return e.v, true
}

// put caches v for tok until expNanos. When the shard is full it drops the
// dead entries and then, if that freed less than an eighth of the shard,
// arbitrary live ones until an eighth is free, so the sweep is paid once per
// perShard/8 insertions rather than on each.
func (c *tokenCache[V]) put(tok string, v V, expNanos, nowNanos int64) {
	if nowNanos >= expNanos {
		return
	}
	s := c.shard(tok)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[tok]; !ok && len(s.m) >= c.perShard {
		for k, e := range s.m {
			if nowNanos >= e.exp {
				delete(s.m, k)
			}
		}
		low := c.perShard - c.perShard/8
		if low == c.perShard {
			low--
		}
		for k := range s.m {
			if len(s.m) <= low {
				break
			}
			delete(s.m, k)
		}
	}
	s.m[tok] = cacheEntry[V]{v: v, exp: expNanos}
}

// remove forgets tok, for revocations.
func (c *tokenCache[V]) remove(tok string) {
	s := c.shard(tok)
	s.mu.Lock()
	delete(s.m, tok)
	s.mu.Unlock()
}

// len reports the number of entries, dead or alive.
func (c *tokenCache[V]) len() int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.RLock()
		n += len(s.m)
		s.mu.RUnlock()
	}
	return n
}
