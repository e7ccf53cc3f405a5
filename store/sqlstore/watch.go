package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// How a Store hears of writes it did not make (so Version moves):
//
// PostgreSQL: every write that can end a session runs pg_notify on the
// schema's channel in its transaction; a dedicated connection LISTENs and
// moves Version on each notification. Without that connection a replica
// could miss another's revocation, so from the moment it is lost until it
// LISTENs again the store is degraded: every call fails with
// store.ErrUnavailable.
//
// SQLite file: a dedicated connection reads PRAGMA data_version every
// InvalidationPoll; it changes when another connection (another process,
// or another Open of the file) committed.

// listen connects the listener connection and LISTENs on the schema's
// channel.
func (s *Store) listen(ctx context.Context) (*pgx.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, listenerTimeout)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, s.listenCfg.Copy())
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{s.channel}.Sanitize()); err != nil {
		closeConn(conn)
		return nil, err
	}
	s.listenPID.Store(conn.PgConn().PID())
	return conn, nil
}

func closeConn(conn *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	conn.Close(ctx)
}

// listenerPID is the backend process ID of the listener connection (the
// tests end it with pg_terminate_backend).
func (s *Store) listenerPID() uint32 { return s.listenPID.Load() }

// runListener moves Version on every notification until ctx ends; when
// the connection is lost it degrades the store until it is back.
func (s *Store) runListener(ctx context.Context, conn *pgx.Conn) {
	defer s.wg.Done()
	for {
		err := s.waitNotifications(ctx, conn)
		closeConn(conn)
		if ctx.Err() != nil {
			return
		}
		s.degraded.Store(true)
		s.version.Add(1)
		s.log.Error("sqlstore: lost the PostgreSQL connection that hears other replicas' writes; every call fails with store.ErrUnavailable until it is back", "err", err)
		if conn = s.reconnect(ctx); conn == nil {
			return
		}
		// Whatever was missed while it was away: callers check again.
		s.version.Add(1)
		s.degraded.Store(false)
		s.log.Info("sqlstore: the PostgreSQL connection that hears other replicas' writes is back; calls are served again")
	}
}

// waitNotifications returns when the connection is lost or ctx ends. A
// connection quiet for listenerPing is checked with a ping, so one that
// died without a word (a network partition) is noticed.
func (s *Store) waitNotifications(ctx context.Context, conn *pgx.Conn) error {
	quietFor := listenerPing
	if s.hooks.listenerPing != 0 {
		quietFor = s.hooks.listenerPing
	}
	for {
		wctx, cancel := context.WithTimeout(ctx, quietFor)
		_, err := conn.WaitForNotification(wctx)
		quiet := wctx.Err() != nil
		cancel()
		switch {
		case err == nil:
			s.version.Add(1)
		case ctx.Err() != nil:
			return ctx.Err()
		case quiet && !conn.IsClosed():
			pctx, cancel := context.WithTimeout(ctx, listenerTimeout)
			err := conn.Ping(pctx)
			cancel()
			if err != nil {
				return fmt.Errorf("the quiet connection does not answer: %w", err)
			}
		default:
			return err
		}
	}
}

// reconnect tries to LISTEN again, with backoff from reconnectFirst
// doubling to reconnectMax, until it does (it returns the connection) or
// ctx ends (nil).
func (s *Store) reconnect(ctx context.Context) *pgx.Conn {
	delay := reconnectFirst
	for attempt := 1; ; attempt++ {
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(delay):
		}
		if h := s.hooks.beforeReconnect; h != nil {
			h(ctx)
		}
		conn, err := s.listen(ctx)
		if err == nil {
			return conn
		}
		if ctx.Err() != nil {
			return nil
		}
		s.log.Debug("sqlstore: the PostgreSQL listener could not reconnect yet", "attempt", attempt, "err", err)
		delay = min(2*delay, reconnectMax)
	}
}

// startPoller reads the SQLite file's data_version on a connection of its
// own and polls it every cfg.InvalidationPoll.
func (s *Store) startPoller(ctx, bg context.Context, t target, cfg Config) error {
	db, err := sql.Open("sqlite", sqliteURI(t.path, busyPragma, "_pragma=query_only(1)"))
	if err != nil {
		return err
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	s.pollDB = db
	conn, err := db.Conn(ctx)
	if err != nil {
		return s.fail("opening the data_version connection", err)
	}
	v, err := dataVersion(ctx, conn)
	if err != nil {
		conn.Close()
		return s.fail("reading data_version", err)
	}
	interval := cfg.InvalidationPoll
	if interval <= 0 {
		interval = DefaultInvalidationPoll
	}
	s.wg.Add(1)
	go s.runPoller(bg, conn, v, interval)
	return nil
}

func dataVersion(ctx context.Context, conn *sql.Conn) (int64, error) {
	var v int64
	err := conn.QueryRowContext(ctx, "PRAGMA data_version").Scan(&v)
	return v, err
}

// runPoller moves Version whenever data_version changes, and whenever it
// cannot read it (so callers check again rather than trust a cache no one
// watches).
func (s *Store) runPoller(ctx context.Context, conn *sql.Conn, last int64, interval time.Duration) {
	defer s.wg.Done()
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		var err error
		if conn == nil {
			if conn, err = s.pollDB.Conn(ctx); err == nil {
				// data_version counts per connection: a new one starts a
				// new count, and writes may have been missed meanwhile.
				if last, err = dataVersion(ctx, conn); err == nil {
					s.version.Add(1)
				}
			}
		}
		var v int64
		if err == nil {
			v, err = dataVersion(ctx, conn)
		}
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			s.version.Add(1)
			if !failing {
				s.log.Warn("sqlstore: cannot read SQLite data_version; Version moves on every poll until it can", "err", err)
			}
			failing = true
			if conn != nil {
				conn.Close()
				conn = nil
			}
			continue
		}
		if failing {
			s.log.Info("sqlstore: SQLite data_version can be read again")
			failing = false
		}
		if v != last {
			last = v
			s.version.Add(1)
		}
	}
}
