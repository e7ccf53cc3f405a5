package redisstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/ssokit/ssokit/store"
)

// Defaults of Config's zero fields.
const (
	// DefaultDialTimeout bounds opening a connection.
	DefaultDialTimeout = 2 * time.Second
	// DefaultCommandTimeout bounds each read and write of a command.
	DefaultCommandTimeout = time.Second
	// DefaultMaxRetries is how many times a command that failed on a
	// network error is sent again.
	DefaultMaxRetries = 1
	// DefaultHealthInterval is how long the changes subscription may stay
	// silent before it is pinged.
	DefaultHealthInterval = time.Second
	// DefaultMaxBackoff caps the wait between attempts to subscribe again.
	DefaultMaxBackoff = 5 * time.Second
)

// firstBackoff is the first wait before subscribing again (a variable
// for tests).
var firstBackoff = 50 * time.Millisecond

// Config configures a Store.
type Config struct {
	// URL is where Redis is, in the form go-redis's ParseURL reads:
	// redis://[[user]:password@]host[:port][/db] (rediss:// for TLS).
	// Required.
	URL string
	// Prefix starts every key and the changes channel, e.g. "ssokit:".
	// Deployments, and test runs, that share one Redis use different
	// prefixes; replicas that share state use the same one. Required.
	Prefix string
	// Now is the clock that decides expiry. Nil means time.Now.
	Now func() time.Time
	// Logger receives the loss and the recovery of the changes
	// subscription. Nil means silent.
	Logger *slog.Logger
	// HealthInterval is how long the changes subscription may stay silent
	// before it is pinged; a ping unanswered for as long again counts as
	// a lost subscription. 0 means DefaultHealthInterval (1 s).
	HealthInterval time.Duration
	// MaxBackoff caps the wait between attempts to subscribe again; the
	// first wait is 50 ms and each next one doubles. 0 means
	// DefaultMaxBackoff (5 s).
	MaxBackoff time.Duration

	// The connection settings below, when zero, are taken from the URL's
	// query parameter named with each (as go-redis's ParseURL reads it),
	// and otherwise from their default.

	// PoolSize is the number of connections kept for commands (pool_size);
	// the default is go-redis's, 10 per GOMAXPROCS.
	PoolSize int
	// MinIdleConns is the number of idle connections kept open
	// (min_idle_conns); the default is none.
	MinIdleConns int
	// DialTimeout bounds opening a connection (dial_timeout); the default
	// is DefaultDialTimeout, 2 s.
	DialTimeout time.Duration
	// CommandTimeout bounds each read and write of a command, and the wait
	// for the subscription's confirmation (read_timeout, write_timeout);
	// past it the call fails with store.ErrUnavailable. A caller's
	// context deadline, when earlier, applies too. The default is
	// DefaultCommandTimeout, 1 s; no setting leaves commands unbounded.
	CommandTimeout time.Duration
	// MaxRetries is how many times a command that failed on a network
	// error is sent again on another connection, e.g. after a pooled
	// connection went stale (max_retries); negative means none, the
	// default is DefaultMaxRetries, 1. A retry never makes a false
	// answer: a Consume whose first attempt went through answers
	// ErrReplayed, a Hit counts one more.
	MaxRetries int
	// Observe, when set, is told how long each command took (op
	// "command", retries included) and its error (nil for an answer,
	// redis.Nil included). For metrics: it must not block.
	Observe func(op string, d time.Duration, err error)
}

// Store is package store's expiring state in Redis. It implements
// store.Expiring and store.Versioned, and is safe for concurrent use.
// Close it when done.
type Store struct {
	rdb        *redis.Client
	prefix     string
	channel    string
	now        func() time.Time
	log        *slog.Logger
	cmdTimeout time.Duration
	health     time.Duration
	minBackoff time.Duration
	maxBackoff time.Duration

	version  atomic.Uint64
	degraded atomic.Bool

	ctx    context.Context // canceled by Close
	cancel context.CancelFunc
	done   chan struct{} // closed when the subscriber ends

	psMu   sync.Mutex
	ps     *redis.PubSub // the subscription in use, closed by Close
	closed bool

	closeOnce sync.Once
	closeErr  error
}

