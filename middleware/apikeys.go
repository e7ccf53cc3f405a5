package middleware

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ssokit/ssokit/store"
)

// DefaultAPIKeyPrefix starts every API key: <prefix>_live_<random>.
const DefaultAPIKeyPrefix = "ssk"

// APIKeys creates and checks agent API keys. Keys are shown once; only a
// SHA-256 hash is stored (keys carry 190 bits of randomness, so a fast hash
// is the right one). Last use is recorded in memory and written in batches
// by Flush, not once per request.
type APIKeys struct {
	store  store.APIKeys
	prefix string
	now    func() time.Time

	mu      sync.Mutex
	pending map[string]time.Time

	cacheMu sync.RWMutex
	cache   map[string]*keyEntry // by the presented key
}

// keyEntry remembers a key that passed every check at a store version, so
// the next request with it costs a map lookup. The map is keyed by the
// presented string: Go's maps hash with a per-process seed and compare the
// whole key, so a lookup leaks nothing an attacker could use.
type keyEntry struct {
	p       *Principal
	expires int64 // unix nanoseconds; 0: never
	checked atomic.Uint64
	used    atomic.Int64
	flushed atomic.Int64
}

const maxKeyCache = 10_000

func (a *APIKeys) cached(presented string) *keyEntry {
	a.cacheMu.RLock()
	e := a.cache[presented]
	a.cacheMu.RUnlock()
	return e
}

func (a *APIKeys) remember(presented string, e *keyEntry) {
	a.cacheMu.Lock()
	if len(a.cache) >= maxKeyCache {
		for k := range a.cache {
			delete(a.cache, k)
			if len(a.cache) < maxKeyCache*7/8 {
				break
			}
		}
	}
	a.cache[presented] = e
	a.cacheMu.Unlock()
}

// NewAPIKeys returns the key manager; prefix "" means DefaultAPIKeyPrefix.
func NewAPIKeys(s store.APIKeys, prefix string, now func() time.Time) *APIKeys {
	if prefix == "" {
		prefix = DefaultAPIKeyPrefix
	}
	if now == nil {
		now = time.Now
	}
	return &APIKeys{store: s, prefix: prefix, now: now, pending: map[string]time.Time{}, cache: map[string]*keyEntry{}}
}

const keyAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

func randomKey(n int) string {
	b := make([]byte, n)
	max := big.NewInt(int64(len(keyAlphabet)))
	for i := range b {
		v, _ := rand.Int(rand.Reader, max)
		b[i] = keyAlphabet[v.Int64()]
	}
	return string(b)
}

func hashKey(k string) string {
	s := sha256.Sum256([]byte(k))
	return hex.EncodeToString(s[:])
}

// Looks reports whether s has this manager's key shape.
func (a *APIKeys) Looks(s string) bool { return strings.HasPrefix(s, a.prefix+"_live_") }

// Create makes a key for an organization with a role and an optional
// expiry; the plaintext is returned once.
func (a *APIKeys) Create(ctx context.Context, orgID, name, role string, expires time.Time) (string, store.APIKey, error) {
	plain := a.prefix + "_live_" + randomKey(32)
	k := store.APIKey{ID: "key_" + randomKey(16), OrgID: orgID, Name: name, Role: role, Prefix: plain[:len(a.prefix)+10],
		Hash: hashKey(plain), Expires: expires}
	if err := a.store.CreateAPIKey(ctx, k); err != nil {
		return "", store.APIKey{}, err
	}
	k.Created = a.now()
	return plain, k, nil
}

// Verify finds the key and refuses it when unknown, revoked or expired.
// The organization's disable_api_key_auth is checked by the caller.
func (a *APIKeys) Verify(ctx context.Context, presented string) (store.APIKey, error) {
	if !a.Looks(presented) || len(presented) > 200 {
		return store.APIKey{}, invalid(ReasonMalformed, "not an API key")
	}
	k, err := a.store.APIKeyByHash(ctx, hashKey(presented))
	switch {
	case errors.Is(err, store.ErrNotFound):
		return store.APIKey{}, invalid(ReasonSignature, "unknown API key")
	case err != nil:
		return store.APIKey{}, &TokenError{Reason: ReasonKeysUnavailable, Detail: err.Error(), Err: ErrUpstream}
	case k.Revoked:
		return store.APIKey{}, unauthorized(CodeSessionRevoked, "API key %s is revoked", k.ID)
	case !k.Expires.IsZero() && !a.now().Before(k.Expires):
		return store.APIKey{}, &TokenError{Reason: ReasonExpired, Detail: "API key expired", Err: ErrExpired}
	}
	a.mu.Lock()
	a.pending[k.ID] = a.now()
	a.mu.Unlock()
	return k, nil
}

// Flush writes the pending last-use times in one store call.
func (a *APIKeys) Flush(ctx context.Context) error {
	a.mu.Lock()
	p := a.pending
	a.pending = map[string]time.Time{}
	a.mu.Unlock()
	a.cacheMu.RLock()
	for _, e := range a.cache {
		if u := e.used.Load(); u > e.flushed.Load() {
			e.flushed.Store(u)
			if t := time.Unix(0, u); t.After(p[e.p.APIKeyID]) {
				p[e.p.APIKeyID] = t
			}
		}
	}
	a.cacheMu.RUnlock()
	if len(p) == 0 {
		return nil
	}
	if err := a.store.TouchAPIKeys(ctx, p); err != nil {
		return fmt.Errorf("ssokit: recording API key use: %w", err)
	}
	return nil
}

// RunFlusher flushes every interval until ctx ends.
func (a *APIKeys) RunFlusher(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			_ = a.Flush(context.WithoutCancel(ctx))
			return
		case <-t.C:
			_ = a.Flush(ctx)
		}
	}
}
