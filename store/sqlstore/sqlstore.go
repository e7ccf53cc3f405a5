package sqlstore

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/ssokit/ssokit/store"
)

// Pool defaults, used where Config leaves a value zero.
const (
	// DefaultPostgresMaxOpenConns is the PostgreSQL pool's size.
	DefaultPostgresMaxOpenConns = 16
	// DefaultPostgresMaxIdleConns is how many PostgreSQL connections stay
	// open while idle.
	DefaultPostgresMaxIdleConns = 16
	// DefaultPostgresConnMaxLifetime is how long a PostgreSQL connection
	// is reused before it is replaced.
	DefaultPostgresConnMaxLifetime = 30 * time.Minute
	// DefaultSQLiteMaxOpenConns is the number of SQLite reader
	// connections (a file database in WAL mode reads concurrently; every
	// write goes through one writer connection of its own).
	DefaultSQLiteMaxOpenConns = 8
	// DefaultSQLiteMaxIdleConns is how many SQLite reader connections stay
	// open while idle.
	DefaultSQLiteMaxIdleConns = 8
	// DefaultSweepInterval is how often expired revocations, one-time
	// values, webhook IDs and rate counts are deleted.
	DefaultSweepInterval = time.Minute
	// DefaultInvalidationPoll is how often a SQLite file store checks
	// whether another process wrote to the database.
	DefaultInvalidationPoll = 500 * time.Millisecond
	// SQLiteBusyTimeout is how long a SQLite connection waits for a lock
	// held by another connection or process before it fails.
	SQLiteBusyTimeout = 10 * time.Second
	// DefaultCallTimeout bounds each call of a Store.
	DefaultCallTimeout = 10 * time.Second
)

// Limits of the sweeper and of the PostgreSQL listener's reconnection.
const (
	sweepBatch      = 1000
	reconnectFirst  = 100 * time.Millisecond
	reconnectMax    = 5 * time.Second
	listenerPing    = 30 * time.Second // a silent listener connection is checked this often
	listenerTimeout = 10 * time.Second // connecting, LISTEN and the check each get this long
)

// ErrDSN is wrapped by the error of Open, Migrate and Status for a DSN
// they do not accept.
var ErrDSN = errors.New("sqlstore: unsupported DSN (want sqlite:PATH, sqlite::memory:, postgres://… or postgresql://…)")

// Config configures Open.
type Config struct {
	// DSN names the database:
	//   sqlite:PATH         a SQLite file (created if missing), e.g. sqlite:./ssokit.db
	//   sqlite::memory:     a private in-memory SQLite database (each Open its own)
	//   postgres://…        PostgreSQL, passed to pgx (postgresql://… too);
	//                       search_path=SCHEMA in the query selects the schema
	DSN string
	// Now is the clock that judges expiry and stamps records; nil means
	// time.Now.
	Now func() time.Time
	// Logger receives the few lines the store logs (a lost PostgreSQL
	// listener, its return, sweeper failures); nil means silent.
	Logger *slog.Logger
	// MaxOpenConns, MaxIdleConns and ConnMaxLifetime size the pool: zero
	// means the defaults (PostgreSQL 16 open, 16 idle, 30 minutes; SQLite
	// 8 reader connections, 8 idle, no lifetime limit). For SQLite they
	// size the readers: writes always go through one connection of their
	// own, which is what keeps concurrent writers from failing with
	// SQLITE_BUSY. An in-memory SQLite database has one connection in all.
	// A negative value has database/sql's meaning (no limit open, none
	// idle, no lifetime limit).
	MaxOpenConns    int
	MaxIdleConns    int
	ConnMaxLifetime time.Duration
	// SweepInterval is how often expired rows are deleted; zero means 1
	// minute.
	SweepInterval time.Duration
	// InvalidationPoll is how often a SQLite file store reads PRAGMA
	// data_version to notice another process's writes (and move
	// Version); zero means 500 ms.
	InvalidationPoll time.Duration
	// CallTimeout bounds each call of the store: the wait for a
	// connection, its statements and, for a write, its whole transaction
	// (and each statement of the sweeper). Past it the call fails with
	// store.ErrUnavailable; a caller's context deadline, when earlier,
	// applies too. Zero or negative means DefaultCallTimeout (10 s): no
	// setting leaves a call unbounded, so a database that stalls (a lost
	// network, a row lock held by a stuck transaction) answers callers
	// with an error instead of holding them, and the pool, forever.
	CallTimeout time.Duration
	// Observe, when set, is told how long each statement took: op "read"
	// (a query on the read pool) or "write" (a statement or a whole
	// transaction on the write pool), and its error (nil for a query
	// whose rows are read later). For metrics: it must not block.
	Observe func(op string, d time.Duration, err error)
}

