package apikey

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ssokit/ssokit/internal/clerktest"
	"github.com/ssokit/ssokit/ssoerr"
	"github.com/ssokit/ssokit/store"
)

func newManager(t testing.TB) (*Manager, *store.Memory, *clerktest.Clock) {
	t.Helper()
	clk := clerktest.NewClock()
	st, _ := store.NewMemory(store.MemoryConfig{Now: clk.Now})
	m, err := New(Config{Store: st, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	return m, st, clk
}

func TestCreateVerify(t *testing.T) {
	t.Parallel()
	m, st, clk := newManager(t)
	ctx := context.Background()
	plain, k, err := m.Create(ctx, "acme", "bot", "editor", clk.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(plain, "ssk_live_") || len(plain) != len("ssk_live_")+32 || !m.Looks(plain) {
		t.Fatalf("key %q", plain)
	}
	stored, _ := st.APIKeyByHash(ctx, Hash(plain))
	if stored.Hash == plain || strings.Contains(stored.Hash, plain[9:]) || stored.ID != k.ID {
		t.Fatalf("stored %+v", stored)
	}
	got, err := m.Verify(ctx, plain)
	if err != nil || got.ID != k.ID || got.Role != "editor" || got.OrgID != "acme" {
		t.Fatalf("verify: %v %+v", err, got)
	}
	other, _, _ := m.Create(ctx, "acme", "bot2", "viewer", time.Time{})
	if other == plain {
		t.Fatal("two keys alike")
	}
}

// Each refusal has its own reason: an unknown key is not a bad signature,
// a revoked key is not an unknown one.
func TestVerifyRefusals(t *testing.T) {
	t.Parallel()
	m, st, clk := newManager(t)
	ctx := context.Background()
	live, _, _ := m.Create(ctx, "acme", "live", "viewer", time.Time{})
	revoked, rk, _ := m.Create(ctx, "acme", "revoked", "viewer", time.Time{})
	if err := st.RevokeAPIKey(ctx, "acme", rk.ID); err != nil {
		t.Fatal(err)
	}
	expiring, _, _ := m.Create(ctx, "acme", "expiring", "viewer", clk.Now().Add(time.Minute))
	// The live key with its last character changed (to one it is not: a
	// random key ends in x one time in 62).
	unknown := live[:len(live)-1] + map[bool]string{false: "x", true: "y"}[strings.HasSuffix(live, "x")]
	clk.Advance(time.Minute)
	cases := []struct {
		name     string
		key      string
		sentinel error
		reason   ssoerr.Reason
	}{
		{"other prefix", "xyz_live_" + live[9:], ssoerr.ErrInvalidToken, ssoerr.ReasonMalformed},
		{"test mode prefix", "ssk_test_" + live[9:], ssoerr.ErrInvalidToken, ssoerr.ReasonMalformed},
		{"too long", live + strings.Repeat("a", maxKeyBytes), ssoerr.ErrInvalidToken, ssoerr.ReasonMalformed},
		{"unknown", unknown, ssoerr.ErrInvalidToken, ssoerr.ReasonUnknownAPIKey},
		{"revoked", revoked, ssoerr.ErrInvalidToken, ssoerr.ReasonAPIKeyRevoked},
		{"expired", expiring, ssoerr.ErrExpired, ssoerr.ReasonAPIKeyExpired},
	}
	for _, c := range cases {
		_, err := m.Verify(ctx, c.key)
		if ssoerr.ReasonOf(err) != c.reason || !errors.Is(err, c.sentinel) {
			t.Errorf("%s: %v, want %s under %v", c.name, err, c.reason, c.sentinel)
		}
	}
	failing, _ := New(Config{Store: failingStore{st}})
	if _, err := failing.Verify(ctx, live); !errors.Is(err, ssoerr.ErrUpstream) {
		t.Errorf("store outage: %v, want ErrUpstream", err)
	}
}

type failingStore struct{ store.APIKeys }

func (failingStore) APIKeyByHash(context.Context, string) (store.APIKey, error) {
	return store.APIKey{}, errors.New("connection refused")
}

// Use is written in one batch per Flush, the latest time per key, and a
// flush with nothing new writes nothing.
func TestFlush(t *testing.T) {
	t.Parallel()
	m, st, clk := newManager(t)
	ctx := context.Background()
	plain, k, _ := m.Create(ctx, "acme", "bot", "viewer", time.Time{})
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if _, err := m.Verify(ctx, plain); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	clk.Advance(time.Second)
	m.RecordUse(k.ID, clk.Now())
	m.RecordUse(k.ID, clk.Now().Add(-time.Hour)) // an older time never wins
	if err := m.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	keys, _ := st.ListAPIKeys(ctx, "acme")
	if len(keys) != 1 || !keys[0].LastUsed.Equal(clk.Now()) {
		t.Fatalf("last used %v, want %v", keys[0].LastUsed, clk.Now())
	}
	before := st.Version()
	if err := m.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if st.Version() != before {
		t.Error("a flush with nothing new wrote to the store")
	}
}

func TestConfig(t *testing.T) {
	if _, err := New(Config{}); err == nil {
		t.Error("no store accepted")
	}
	st, _ := store.NewMemory(store.MemoryConfig{})
	if _, err := New(Config{Store: st, Prefix: "a_b"}); err == nil {
		t.Error("prefix with _ accepted")
	}
}

// The alphabet is used evenly: no symbol is favoured by modulo bias.
func TestRandomKeyUniform(t *testing.T) {
	counts := map[byte]int{}
	s := randomKey(62 * 2000)
	for i := range len(s) {
		counts[s[i]]++
	}
	if len(counts) != 62 {
		t.Fatalf("%d symbols used", len(counts))
	}
	for c, n := range counts {
		if n < 1500 || n > 2500 {
			t.Errorf("symbol %q drawn %d times, expected about 2000", c, n)
		}
	}
}
