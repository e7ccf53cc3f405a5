// Package ttlcache is ssokit's one bounded cache with per-entry expiry. The
// verified-token cache, the API-key cache, the Clerk user cache, webhook
// idempotency, the connector cache, login limits and the memory replay and
// single-use state stores are all a Cache with a size bound and a TTL.
//
// An entry lives until the earlier of the cache's TTL and the expiry given
// when it was stored (a credential's exp), never longer. The cache holds at
// most MaxEntries entries: when a shard is full, expired entries are dropped
// first, then arbitrary live ones, an eighth of the shard at a time, so the
// sweep is paid once per many insertions.
//
// Keys are strings. The shard is chosen by a hash of a fixed window of the
// key's last bytes: for a JWT that window is signature bytes, uniform across
// tokens, so every shard is used; a lookup allocates nothing.
package ttlcache

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// Config sizes a Cache.
type Config struct {
	// MaxEntries bounds the number of entries. Required (> 0).
	MaxEntries int
	// TTL is the longest an entry lives. Required (> 0).
	TTL time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// NoEvict keeps live entries when full: Insert then refuses new keys
	// with ErrFull instead of forgetting live ones. Single-use records
	// (replay caches, idempotency keys) need it: forgetting a live entry
	// would let its value be used twice. Set and Update still evict.
	NoEvict bool
}

// The errors of Insert.
var (
	// ErrExists: the key has a live entry.
	ErrExists = errors.New("ttlcache: key exists")
	// ErrFull: a NoEvict cache is full of live entries.
	ErrFull = errors.New("ttlcache: full")
)

// Cache maps string keys to values of type V until they expire. It is safe
// for concurrent use.
type Cache[V any] struct {
	shards   []shard[V]
	shift    uint // 64 - log2(len(shards))
	perShard int
	ttl      int64
	now      func() time.Time
	noEvict  bool
}

type shard[V any] struct {
	mu sync.RWMutex
	m  map[string]entry[V]
	// hits and misses count Get and GetAt, beside the lock the reader
	// takes anyway, so the counting costs no shared cache line more.
	hits, misses atomic.Uint64
}

type entry[V any] struct {
	v   V
	exp int64 // unix nanoseconds; dead from this instant on
}

// hashWindow is how many of the key's last bytes pick its shard.
const hashWindow = 8

// New returns an empty cache.
func New[V any](cfg Config) (*Cache[V], error) {
	if cfg.MaxEntries <= 0 {
		return nil, errors.New("ttlcache: MaxEntries must be positive")
	}
	if cfg.TTL <= 0 {
		return nil, errors.New("ttlcache: TTL must be positive")
	}
	n, bits := 16, uint(4)
	for n > 1 && cfg.MaxEntries/n < 8 {
		n, bits = n/2, bits-1
	}
	c := &Cache[V]{shards: make([]shard[V], n), shift: 64 - bits, perShard: cfg.MaxEntries / n, ttl: int64(cfg.TTL), now: cfg.Now, noEvict: cfg.NoEvict}
	if c.now == nil {
		c.now = time.Now
	}
	for i := range c.shards {
		c.shards[i].m = make(map[string]entry[V])
	}
	return c, nil
}

// MustNew is New for sizes fixed in code; it panics on an invalid Config.
func MustNew[V any](cfg Config) *Cache[V] {
	c, err := New[V](cfg)
	if err != nil {
		panic(err)
	}
	return c
}

// shard picks the key's shard from its last hashWindow bytes, multiplied
// by the 64-bit golden ratio so every byte reaches the top bits (Fibonacci
// hashing). The window of a JWT or an API key is random (signature bytes,
// random key characters). The shard is about lock contention only: each
// shard's map hashes its keys with the runtime's per-process seed, so
// choosing keys that share a shard gains an attacker nothing but a shared
// lock.
func (c *Cache[V]) shard(key string) *shard[V] {
	if len(c.shards) == 1 {
		return &c.shards[0]
	}
	var h uint64
	for i := max(0, len(key)-hashWindow); i < len(key); i++ {
		h = h<<8 | uint64(key[i])
	}
	return &c.shards[(h*0x9E3779B97F4A7C15)>>c.shift]
}

// expiry is the earlier of now+TTL and exp (zero exp: TTL only).
func (c *Cache[V]) expiry(now int64, exp time.Time) int64 {
	e := now + c.ttl
	if !exp.IsZero() {
		if x := exp.UnixNano(); x < e {
			e = x
		}
	}
	return e
}