// dialect is the engine a Store talks to.
type dialect int

const (
	dialectSQLite dialect = iota + 1
	dialectPostgres
)

func (d dialect) String() string {
	if d == dialectPostgres {
		return "postgres"
	}
	return "sqlite"
}

// target is a parsed DSN.
type target struct {
	d      dialect
	path   string          // SQLite: the file, or ":memory:"
	pg     *pgx.ConnConfig // PostgreSQL
	memory bool
}

// parseDSN checks a DSN's form. It never echoes a DSN back in an error:
// a mistyped PostgreSQL URL may hold a password.
func parseDSN(dsn string) (target, error) {
	scheme, rest, ok := strings.Cut(dsn, ":")
	switch {
	case ok && strings.EqualFold(scheme, "sqlite"):
		if rest == "" {
			return target{}, fmt.Errorf("%w: sqlite: needs a path (sqlite:./ssokit.db) or :memory: (sqlite::memory:)", ErrDSN)
		}
		if strings.ContainsRune(rest, 0) {
			return target{}, fmt.Errorf("%w: the SQLite path holds a NUL byte", ErrDSN)
		}
		if rest == ":memory:" {
			return target{d: dialectSQLite, path: rest, memory: true}, nil
		}
		if strings.HasPrefix(rest, "//") {
			return target{}, fmt.Errorf("%w: write sqlite:PATH (sqlite:/abs/file.db or sqlite:./file.db), not a sqlite:// URL", ErrDSN)
		}
		return target{d: dialectSQLite, path: filepath.Clean(rest)}, nil
	case ok && (strings.EqualFold(scheme, "postgres") || strings.EqualFold(scheme, "postgresql")) && strings.HasPrefix(rest, "//"):
		if strings.Contains(dsn, "://") && strings.Count(dsn, "@") > 1 {
			// A raw @ in the password: pgx splits the user info at the
			// first, and its errors (or a later connection error) would
			// print the rest of the password. Refused before parsing; an
			// @ elsewhere (a socket directory in host=) is written %40 too.
			return target{}, fmt.Errorf("%w: more than one @: percent-encode an @ in the password (or elsewhere) as %%40", ErrDSN)
		}
		cfg, err := pgx.ParseConfig(dsn) // pgx redacts the password in its errors
		if err != nil {
			return target{}, fmt.Errorf("%w: %w", ErrDSN, err)
		}
		// A raw @ in the password splits the user info early: the rest
		// of the password becomes the host, which a connection error
		// would print. Refused without echoing it.
		hosts := []string{cfg.Host}
		for _, fb := range cfg.Fallbacks {
			hosts = append(hosts, fb.Host)
		}
		for _, h := range hosts {
			if strings.Contains(h, "@") {
				return target{}, fmt.Errorf("%w: the host holds an @: percent-encode an @ in the password as %%40", ErrDSN)
			}
		}
		return target{d: dialectPostgres, pg: cfg}, nil
	case ok && scheme != "" && !strings.ContainsAny(scheme, "/@ "):
		return target{}, fmt.Errorf("%w: scheme %q", ErrDSN, scheme)
	default:
		return target{}, ErrDSN
	}
}

// sqliteURI is the modernc.org/sqlite DSN of a file database with the
// given connection parameters: a file: URI, the path escaped.
func sqliteURI(path string, params ...string) string {
	esc := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(filepath.ToSlash(path))
	return "file:" + esc + "?" + strings.Join(params, "&")
}

var busyPragma = fmt.Sprintf("_pragma=busy_timeout(%d)", SQLiteBusyTimeout.Milliseconds())

// Store is the SQL store: store.Store, store.Expiring and store.Versioned
// over SQLite or PostgreSQL. Open it with Open and Close it when done; it
// is safe for concurrent use.
type Store struct {
	d   dialect
	rw  pool // every write (SQLite: one connection); PostgreSQL: the pool
	ro  pool // reads (a SQLite file: the reader pool; otherwise rw)
	now func() time.Time
	log *slog.Logger
	// callTimeout bounds each call (Config.CallTimeout).
	callTimeout time.Duration

	version  atomic.Uint64
	degraded atomic.Bool

	// PostgreSQL: the current schema, its NOTIFY channel, the listener.
	schema    string
	channel   string
	listenCfg *pgx.ConnConfig
	listenPID atomic.Uint32

	// SQLite file: the connection that reads PRAGMA data_version.
	pollDB *sql.DB

	hooks     *hooks
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
}