// New connects to Redis, checks that it answers (PING) and subscribes to
// the changes channel. It fails, with an error wrapping
// store.ErrUnavailable, when Redis does not answer.
func New(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.URL == "" {
		return nil, errors.New("redisstore: Config.URL is required")
	}
	if cfg.Prefix == "" {
		return nil, errors.New(`redisstore: Config.Prefix is required (e.g. "ssokit:")`)
	}
	opts, err := redis.ParseURL(cfg.URL)
	if err != nil {
		// Every parse error quotes some of the URL (the whole of it, its
		// host, its path), and a password with an unescaped / ? # or @
		// lands in any of them: nothing of it is said.
		return nil, errors.New("redisstore: Config.URL is not a Redis URL (redis://[user:password@]host:port/db, rediss://… or unix://…; percent-encode / ? # @ and % in the password)")
	}
	cmdTimeout := cfg.CommandTimeout
	if cmdTimeout <= 0 {
		cmdTimeout = DefaultCommandTimeout
		if cfg.CommandTimeout == 0 && opts.ReadTimeout > 0 {
			cmdTimeout = opts.ReadTimeout // the URL's read_timeout
		}
	}
	s := &Store{
		prefix:     cfg.Prefix,
		channel:    cfg.Prefix + "changes",
		now:        cfg.Now,
		log:        cfg.Logger,
		cmdTimeout: cmdTimeout,
		health:     orDefault(cfg.HealthInterval, DefaultHealthInterval),
		maxBackoff: orDefault(cfg.MaxBackoff, DefaultMaxBackoff),
		minBackoff: firstBackoff,
		done:       make(chan struct{}),
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	// Config's settings win; a zero one leaves the URL's query parameter,
	// and then the default.
	if cfg.PoolSize > 0 {
		opts.PoolSize = cfg.PoolSize
	}
	if opts.PoolSize <= 0 {
		opts.PoolSize = 10 * runtime.GOMAXPROCS(0)
	}
	if cfg.MinIdleConns > 0 {
		opts.MinIdleConns = cfg.MinIdleConns
	}
	if cfg.DialTimeout > 0 {
		opts.DialTimeout = cfg.DialTimeout
	}
	if opts.DialTimeout <= 0 {
		opts.DialTimeout = DefaultDialTimeout
	}
	opts.ReadTimeout = cmdTimeout
	if cfg.CommandTimeout > 0 || opts.WriteTimeout <= 0 {
		opts.WriteTimeout = cmdTimeout
	}
	opts.ContextTimeoutEnabled = true
	switch {
	case cfg.MaxRetries < 0:
		opts.MaxRetries = -1
	case cfg.MaxRetries > 0:
		opts.MaxRetries = cfg.MaxRetries
	case opts.MaxRetries == 0:
		opts.MaxRetries = DefaultMaxRetries
	}
	// One dial per attempt: a command retries as MaxRetries says and the
	// subscriber with its own backoff, so a lost subscription is noticed
	// without waiting for go-redis's dial retries.
	opts.DialerRetries = 1
	// Cluster maintenance notifications are of no use to one Redis, and
	// asking a server that lacks them only adds a round trip.
	opts.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	s.rdb = redis.NewClient(opts)
	if cfg.Observe != nil {
		s.rdb.AddHook(observeHook(cfg.Observe))
	}

	pctx, cancel := context.WithTimeout(ctx, opts.DialTimeout+s.cmdTimeout)
	defer cancel()
	if err := s.rdb.Ping(pctx).Err(); err != nil {
		_ = s.rdb.Close()
		return nil, fmt.Errorf("redisstore: Redis at %s does not answer: %w: %w", opts.Addr, store.ErrUnavailable, err)
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	ps, err := s.subscribe(pctx)
	if err != nil {
		s.cancel()
		_ = s.rdb.Close()
		return nil, fmt.Errorf("redisstore: subscribing to %s: %w: %w", s.channel, store.ErrUnavailable, err)
	}
	go s.watch(ps)
	return s, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// Close stops the subscriber and closes the connections. Calls after
// Close fail with store.ErrUnavailable. Later calls of Close do nothing.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.cancel()
		s.psMu.Lock()
		s.closed = true
		if s.ps != nil {
			_ = s.ps.Close()
		}
		s.psMu.Unlock()
		<-s.done
		s.closeErr = s.rdb.Close()
	})
	return s.closeErr
}

