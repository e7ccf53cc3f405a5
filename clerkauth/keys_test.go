package clerkauth

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ssokit/ssokit/ssoerr"
)

func noCache(c *Config) { c.DisableTokenCache = true }

func TestKeyRotation(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "kid_a", noCache)
	clk, keys, srv, v := f.clk, f.keys, f.srv, f.v
	ctx := context.Background()
	if _, err := v.Verify(ctx, mint(t, keys[0], hdr("kid_a"), v1Claims(clk.Now()))); err != nil {
		t.Fatal(err)
	}
	// Clerk rotates: the set now holds the new key beside the old one.
	srv.Set(map[string]*rsa.PublicKey{"kid_a": &keys[0].PublicKey, "kid_b": &keys[1].PublicKey})
	clk.Advance(DefaultRefreshInterval)
	if _, err := v.Verify(ctx, mint(t, keys[1], hdr("kid_b"), v1Claims(clk.Now()))); err != nil {
		t.Fatalf("new kid after rotation: %v", err)
	}
	if _, err := v.Verify(ctx, mint(t, keys[0], hdr("kid_a"), v1Claims(clk.Now()))); err != nil {
		t.Fatalf("old kid still published: %v", err)
	}
	if n := srv.Fetches.Load(); n != 2 {
		t.Fatalf("fetches = %d, want 2 (initial + one for the new kid)", n)
	}
}

// TestKeyReplacedUnderSameKid: when the set publishes another key under a
// kid already known, the refreshed set's key, prepared anew, is the one
// that verifies; the old key's tokens stop verifying.
func TestKeyReplacedUnderSameKid(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "kid_a", noCache)
	clk, keys, srv, v := f.clk, f.keys, f.srv, f.v
	ctx := context.Background()
	if _, err := v.Verify(ctx, mint(t, keys[0], hdr("kid_a"), v1Claims(clk.Now()))); err != nil {
		t.Fatal(err)
	}
	srv.Set(map[string]*rsa.PublicKey{"kid_a": &keys[1].PublicKey})
	clk.Advance(DefaultKeyTTL)
	if _, err := v.Verify(ctx, mint(t, keys[1], hdr("kid_a"), v1Claims(clk.Now()))); err != nil {
		t.Fatalf("the new key under the same kid: %v", err)
	}
	_, err := v.Verify(ctx, mint(t, keys[0], hdr("kid_a"), v1Claims(clk.Now())))
	wantReason(t, err, ssoerr.ErrInvalidToken, ssoerr.ReasonSignature)
	if n := srv.Fetches.Load(); n != 2 {
		t.Fatalf("fetches = %d, want 2", n)
	}
}

func TestKeyTTLNotExtendedByHits(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "kid_a", noCache)
	clk, keys, srv, v := f.clk, f.keys, f.srv, f.v
	ctx := context.Background()
	verify := func() error {
		return errOnly(v.Verify(ctx, mint(t, keys[0], hdr("kid_a"), v1Claims(clk.Now()))))
	}
	for range 6 { // hits every 10 minutes for 50 minutes
		if err := verify(); err != nil {
			t.Fatal(err)
		}
		clk.Advance(10 * time.Minute)
	}
	if n := srv.Fetches.Load(); n != 1 {
		t.Fatalf("fetches within the TTL = %d, want 1", n)
	}
	// Clerk drops kid_a. One hour after the fetch, hits or not, the set is
	// fetched again and the removed key stops verifying.
	srv.Set(map[string]*rsa.PublicKey{"kid_b": &keys[1].PublicKey})
	clk.Advance(10 * time.Minute)
	err := verify()
	wantReason(t, err, ssoerr.ErrInvalidToken, ssoerr.ReasonUnknownKeyID)
	if n := srv.Fetches.Load(); n != 2 {
		t.Fatalf("fetches = %d, want 2", n)
	}
}

func TestJWKSOutage(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "kid_a", noCache)
	clk, keys, srv, v := f.clk, f.keys, f.srv, f.v
	ctx := context.Background()
	known := func() string { return mint(t, keys[0], hdr("kid_a"), v1Claims(clk.Now())) }
	if _, err := v.Verify(ctx, known()); err != nil {
		t.Fatal(err)
	}
	srv.Down.Store(true)
	clk.Advance(2 * DefaultKeyTTL) // the cached set is stale: a refresh is due
	if _, err := v.Verify(ctx, known()); err != nil {
		t.Fatalf("known key during an outage: %v", err)
	}
	_, err := v.Verify(ctx, mint(t, keys[1], hdr("kid_new"), v1Claims(clk.Now())))
	wantReason(t, err, ssoerr.ErrUpstream, ssoerr.ReasonKeysUnavailable)
	if !errors.Is(err, ssoerr.ErrUpstream) {
		t.Fatalf("%v is not ErrUpstream", err)
	}
	if n := srv.Fetches.Load(); n != 2 {
		t.Fatalf("fetches = %d, want 2 (initial, one failed refresh)", n)
	}
	// Back up: after the interval an unknown kid is fetched again and, if
	// Clerk does not know it either, refused as invalid, not as an outage.
	srv.Down.Store(false)
	clk.Advance(DefaultRefreshInterval)
	_, err = v.Verify(ctx, mint(t, keys[1], hdr("kid_new"), v1Claims(clk.Now())))
	wantReason(t, err, ssoerr.ErrInvalidToken, ssoerr.ReasonUnknownKeyID)
}

