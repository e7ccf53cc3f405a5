package sqlstore

import (
	"cmp"
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// migrationFiles holds one directory of numbered migrations per dialect:
// migrations/sqlite/0001_init.sql, migrations/postgres/0001_init.sql, ….
//
//go:embed migrations
var migrationFiles embed.FS

// migration is one numbered schema change.
type migration struct {
	version int
	name    string
	sql     string
}

// MigrationStatus is one migration as Status reports it.
type MigrationStatus struct {
	// Version is the migration's number (0001_init.sql is 1).
	Version int
	// Name is the rest of its file name (init), or what the database
	// recorded for a migration this build does not know.
	Name string
	// Applied says whether the database has it; AppliedAt is when it was
	// applied (the zero time if it was not).
	Applied   bool
	AppliedAt time.Time
}

// embeddedMigrations are the migrations of a dialect, by version.
func embeddedMigrations(d dialect) ([]migration, error) {
	dir := path.Join("migrations", d.String())
	entries, err := fs.ReadDir(migrationFiles, dir)
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".sql")
		if !ok {
			continue
		}
		num, rest, _ := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("sqlstore: migration file %s: the name must start with its positive number", e.Name())
		}
		b, err := migrationFiles.ReadFile(path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: rest, sql: string(b)})
	}
	slices.SortFunc(out, func(a, b migration) int { return cmp.Compare(a.version, b.version) })
	for i := 1; i < len(out); i++ {
		if out[i].version == out[i-1].version {
			return nil, fmt.Errorf("sqlstore: two %s migrations are numbered %d", d, out[i].version)
		}
	}
	return out, nil
}

func (s *Store) migrations() ([]migration, error) {
	if s.hooks != nil && s.hooks.migrations != nil {
		return s.hooks.migrations, nil
	}
	return embeddedMigrations(s.d)
}

// createMigrationsTable makes the table of applied migrations.
func (s *Store) createMigrationsTable() string {
	if s.d == dialectPostgres {
		return "CREATE TABLE IF NOT EXISTS schema_migrations (version integer NOT NULL PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL)"
	}
	return "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER NOT NULL PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT"
}

// migrate applies the migrations the database lacks, in order, each in a
// transaction of its own, and returns the versions it applied.
func (s *Store) migrate(ctx context.Context) ([]int, error) {
	list, err := s.migrations()
	if err != nil {
		return nil, err
	}
	var applied []int
	for _, m := range list {
		done, err := s.applyMigration(ctx, m)
		if err != nil {
			return applied, err
		}
		if done {
			applied = append(applied, m.version)
		}
	}
	return applied, nil
}

// applyMigration applies m unless the database has it. The transaction
// first takes the migrations' lock (PostgreSQL: an advisory lock of the
// schema; SQLite: BEGIN IMMEDIATE, the database's write lock), then reads
// whether m is applied: of replicas that start at once, one applies it
// and the others see it applied. DDL is transactional in both engines, so
// a migration that fails leaves the schema as it was.
func (s *Store) applyMigration(ctx context.Context, m migration) (bool, error) {
	tx, err := s.rw.BeginTx(ctx, nil)
	if err != nil {
		return false, s.fail("beginning a migration", err)
	}
	defer tx.Rollback()
	if s.d == dialectPostgres {
		class, key := migrationLock(s.schema)
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1, $2)", class, key); err != nil {
			return false, s.fail("locking the migrations", err)
		}
	}
	if _, err := tx.ExecContext(ctx, s.createMigrationsTable()); err != nil {
		return false, s.fail("creating schema_migrations", err)
	}
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM schema_migrations WHERE version = $1", m.version).Scan(&n); err != nil {
		return false, s.fail("reading schema_migrations", err)
	}
	if n > 0 {
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return false, fmt.Errorf("sqlstore: migration %04d_%s failed; nothing of it was applied: %w", m.version, m.name, err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
		m.version, m.name, s.encodeTime(time.Now().UTC().Truncate(time.Microsecond))); err != nil {
		return false, s.fail("recording a migration", err)
	}
	if err := tx.Commit(); err != nil {
		return false, s.fail("committing a migration", err)
	}
	s.log.Info("sqlstore: migration applied", "version", m.version, "name", m.name)
	return true, nil
}

