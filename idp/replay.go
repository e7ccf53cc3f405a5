package idp

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ssokit/ssokit/internal/ttlcache"
)

// ReplayCache remembers one-time values (SAML assertion IDs, LogoutResponse
// IDs) until they expire, so each is accepted once. Consume records key
// until the given time and returns an error wrapping ErrReplayed if key is
// already recorded and not expired, or one wrapping ErrUpstream if the
// cache cannot answer (a login is then refused, never let through).
//
// Implementations must be safe for concurrent use. The memory default
// (MemoryReplayCache) serves one process; a shared one (package store's
// SQL and Redis implementations, which the control plane adapts) lets
// replicas refuse each other's replays, through Options.ReplayCache. Any
// error that does not wrap ErrReplayed is taken as ErrUpstream.
type ReplayCache interface {
	// Consume records key until the given time, or refuses it as a replay.
	Consume(ctx context.Context, key string, until time.Time) error
}

// MemoryReplayCacheConfig sizes a MemoryReplayCache.
type MemoryReplayCacheConfig struct {
	// MaxEntries bounds the entries held. Zero means 100,000. Size it
	// above the logins expected within an assertion's lifetime (minutes):
	// when full of live entries the cache refuses new values (an
	// ErrUpstream refusal) rather than forget a live one, which would let
	// it be replayed.
	MaxEntries int
	// MaxTTL is the longest an entry is kept, whatever its until. Zero
	// means one hour (assertions live minutes).
	MaxTTL time.Duration
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
}

// MemoryReplayCache is the in-process ReplayCache: a bounded TTL cache
// (internal/ttlcache) in which every entry expires at its until or MaxTTL,
// whichever is earlier. Use NewMemoryReplayCache; the zero value is not
// usable.
type MemoryReplayCache struct {
	cache *ttlcache.Cache[struct{}]
}

// NewMemoryReplayCache returns an empty cache sized by cfg.
func NewMemoryReplayCache(cfg MemoryReplayCacheConfig) (*MemoryReplayCache, error) {
	if cfg.MaxEntries == 0 {
		cfg.MaxEntries = 100_000
	}
	if cfg.MaxTTL == 0 {
		cfg.MaxTTL = time.Hour
	}
	c, err := ttlcache.New[struct{}](ttlcache.Config{MaxEntries: cfg.MaxEntries, TTL: cfg.MaxTTL, Now: cfg.Now, NoEvict: true})
	if err != nil {
		return nil, fmt.Errorf("%w: replay cache: %v", ErrConfig, err)
	}
	return &MemoryReplayCache{cache: c}, nil
}

// Consume implements ReplayCache.
func (c *MemoryReplayCache) Consume(_ context.Context, key string, until time.Time) error {
	switch err := c.cache.Insert(key, struct{}{}, until); err {
	case nil:
		return nil
	case ttlcache.ErrExists:
		return refuse(ErrReplayed, ReasonReplay, "already used")
	default:
		return fmt.Errorf("%w: replay cache: %v", ErrUpstream, err)
	}
}

// Len reports the entries held (expired ones not yet swept included).
func (c *MemoryReplayCache) Len() int { return c.cache.Len() }

// consume asks the cache to record key and gives its answer a reason: a
// replay is ErrReplayed (ReasonReplay), anything else a cache could say
// ErrUpstream (ReasonUpstream), whatever error type the implementation
// returned.
func consume(ctx context.Context, c ReplayCache, key string, until time.Time) error {
	err := c.Consume(ctx, key, until)
	var le *LoginError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &le):
		return err
	case errors.Is(err, ErrReplayed):
		return refuse(ErrReplayed, ReasonReplay, "already used: %v", err)
	}
	return refuse(ErrUpstream, ReasonUpstream, "replay cache: %v", err)
}
