package middleware

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/clerk/clerk-sdk-go/v2"
	"github.com/clerk/clerk-sdk-go/v2/jwks"
)

// RSA modulus sizes accepted for RS256 keys. Smaller keys are weak; larger
// ones turn every verification into a denial-of-service lever.
const (
	minRSABits  = 2048
	maxRSABits  = 4096
	maxJWKSKeys = 64
)

// keySource finds the verification key for a kid.
type keySource interface {
	key(ctx context.Context, kid string) (*rsa.PublicKey, error)
}

// staticKey is the networkless source: one PEM public key verifies tokens
// whatever their kid.
type staticKey struct{ pub *rsa.PublicKey }

func (s staticKey) key(context.Context, string) (*rsa.PublicKey, error) { return s.pub, nil }

// parsePublicKeyPEM reads an RSA public key in PKIX PEM form. Clerk's
// dashboard shows the "JWT public key" both with and without the PEM armour;
// both are accepted.
func parsePublicKeyPEM(s string) (*rsa.PublicKey, error) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "-----BEGIN") {
		s = "-----BEGIN PUBLIC KEY-----\n" + s + "\n-----END PUBLIC KEY-----"
	}
	block, _ := pem.Decode([]byte(s))
	if block == nil {
		return nil, errors.New("not a PEM block")
	}
	if block.Type != "PUBLIC KEY" {
		return nil, fmt.Errorf("PEM block is %q, want PUBLIC KEY", block.Type)
	}
	k, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, err
	}
	pub, ok := k.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("public key is %T, want RSA", k)
	}
	if err := checkRSAKey(pub); err != nil {
		return nil, err
	}
	return pub, nil
}

func checkRSAKey(pub *rsa.PublicKey) error {
	if n := pub.N.BitLen(); n < minRSABits || n > maxRSABits {
		return fmt.Errorf("RSA key has %d bits, want %d to %d", n, minRSABits, maxRSABits)
	}
	if pub.E < 3 || pub.E%2 == 0 {
		return fmt.Errorf("RSA public exponent %d is not usable", pub.E)
	}
	return nil
}

// keySnapshot is an immutable view of the key set, swapped atomically.
type keySnapshot struct {
	keys    map[string]*rsa.PublicKey
	fetched time.Time
}

// flight is one JWKS fetch in progress; waiters block on done.
type flight struct {
	done chan struct{}
	err  error
}

// remoteKeys caches a JWKS per verifier. Lookups of a known kid within the
// TTL take no lock. A kid that is unknown, or known but past the TTL, starts
// a refresh, at most one per refresh interval and one at a time (every
// concurrent caller waits for the same fetch). When a refresh fails, known
// keys keep verifying and unknown ones are refused with ErrUpstream.
type remoteKeys struct {
	fetch    func(ctx context.Context) (map[string]*rsa.PublicKey, error)
	now      func() time.Time
	ttl      time.Duration
	interval time.Duration
	timeout  time.Duration
	log      *slog.Logger

	snap atomic.Pointer[keySnapshot]

	mu          sync.Mutex
	inflight    *flight
	lastAttempt time.Time
	lastErr     error
}

func (k *remoteKeys) key(ctx context.Context, kid string) (*rsa.PublicKey, error) {
	if s := k.snap.Load(); s != nil {
		if pub, ok := s.keys[kid]; ok && k.now().Sub(s.fetched) < k.ttl {
			return pub, nil
		}
	}
	return k.slow(ctx, kid)
}

func (k *remoteKeys) slow(ctx context.Context, kid string) (*rsa.PublicKey, error) {
	k.mu.Lock()
	now := k.now()
	s := k.snap.Load()
	var stale *rsa.PublicKey
	if s != nil {
		if pub, ok := s.keys[kid]; ok {
			if now.Sub(s.fetched) < k.ttl {
				k.mu.Unlock()
				return pub, nil
			}
			stale = pub
		}
	}
	f := k.inflight
	if f == nil {
		if !k.lastAttempt.IsZero() && now.Sub(k.lastAttempt) < k.interval {
			lastErr := k.lastErr
			k.mu.Unlock()
			if stale != nil {
				// Known, and refreshed (or tried) within the interval.
				return stale, nil
			}
			return k.answer(kid, nil, lastErr)
		}
		f = &flight{done: make(chan struct{})}
		k.inflight = f
		k.lastAttempt = now
		k.mu.Unlock()
		k.run(ctx, f)
	} else {
		k.mu.Unlock()
	}
	select {
	case <-f.done:
	case <-ctx.Done():
		return nil, &TokenError{Reason: ReasonKeysUnavailable, Detail: "waiting for JWKS: " + ctx.Err().Error(), Err: ErrUpstream}
	}
	if s := k.snap.Load(); s != nil && f.err == nil {
		if pub, ok := s.keys[kid]; ok {
			return pub, nil
		}
	}
	return k.answer(kid, stale, f.err)
}

