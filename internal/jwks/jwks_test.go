package jwks

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
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

// fakeSet is a key set endpoint whose keys and failure the test controls,
// counting fetches.
type fakeSet struct {
	mu      sync.Mutex
	keys    map[string]crypto.PublicKey
	fail    error
	fetches atomic.Int64
}

func (f *fakeSet) fetch(context.Context) (map[string]crypto.PublicKey, error) {
	f.fetches.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return nil, f.fail
	}
	out := make(map[string]crypto.PublicKey, len(f.keys))
	for k, v := range f.keys {
		out[k] = v
	}
	return out, nil
}

func (f *fakeSet) set(keys map[string]crypto.PublicKey, fail error) {
	f.mu.Lock()
	f.keys, f.fail = keys, fail
	f.mu.Unlock()
}

func newKey(t testing.TB) crypto.PublicKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &k.PublicKey
}

func newCache(f *fakeSet, clk *clock) *Cache {
	return &Cache{Fetch: f.fetch, Now: clk.now, TTL: time.Hour, Interval: time.Minute}
}

// TestSingleFlight: N concurrent lookups of a cold cache share one fetch,
// and every one gets the key.
func TestSingleFlight(t *testing.T) {
	t.Parallel()
	clk := &clock{t: time.Unix(1_900_000_000, 0)}
	key := newKey(t)
	release := make(chan struct{})
	var fetches atomic.Int64
	c := &Cache{Now: clk.now, TTL: time.Hour, Interval: time.Minute, Fetch: func(context.Context) (map[string]crypto.PublicKey, error) {
		fetches.Add(1)
		<-release // held until every caller is waiting
		return map[string]crypto.PublicKey{"k1": key}, nil
	}}
	const n = 50
	var started sync.WaitGroup
	var wg sync.WaitGroup
	errs := make(chan error, n)
	started.Add(n)
	for range n {
		wg.Go(func() {
			started.Done()
			k, err := c.Key(context.Background(), "k1")
			if err == nil && k != key {
				err = errors.New("wrong key")
			}
			errs <- err
		})
	}
	started.Wait()
	for fetches.Load() == 0 {
		runtime.Gosched()
	}
	for range 1000 { // let the other callers reach the in-flight fetch
		runtime.Gosched()
	}
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if got := fetches.Load(); got != 1 {
		t.Fatalf("%d concurrent cold lookups made %d fetches, want 1", n, got)
	}
}

// TestRateLimit: a thousand unknown key IDs within the interval cause at
// most one refetch; after the interval, one more.
func TestRateLimit(t *testing.T) {
	t.Parallel()
	clk := &clock{t: time.Unix(1_900_000_000, 0)}
	f := &fakeSet{keys: map[string]crypto.PublicKey{"k1": newKey(t)}}
	c := newCache(f, clk)
	if _, err := c.Key(context.Background(), "k1"); err != nil {
		t.Fatal(err)
	}
	clk.add(2 * time.Minute) // the first unknown kid may refetch once
	for i := range 1000 {
		if _, err := c.Key(context.Background(), fmt.Sprintf("unknown-%d", i)); !errors.Is(err, ErrUnknownKey) {
			t.Fatalf("unknown kid %d: %v", i, err)
		}
	}
	if got := f.fetches.Load(); got != 2 {
		t.Fatalf("1000 unknown kids: %d fetches in all, want 2 (the first and one refetch)", got)
	}
	// A key published meanwhile is found at the next interval, not before.
	f.set(map[string]crypto.PublicKey{"k1": newKey(t), "k2": newKey(t)}, nil)
	if _, err := c.Key(context.Background(), "k2"); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("k2 within the interval: %v", err)
	}
	clk.add(time.Minute)
	if _, err := c.Key(context.Background(), "k2"); err != nil {
		t.Fatalf("k2 after the interval: %v", err)
	}
	if got := f.fetches.Load(); got != 3 {
		t.Fatalf("%d fetches, want 3", got)
	}
	// A known key within the TTL never fetches.
	for range 100 {
		if _, err := c.Key(context.Background(), "k1"); err != nil {
			t.Fatal(err)
		}
	}
	if got := f.fetches.Load(); got != 3 {
		t.Fatalf("known keys fetched: %d fetches", got)
	}
}

// TestStaleKeysDuringOutage: past the TTL with the set down, known keys
// keep verifying; unknown ones are ErrUnavailable; the set is retried at
// most once per interval, and its return is picked up.
func TestStaleKeysDuringOutage(t *testing.T) {
	t.Parallel()
	clk := &clock{t: time.Unix(1_900_000_000, 0)}
	k1 := newKey(t)
	f := &fakeSet{keys: map[string]crypto.PublicKey{"k1": k1}}
	c := newCache(f, clk)
	if _, err := c.Key(context.Background(), "k1"); err != nil {
		t.Fatal(err)
	}
	f.set(nil, errors.New("503"))
	clk.add(2 * time.Hour) // past the TTL
	for range 10 {
		if k, err := c.Key(context.Background(), "k1"); err != nil || k != k1 {
			t.Fatalf("known key during the outage: %v", err)
		}
	}
	if _, err := c.Key(context.Background(), "k9"); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("unknown key during the outage: %v", err)
	}
	if got := f.fetches.Load(); got != 2 {
		t.Fatalf("%d fetches during one interval of outage, want 2", got)
	}
	if fetches, failures := c.Stats(); fetches != 2 || failures != 1 {
		t.Fatalf("Stats: %d fetches, %d failures; want 2 and 1", fetches, failures)
	}
	k2 := newKey(t)
	f.set(map[string]crypto.PublicKey{"k2": k2}, nil)
	clk.add(time.Minute)
	if k, err := c.Key(context.Background(), "k2"); err != nil || k != k2 {
		t.Fatalf("after the outage: %v", err)
	}
}