// hooks are the tests' ways in.
type hooks struct {
	// migrations replaces the embedded migrations when not nil.
	migrations []migration
	// listenerPing replaces listenerPing when not zero.
	listenerPing time.Duration
	// beforeReconnect runs before each attempt of the PostgreSQL listener
	// to reconnect.
	beforeReconnect func(ctx context.Context)
}

var (
	_ store.Store     = (*Store)(nil)
	_ store.Expiring  = (*Store)(nil)
	_ store.Versioned = (*Store)(nil)
)

// Open connects to the database cfg.DSN names, applies the migrations it
// lacks, and starts the sweeper of expired rows and the watch for other
// replicas' writes (PostgreSQL: LISTEN on the schema's channel; a SQLite
// file: PRAGMA data_version polling). ctx bounds the setup only.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	return open(ctx, cfg, nil)
}

func open(ctx context.Context, cfg Config, h *hooks) (*Store, error) {
	t, err := parseDSN(cfg.DSN)
	if err != nil {
		return nil, err
	}
	if h == nil {
		h = &hooks{}
	}
	s := &Store{d: t.d, now: cfg.Now, log: cfg.Logger, callTimeout: cfg.CallTimeout, hooks: h}
	if s.callTimeout <= 0 {
		s.callTimeout = DefaultCallTimeout
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if err := s.connect(ctx, t, cfg); err != nil {
		return nil, err
	}
	fail := func(err error) (*Store, error) {
		s.closePools()
		return nil, err
	}
	if _, err := s.migrate(ctx); err != nil {
		return fail(err)
	}
	bg, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	switch {
	case t.d == dialectPostgres:
		conn, err := s.listen(ctx)
		if err != nil {
			cancel()
			return fail(fmt.Errorf("%w: sqlstore: listening for other replicas' writes: %w", store.ErrUnavailable, err))
		}
		s.wg.Add(1)
		go s.runListener(bg, conn)
	case !t.memory:
		if err := s.startPoller(ctx, bg, t, cfg); err != nil {
			cancel()
			return fail(err)
		}
	}
	interval := cfg.SweepInterval
	if interval <= 0 {
		interval = DefaultSweepInterval
	}
	s.wg.Add(1)
	go s.runSweeper(bg, interval)
	return s, nil
}

// connect opens the pools (and checks they answer) without migrating or
// starting anything: Open, Migrate and Status share it.
func (s *Store) connect(ctx context.Context, t target, cfg Config) error {
	pick := func(v, def int) int {
		if v == 0 {
			return def
		}
		return v
	}
	switch {
	case t.d == dialectPostgres:
		pc := t.pg.Copy()
		if pc.RuntimeParams["application_name"] == "" {
			pc.RuntimeParams["application_name"] = "ssokit"
		}
		db := stdlib.OpenDB(*pc)
		db.SetMaxOpenConns(pick(cfg.MaxOpenConns, DefaultPostgresMaxOpenConns))
		db.SetMaxIdleConns(pick(cfg.MaxIdleConns, DefaultPostgresMaxIdleConns))
		life := cfg.ConnMaxLifetime
		if life == 0 {
			life = DefaultPostgresConnMaxLifetime
		}
		db.SetConnMaxLifetime(life)
		s.rw, s.ro = pool{DB: db}, pool{DB: db}
		lc := t.pg.Copy()
		lc.RuntimeParams["application_name"] = "ssokit-listener"
		s.listenCfg = lc
	case t.memory:
		// One connection: each :memory: connection is a database of its
		// own, so the pool must never open a second or drop the first.
		db, err := sql.Open("sqlite", ":memory:?_pragma=foreign_keys(1)&_txlock=immediate")
		if err != nil {
			return fmt.Errorf("%w: sqlstore: %w", store.ErrUnavailable, err)
		}
		db.SetMaxOpenConns(1)
		db.SetMaxIdleConns(1)
		db.SetConnMaxLifetime(0)
		db.SetConnMaxIdleTime(0)
		s.rw, s.ro = pool{DB: db}, pool{DB: db}
	default:
		// A new database file is readable by its owner only (it holds
		// password and API key hashes); SQLite gives its -wal and -shm
		// files the same mode.
		if f, err := os.OpenFile(t.path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600); err == nil {
			f.Close()
		}
		// Writes go through one connection, in transactions that take the
		// write lock when they begin (BEGIN IMMEDIATE), so writers in this
		// process queue for the connection and writers in another wait
		// for the lock (busy_timeout) instead of failing.
		w, err := sql.Open("sqlite", sqliteURI(t.path, busyPragma, "_pragma=journal_mode(WAL)", "_pragma=foreign_keys(1)", "_txlock=immediate"))
		if err != nil {
			return fmt.Errorf("%w: sqlstore: %w", store.ErrUnavailable, err)
		}
		w.SetMaxOpenConns(1)
		w.SetMaxIdleConns(1)
		w.SetConnMaxLifetime(0)
		w.SetConnMaxIdleTime(0)
		s.rw = pool{DB: w}
		// The writer sets WAL mode (kept in the file) before a reader
		// connects.
		if err := w.PingContext(ctx); err != nil {
			w.Close()
			return fmt.Errorf("%w: sqlstore: opening SQLite database %s: %w", store.ErrUnavailable, t.path, err)
		}
		r, err := sql.Open("sqlite", sqliteURI(t.path, busyPragma, "_pragma=query_only(1)"))
		if err != nil {
			w.Close()
			return fmt.Errorf("%w: sqlstore: %w", store.ErrUnavailable, err)
		}
		r.SetMaxOpenConns(pick(cfg.MaxOpenConns, DefaultSQLiteMaxOpenConns))
		r.SetMaxIdleConns(pick(cfg.MaxIdleConns, DefaultSQLiteMaxIdleConns))
		r.SetConnMaxLifetime(max(cfg.ConnMaxLifetime, 0))
		s.ro = pool{DB: r}
	}
	s.rw.op, s.rw.observe = "write", cfg.Observe
	s.ro.op, s.ro.observe = "read", cfg.Observe
	if err := s.rw.PingContext(ctx); err != nil {
		s.closePools()
		return fmt.Errorf("%w: sqlstore: connecting to %s: %w", store.ErrUnavailable, s.d, err)
	}
	if s.d == dialectPostgres {
		var schema sql.NullString
		if err := s.rw.QueryRowContext(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
			s.closePools()
			return fmt.Errorf("%w: sqlstore: reading the current schema: %w", store.ErrUnavailable, err)
		}
		if !schema.Valid {
			s.closePools()
			return errors.New("sqlstore: no schema is selected: the search_path names no schema that exists (CREATE SCHEMA it first)")
		}
		s.schema, s.channel = schema.String, notifyChannel(schema.String)
	}
	return nil
}

// notifyChannel is the NOTIFY channel of a schema: replicas on one schema
// share it, stores on other schemas of the database do not hear it. A
// hash keeps it a plain identifier under PostgreSQL's 63 bytes whatever
// the schema is called.
func notifyChannel(schema string) string {
	sum := sha256.Sum256([]byte(schema))
	return "ssokit_" + hex.EncodeToString(sum[:12])
}

// migrationLock is the pg_advisory_xact_lock key pair of a schema's
// migrations: a fixed class and the schema's hash.
func migrationLock(schema string) (int32, int32) {
	h := fnv.New32a()
	h.Write([]byte(schema))
	return 0x55534b54, int32(h.Sum32()) // "USKT"
}

func (s *Store) closePools() error {
	var errs []error
	if s.pollDB != nil {
		errs = append(errs, s.pollDB.Close())
	}
	if s.ro.DB != nil && s.ro.DB != s.rw.DB {
		errs = append(errs, s.ro.Close())
	}
	if s.rw.DB != nil {
		errs = append(errs, s.rw.Close())
	}
	return errors.Join(errs...)
}

// Close stops the sweeper and the watch for other replicas' writes and
// closes the connections. Calls after the first return its result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		if s.cancel != nil {
			s.cancel()
		}
		s.wg.Wait()
		s.closeErr = s.closePools()
	})
	return s.closeErr
}