// Version implements store.Versioned: it moves on every revocation made
// through any Store of the same prefix, and whenever this Store loses or
// regains the subscription that tells it of them.
func (s *Store) Version() uint64 { return s.version.Load() }

// Degraded reports whether the Store has lost its subscription to other
// replicas' changes and is answering every call with store.ErrUnavailable
// until it has subscribed again.
func (s *Store) Degraded() bool { return s.degraded.Load() }

// subscribe opens a subscription to the changes channel and waits for
// Redis to confirm it: from then on, every change is heard.
func (s *Store) subscribe(ctx context.Context) (*redis.PubSub, error) {
	ps := s.rdb.Subscribe(ctx)
	s.psMu.Lock()
	if s.closed {
		s.psMu.Unlock()
		_ = ps.Close()
		return nil, redis.ErrClosed
	}
	s.ps = ps
	s.psMu.Unlock()
	err := ps.Subscribe(ctx, s.channel)
	if err == nil {
		var msg any
		msg, err = ps.ReceiveTimeout(ctx, s.cmdTimeout)
		if sub, ok := msg.(*redis.Subscription); err == nil && (!ok || sub.Kind != "subscribe" || sub.Channel != s.channel) {
			err = fmt.Errorf("unexpected %v instead of the subscription's confirmation", msg)
		}
	}
	if err != nil {
		_ = ps.Close()
		return nil, err
	}
	return ps, nil
}