// TestTTL: a known key is refetched once the TTL has passed, and a key the
// set no longer publishes is then refused.
func TestTTL(t *testing.T) {
	t.Parallel()
	clk := &clock{t: time.Unix(1_900_000_000, 0)}
	f := &fakeSet{keys: map[string]crypto.PublicKey{"k1": newKey(t)}}
	c := newCache(f, clk)
	if _, err := c.Key(context.Background(), "k1"); err != nil {
		t.Fatal(err)
	}
	f.set(map[string]crypto.PublicKey{"k2": newKey(t)}, nil)
	clk.add(59 * time.Minute)
	if _, err := c.Key(context.Background(), "k1"); err != nil {
		t.Fatalf("within the TTL: %v", err)
	}
	clk.add(2 * time.Minute)
	if _, err := c.Key(context.Background(), "k1"); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("a withdrawn key after the TTL: %v", err)
	}
}

func jwksDoc(t testing.TB, n int) []byte {
	t.Helper()
	set := jose.JSONWebKeySet{}
	for i := range n {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: newKey(t), KeyID: fmt.Sprintf("k%d", i), Algorithm: "ES256", Use: "sig"})
	}
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestHTTPFetcherBoundedBody: a key set over MaxBody is refused, whether
// fetched or handed to Parse; a normal one is read.
func TestHTTPFetcherBoundedBody(t *testing.T) {
	t.Parallel()
	good := jwksDoc(t, 2)
	huge := append(append([]byte(`{"pad":"`), strings.Repeat("x", MaxBody)...), append([]byte(`",`), good[1:]...)...)
	var served atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/good":
			w.Write(good)
		case "/huge":
			n, _ := w.Write(huge)
			served.Add(int64(n))
		default:
			http.Error(w, "down", http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(srv.Close)
	ctx := context.Background()
	keys, err := HTTPFetcher(srv.Client(), srv.URL+"/good", nil)(ctx)
	if err != nil || len(keys) != 2 {
		t.Fatalf("good set: %d keys, %v", len(keys), err)
	}
	if _, err := HTTPFetcher(srv.Client(), srv.URL+"/huge", nil)(ctx); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("oversized set: %v", err)
	}
	if _, err := HTTPFetcher(srv.Client(), srv.URL+"/down", nil)(ctx); err == nil || !strings.Contains(err.Error(), "503") {
		t.Fatalf("a 503: %v", err)
	}
	if _, err := Parse(huge, nil); err == nil {
		t.Fatal("Parse accepted an oversized set")
	}
}

func TestParse(t *testing.T) {
	t.Parallel()
	keys, err := Parse(jwksDoc(t, MaxKeys+10), nil)
	if err != nil || len(keys) != MaxKeys {
		t.Fatalf("%d keys (bound %d), %v", len(keys), MaxKeys, err)
	}
	for name, doc := range map[string]string{
		"not JSON":   `{"keys":`,
		"no keys":    `{"keys":[]}`,
		"no kid":     `{"keys":[{"kty":"EC","crv":"P-256","x":"` + strings.Repeat("A", 43) + `","y":"` + strings.Repeat("A", 43) + `"}]}`,
		"symmetric":  `{"keys":[{"kty":"oct","kid":"s","k":"c2VjcmV0"}]}`,
		"encryption": strings.Replace(string(jwksDoc(t, 1)), `"use":"sig"`, `"use":"enc"`, 1),
	} {
		if keys, err := Parse([]byte(doc), nil); err == nil {
			t.Errorf("%s: accepted %v", name, keys)
		}
	}
	// accept filters by algorithm.
	if _, err := Parse(jwksDoc(t, 1), func(alg string, _ crypto.PublicKey) bool { return alg == "RS256" }); err == nil {
		t.Error("an ES256 key passed an RS256-only filter")
	}
}

// FuzzParseJWKS: Parse never panics, and whatever it returns is a bounded
// set of public signing keys, each under a non-empty kid.
func FuzzParseJWKS(f *testing.F) {
	f.Add(jwksDoc(f, 1))
	f.Add([]byte(`{"keys":[{"kty":"RSA","kid":"a","n":"AQAB","e":"AQAB"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"EC","kid":"a","crv":"P-256","x":"","y":""}]}`))
	f.Add([]byte(`{"keys":[{"kty":"oct","kid":"s","k":"c2VjcmV0"}],"keys":null}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		keys, err := Parse(body, nil)
		if err != nil {
			if keys != nil {
				t.Fatal("keys with an error")
			}
			return
		}
		if len(keys) == 0 || len(keys) > MaxKeys {
			t.Fatalf("%d keys", len(keys))
		}
		for kid, k := range keys {
			if kid == "" {
				t.Fatal("a key without kid")
			}
			switch k.(type) {
			case *ecdsa.PublicKey:
			default:
				if _, ok := k.(interface{ Size() int }); !ok {
					t.Fatalf("key of type %T", k)
				}
			}
		}
	})
}
