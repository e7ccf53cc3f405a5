package admission

import (
	"context"
	"errors"
	"net/netip"
	"sync"
	"time"

	"github.com/ssokit/ssokit/internal/ttlcache"
	"github.com/ssokit/ssokit/store"
	"golang.org/x/crypto/bcrypt"
)

// PasswordCost is the bcrypt cost of HashPassword.
const PasswordCost = 12

// HashPassword returns a bcrypt hash (cost PasswordCost) of a password.
func HashPassword(pw string) (string, error) {
	b, err := bcrypt.GenerateFromPassword([]byte(pw), PasswordCost)
	return string(b), err
}

// dummyHash makes an unknown account cost as much as a wrong password; made
// on first use (bcrypt at cost 12 takes a quarter second).
var dummyHash = sync.OnceValue(func() []byte {
	h, _ := bcrypt.GenerateFromPassword([]byte("ssokit-dummy-password"), PasswordCost)
	return h
})

// checkPassword compares in constant time; an empty hash (an SSO-only
// person or an unknown account) is compared against a dummy so timing does
// not tell which.
func checkPassword(hash, pw string) bool {
	if hash == "" {
		_ = bcrypt.CompareHashAndPassword(dummyHash(), []byte(pw))
		return false
	}
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(pw)) == nil
}

// Limiter counts attempts per key within a window. Allow records one
// attempt and reports whether the key is still within its limit. An error
// means the count could not be kept (a store outage): the attempt is then
// refused, never let through.
//
// MemoryLimiter is the single-process implementation; CounterLimiter over a
// shared store.RateCounter (the SQL stores, Redis) makes the limit hold
// across replicas.
type Limiter interface {
	Allow(ctx context.Context, key string) (bool, error)
}

// LimiterConfig sizes a MemoryLimiter.
type LimiterConfig struct {
	// Max attempts per key per Window. Required (> 0).
	Max int
	// Window is the fixed window in which attempts are counted. Required.
	Window time.Duration
	// MaxKeys bounds the number of keys tracked. Zero means 100,000. When
	// full, the oldest windows are dropped first by expiry, then arbitrary
	// ones: a flood of distinct keys can reset some counts early, never
	// grow memory.
	MaxKeys int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// MemoryLimiter is a fixed-window Limiter in process memory.
type MemoryLimiter struct {
	max    int
	window time.Duration
	now    func() time.Time
	counts *ttlcache.Cache[int]
}

// NewMemoryLimiter validates cfg and returns a MemoryLimiter.
func NewMemoryLimiter(cfg LimiterConfig) (*MemoryLimiter, error) {
	if cfg.Max <= 0 || cfg.Window <= 0 {
		return nil, errors.New("admission: LimiterConfig needs Max and Window")
	}
	if cfg.MaxKeys <= 0 {
		cfg.MaxKeys = 100_000
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	c, err := ttlcache.New[int](ttlcache.Config{MaxEntries: cfg.MaxKeys, TTL: cfg.Window, Now: cfg.Now})
	if err != nil {
		return nil, err
	}
	return &MemoryLimiter{max: cfg.Max, window: cfg.Window, now: cfg.Now, counts: c}, nil
}

// Allow implements Limiter.
func (l *MemoryLimiter) Allow(_ context.Context, key string) (bool, error) {
	n := l.counts.Update(key, l.now().Add(l.window), func(old int, _ bool) int { return old + 1 })
	return n <= l.max, nil
}

// ClientKey is the per-address limit key of a client address: an IPv4
// address (an IPv4-mapped IPv6 address unmapped), or the /64 of an IPv6
// address, since one subscriber routinely holds a whole /64 and could
// otherwise take a fresh address per attempt; a zone is dropped. Anything
// that is not an IP address is its own key.
func ClientKey(clientIP string) string {
	a, err := netip.ParseAddr(clientIP)
	if err != nil {
		return clientIP
	}
	a = a.WithZone("").Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

// CounterLimiter is a Limiter over a store.RateCounter that replicas
// share (a SQL table, Redis), so a limit holds across all of them: at most
// Max attempts per key in each Window, windows aligned to the epoch. Keys
// are namespaced by Name, so two limiters can share one counter.
type CounterLimiter struct {
	Counter store.RateCounter
	Name    string
	Max     int
	Window  time.Duration
}

// Allow implements Limiter. A counter that cannot count refuses.
func (l CounterLimiter) Allow(ctx context.Context, key string) (bool, error) {
	if l.Counter == nil || l.Max <= 0 || l.Window <= 0 {
		return false, errors.New("admission: CounterLimiter needs Counter, Max and Window")
	}
	n, err := l.Counter.Hit(ctx, l.Name+":"+key, l.Window)
	if err != nil {
		return false, err
	}
	return n <= int64(l.Max), nil
}