// Get returns the live value for key.
func (c *Cache[V]) Get(key string) (V, bool) {
	return c.GetAt(key, c.now())
}

// GetAt is Get with the caller's reading of the clock, for hot paths that
// already read it.
func (c *Cache[V]) GetAt(key string, now time.Time) (V, bool) {
	s := c.shard(key)
	s.mu.RLock()
	e, ok := s.m[key]
	s.mu.RUnlock()
	if !ok || now.UnixNano() >= e.exp {
		s.misses.Add(1)
		var zero V
		return zero, false
	}
	s.hits.Add(1)
	return e.v, true
}

// Stats returns how many lookups (Get, GetAt) found a live value and how
// many did not, since the cache was made.
func (c *Cache[V]) Stats() (hits, misses uint64) {
	for i := range c.shards {
		hits += c.shards[i].hits.Load()
		misses += c.shards[i].misses.Load()
	}
	return hits, misses
}

// Set stores v for key until the earlier of the TTL and exp. A value
// already dead (exp not after now) is not stored and any old one is removed.
func (c *Cache[V]) Set(key string, v V, exp time.Time) {
	now := c.now().UnixNano()
	e := c.expiry(now, exp)
	s := c.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if e <= now {
		delete(s.m, key)
		return
	}
	c.makeRoom(s, key, now)
	s.m[key] = entry[V]{v: v, exp: e}
}

// Insert stores v for key only when key has no live entry: nil when
// stored, ErrExists when a live entry is there. It is the single-use
// primitive (replay caches, idempotency keys). In a NoEvict cache whose
// shard is full of live entries it stores nothing and returns ErrFull, so
// a caller recording single-use values refuses instead of forgetting one;
// without NoEvict a full shard forgets others to make room.
func (c *Cache[V]) Insert(key string, v V, exp time.Time) error {
	now := c.now().UnixNano()
	e := c.expiry(now, exp)
	s := c.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.m[key]; ok && now < old.exp {
		return ErrExists
	}
	if e <= now {
		return nil
	}
	if _, ok := s.m[key]; !ok && len(s.m) >= c.perShard {
		for k, x := range s.m {
			if now >= x.exp {
				delete(s.m, k)
			}
		}
		if len(s.m) >= c.perShard {
			if c.noEvict {
				return ErrFull
			}
			c.makeRoom(s, key, now)
		}
	}
	s.m[key] = entry[V]{v: v, exp: e}
	return nil
}

// Update replaces the value for key with f(old, live) under the shard's lock
// and returns the new value; the entry keeps its expiry when live, else gets
// a new one from exp. Counters (login limits) use it.
func (c *Cache[V]) Update(key string, exp time.Time, f func(old V, live bool) V) V {
	now := c.now().UnixNano()
	s := c.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.m[key]
	live := ok && now < old.exp
	if !live {
		var zero V
		old.v = zero
		old.exp = c.expiry(now, exp)
		c.makeRoom(s, key, now)
	}
	v := f(old.v, live)
	if old.exp > now {
		s.m[key] = entry[V]{v: v, exp: old.exp}
	}
	return v
}

// Delete removes key.
func (c *Cache[V]) Delete(key string) {
	s := c.shard(key)
	s.mu.Lock()
	delete(s.m, key)
	s.mu.Unlock()
}

// Clear removes every entry.
func (c *Cache[V]) Clear() {
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		clear(s.m)
		s.mu.Unlock()
	}
}

// Len reports the number of entries, expired ones not yet swept included.
func (c *Cache[V]) Len() int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.RLock()
		n += len(s.m)
		s.mu.RUnlock()
	}
	return n
}

// Cap reports the most entries the cache holds.
func (c *Cache[V]) Cap() int { return c.perShard * len(c.shards) }

// makeRoom frees space in a full shard for a new key: expired entries
// first, then arbitrary live ones until an eighth of the shard is free.
// The caller holds s.mu.
func (c *Cache[V]) makeRoom(s *shard[V], key string, now int64) {
	if _, ok := s.m[key]; ok || len(s.m) < c.perShard {
		return
	}
	for k, e := range s.m {
		if now >= e.exp {
			delete(s.m, k)
		}
	}
	low := c.perShard - max(1, c.perShard/8)
	for k := range s.m {
		if len(s.m) <= low {
			break
		}
		delete(s.m, k)
	}
}
