package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/ssokit/ssokit/store"
)

// The expiring state is four tables, each with an until column the
// sweeper deletes by. Expiry is judged by the store's clock (Config.Now),
// passed to every statement as a parameter, never by the engine's. Keys
// are bound as bytes and compared byte for byte.

// RevokeToken implements store.Revocations: a second revocation of jti
// never shortens the first.
func (s *Store) RevokeToken(ctx context.Context, jti string, until time.Time) error {
	if err := s.usable(); err != nil {
		return err
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return s.write(ctx, true, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO revocations (jti, until) VALUES ($1, $2)
ON CONFLICT (jti) DO UPDATE SET until = CASE WHEN excluded.until > revocations.until THEN excluded.until ELSE revocations.until END`,
			keyArg(jti), s.untilArg(until))
		if err != nil {
			return s.fail("revoking a token", err)
		}
		return nil
	})
}

// IsRevoked implements store.Revocations.
func (s *Store) IsRevoked(ctx context.Context, jti string) (bool, error) {
	if err := s.usable(); err != nil {
		return false, err
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var one int
	err := s.ro.QueryRowContext(ctx, "SELECT 1 FROM revocations WHERE jti = $1 AND until > $2", keyArg(jti), s.nowArg()).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, s.fail("reading a revocation", err)
	}
	return true, nil
}

// Consume implements store.ReplayCache: one statement inserts key, or
// takes over its row only when that has expired, so of concurrent
// consumers (on any replica) exactly one changes a row.
func (s *Store) Consume(ctx context.Context, key string, until time.Time) error {
	if err := s.usable(); err != nil {
		return err
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	res, err := s.rw.ExecContext(ctx, `INSERT INTO replay (key, until) VALUES ($1, $2)
ON CONFLICT (key) DO UPDATE SET until = excluded.until WHERE replay.until <= $3`,
		keyArg(key), s.untilArg(until), s.nowArg())
	if err != nil {
		return s.fail("recording a one-time value", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return s.fail("recording a one-time value", err)
	}
	if n == 0 {
		return fmt.Errorf("%w: %q", store.ErrReplayed, key)
	}
	return nil
}

// Claim implements store.WebhookLog: like Consume, one statement takes
// the ID unless an unexpired row (a claim or an applied event) holds it;
// then that row says which.
func (s *Store) Claim(ctx context.Context, id string, lease time.Time) (store.WebhookClaim, error) {
	if err := s.usable(); err != nil {
		return 0, err
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	for range 5 {
		now := s.nowArg()
		res, err := s.rw.ExecContext(ctx, `INSERT INTO webhooks (id, applied, until) VALUES ($1, FALSE, $2)
ON CONFLICT (id) DO UPDATE SET applied = FALSE, until = excluded.until WHERE webhooks.until <= $3`,
			keyArg(id), s.untilArg(lease), now)
		if err != nil {
			return 0, s.fail("claiming a webhook message", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return 0, s.fail("claiming a webhook message", err)
		}
		if n == 1 {
			return store.WebhookNew, nil
		}
		var applied bool
		err = s.rw.QueryRowContext(ctx, "SELECT applied FROM webhooks WHERE id = $1 AND until > $2", keyArg(id), now).Scan(&applied)
		if errors.Is(err, sql.ErrNoRows) {
			continue // released or lapsed in between: claim again
		}
		if err != nil {
			return 0, s.fail("claiming a webhook message", err)
		}
		if applied {
			return store.WebhookApplied, nil
		}
		return store.WebhookInProgress, nil
	}
	return 0, fmt.Errorf("%w: sqlstore: webhook message %q kept changing hands", store.ErrUnavailable, id)
}

// Done implements store.WebhookLog.
func (s *Store) Done(ctx context.Context, id string, until time.Time) error {
	if err := s.usable(); err != nil {
		return err
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	_, err := s.rw.ExecContext(ctx, `INSERT INTO webhooks (id, applied, until) VALUES ($1, TRUE, $2)
ON CONFLICT (id) DO UPDATE SET applied = TRUE, until = excluded.until`, keyArg(id), s.untilArg(until))
	if err != nil {
		return s.fail("recording a webhook message", err)
	}
	return nil
}

// Release implements store.WebhookLog: an applied ID stays applied.
func (s *Store) Release(ctx context.Context, id string) error {
	if err := s.usable(); err != nil {
		return err
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if _, err := s.rw.ExecContext(ctx, "DELETE FROM webhooks WHERE id = $1 AND applied = FALSE", keyArg(id)); err != nil {
		return s.fail("releasing a webhook message", err)
	}
	return nil
}

// Hit implements store.RateCounter: one upsert counts the hit in key's
// window of that length (aligned to the Unix epoch), or starts a later
// window at one (a hit stamped in an earlier window, from a replica whose
// clock is behind, counts into the current one), and returns the count.
func (s *Store) Hit(ctx context.Context, key string, window time.Duration) (int64, error) {
	if window <= 0 {
		return 0, fmt.Errorf("sqlstore: rate window %v is not positive", window)
	}
	if err := s.usable(); err != nil {
		return 0, err
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	start := windowStart(s.now(), window)
	var n int64
	err := s.rw.QueryRowContext(ctx, `INSERT INTO rate_counts (key, window_len, window_start, n, until) VALUES ($1, $2, $3, 1, $4)
ON CONFLICT (key, window_len) DO UPDATE SET
	n = CASE WHEN excluded.window_start > rate_counts.window_start THEN 1 ELSE rate_counts.n + 1 END,
	until = CASE WHEN excluded.window_start > rate_counts.window_start THEN excluded.until ELSE rate_counts.until END,
	window_start = CASE WHEN excluded.window_start > rate_counts.window_start THEN excluded.window_start ELSE rate_counts.window_start END
RETURNING n`, keyArg(key), int64(window), start, s.untilArg(time.Unix(0, start).Add(window))).Scan(&n)
	if err != nil {
		return 0, s.fail("counting a hit", err)
	}
	return n, nil
}

// windowStart is the start, in nanoseconds since the Unix epoch, of the
// window of length w that holds t.
func windowStart(t time.Time, w time.Duration) int64 {
	ns := t.UnixNano()
	q := ns / int64(w)
	if ns%int64(w) < 0 {
		q--
	}
	return q * int64(w)
}

// sweep deletes the rows of the expiring tables expired for
// store.CleanupGrace by the store's clock (replicas whose clocks are
// behind may still need them), in batches of sweepBatch rows so no
// statement holds locks long. It returns how many rows it deleted.
func (s *Store) sweep(ctx context.Context) (int64, error) {
	now := s.instantArg(s.now().Add(-store.CleanupGrace), false)
	var total int64
	for _, t := range []struct{ table, key string }{
		{"revocations", "jti"}, {"replay", "key"}, {"webhooks", "id"}, {"rate_counts", "key, window_len"},
	} {
		// The outer until test is evaluated again against the row it
		// deletes, so a row taken over in between (a Consume of an expired
		// key) stays.
		q := fmt.Sprintf("DELETE FROM %[1]s WHERE (%[2]s) IN (SELECT %[2]s FROM %[1]s WHERE until <= $1 LIMIT %[3]d) AND until <= $1",
			t.table, t.key, sweepBatch)
		for {
			sctx, cancel := s.bound(ctx)
			res, err := s.rw.ExecContext(sctx, q, now)
			cancel()
			if err != nil {
				return total, s.fail("sweeping "+t.table, err)
			}
			n, err := res.RowsAffected()
			if err != nil {
				return total, s.fail("sweeping "+t.table, err)
			}
			total += n
			if n < sweepBatch {
				break
			}
			if err := ctx.Err(); err != nil {
				return total, err
			}
		}
	}
	return total, nil
}

// runSweeper sweeps every interval until ctx ends.
func (s *Store) runSweeper(ctx context.Context, interval time.Duration) {
	defer s.wg.Done()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if s.Degraded() {
			continue
		}
		n, err := s.sweep(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			if !failing {
				s.log.Warn("sqlstore: deleting expired rows failed; they stay (and are still judged expired) until a sweep succeeds", "err", err)
			}
			failing = true
		case err == nil:
			if failing {
				s.log.Info("sqlstore: deleting expired rows works again")
			}
			failing = false
			if n > 0 {
				s.log.Debug("sqlstore: expired rows deleted", "rows", n)
			}
		}
	}
}
