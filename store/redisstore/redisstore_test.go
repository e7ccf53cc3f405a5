package redisstore_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"net"
	"os"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ssokit/ssokit/internal/faultproxy"
	"github.com/ssokit/ssokit/internal/testenv"
	"github.com/ssokit/ssokit/store"
	"github.com/ssokit/ssokit/store/redisstore"
	"github.com/ssokit/ssokit/store/storetest"
)

// redisAddr is the test Redis (SSOKIT_TEST_REDIS=host:port); without it
// the test is skipped, or fails under CI.
func redisAddr(t *testing.T) string {
	t.Helper()
	addr := os.Getenv("SSOKIT_TEST_REDIS")
	if addr == "" {
		testenv.Missing(t, "Redis (SSOKIT_TEST_REDIS=host:port)", "run redis-server and set SSOKIT_TEST_REDIS=127.0.0.1:6379")
	}
	return addr
}

// rawClient is a plain go-redis client to addr, closed after t.
func rawClient(t *testing.T, addr string) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// newPrefix is a key prefix of t's own; its keys are deleted after t.
func newPrefix(t *testing.T, addr string) string {
	t.Helper()
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	prefix := "ssokit-test:" + hex.EncodeToString(b) + ":"
	c := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() {
		defer func() { _ = c.Close() }()
		ctx := context.Background()
		iter := c.Scan(ctx, 0, prefix+"*", 500).Iterator()
		var keys []string
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		if err := iter.Err(); err != nil {
			t.Errorf("scanning the test's keys: %v", err)
		}
		if len(keys) > 0 {
			if err := c.Del(ctx, keys...).Err(); err != nil {
				t.Errorf("deleting the test's keys: %v", err)
			}
		}
	})
	return prefix
}

// open is New with cfg, closed after t; URL defaults to addr.
func open(t *testing.T, addr string, cfg redisstore.Config) *redisstore.Store {
	t.Helper()
	if cfg.URL == "" {
		cfg.URL = "redis://" + addr + "/0"
	}
	s, err := redisstore.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func newProxy(t *testing.T, target string) *faultproxy.Proxy {
	t.Helper()
	p, err := faultproxy.New(target)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// eventually polls cond for up to 5 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within 5 s: %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func hashed(k string) string {
	sum := sha256.Sum256([]byte(k))
	return hex.EncodeToString(sum[:])
}

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// unavailable fails t unless err wraps store.ErrUnavailable.
func unavailable(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("%s: %v, want an error wrapping store.ErrUnavailable", what, err)
	}
}

// allUnavailable checks that every method of s fails with
// store.ErrUnavailable, and that IsRevoked of a revoked jti and Consume of
// a consumed key give no false answer.
func allUnavailable(t *testing.T, s *redisstore.Store, revoked, consumed string) {
	t.Helper()
	ctx := context.Background()
	until := time.Now().Add(time.Hour)
	ok, err := s.IsRevoked(ctx, revoked)
	if ok {
		t.Errorf("IsRevoked answered true with %v", err)
	}
	unavailable(t, "IsRevoked of a revoked token", err)
	unavailable(t, "Consume of a consumed key", s.Consume(ctx, consumed, until))
	unavailable(t, "RevokeToken", s.RevokeToken(ctx, "jti-during-outage", until))
	_, err = s.Claim(ctx, "msg-during-outage", until)
	unavailable(t, "Claim", err)
	unavailable(t, "Done", s.Done(ctx, "msg-during-outage", until))
	unavailable(t, "Release", s.Release(ctx, "msg-during-outage"))
	_, err = s.Hit(ctx, "ip:192.0.2.1", time.Minute)
	unavailable(t, "Hit", err)
}

func TestContract(t *testing.T) {
	addr := redisAddr(t)
	storetest.RunExpiring(t, func(t *testing.T, now func() time.Time) store.Expiring {
		return open(t, addr, redisstore.Config{Prefix: newPrefix(t, addr), Now: now})
	})
}

