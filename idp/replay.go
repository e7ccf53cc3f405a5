package idp

import (
	"context"
	"sync"
	"time"
)

// ReplayCache remembers used assertion IDs (and other one-time values)
// until they expire. Consume records key until the given time and returns
// an error wrapping ErrReplayed if key is already recorded. Implementations
// must be safe for concurrent use; a shared one (Redis) lets replicas
// refuse each other's replays.
type ReplayCache interface {
	Consume(ctx context.Context, key string, until time.Time) error
}

// MemoryReplayCache is the in-process ReplayCache, bounded in entries. The
// zero value is not usable; use NewMemoryReplayCache.
type MemoryReplayCache struct {
	mu  sync.Mutex
	m   map[string]time.Time
	max int
	now func() time.Time
}

// NewMemoryReplayCache returns a cache of at most max entries (zero means
// 100,000). When full it drops expired entries; if none expired, Consume
// refuses new keys rather than forget a live one.
func NewMemoryReplayCache(max int, now func() time.Time) *MemoryReplayCache {
	if max <= 0 {
		max = 100_000
	}
	if now == nil {
		now = time.Now
	}
	return &MemoryReplayCache{m: map[string]time.Time{}, max: max, now: now}
}

// Consume implements ReplayCache.
func (c *MemoryReplayCache) Consume(_ context.Context, key string, until time.Time) error {
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if exp, ok := c.m[key]; ok && now.Before(exp) {
		return refuse(ErrReplayed, ReasonReplay, "already used")
	}
	if len(c.m) >= c.max {
		for k, exp := range c.m {
			if !now.Before(exp) {
				delete(c.m, k)
			}
		}
		if len(c.m) >= c.max {
			return refuse(ErrUpstream, ReasonUpstream, "replay cache full")
		}
	}
	c.m[key] = until
	return nil
}