func TestJWKSColdOutage(t *testing.T) {
	t.Parallel()
	clk := newClock()
	keys := testKeys()
	srv := newJWKSServer(t, map[string]*rsa.PublicKey{"kid_a": &keys[0].PublicKey})
	srv.Down.Store(true)
	v := newTestVerifier(t, clk, srv, noCache)
	_, err := v.Verify(context.Background(), mint(t, keys[0], hdr("kid_a"), v1Claims(clk.Now())))
	wantReason(t, err, ssoerr.ErrUpstream, ssoerr.ReasonKeysUnavailable)
}

func TestJWKSSlowFetchTimesOut(t *testing.T) {
	t.Parallel()
	clk := newClock()
	keys := testKeys()
	srv := newJWKSServer(t, map[string]*rsa.PublicKey{"kid_a": &keys[0].PublicKey})
	srv.Delay.Store(int64(5 * time.Second))
	v := newTestVerifier(t, clk, srv, func(c *Config) { c.FetchTimeout = 50 * time.Millisecond })
	_, err := v.Verify(context.Background(), mint(t, keys[0], hdr("kid_a"), v1Claims(clk.Now())))
	wantReason(t, err, ssoerr.ErrUpstream, ssoerr.ReasonKeysUnavailable)
}

func TestColdHerdMakesOneFetch(t *testing.T) {
	t.Parallel()
	clk := newClock()
	keys := testKeys()
	srv := newJWKSServer(t, map[string]*rsa.PublicKey{"kid_a": &keys[0].PublicKey})
	srv.Delay.Store(int64(200 * time.Millisecond)) // the herd arrives while the fetch is in flight
	v := newTestVerifier(t, clk, srv, noCache)
	tok := mint(t, keys[0], hdr("kid_a"), v1Claims(clk.Now()))
	const herd = 50
	start := make(chan struct{})
	errs := make(chan error, herd)
	var wg sync.WaitGroup
	for range herd {
		wg.Go(func() {
			<-start
			errs <- errOnly(v.Verify(context.Background(), tok))
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("a request of the herd was refused: %v", err)
		}
	}
	if n := srv.Fetches.Load(); n != 1 {
		t.Fatalf("fetches = %d, want 1", n)
	}
}

func TestForgedKidsAreRateLimited(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "kid_a", noCache)
	clk, keys, srv, v := f.clk, f.keys, f.srv, f.v
	ctx := context.Background()
	if _, err := v.Verify(ctx, mint(t, keys[0], hdr("kid_a"), v1Claims(clk.Now()))); err != nil {
		t.Fatal(err)
	}
	clk.Advance(DefaultRefreshInterval)
	// 1,000 requests with forged kids, 8 at a time, within one interval.
	forged := mint(t, keys[1], hdr("kid_forged_0"), v1Claims(clk.Now()))
	var wg sync.WaitGroup
	var mu sync.Mutex
	var wrong []error
	for w := range 8 {
		wg.Go(func() {
			for i := range 125 {
				tok := forged
				if i > 0 {
					tok = mint(t, keys[1], hdr(fmt.Sprintf("kid_forged_%d_%d", w, i)), v1Claims(clk.Now()))
				}
				_, err := v.Verify(ctx, tok)
				if ssoerr.ReasonOf(err) != ssoerr.ReasonUnknownKeyID || !errors.Is(err, ssoerr.ErrInvalidToken) {
					mu.Lock()
					wrong = append(wrong, err)
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if len(wrong) > 0 {
		t.Fatalf("%d forged tokens not refused as unknown kid, first: %v", len(wrong), wrong[0])
	}
	if n := srv.Fetches.Load(); n != 2 {
		t.Fatalf("fetches = %d, want 2 (initial + at most one for the forged kids)", n)
	}
	if st := v.Stats(); st.KeySetFetches != 2 || st.KeySetFetchFailures != 0 {
		t.Fatalf("Stats %+v, want 2 key set fetches and no failure", st)
	}
	// The known key keeps verifying meanwhile.
	if _, err := v.Verify(ctx, mint(t, keys[0], hdr("kid_a"), v1Claims(clk.Now()))); err != nil {
		t.Fatal(err)
	}
}

func TestBackendAPIJWKS(t *testing.T) {
	t.Parallel()
	clk := newClock()
	keys := testKeys()
	srv := newJWKSServer(t, map[string]*rsa.PublicKey{"kid_a": &keys[0].PublicKey})
	srv.Secret = "sk_test_right"
	mk := func(secret string) *Verifier {
		return newTestVerifier(t, clk, srv, func(c *Config) {
			c.JWKSURL, c.SecretKey, c.APIURL = "", secret, srv.URL+"/v1"
		})
	}
	tok := mint(t, keys[0], hdr("kid_a"), v1Claims(clk.Now()))
	if _, err := mk("sk_test_right").Verify(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	_, err := mk("sk_test_wrong").Verify(context.Background(), tok)
	wantReason(t, err, ssoerr.ErrUpstream, ssoerr.ReasonKeysUnavailable)
}

func TestFrontendJWKSDerivedFromIssuer(t *testing.T) {
	t.Parallel()
	clk := newClock()
	keys := testKeys()
	var paths []string
	var mu sync.Mutex
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	issuer := srv.URL + "/clerk"
	mux.HandleFunc("/clerk/.well-known/jwks.json", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths = append(paths, r.URL.Path)
		mu.Unlock()
		fmt.Fprintf(w, `{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","kid":"ed"},%s]}`,
			mustJSON(t, jwkJSON("kid_a", &keys[0].PublicKey)))
	})
	pk := "pk_test_" + strings.TrimRight(b64std(strings.TrimPrefix(issuer, "http://")+"$"), "=")
	v, err := New(Config{PublishableKey: pk, InsecureHTTPLoopback: true, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if v.Issuer() != issuer {
		t.Fatalf("issuer %q, want %q", v.Issuer(), issuer)
	}
	if _, err := v.Verify(context.Background(), mint(t, keys[0], hdr("kid_a"), with(v1Claims(clk.Now()), "iss", issuer))); err != nil {
		t.Fatal(err)
	}
	if len(paths) != 1 {
		t.Fatalf("JWKS fetched at %q", paths)
	}
}

func TestUnusableJWKS(t *testing.T) {
	t.Parallel()
	clk := newClock()
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]func(w http.ResponseWriter){
		"weak key": func(w http.ResponseWriter) {
			w.Write([]byte(`{"keys":[` + mustJSON(t, jwkJSON("kid_a", &weak.PublicKey)) + `]}`))
		},
		"not JSON":  func(w http.ResponseWriter) { w.Write([]byte(`<html>`)) },
		"empty set": func(w http.ResponseWriter) { w.Write([]byte(`{"keys":[]}`)) },
		"wrong alg": func(w http.ResponseWriter) {
			w.Write([]byte(`{"keys":[` + mustJSON(t, with(jwkJSON("kid_a", &testKeys()[0].PublicKey), "alg", "RS512")) + `]}`))
		},
		"encryption key": func(w http.ResponseWriter) {
			w.Write([]byte(`{"keys":[` + mustJSON(t, with(jwkJSON("kid_a", &testKeys()[0].PublicKey), "use", "enc")) + `]}`))
		},
		"oversized": func(w http.ResponseWriter) {
			w.Write([]byte(`{"keys":[` + mustJSON(t, jwkJSON("kid_a", &testKeys()[0].PublicKey)) + `],"pad":"`))
			w.Write([]byte(strings.Repeat("x", maxJWKSBytes)))
			w.Write([]byte(`"}`))
		},
	}
	for name, body := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { body(w) }))
			t.Cleanup(srv.Close)
			v, err := New(Config{Issuer: testIssuer, JWKSURL: srv.URL, InsecureHTTPLoopback: true, Now: clk.Now})
			if err != nil {
				t.Fatal(err)
			}
			_, err = v.Verify(context.Background(), mint(t, testKeys()[0], hdr("kid_a"), v1Claims(clk.Now())))
			wantReason(t, err, ssoerr.ErrUpstream, ssoerr.ReasonKeysUnavailable)
		})
	}
}

func TestWaitingCallerCanGiveUp(t *testing.T) {
	t.Parallel()
	clk := newClock()
	keys := testKeys()
	srv := newJWKSServer(t, map[string]*rsa.PublicKey{"kid_a": &keys[0].PublicKey})
	srv.Delay.Store(int64(300 * time.Millisecond))
	v := newTestVerifier(t, clk, srv, noCache)
	tok := mint(t, keys[0], hdr("kid_a"), v1Claims(clk.Now()))
	first := make(chan error, 1)
	go func() { first <- errOnly(v.Verify(context.Background(), tok)) }()
	// Wait until the first caller's fetch is in flight, then give up early.
	for srv.Fetches.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	_, err := v.Verify(ctx, tok)
	wantReason(t, err, ssoerr.ErrUpstream, ssoerr.ReasonKeysUnavailable)
	if err := <-first; err != nil {
		t.Fatalf("the fetching caller was refused: %v", err)
	}
}