func TestConfigRequired(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name string
		cfg  redisstore.Config
		want string
	}{
		{"no URL", redisstore.Config{Prefix: "p:"}, "URL"},
		{"no prefix", redisstore.Config{URL: "redis://127.0.0.1:1/0"}, "Prefix"},
		{"bad URL", redisstore.Config{URL: "http://127.0.0.1/0", Prefix: "p:"}, "URL"},
	} {
		if s, err := redisstore.New(ctx, c.cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			if s != nil {
				_ = s.Close()
			}
			t.Errorf("%s: %v, want an error naming %s", c.name, err, c.want)
		}
	}
}

func TestNewFailsWhenRedisDoesNotAnswer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := ln.Addr().String()
	_ = ln.Close()
	s, err := redisstore.New(context.Background(), redisstore.Config{URL: "redis://" + down + "/0", Prefix: "p:"})
	if err == nil {
		_ = s.Close()
		t.Fatal("New succeeded with nothing listening")
	}
	unavailable(t, "New with nothing listening", err)
	if !strings.Contains(err.Error(), down) {
		t.Errorf("the error does not say where Redis was expected: %v", err)
	}

	// Something accepts but never answers.
	addr := redisAddr(t)
	p := newProxy(t, addr)
	p.Slow(time.Hour)
	s, err = redisstore.New(context.Background(), redisstore.Config{URL: "redis://" + p.Addr() + "/0", Prefix: "p:", CommandTimeout: 200 * time.Millisecond})
	if err == nil {
		_ = s.Close()
		t.Fatal("New succeeded with a Redis that does not answer")
	}
	unavailable(t, "New with a Redis that does not answer", err)
}