// Version implements store.Versioned: it moves after every write of this
// Store that can end a session (a revocation, a person's or an
// organization's record, an API key's revocation), whether or not it
// succeeded, and when another replica's or process's write is noticed
// (PostgreSQL: a notification; SQLite: PRAGMA data_version), and when the
// PostgreSQL listener is lost and when it is back.
func (s *Store) Version() uint64 { return s.version.Load() }

// Degraded reports whether the store refuses every call with
// store.ErrUnavailable because its PostgreSQL listener is lost: it may
// have missed another replica's write (a revocation) and cannot vouch for
// what it would read. It reconnects by itself. SQLite stores are never
// degraded.
func (s *Store) Degraded() bool { return s.degraded.Load() }

// usable is every method's first check.
func (s *Store) usable() error {
	if s.degraded.Load() {
		return fmt.Errorf("%w: sqlstore: the listener for other replicas' writes is reconnecting; this replica cannot vouch for what it would read", store.ErrUnavailable)
	}
	return nil
}

// bound is the context of one call: ctx, ended at the call timeout.
func (s *Store) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.callTimeout)
}

// ---- errors ----------------------------------------------------------------

// errKind sorts database errors.
type errKind int

const (
	errOther      errKind = iota
	errUnique             // a unique or primary key constraint
	errForeignKey         // a foreign key
	errInvalid            // a value the engine refuses (PostgreSQL: NUL in text, invalid UTF-8, a time out of range)
)

