package apikey

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ssokit/ssokit/ssoerr"
	"github.com/ssokit/ssokit/store"
)

// DefaultPrefix starts every API key: <prefix>_live_<random>.
const DefaultPrefix = "ssk"

// maxKeyBytes refuses longer presented keys unread.
const maxKeyBytes = 200

// Config configures a Manager. Store is required.
type Config struct {
	// Store holds the keys (their hashes, never the keys).
	Store store.APIKeys
	// Prefix names the keys this manager makes and recognizes. Zero means
	// DefaultPrefix.
	Prefix string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Manager creates and checks agent API keys. A key is shown once, at
// creation; only its SHA-256 hash is stored (a key carries 190 bits of
// randomness, so a fast hash is the right one: there is nothing to guess).
// Last use is recorded in memory, lock-free, and written in batches by
// Flush rather than once per request.
type Manager struct {
	store  store.APIKeys
	prefix string
	now    func() time.Time
	used   sync.Map // key ID -> *atomic.Int64, unix nanoseconds of last use
	mu     sync.Mutex
	sent   map[string]int64 // key ID -> last use already written
}

// New validates cfg and returns a Manager.
func New(cfg Config) (*Manager, error) {
	if cfg.Store == nil {
		return nil, errors.New("apikey: Config needs a Store")
	}
	m := &Manager{store: cfg.Store, prefix: cfg.Prefix, now: cfg.Now, sent: map[string]int64{}}
	if m.prefix == "" {
		m.prefix = DefaultPrefix
	}
	if strings.ContainsAny(m.prefix, "_ \t") {
		return nil, fmt.Errorf("apikey: Prefix %q may not contain _ or spaces", m.prefix)
	}
	if m.now == nil {
		m.now = time.Now
	}
	return m, nil
}

const keyAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// randomKey draws n characters uniformly from keyAlphabet (62 symbols:
// bytes at or above 248 are redrawn so every symbol is equally likely).
func randomKey(n int) string {
	out := make([]byte, 0, n)
	buf := make([]byte, n)
	for len(out) < n {
		_, _ = rand.Read(buf)
		for _, b := range buf {
			if b < 248 && len(out) < n {
				out = append(out, keyAlphabet[b%62])
			}
		}
	}
	return string(out)
}

// Hash is the stored form of a presented key.
func Hash(key string) string {
	s := sha256.Sum256([]byte(key))
	return hex.EncodeToString(s[:])
}

// Looks reports whether s has this manager's key shape, so a Bearer token
// can be told from a JWT before any lookup.
func (m *Manager) Looks(s string) bool { return strings.HasPrefix(s, m.prefix+"_live_") }

// Create makes a key for an organization with a role and an optional
// expiry (zero: none). The plaintext is returned once and never stored.
func (m *Manager) Create(ctx context.Context, orgID, name, role string, expires time.Time) (string, store.APIKey, error) {
	plain := m.prefix + "_live_" + randomKey(32)
	k := store.APIKey{ID: "key_" + randomKey(16), OrgID: orgID, Name: name, Role: role, Prefix: plain[:len(m.prefix)+10],
		Hash: Hash(plain), Expires: store.Stamp(expires), Created: store.Stamp(m.now())}
	if err := m.store.CreateAPIKey(ctx, k); err != nil {
		return "", store.APIKey{}, ssoerr.Upstream(ssoerr.ReasonStore, err)
	}
	return plain, k, nil
}

// Verify finds the key and refuses it when malformed, unknown, revoked or
// expired, each with its own reason; a store failure is ErrUpstream. The
// organization's rules (disable_api_key_auth) are the caller's. A key that
// passes is recorded as used.
func (m *Manager) Verify(ctx context.Context, presented string) (store.APIKey, error) {
	if !m.Looks(presented) || len(presented) > maxKeyBytes {
		return store.APIKey{}, ssoerr.New(ssoerr.ErrInvalidToken, ssoerr.ReasonMalformed, "not an API key")
	}
	k, err := m.store.APIKeyByHash(ctx, Hash(presented))
	now := m.now()
	switch {
	case errors.Is(err, store.ErrNotFound):
		return store.APIKey{}, ssoerr.New(ssoerr.ErrInvalidToken, ssoerr.ReasonUnknownAPIKey, "unknown API key")
	case err != nil:
		return store.APIKey{}, ssoerr.Upstream(ssoerr.ReasonStore, err)
	case k.Revoked:
		return store.APIKey{}, ssoerr.Newf(ssoerr.ErrInvalidToken, ssoerr.ReasonAPIKeyRevoked, "API key %s is revoked", k.ID)
	case !k.Expires.IsZero() && !now.Before(k.Expires):
		return store.APIKey{}, ssoerr.Newf(ssoerr.ErrExpired, ssoerr.ReasonAPIKeyExpired, "API key %s expired", k.ID)
	}
	m.RecordUse(k.ID, now)
	return k, nil
}

// RecordUse notes that key id was used at t, for the next Flush. It takes
// no lock once the key has been seen: callers that answer a key from their
// own cache call it on every request.
func (m *Manager) RecordUse(id string, t time.Time) {
	v, ok := m.used.Load(id)
	if !ok {
		v, _ = m.used.LoadOrStore(id, new(atomic.Int64))
	}
	last := v.(*atomic.Int64)
	n := t.UnixNano()
	for {
		old := last.Load()
		if n <= old || last.CompareAndSwap(old, n) {
			return
		}
	}
}

// Flush writes the last-use times recorded since the previous Flush in one
// store call.
func (m *Manager) Flush(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	batch := map[string]time.Time{}
	m.used.Range(func(k, v any) bool {
		id, n := k.(string), v.(*atomic.Int64).Load()
		if n > m.sent[id] {
			batch[id] = time.Unix(0, n)
		}
		return true
	})
	if len(batch) == 0 {
		return nil
	}
	if err := m.store.TouchAPIKeys(ctx, batch); err != nil {
		return fmt.Errorf("apikey: recording key use: %w", err)
	}
	for id, t := range batch {
		m.sent[id] = t.UnixNano()
	}
	return nil
}

// Forget drops a key's pending use, once the key is revoked or deleted.
func (m *Manager) Forget(id string) {
	m.used.Delete(id)
	m.mu.Lock()
	delete(m.sent, id)
	m.mu.Unlock()
}

// RunFlusher flushes every interval until ctx ends, then once more.
func (m *Manager) RunFlusher(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			_ = m.Flush(context.WithoutCancel(ctx))
			return
		case <-t.C:
			_ = m.Flush(ctx)
		}
	}
}