// TestKeys: every key lives under the prefix as prefix + kind + ":" + the
// hex SHA-256 of the caller's key, and revocations are announced on
// prefix + "changes".
func TestKeys(t *testing.T) {
	addr := redisAddr(t)
	prefix := newPrefix(t, addr)
	rc := rawClient(t, addr)
	ctx := context.Background()
	now := time.Now()
	s := open(t, addr, redisstore.Config{Prefix: prefix})

	sub := rc.Subscribe(ctx, prefix+"changes")
	defer func() { _ = sub.Close() }()
	if _, err := sub.ReceiveTimeout(ctx, 2*time.Second); err != nil {
		t.Fatal(err)
	}

	long := strings.Repeat("k*?[]:\x00ü", 200)
	until := now.Add(time.Hour)
	if err := s.RevokeToken(ctx, long, until); err != nil {
		t.Fatal(err)
	}
	if err := s.Consume(ctx, long, until); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Claim(ctx, long, until); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Hit(ctx, long, time.Minute); err != nil {
		t.Fatal(err)
	}

	if v, err := rc.Get(ctx, prefix+"revoked:"+hashed(long)).Int64(); err != nil || v != until.UnixMicro()+1 && v != until.UnixMicro() {
		t.Errorf("the revocation's value: %d %v, want %d (Unix µs)", v, err, until.UnixMicro())
	}
	keys, err := rc.Keys(ctx, prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	shape := regexp.MustCompile(`^` + regexp.QuoteMeta(prefix) + `(revoked|once|webhook|rate):` + hashed(long) + `(:[0-9]+:[0-9]+\.[0-9]+)?$`)
	kinds := map[string]bool{}
	for _, k := range keys {
		if !shape.MatchString(k) || len(k) > len(prefix)+200 {
			t.Errorf("key %q", k)
			continue
		}
		kinds[strings.SplitN(strings.TrimPrefix(k, prefix), ":", 2)[0]] = true
	}
	if len(kinds) != 4 {
		t.Errorf("keys %q: want one of each kind", keys)
	}

	msg, err := sub.ReceiveTimeout(ctx, 2*time.Second)
	if m, ok := msg.(*redis.Message); err != nil || !ok || m.Channel != prefix+"changes" {
		t.Errorf("announcement of the revocation: %v %v", msg, err)
	}
}

// TestRedisTTLFollowsTheStoreClock: Redis's TTL is the time left by the
// store's clock (here far from Redis's), and a value past its time by that
// clock is absent while Redis still holds it.
func TestRedisTTLFollowsTheStoreClock(t *testing.T) {
	addr := redisAddr(t)
	prefix := newPrefix(t, addr)
	rc := rawClient(t, addr)
	ctx := context.Background()
	clk := &clock{t: time.Date(2020, 6, 1, 12, 1, 0, 0, time.UTC)} // in the past
	s := open(t, addr, redisstore.Config{Prefix: prefix, Now: clk.Now})

	// want is the time left by the store's clock; Redis keeps the value
	// store.CleanupGrace longer, for replicas whose clocks are behind.
	pttl := func(key string, want time.Duration) {
		t.Helper()
		want += store.CleanupGrace
		got, err := rc.PTTL(ctx, key).Result()
		if err != nil || got > want || got < want-5*time.Second {
			t.Errorf("TTL of %s: %v %v, want %v", key, got, err, want)
		}
	}
	if err := s.Consume(ctx, "a", clk.Now().Add(5*time.Minute)); err != nil {
		t.Fatal(err)
	}
	pttl(prefix+"once:"+hashed("a"), 5*time.Minute)
	if err := s.RevokeToken(ctx, "j", clk.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	pttl(prefix+"revoked:"+hashed("j"), time.Hour)
	if err := s.RevokeToken(ctx, "j", clk.Now().Add(time.Minute)); err != nil { // shorter: kept as it was
		t.Fatal(err)
	}
	pttl(prefix+"revoked:"+hashed("j"), time.Hour)
	if _, err := s.Claim(ctx, "m", clk.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	pttl(prefix+"webhook:"+hashed("m"), time.Minute)
	if err := s.Done(ctx, "m", clk.Now().Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	pttl(prefix+"webhook:"+hashed("m"), 24*time.Hour)
	if _, err := s.Hit(ctx, "ip", 15*time.Minute); err != nil { // a minute into the window
		t.Fatal(err)
	}
	rate, _ := rc.Keys(ctx, prefix+"rate:"+hashed("ip")+":*").Result()
	if len(rate) != 1 {
		t.Fatalf("rate keys %q", rate)
	}
	pttl(rate[0], 14*time.Minute)

	clk.Advance(6 * time.Minute)
	if n, _ := rc.Exists(ctx, prefix+"once:"+hashed("a")).Result(); n != 1 {
		t.Fatal("Redis dropped the value already; the test shows nothing")
	}
	if err := s.Consume(ctx, "a", clk.Now().Add(time.Minute)); err != nil {
		t.Errorf("a value expired by the store's clock but held by Redis: %v", err)
	}
	// A value that expired a minute ago lives in Redis for the rest of
	// the cleanup grace; one that expired before it, no more than a moment.
	if err := s.Consume(ctx, "b", clk.Now().Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got, _ := rc.PTTL(ctx, prefix+"once:"+hashed("b")).Result(); got > store.CleanupGrace-time.Minute {
		t.Errorf("TTL of a value expired a minute ago: %v", got)
	}
	if err := s.Consume(ctx, "c", clk.Now().Add(-store.CleanupGrace-time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got, _ := rc.PTTL(ctx, prefix+"once:"+hashed("c")).Result(); got > time.Millisecond {
		t.Errorf("TTL of a value expired before the cleanup grace: %v", got)
	}
	if err := s.Consume(ctx, "b", clk.Now().Add(time.Minute)); err != nil {
		t.Errorf("a value consumed with a past expiry: %v", err)
	}
}

// TestRedisErrorsAreUnavailable: what Redis refuses, and what cannot be
// read, is store.ErrUnavailable, never "not revoked" or "not used".
func TestRedisErrorsAreUnavailable(t *testing.T) {
	addr := redisAddr(t)
	prefix := newPrefix(t, addr)
	rc := rawClient(t, addr)
	ctx := context.Background()
	s := open(t, addr, redisstore.Config{Prefix: prefix})
	if err := rc.Set(ctx, prefix+"revoked:"+hashed("garbled"), "not a time", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	ok, err := s.IsRevoked(ctx, "garbled")
	if ok {
		t.Error("a garbled revocation is revoked")
	}
	unavailable(t, "IsRevoked of a garbled value", err)
	for _, kind := range []string{"revoked", "once", "webhook"} {
		if err := rc.LPush(ctx, prefix+kind+":"+hashed("list"), "x").Err(); err != nil {
			t.Fatal(err)
		}
	}
	_, err = s.IsRevoked(ctx, "list")
	unavailable(t, "IsRevoked of a list", err)
	unavailable(t, "RevokeToken over a list", s.RevokeToken(ctx, "list", time.Now().Add(time.Hour)))
	unavailable(t, "Consume of a list", s.Consume(ctx, "list", time.Now().Add(time.Hour)))
	_, err = s.Claim(ctx, "list", time.Now().Add(time.Hour))
	unavailable(t, "Claim of a list", err)
	unavailable(t, "Release of a list", s.Release(ctx, "list"))

	canceled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = s.IsRevoked(canceled, "j")
	unavailable(t, "IsRevoked with a canceled context", err)
}

// TestReplicas: two Stores of one prefix share state, and a revocation on
// one moves the other's Version.
func TestReplicas(t *testing.T) {
	addr := redisAddr(t)
	prefix := newPrefix(t, addr)
	ctx := context.Background()
	a := open(t, addr, redisstore.Config{Prefix: prefix})
	b := open(t, addr, redisstore.Config{Prefix: prefix})
	other := open(t, addr, redisstore.Config{Prefix: newPrefix(t, addr)})

	until := time.Now().Add(time.Hour)
	if err := a.Consume(ctx, "assertion-1", until); err != nil {
		t.Fatal(err)
	}
	if err := b.Consume(ctx, "assertion-1", until); !errors.Is(err, store.ErrReplayed) {
		t.Errorf("the second replica's Consume: %v", err)
	}
	if err := other.Consume(ctx, "assertion-1", until); err != nil {
		t.Errorf("another prefix shares the key: %v", err)
	}

	va, vb, vo := a.Version(), b.Version(), other.Version()
	if err := a.RevokeToken(ctx, "jti-1", until); err != nil {
		t.Fatal(err)
	}
	if a.Version() == va {
		t.Error("RevokeToken did not move its own Store's Version at once")
	}
	eventually(t, "the other replica's Version moves", func() bool { return b.Version() != vb })
	if ok, err := b.IsRevoked(ctx, "jti-1"); !ok || err != nil {
		t.Errorf("the other replica's IsRevoked: %v %v", ok, err)
	}
	time.Sleep(100 * time.Millisecond)
	if other.Version() != vo {
		t.Error("a revocation under another prefix moved the Version")
	}
	if b.Degraded() || a.Degraded() {
		t.Error("degraded without a fault")
	}
}

// TestCut: when B's connections to Redis are cut, B stops vouching for
// anything (ErrUnavailable, Degraded) although Redis still answers new
// connections, until it has subscribed again by itself; then it sees the
// revocation made on A in between and moved its Version on both edges.
func TestCut(t *testing.T) {
	addr := redisAddr(t)
	prefix := newPrefix(t, addr)
	ctx := context.Background()
	redisstore.SetFirstBackoff(t, time.Second) // a second degraded at least
	p := newProxy(t, addr)
	var logs testenv.LogBuffer
	a := open(t, addr, redisstore.Config{Prefix: prefix})
	b := open(t, addr, redisstore.Config{URL: "redis://" + p.Addr() + "/0", Prefix: prefix, Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))})
	until := time.Now().Add(time.Hour)
	if err := a.RevokeToken(ctx, "jti-1", until); err != nil {
		t.Fatal(err)
	}
	if err := a.Consume(ctx, "used", until); err != nil {
		t.Fatal(err)
	}
	eventually(t, "B hears of jti-1", func() bool { ok, _ := b.IsRevoked(ctx, "jti-1"); return ok })
	v0 := b.Version()

	p.Cut()
	eventually(t, "B degraded", b.Degraded)
	if b.Version() == v0 {
		t.Error("losing the subscription did not move the Version")
	}
	if err := a.RevokeToken(ctx, "jti-2", until); err != nil { // B does not hear of it
		t.Fatal(err)
	}
	// Redis is reachable through the proxy; B refuses because it is degraded.
	if err := rawClient(t, p.Addr()).Ping(ctx).Err(); err != nil {
		t.Fatalf("the proxy lets new connections through: %v", err)
	}
	allUnavailable(t, b, "jti-1", "used")
	_, err := b.IsRevoked(ctx, "jti-2")
	unavailable(t, "IsRevoked during the outage", err)

	eventually(t, "B recovers by itself", func() bool { return !b.Degraded() })
	if b.Version() < v0+2 {
		t.Errorf("Version %d after the outage, %d before: it must move when the subscription is lost and again when it is back", b.Version(), v0)
	}
	if ok, err := b.IsRevoked(ctx, "jti-2"); !ok || err != nil {
		t.Errorf("B after recovery, of the revocation made during the outage: %v %v", ok, err)
	}
	v1 := b.Version()
	if err := a.RevokeToken(ctx, "jti-3", until); err != nil {
		t.Fatal(err)
	}
	eventually(t, "B hears of revocations again", func() bool { return b.Version() != v1 })

	out := logs.String()
	if strings.Count(out, "level=ERROR") != 1 || !strings.Contains(out, "lost the subscription") {
		t.Errorf("one error line on losing the subscription; logged:\n%s", out)
	}
	if !strings.Contains(out, "level=INFO") || !strings.Contains(out, "subscribed again") {
		t.Errorf("a line on recovery; logged:\n%s", out)
	}
}

// TestOutage: while Redis refuses B every connection, B's calls fail with
// ErrUnavailable; when Redis is back, B recovers by itself and sees what
// A (still connected) did meanwhile.
func TestOutage(t *testing.T) {
	addr := redisAddr(t)
	prefix := newPrefix(t, addr)
	ctx := context.Background()
	p := newProxy(t, addr)
	a := open(t, addr, redisstore.Config{Prefix: prefix})
	b := open(t, addr, redisstore.Config{URL: "redis://" + p.Addr() + "/0", Prefix: prefix,
		CommandTimeout: 300 * time.Millisecond, HealthInterval: 200 * time.Millisecond, MaxBackoff: 200 * time.Millisecond})
	until := time.Now().Add(time.Hour)
	if err := a.RevokeToken(ctx, "jti-1", until); err != nil {
		t.Fatal(err)
	}
	if err := a.Consume(ctx, "used", until); err != nil {
		t.Fatal(err)
	}
	v0 := b.Version()

	p.Refuse(true)
	allUnavailable(t, b, "jti-1", "used")
	eventually(t, "B degraded", b.Degraded)
	if err := a.RevokeToken(ctx, "jti-2", until); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond) // a few failed attempts to subscribe again
	if !b.Degraded() {
		t.Fatal("B left the degraded state while Redis refused it")
	}
	allUnavailable(t, b, "jti-2", "used")

	p.Refuse(false)
	eventually(t, "B recovers by itself", func() bool { return !b.Degraded() })
	if b.Version() < v0+2 {
		t.Errorf("Version %d after the outage, %d before", b.Version(), v0)
	}
	if ok, err := b.IsRevoked(ctx, "jti-2"); !ok || err != nil {
		t.Errorf("B after recovery, of the revocation made during the outage: %v %v", ok, err)
	}
	if err := b.Consume(ctx, "used", until); !errors.Is(err, store.ErrReplayed) {
		t.Errorf("B after recovery, Consume of a used key: %v", err)
	}
}

// TestSilentSubscription: a subscription that stops answering (no error,
// no close) is noticed by the health ping.
func TestSilentSubscription(t *testing.T) {
	addr := redisAddr(t)
	prefix := newPrefix(t, addr)
	p := newProxy(t, addr)
	b := open(t, addr, redisstore.Config{URL: "redis://" + p.Addr() + "/0", Prefix: prefix,
		CommandTimeout: 200 * time.Millisecond, HealthInterval: 100 * time.Millisecond, MaxBackoff: 200 * time.Millisecond})
	v0 := b.Version()
	p.Slow(time.Hour)
	eventually(t, "B degraded", b.Degraded)
	if b.Version() == v0 {
		t.Error("losing the subscription did not move the Version")
	}
	p.Slow(0)
	eventually(t, "B recovers", func() bool { return !b.Degraded() })
}

// TestSlowCommand: a command not answered within CommandTimeout fails with
// ErrUnavailable.
func TestSlowCommand(t *testing.T) {
	addr := redisAddr(t)
	prefix := newPrefix(t, addr)
	ctx := context.Background()
	a := open(t, addr, redisstore.Config{Prefix: prefix})
	if err := a.RevokeToken(ctx, "jti-1", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	p := newProxy(t, addr)
	b := open(t, addr, redisstore.Config{URL: "redis://" + p.Addr() + "/0", Prefix: prefix,
		CommandTimeout: 200 * time.Millisecond, HealthInterval: time.Minute}) // the subscriber does not notice
	p.Slow(2 * time.Second)
	ok, err := b.IsRevoked(ctx, "jti-1")
	if ok {
		t.Error("IsRevoked answered through a slow link")
	}
	unavailable(t, "IsRevoked through a slow link", err)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("IsRevoked through a slow link: %v, want a timeout", err)
	}
	if b.Degraded() {
		t.Error("degraded: the test meant to see the command time out")
	}
	unavailable(t, "Consume through a slow link", b.Consume(ctx, "k", time.Now().Add(time.Hour)))
	_, err = b.Hit(ctx, "k", time.Minute)
	unavailable(t, "Hit through a slow link", err)

	// Without CommandTimeout, the URL's read_timeout applies.
	p.Slow(0)
	c := open(t, addr, redisstore.Config{URL: "redis://" + p.Addr() + "/0?read_timeout=200ms", Prefix: prefix, HealthInterval: time.Minute})
	p.Slow(2 * time.Second)
	_, err = c.IsRevoked(ctx, "jti-1")
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("IsRevoked through a slow link with read_timeout=200ms: %v, want a timeout", err)
	}
}

// TestClose: Close ends the Store's goroutines and later calls fail.
func TestClose(t *testing.T) {
	addr := redisAddr(t)
	prefix := newPrefix(t, addr)
	ctx := context.Background()
	cfg := redisstore.Config{URL: "redis://" + addr + "/0", Prefix: prefix, HealthInterval: 50 * time.Millisecond}
	// A first Store starts what go-redis keeps for the process.
	warm, err := redisstore.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	_ = warm.Consume(ctx, "warm", time.Now().Add(time.Minute))
	_ = warm.Close()
	time.Sleep(50 * time.Millisecond)
	before := runtime.NumGoroutine()

	s, err := redisstore.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		_ = s.Consume(ctx, "k"+string(rune('0'+i)), time.Now().Add(time.Minute))
	}
	time.Sleep(120 * time.Millisecond) // the health ping runs
	if runtime.NumGoroutine() <= before {
		t.Fatal("no goroutine for an open Store: the count does not see it")
	}
	began := time.Now()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(began); took > 2*time.Second {
		t.Errorf("Close took %v", took)
	}
	_ = s.Close()
	unavailable(t, "Consume after Close", s.Consume(ctx, "after", time.Now().Add(time.Minute)))
	_, err = s.IsRevoked(ctx, "j")
	unavailable(t, "IsRevoked after Close", err)
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines after Close, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestObserve: Config.Observe is told of every command, an answer
// (redis.Nil included) without error.
func TestObserve(t *testing.T) {
	addr := redisAddr(t)
	var (
		mu   sync.Mutex
		n    int
		errs int
	)
	s := open(t, addr, redisstore.Config{Prefix: newPrefix(t, addr), Observe: func(op string, d time.Duration, err error) {
		mu.Lock()
		defer mu.Unlock()
		if op != "command" || d < 0 {
			t.Errorf("observed %q %v", op, d)
		}
		n++
		if err != nil {
			errs++
		}
	}})
	ctx := context.Background()
	mu.Lock()
	before := n
	mu.Unlock()
	if ok, err := s.IsRevoked(ctx, "jti-never"); ok || err != nil {
		t.Fatal(ok, err)
	}
	if err := s.RevokeToken(ctx, "jti-1", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if n-before < 2 || errs != 0 {
		t.Errorf("%d commands observed (want at least 2), %d with errors (want 0)", n-before, errs)
	}
}

// TestBadURLIsNotEchoed: a malformed Redis URL is refused without the
// URL, which holds the password.
func TestBadURLIsNotEchoed(t *testing.T) {
	for _, u := range []string{"redis://:Redis%zzS3cret@127.0.0.1:1/0", "redis://:Redis S3cret@127.0.0.1:1/0", "redis://:RedisS3cret@127.0.0.1:1/zero",
		"redis://:Redis/S3cret@127.0.0.1:6379/0", "redis://user:S3cret/x@127.0.0.1:6379/0", "redis://:Redis?S3cret@127.0.0.1:6379/0",
		"redis://:Redis#S3cret@127.0.0.1:6379/0", "redis://:123/S3cret@127.0.0.1:6379/0"} {
		_, err := redisstore.New(context.Background(), redisstore.Config{URL: u, Prefix: "t:"})
		if err == nil || strings.Contains(err.Error(), "S3cret") || strings.Contains(err.Error(), ":Redis") {
			t.Errorf("%q: %v", u, err)
		}
	}
}

// Replicas whose clocks disagree (by less than store.CleanupGrace): a
// revocation and a one-time value written by a replica whose clock runs
// ahead stay in Redis while a replica whose clock is behind still needs
// them, rather than expiring by the writer's clock.
func TestRedisClockSkewBetweenReplicas(t *testing.T) {
	addr := redisAddr(t)
	prefix := newPrefix(t, addr)
	ctx := context.Background()
	t0 := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	ahead := open(t, addr, redisstore.Config{Prefix: prefix, Now: func() time.Time { return t0.Add(2 * time.Minute) }})
	behind := open(t, addr, redisstore.Config{Prefix: prefix, Now: func() time.Time { return t0 }})
	until := t0.Add(time.Minute) // past for ahead, a minute off for behind
	if err := ahead.RevokeToken(ctx, "j", until); err != nil {
		t.Fatal(err)
	}
	if err := ahead.Consume(ctx, "assertion-1", until); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond) // longer than a TTL cut to the writer's clock
	if revoked, err := behind.IsRevoked(ctx, "j"); err != nil || !revoked {
		t.Errorf("the replica behind sees the token as not revoked: %v %v", revoked, err)
	}
	if err := behind.Consume(ctx, "assertion-1", until); !errors.Is(err, store.ErrReplayed) {
		t.Errorf("the replica behind took the one-time value again: %v", err)
	}
}

// TestFarExpiry: a value kept until a time centuries away (a SAML
// assertion whose NotOnOrAfter an IdP set far out, a revocation of a
// token without a near end) stays in Redis: its TTL does not wrap
// around to nothing.
func TestFarExpiry(t *testing.T) {
	addr := redisAddr(t)
	prefix := newPrefix(t, addr)
	rc := rawClient(t, addr)
	ctx := context.Background()
	s := open(t, addr, redisstore.Config{Prefix: prefix})
	for _, until := range []time.Time{
		time.Now().AddDate(300, 0, 0),
		time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC),
	} {
		k := until.Format(time.RFC3339)
		if err := s.Consume(ctx, k, until); err != nil {
			t.Fatal(err)
		}
		if err := s.RevokeToken(ctx, k, until); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Claim(ctx, k, until); err != nil {
			t.Fatal(err)
		}
		if err := s.Done(ctx, k, until); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
		for _, kind := range []string{"once", "revoked", "webhook"} {
			// In milliseconds: go-redis's PTTL makes a time.Duration of them,
			// which these overflow.
			ms, err := rc.Do(ctx, "pttl", prefix+kind+":"+hashed(k)).Int64()
			if err != nil || ms < 200*365*24*time.Hour.Milliseconds() {
				t.Errorf("TTL of %s %s until %v: %d ms %v", kind, k, until, ms, err)
			}
		}
		if err := s.Consume(ctx, k, until); !errors.Is(err, store.ErrReplayed) {
			t.Errorf("second use of a value kept until %v: %v", until, err)
		}
		if ok, err := s.IsRevoked(ctx, k); !ok || err != nil {
			t.Errorf("revoked until %v: %v %v", until, ok, err)
		}
		if c, err := s.Claim(ctx, k, time.Now().Add(time.Minute)); c != store.WebhookApplied || err != nil {
			t.Errorf("webhook applied until %v: %v %v", until, c, err)
		}
	}
}