// watch listens on the changes channel until Close, moving the version on
// each message, and goes through degraded mode whenever the subscription
// is lost.
func (s *Store) watch(ps *redis.PubSub) {
	defer close(s.done)
	for {
		err := s.listen(ps)
		_ = ps.Close()
		if s.ctx.Err() != nil {
			return
		}
		lost := time.Now()
		s.degraded.Store(true)
		s.version.Add(1)
		s.log.Error("redisstore: lost the subscription to other replicas' changes; every call fails with store.ErrUnavailable until it is back",
			"channel", s.channel, "err", err)
		backoff := min(s.minBackoff, s.maxBackoff)
		for {
			t := time.NewTimer(backoff)
			select {
			case <-s.ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			ps, err = s.subscribe(s.ctx)
			if err == nil {
				break
			}
			if s.ctx.Err() != nil {
				return
			}
			backoff = min(2*backoff, s.maxBackoff)
			s.log.Debug("redisstore: subscribing again failed", "channel", s.channel, "err", err, "retry_in", backoff)
		}
		s.degraded.Store(false)
		s.version.Add(1)
		s.log.Info("redisstore: subscribed again to other replicas' changes; answering again",
			"channel", s.channel, "down_for", time.Since(lost).Round(time.Millisecond))
	}
}

// listen receives on ps until the subscription is lost, and says how.
// go-redis's PubSub reconnects by itself after a network error, but
// messages published in between are lost: any error, and any confirmation
// of a subscription after the first, counts as a loss.
func (s *Store) listen(ps *redis.PubSub) error {
	pinged := false
	for {
		msg, err := ps.ReceiveTimeout(s.ctx, s.health)
		if err != nil {
			if s.ctx.Err() != nil {
				return err
			}
			if !isTimeout(err) {
				return err
			}
			if pinged {
				return fmt.Errorf("no answer to a ping within %v", s.health)
			}
			if err := ps.Ping(s.ctx); err != nil {
				return fmt.Errorf("ping: %w", err)
			}
			pinged = true
			continue
		}
		switch m := msg.(type) {
		case *redis.Message:
			s.version.Add(1)
		case *redis.Pong:
			pinged = false
		case *redis.Subscription:
			return fmt.Errorf("the connection was replaced (%v): changes may have been missed", m)
		}
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// key is where k of the given kind lives.
func (s *Store) key(kind, k string) string {
	sum := sha256.Sum256([]byte(k))
	return s.prefix + kind + ":" + hex.EncodeToString(sum[:])
}

// available fails when the Store cannot vouch for what it would read.
func (s *Store) available(op string) error {
	if s.degraded.Load() {
		return fmt.Errorf("redisstore: %s: %w: the subscription to other replicas' changes is lost", op, store.ErrUnavailable)
	}
	return nil
}

func unavailable(op string, err error) error {
	return fmt.Errorf("redisstore: %s: %w: %w", op, store.ErrUnavailable, err)
}

// maxUntil is the latest expiry a Store keeps as it is (the SQL stores'
// too): a later one is kept until then.
var maxUntil = time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC)

// micros is t, at most maxUntil, in Unix microseconds, rounded up (an
// expiry kept a fraction longer, never shorter).
func micros(t time.Time) int64 {
	if t.After(maxUntil) {
		t = maxUntil
	}
	us := t.UnixMicro()
	if t.Nanosecond()%1000 != 0 {
		us++
	}
	return us
}

// ttl is the Redis expiry, in milliseconds, of a value that lives until
// until by the store's clock, kept store.CleanupGrace longer for replicas
// whose clocks are behind: rounded up, at least 1 ms. It is counted in
// microseconds, not as a time.Duration, which holds 292 years only: an
// expiry further out would saturate it, and the grace added would wrap it
// around to a TTL of nothing.
func ttl(until, now time.Time) int64 {
	us := micros(until) - now.UnixMicro() + store.CleanupGrace.Microseconds()
	ms := us / 1000
	if us%1000 > 0 {
		ms++
	}
	return max(ms, 1)
}

var revokeScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if not v or tonumber(ARGV[1]) > tonumber(v) then
	redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
end
redis.call('PUBLISH', ARGV[3], 'revoked')
return 1
`)

// RevokeToken implements store.Revocations: jti is revoked until the
// given time, or longer if it already was. It announces the revocation to
// every Store of the same prefix.
func (s *Store) RevokeToken(ctx context.Context, jti string, until time.Time) error {
	if err := s.available("revoke token"); err != nil {
		return err
	}
	// The version moves here too (not only when the announcement comes
	// back), so this replica's callers check again at once, even when the
	// script failed after it wrote.
	defer s.version.Add(1)
	now := s.now()
	err := revokeScript.Run(ctx, s.rdb, []string{s.key("revoked", jti)}, micros(until), ttl(until, now), s.channel).Err()
	if err != nil {
		return unavailable("revoke token", err)
	}
	return nil
}

// IsRevoked implements store.Revocations.
func (s *Store) IsRevoked(ctx context.Context, jti string) (bool, error) {
	if err := s.available("is revoked"); err != nil {
		return false, err
	}
	v, err := s.rdb.Get(ctx, s.key("revoked", jti)).Result()
	if errors.Is(err, redis.Nil) {
		return false, nil
	}
	if err != nil {
		return false, unavailable("is revoked", err)
	}
	until, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return false, unavailable("is revoked", fmt.Errorf("stored value %q: %w", v, err))
	}
	return s.now().UnixMicro() < until, nil
}

var consumeScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v and tonumber(v) > tonumber(ARGV[1]) then
	return 0
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
`)

// Consume implements store.ReplayCache.
func (s *Store) Consume(ctx context.Context, key string, until time.Time) error {
	if err := s.available("consume"); err != nil {
		return err
	}
	now := s.now()
	n, err := consumeScript.Run(ctx, s.rdb, []string{s.key("once", key)}, now.UnixMicro(), micros(until), ttl(until, now)).Int64()
	if err != nil {
		return unavailable("consume", err)
	}
	if n == 0 {
		return fmt.Errorf("%w: %q", store.ErrReplayed, key)
	}
	return nil
}

// A webhook ID's value is "c:" and the claim's lease, or "a:" and how long
// the applied ID is kept, in Unix microseconds.
var claimScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v and tonumber(string.sub(v, 3)) > tonumber(ARGV[1]) then
	if string.sub(v, 1, 2) == 'a:' then
		return 2
	end
	return 3
end
redis.call('SET', KEYS[1], 'c:' .. ARGV[2], 'PX', ARGV[3])
return 1
`)

// Claim implements store.WebhookLog.
func (s *Store) Claim(ctx context.Context, id string, lease time.Time) (store.WebhookClaim, error) {
	if err := s.available("claim webhook"); err != nil {
		return 0, err
	}
	now := s.now()
	n, err := claimScript.Run(ctx, s.rdb, []string{s.key("webhook", id)}, now.UnixMicro(), micros(lease), ttl(lease, now)).Int64()
	if err != nil {
		return 0, unavailable("claim webhook", err)
	}
	switch n {
	case 1:
		return store.WebhookNew, nil
	case 2:
		return store.WebhookApplied, nil
	case 3:
		return store.WebhookInProgress, nil
	}
	return 0, unavailable("claim webhook", fmt.Errorf("unexpected answer %d", n))
}

// Done implements store.WebhookLog.
func (s *Store) Done(ctx context.Context, id string, until time.Time) error {
	if err := s.available("webhook done"); err != nil {
		return err
	}
	v := "a:" + strconv.FormatInt(micros(until), 10)
	// PX in milliseconds as ttl counts them (a time.Duration of them could
	// overflow).
	if err := s.rdb.Do(ctx, "set", s.key("webhook", id), v, "px", ttl(until, s.now())).Err(); err != nil {
		return unavailable("webhook done", err)
	}
	return nil
}

var releaseScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v and string.sub(v, 1, 2) == 'c:' then
	redis.call('DEL', KEYS[1])
end
return 1
`)

