// Package sqlstore is the SQL implementation of package store's
// interfaces (store.Store, store.Expiring, store.Versioned): SQLite
// (modernc.org/sqlite, pure Go) embedded for a single machine, PostgreSQL
// (github.com/jackc/pgx/v5) for replicas.
//
// # DSNs
//
//	sqlite:PATH            a SQLite file, created if missing: sqlite:./ssokit.db, sqlite:/var/lib/ssokit/ssokit.db
//	sqlite::memory:        an in-memory SQLite database, private to the Open (tests, demos)
//	postgres://…           PostgreSQL, handed to pgx as it is (postgresql://… too), e.g.
//	                       postgres://ssokit:secret@db:5432/ssokit?sslmode=verify-full&search_path=ssokit
//
// Anything else is refused with an error wrapping ErrDSN. A PostgreSQL
// store lives in the schema current_schema() names (the first schema of
// the search_path that exists): several stores can share one database in
// separate schemas.
//
// # Schema and migrations
//
// Open applies the migrations the database lacks (embedded in the binary,
// one directory per engine, the same tables in both) and records each in
// schema_migrations (version, name, applied_at). Each migration runs in
// one transaction, so one that fails leaves the schema as it was, and
// under a lock (PostgreSQL: pg_advisory_xact_lock on a key of the schema;
// SQLite: BEGIN IMMEDIATE), so replicas that start together apply it
// once. Migrate and Status do the same for a command (ssokit migrate)
// without starting a store. Uniqueness lives in the schema: one person
// per organization and email, one organization per Clerk organization,
// one API key per hash; users.org_id and api_keys.org_id reference orgs,
// so a person or an API key of an organization that does not exist is
// refused with store.ErrNotFound. (api_keys.org_id references orgs from
// migration 0002 on, which deleted the API keys of organizations that did
// not exist: none could be used, admission refuses a key whose
// organization is gone.)
//
// Times are kept at store.Precision in UTC (PostgreSQL timestamptz,
// SQLite INTEGER microseconds since the Unix epoch), the zero time as
// NULL, and read back exactly; a store keeps the years 1 to 9999. Lists
// and maps are JSON (PostgreSQL jsonb), a direct connection's bytes a
// BLOB (bytea). PostgreSQL text holds neither NUL bytes nor invalid
// UTF-8: a record with such a value is refused, and a lookup by one
// finds nothing. Keys of the expiring state are stored as bytes and may
// hold anything.
//
// # Expiring state
//
// Revocations, one-time values, webhook IDs and rate counts are tables
// with an until column. Expiry is judged by Config.Now, passed to each
// statement, never by the engine's clock. Consume and Claim are one
// INSERT … ON CONFLICT DO UPDATE that takes over a row only when it has
// expired, so of concurrent callers on any replica exactly one succeeds;
// Hit is one upsert that returns the count. A sweeper deletes rows
// expired for store.CleanupGrace (replicas whose clocks are behind may
// still need them) every Config.SweepInterval (1 minute), a bounded batch
// per statement.
//
// # Pools
//
// PostgreSQL: 16 connections open, 16 idle, each replaced after 30
// minutes (Config.MaxOpenConns, MaxIdleConns, ConnMaxLifetime), plus one
// listener connection (application_name ssokit-listener).
//
// SQLite: WAL mode, busy_timeout 10 s, foreign keys on; a new database
// file is created with mode 0600 (it holds password and API key hashes). Every write goes
// through one connection in transactions that begin with the write lock
// (BEGIN IMMEDIATE), so writers queue rather than fail with SQLITE_BUSY,
// in this process and across processes sharing the file. Reads use a
// pool of their own (8 connections by default), which WAL lets run
// beside the writer. An in-memory database has one connection in all.
//
// Each call is bounded by Config.CallTimeout (10 s): a database that
// does not answer (a stalled network, a row lock a stuck transaction
// holds) fails the call with store.ErrUnavailable, never holds it.
//
// # Staleness between replicas
//
// Version moves on every write of this Store that can end a session (a
// revocation, an update of a person or an organization, a role change, a
// deletion, an API key's revocation). Callers cache what they checked at
// a version and check again when it moves. Other replicas' writes move it
// too:
//
//   - PostgreSQL: each such write runs pg_notify on a channel derived
//     from the schema in its own transaction; each Store LISTENs on a
//     connection of its own and moves Version on every notification. The
//     bound is a notification's delivery: ≤ 1 s in normal
//     operation. If that connection is lost, the Store moves Version and
//     is degraded (Degraded reports it): every call fails with an error
//     wrapping store.ErrUnavailable, because it could have missed another
//     replica's revocation. It reconnects with backoff (100 ms doubling to
//     5 s), moves Version again and serves calls once it LISTENs. A quiet
//     listener connection is pinged every 30 s.
//     LISTEN needs a session of its own: point a PostgreSQL DSN at the
//     server or at a pooler in session mode, not at one in transaction
//     mode (PgBouncer's pool_mode=transaction drops notifications).
//   - SQLite: other processes (or other Opens) of the same file are
//     noticed by polling PRAGMA data_version every Config.InvalidationPoll
//     (500 ms), which is the bound.
//
// # Backups
//
// SQLite: never copy the files of a live database with cp (the WAL file
// holds committed writes the main file does not have yet). Use the sqlite3
// shell's .backup command (sqlite3 ssokit.db ".backup ssokit-backup.db")
// or VACUUM INTO 'ssokit-backup.db', which write a consistent copy while
// the store runs. PostgreSQL: pg_dump (pg_dump --schema=SCHEMA for one
// store's schema).
package sqlstore

import (
	_ "github.com/jackc/pgx/v5/stdlib" // the PostgreSQL driver
	_ "modernc.org/sqlite"             // the SQLite driver
)
