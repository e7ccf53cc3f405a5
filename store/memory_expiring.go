package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// maxExpiring bounds each of Memory's expiring tables (one-time values,
// webhook IDs, rate counts). A table full of live entries refuses new ones
// with errExpiringFull rather than forget a live one.
const maxExpiring = 100_000

var errExpiringFull = errors.New("store: memory table of expiring entries is full")

// expiringMemory is Memory's one-time values, webhook log and rate counts.
type expiringMemory struct {
	mu       sync.Mutex
	used     map[string]time.Time // one-time key -> until
	webhooks map[string]webhookEntry
	counts   map[string]rateEntry
}

type webhookEntry struct {
	applied bool
	until   time.Time // the claim's lease, or how long an applied ID is kept
}

type rateEntry struct {
	window time.Time // start of the counted window
	until  time.Time // its end
	n      int64
}

// sweep deletes m's expired entries when it holds max or more.
func sweep[V any](m map[string]V, now time.Time, until func(V) time.Time) error {
	if len(m) < maxExpiring {
		return nil
	}
	for k, v := range m {
		if !now.Before(until(v)) {
			delete(m, k)
		}
	}
	if len(m) >= maxExpiring {
		return errExpiringFull
	}
	return nil
}

func (e *expiringMemory) init() {
	if e.used == nil {
		e.used, e.webhooks, e.counts = map[string]time.Time{}, map[string]webhookEntry{}, map[string]rateEntry{}
	}
}

// Consume implements ReplayCache.
func (m *Memory) Consume(_ context.Context, key string, until time.Time) error {
	e := &m.exp
	e.mu.Lock()
	defer e.mu.Unlock()
	e.init()
	now := m.now()
	if t, ok := e.used[key]; ok && now.Before(t) {
		return fmt.Errorf("%w: %q", ErrReplayed, key)
	}
	if err := sweep(e.used, now, func(t time.Time) time.Time { return t }); err != nil {
		return err
	}
	e.used[key] = until
	return nil
}

// Claim implements WebhookLog.
func (m *Memory) Claim(_ context.Context, id string, lease time.Time) (WebhookClaim, error) {
	e := &m.exp
	e.mu.Lock()
	defer e.mu.Unlock()
	e.init()
	now := m.now()
	if w, ok := e.webhooks[id]; ok && now.Before(w.until) {
		if w.applied {
			return WebhookApplied, nil
		}
		return WebhookInProgress, nil
	}
	if err := sweep(e.webhooks, now, func(w webhookEntry) time.Time { return w.until }); err != nil {
		return 0, err
	}
	e.webhooks[id] = webhookEntry{until: lease}
	return WebhookNew, nil
}

// Done implements WebhookLog.
func (m *Memory) Done(_ context.Context, id string, until time.Time) error {
	e := &m.exp
	e.mu.Lock()
	defer e.mu.Unlock()
	e.init()
	if _, ok := e.webhooks[id]; !ok {
		if err := sweep(e.webhooks, m.now(), func(w webhookEntry) time.Time { return w.until }); err != nil {
			return err
		}
	}
	e.webhooks[id] = webhookEntry{applied: true, until: until}
	return nil
}

// Release implements WebhookLog.
func (m *Memory) Release(_ context.Context, id string) error {
	e := &m.exp
	e.mu.Lock()
	defer e.mu.Unlock()
	if w, ok := e.webhooks[id]; ok && !w.applied {
		delete(e.webhooks, id)
	}
	return nil
}

// Hit implements RateCounter.
func (m *Memory) Hit(_ context.Context, key string, window time.Duration) (int64, error) {
	if window <= 0 {
		return 0, fmt.Errorf("store: rate window %v is not positive", window)
	}
	e := &m.exp
	e.mu.Lock()
	defer e.mu.Unlock()
	e.init()
	now := m.now()
	start := windowStart(now, window)
	key = fmt.Sprintf("%d\x00%s", window, key) // each window length counts apart
	c, ok := e.counts[key]
	// Only a later window starts the count over: a hit stamped in an
	// earlier one (another replica's clock behind) counts into this one.
	if !ok || start.After(c.window) {
		if !ok {
			if err := sweep(e.counts, now, func(r rateEntry) time.Time { return r.until }); err != nil {
				return 0, err
			}
		}
		c = rateEntry{window: start, until: start.Add(window)}
	}
	c.n++
	e.counts[key] = c
	return c.n, nil
}

// windowStart is the start of the window of length w (positive) that
// holds t, windows aligned to the Unix epoch as RateCounter says. It is
// not t.Truncate(w), which counts from Go's zero time: the two differ for
// lengths that do not divide a day (7 s, 7 min). A time before 1970 is in
// the window that starts at or before it.
func windowStart(t time.Time, w time.Duration) time.Time {
	n, d := t.UnixNano(), int64(w)
	r := n % d
	if r < 0 {
		r += d
	}
	return time.Unix(0, n-r).UTC()
}

var _ Expiring = (*Memory)(nil)