// Release implements store.WebhookLog: it forgets a claim, never an
// applied ID.
func (s *Store) Release(ctx context.Context, id string) error {
	if err := s.available("release webhook"); err != nil {
		return err
	}
	if err := releaseScript.Run(ctx, s.rdb, []string{s.key("webhook", id)}).Err(); err != nil {
		return unavailable("release webhook", err)
	}
	return nil
}

var hitScript = redis.NewScript(`
local n = redis.call('INCR', KEYS[1])
if n == 1 then
	redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return n
`)

// Hit implements store.RateCounter. Each (key, window length, window
// start) is its own counter, which Redis drops at the window's end.
func (s *Store) Hit(ctx context.Context, key string, window time.Duration) (int64, error) {
	if window <= 0 {
		return 0, fmt.Errorf("redisstore: rate window %v is not positive", window)
	}
	if err := s.available("hit"); err != nil {
		return 0, err
	}
	now := s.now()
	start := windowStart(now, window)
	k := s.key("rate", key) + ":" + strconv.FormatInt(int64(window), 10) + ":" +
		strconv.FormatInt(start.Unix(), 10) + "." + strconv.Itoa(start.Nanosecond())
	n, err := hitScript.Run(ctx, s.rdb, []string{k}, ttl(start.Add(window), now)).Int64()
	if err != nil {
		return 0, unavailable("hit", err)
	}
	return n, nil
}

// windowStart is the start of the window of length w (positive) that
// holds t, windows aligned to the Unix epoch as store.RateCounter says
// (the SQL store and store.Memory align the same way). It is not
// t.Truncate(w), which counts from Go's zero time: the two differ for
// lengths that do not divide a day (7 s, 7 min).
func windowStart(t time.Time, w time.Duration) time.Time {
	n, d := t.UnixNano(), int64(w)
	r := n % d
	if r < 0 {
		r += d
	}
	return time.Unix(0, n-r).UTC()
}

var (
	_ store.Expiring  = (*Store)(nil)
	_ store.Versioned = (*Store)(nil)
)

// observeHook times every command for Config.Observe. A connection's
// own handshake (HELLO, CLIENT SETINFO, which older servers refuse and
// go-redis ignores) is not a store operation and is not reported.
type observeHook func(op string, d time.Duration, err error)

func (observeHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h observeHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if handshake(cmd) {
			return next(ctx, cmd)
		}
		start := time.Now()
		err := next(ctx, cmd)
		answer := err
		if errors.Is(answer, redis.Nil) {
			answer = nil
		}
		h("command", time.Since(start), answer)
		return err
	}
}

func (h observeHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if slices.ContainsFunc(cmds, handshake) {
			return next(ctx, cmds)
		}
		start := time.Now()
		err := next(ctx, cmds)
		h("command", time.Since(start), err)
		return err
	}
}

// handshake reports whether cmd is part of a new connection's handshake.
func handshake(cmd redis.Cmder) bool {
	n := cmd.Name()
	return n == "hello" || n == "client" || n == "auth" || n == "select"
}
