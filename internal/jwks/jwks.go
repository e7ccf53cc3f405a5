package jwks

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// ErrUnknownKey means the key ID is not in the key set, even after a
// refresh (or within the interval after one).
var ErrUnknownKey = errors.New("jwks: unknown key ID")

// ErrUnavailable means the key set could not be fetched and the key ID is
// not among those already known.
var ErrUnavailable = errors.New("jwks: key set unavailable")

// Fetcher fetches the whole key set, by key ID.
type Fetcher func(ctx context.Context) (map[string]crypto.PublicKey, error)

// Cache is a key set with its refresh policy. Set the fields, then use it;
// it is safe for concurrent use. Fetch is required; the other fields have
// the zero-value meanings given below.
type Cache struct {
	// Fetch fetches the whole set (HTTPFetcher, or a fixed set in tests).
	Fetch Fetcher
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// TTL is how long a fetched set is trusted; at least Interval.
	TTL time.Duration
	// Interval is the least time between two fetches: lookups of unknown
	// key IDs within it share the last answer.
	Interval time.Duration
	// Timeout bounds one fetch; zero means 5 seconds.
	Timeout time.Duration
	// Logger receives failed refreshes; nil means silent.
	Logger *slog.Logger

	snap atomic.Pointer[snapshot]

	mu          sync.Mutex
	inflight    *flight
	lastAttempt time.Time
	lastErr     error

	fetches, failures atomic.Uint64
}

type snapshot struct {
	keys    map[string]crypto.PublicKey
	fetched time.Time
}

type flight struct {
	done chan struct{}
	err  error
}

func (c *Cache) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Cache) ttl() time.Duration { return max(c.TTL, c.Interval) }

// Key returns the key for kid. A known kid within the TTL takes no lock.
func (c *Cache) Key(ctx context.Context, kid string) (crypto.PublicKey, error) {
	if s := c.snap.Load(); s != nil {
		if k, ok := s.keys[kid]; ok && c.now().Sub(s.fetched) < c.ttl() {
			return k, nil
		}
	}
	return c.slow(ctx, kid)
}

func (c *Cache) slow(ctx context.Context, kid string) (crypto.PublicKey, error) {
	c.mu.Lock()
	now := c.now()
	s := c.snap.Load()
	var stale crypto.PublicKey
	if s != nil {
		if k, ok := s.keys[kid]; ok {
			if now.Sub(s.fetched) < c.ttl() {
				c.mu.Unlock()
				return k, nil
			}
			stale = k
		}
	}
	f := c.inflight
	if f == nil {
		if !c.lastAttempt.IsZero() && now.Sub(c.lastAttempt) < c.Interval {
			lastErr := c.lastErr
			c.mu.Unlock()
			if stale != nil {
				return stale, nil // known, and refreshed (or tried) within the interval
			}
			return nil, answer(kid, lastErr)
		}
		f = &flight{done: make(chan struct{})}
		c.inflight = f
		c.lastAttempt = now
		c.mu.Unlock()
		c.run(ctx, f)
	} else {
		c.mu.Unlock()
	}
	select {
	case <-f.done:
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: waiting for the key set: %v", ErrUnavailable, ctx.Err())
	}
	if f.err == nil {
		if k, ok := c.snap.Load().keys[kid]; ok {
			return k, nil
		}
	} else if stale != nil {
		return stale, nil // keep serving known keys while the set is down
	}
	return nil, answer(kid, f.err)
}

func answer(kid string, fetchErr error) error {
	if fetchErr != nil {
		return fmt.Errorf("%w: kid %q: %v", ErrUnavailable, kid, fetchErr)
	}
	return fmt.Errorf("%w: %q", ErrUnknownKey, kid)
}

// run fetches for every waiter, without the caller's cancellation so one
// impatient client cannot fail the others.
func (c *Cache) run(ctx context.Context, f *flight) {
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	keys, err := c.Fetch(fctx)
	cancel()
	c.fetches.Add(1)
	if err != nil {
		c.failures.Add(1)
	}
	c.mu.Lock()
	if err == nil {
		c.snap.Store(&snapshot{keys: keys, fetched: c.now()})
		c.lastErr = nil
	} else {
		c.lastErr = err
		if c.Logger != nil {
			c.Logger.Warn("jwks: key set refresh failed; known keys stay in use", "err", err)
		}
	}
	f.err = err
	c.inflight = nil
	c.mu.Unlock()
	close(f.done)
}

// Stats returns how many times the set was fetched and how many of those
// fetches failed, since the cache was made.
func (c *Cache) Stats() (fetches, failures uint64) {
	return c.fetches.Load(), c.failures.Load()
}

// MaxKeys bounds the keys taken from one set.
const MaxKeys = 64

// MaxBody bounds a key set document, in bytes.
const MaxBody = 1 << 20

// HTTPFetcher returns a Fetcher that GETs url with client and parses the
// answer with Parse and accept. Anything but 200, and a body larger than
// MaxBody, is an error (read no further than MaxBody+1 bytes).
func HTTPFetcher(client *http.Client, url string, accept func(alg string, key crypto.PublicKey) bool) Fetcher {
	return func(ctx context.Context) (map[string]crypto.PublicKey, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return nil, fmt.Errorf("jwks: %w", err)
		}
		req.Header.Set("Accept", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return nil, fmt.Errorf("jwks: %w", err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("jwks: GET %s: status %d", url, resp.StatusCode)
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, MaxBody+1))
		if err != nil {
			return nil, fmt.Errorf("jwks: reading %s: %w", url, err)
		}
		return Parse(body, accept)
	}
}

// Parse reads a JWKS document, keeping the signing keys that accept allows
// (by alg, which may be empty, and key) and indexing them by kid. Keys that
// do not decode are skipped; a set with no usable key is an error.
func Parse(body []byte, accept func(alg string, key crypto.PublicKey) bool) (map[string]crypto.PublicKey, error) {
	if len(body) > MaxBody {
		return nil, fmt.Errorf("jwks: the key set is larger than %d bytes", MaxBody)
	}
	var raw struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, fmt.Errorf("jwks: the key set is not JSON: %w", err)
	}
	out := map[string]crypto.PublicKey{}
	for _, r := range raw.Keys {
		var k jose.JSONWebKey
		if k.UnmarshalJSON(r) != nil || k.KeyID == "" || (k.Use != "" && k.Use != "sig") || !k.IsPublic() {
			continue
		}
		switch k.Key.(type) {
		case *rsa.PublicKey, *ecdsa.PublicKey:
		default:
			continue
		}
		if accept != nil && !accept(k.Algorithm, k.Key) {
			continue
		}
		out[k.KeyID] = k.Key
		if len(out) == MaxKeys {
			break
		}
	}
	if len(out) == 0 {
		return nil, errors.New("jwks: the key set has no usable signing key")
	}
	return out, nil
}