// connectOnly opens a DSN's pools for Migrate and Status: no sweeper, no
// listener, no poller.
func connectOnly(ctx context.Context, dsn string) (*Store, target, error) {
	t, err := parseDSN(dsn)
	if err != nil {
		return nil, t, err
	}
	s := &Store{d: t.d, now: time.Now, log: slog.New(slog.DiscardHandler), callTimeout: DefaultCallTimeout, hooks: &hooks{}}
	if err := s.connect(ctx, t, Config{MaxOpenConns: 2, MaxIdleConns: 2}); err != nil {
		return nil, t, err
	}
	return s, t, nil
}

// Migrate applies the migrations the database dsn names lacks (as Open
// does) and returns their versions, none when it is up to date. It
// starts nothing else: no sweeper, no listener.
func Migrate(ctx context.Context, dsn string) (applied []int, err error) {
	s, _, err := connectOnly(ctx, dsn)
	if err != nil {
		return nil, err
	}
	defer s.closePools()
	return s.migrate(ctx)
}

// Status lists the migrations this build knows, and any other the
// database recorded, by version, each with whether and when it was
// applied. It changes nothing (a SQLite file that does not exist is not
// created).
func Status(ctx context.Context, dsn string) ([]MigrationStatus, error) {
	t, err := parseDSN(dsn)
	if err != nil {
		return nil, err
	}
	list, err := embeddedMigrations(t.d)
	if err != nil {
		return nil, err
	}
	out := make([]MigrationStatus, len(list))
	for i, m := range list {
		out[i] = MigrationStatus{Version: m.version, Name: m.name}
	}
	if t.d == dialectSQLite && !t.memory {
		if _, err := os.Stat(t.path); errors.Is(err, fs.ErrNotExist) {
			// A new database's migrations are all pending; a path whose
			// directory is missing is a mistyped one, not a new database.
			if fi, err := os.Stat(filepath.Dir(t.path)); err != nil || !fi.IsDir() {
				return nil, fmt.Errorf("sqlstore: no directory %s for the SQLite file", filepath.Dir(t.path))
			}
			return out, nil
		}
	}
	s, _, err := connectOnly(ctx, dsn)
	if err != nil {
		return nil, err
	}
	defer s.closePools()
	exists := "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
	if s.d == dialectPostgres {
		exists = "SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = current_schema() AND tablename = 'schema_migrations'"
	}
	var n int
	if err := s.ro.QueryRowContext(ctx, exists).Scan(&n); err != nil {
		return nil, s.fail("looking for schema_migrations", err)
	}
	if n == 0 {
		return out, nil
	}
	rows, err := s.ro.QueryContext(ctx, "SELECT version, name, applied_at FROM schema_migrations ORDER BY version")
	if err != nil {
		return nil, s.fail("reading schema_migrations", err)
	}
	defer rows.Close()
	for rows.Next() {
		var st MigrationStatus
		if err := rows.Scan(&st.Version, &st.Name, timeCol{&st.AppliedAt}); err != nil {
			return nil, s.fail("reading schema_migrations", err)
		}
		st.Applied = true
		if i := slices.IndexFunc(out, func(m MigrationStatus) bool { return m.Version == st.Version }); i >= 0 {
			out[i].Applied, out[i].AppliedAt = true, st.AppliedAt
		} else {
			out = append(out, st)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail("reading schema_migrations", err)
	}
	slices.SortFunc(out, func(a, b MigrationStatus) int { return cmp.Compare(a.Version, b.Version) })
	return out, nil
}