func classify(err error) errKind {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "23505":
			return errUnique
		case pe.Code == "23503":
			return errForeignKey
		case strings.HasPrefix(pe.Code, "22") || pe.Code == "23514":
			return errInvalid
		}
		return errOther
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return errUnique
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return errForeignKey
		case sqlite3.SQLITE_CONSTRAINT_CHECK, sqlite3.SQLITE_TOOBIG, sqlite3.SQLITE_MISMATCH:
			return errInvalid
		}
	}
	return errOther
}

// fail wraps an engine error that is not an answer: the store cannot
// answer now (store.ErrUnavailable); a value the engine refuses is said
// so instead.
func (s *Store) fail(op string, err error) error {
	if classify(err) == errInvalid {
		return fmt.Errorf("sqlstore: %s: a value %s refuses: %w", op, s.d, err)
	}
	return fmt.Errorf("%w: sqlstore: %s: %w", store.ErrUnavailable, op, err)
}

// storable reports whether every string can be a PostgreSQL text value
// (valid UTF-8 without NUL); SQLite keeps any bytes. A lookup by a value
// that cannot be stored finds nothing.
func (s *Store) storable(vals ...string) bool {
	if s.d != dialectPostgres {
		return true
	}
	for _, v := range vals {
		if strings.IndexByte(v, 0) >= 0 || !utf8.ValidString(v) {
			return false
		}
	}
	return true
}

// ---- SQL helpers -----------------------------------------------------------

// pool is a connection pool whose statements are timed for
// Config.Observe (when set; otherwise they cost nothing more).
type pool struct {
	*sql.DB
	op      string
	observe func(op string, d time.Duration, err error)
}

// ExecContext is sql.DB's, timed.
func (p pool) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if p.observe == nil {
		return p.DB.ExecContext(ctx, query, args...)
	}
	start := time.Now()
	r, err := p.DB.ExecContext(ctx, query, args...)
	p.observe(p.op, time.Since(start), err)
	return r, err
}

// QueryContext is sql.DB's, timed to its first row.
func (p pool) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if p.observe == nil {
		return p.DB.QueryContext(ctx, query, args...)
	}
	start := time.Now()
	r, err := p.DB.QueryContext(ctx, query, args...)
	p.observe(p.op, time.Since(start), err)
	return r, err
}

// QueryRowContext is sql.DB's, timed.
func (p pool) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if p.observe == nil {
		return p.DB.QueryRowContext(ctx, query, args...)
	}
	start := time.Now()
	r := p.DB.QueryRowContext(ctx, query, args...)
	p.observe(p.op, time.Since(start), r.Err())
	return r
}

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// forUpdate locks the rows a transaction reads before it writes them
// (PostgreSQL; SQLite's BEGIN IMMEDIATE already holds the database's write
// lock).
func (s *Store) forUpdate() string {
	if s.d == dialectPostgres {
		return " FOR UPDATE"
	}
	return ""
}

// byteOrder sorts a text column byte for byte, as Memory does
// (PostgreSQL's default collation would not).
func (s *Store) byteOrder(col string) string {
	if s.d == dialectPostgres {
		return col + ` COLLATE "C"`
	}
	return col
}

// placeholders is "$from, …, $to".
func placeholders(from, to int) string {
	var b strings.Builder
	for i := from; i <= to; i++ {
		if i > from {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "$%d", i)
	}
	return b.String()
}

// write runs fn in one transaction on the writer. A write that can end a
// session (notify) tells the other replicas in the same transaction
// (PostgreSQL: pg_notify on the schema's channel) and moves Version once
// it is over, committed or not.
func (s *Store) write(ctx context.Context, notify bool, fn func(tx *sql.Tx) error) (err error) {
	if notify {
		defer s.version.Add(1)
	}
	if s.rw.observe != nil {
		start := time.Now()
		defer func() { s.rw.observe("write", time.Since(start), err) }()
	}
	tx, err := s.rw.BeginTx(ctx, nil)
	if err != nil {
		return s.fail("beginning a transaction", err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	if notify && s.d == dialectPostgres {
		if _, err := tx.ExecContext(ctx, "SELECT pg_notify($1, '')", s.channel); err != nil {
			return s.fail("notifying other replicas", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return s.fail("committing", err)
	}
	return nil
}