// answer decides for a kid not found in a fresh key set.
func (k *remoteKeys) answer(kid string, stale *rsa.PublicKey, fetchErr error) (*rsa.PublicKey, error) {
	if fetchErr != nil {
		if stale != nil {
			return stale, nil // keep serving known keys while JWKS is down
		}
		return nil, &TokenError{Reason: ReasonKeysUnavailable, Detail: fmt.Sprintf("kid %q: %v", kid, fetchErr), Err: ErrUpstream}
	}
	return nil, invalidf(ReasonUnknownKeyID, "kid %q is not in the key set", kid)
}

// run performs one fetch on behalf of every waiter. It does not use the
// caller's cancellation, so one impatient client cannot fail the others.
func (k *remoteKeys) run(ctx context.Context, f *flight) {
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), k.timeout)
	keys, err := k.fetch(fctx)
	cancel()
	k.mu.Lock()
	if err == nil {
		k.snap.Store(&keySnapshot{keys: keys, fetched: k.now()})
		k.lastErr = nil
	} else {
		k.lastErr = err
		k.log.Warn("ssokit: JWKS refresh failed; known keys stay in use", "err", err)
	}
	f.err = err
	k.inflight = nil
	k.mu.Unlock()
	close(f.done)
}

// usableKeys keeps the RSA signing keys fit for RS256 and indexes them by kid.
func usableKeys(set []*clerk.JSONWebKey) (map[string]*rsa.PublicKey, error) {
	out := make(map[string]*rsa.PublicKey, len(set))
	for _, k := range set {
		if k == nil || k.KeyID == "" || (k.Use != "" && k.Use != "sig") || (k.Algorithm != "" && k.Algorithm != "RS256") {
			continue
		}
		pub, ok := k.Key.(*rsa.PublicKey)
		if !ok || checkRSAKey(pub) != nil {
			continue
		}
		out[k.KeyID] = pub
		if len(out) == maxJWKSKeys {
			break
		}
	}
	if len(out) == 0 {
		return nil, errors.New("JWKS has no usable RS256 signing key")
	}
	return out, nil
}

// backendJWKS fetches the key set through the Clerk Backend API with the
// secret key, using the SDK's own client.
func backendJWKS(client *http.Client, apiURL, secretKey string) func(context.Context) (map[string]*rsa.PublicKey, error) {
	c := jwks.NewClient(&clerk.ClientConfig{BackendConfig: clerk.BackendConfig{
		HTTPClient: client, URL: &apiURL, Key: &secretKey,
	}})
	return func(ctx context.Context) (map[string]*rsa.PublicKey, error) {
		set, err := c.Get(ctx, &jwks.GetParams{})
		if err != nil {
			return nil, fmt.Errorf("GET %s/jwks: %w", apiURL, err)
		}
		return usableKeys(set.Keys)
	}
}

// frontendJWKS fetches the public key set from a JWKS URL (the Frontend API's
// /.well-known/jwks.json). Keys that do not decode are skipped, not fatal.
func frontendJWKS(client *http.Client, url string) func(context.Context) (map[string]*rsa.PublicKey, error) {
	return func(ctx context.Context) (map[string]*rsa.PublicKey, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Accept", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return nil, fmt.Errorf("GET %s: %w", url, err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return nil, fmt.Errorf("GET %s: %w", url, err)
		}
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("GET %s: status %d", url, resp.StatusCode)
		}
		var raw struct {
			Keys []json.RawMessage `json:"keys"`
		}
		if err := json.Unmarshal(body, &raw); err != nil {
			return nil, fmt.Errorf("GET %s: %w", url, err)
		}
		set := make([]*clerk.JSONWebKey, 0, len(raw.Keys))
		for _, r := range raw.Keys {
			k := new(clerk.JSONWebKey)
			if k.UnmarshalJSON(r) == nil {
				set = append(set, k)
			}
		}
		return usableKeys(set)
	}
}

// limitTransport bounds every response body read through it.
type limitTransport struct {
	base http.RoundTripper
	max  int64
}

func (t limitTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	resp.Body = &limitedBody{rc: resp.Body, left: t.max}
	return resp, nil
}

type limitedBody struct {
	rc   io.ReadCloser
	left int64
}

var errBodyTooLarge = errors.New("response body exceeds the size limit")

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// Probe one byte to tell "exactly at the limit" from "over it".
		var one [1]byte
		n, err := b.rc.Read(one[:])
		if n > 0 {
			return 0, errBodyTooLarge
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *limitedBody) Close() error { return b.rc.Close() }

// boundedClient returns a copy of c whose response bodies are limited.
func boundedClient(c *http.Client, max int64) *http.Client {
	if c == nil {
		c = &http.Client{}
	}
	cp := *c
	base := cp.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	cp.Transport = limitTransport{base: base, max: max}
	return &cp
}
