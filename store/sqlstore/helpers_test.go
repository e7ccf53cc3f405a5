package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// openT opens cfg and closes the store when the test ends.
func openT(t testing.TB, cfg Config) *Store {
	t.Helper()
	return openHooked(t, cfg, nil)
}

func openHooked(t testing.TB, cfg Config, h *hooks) *Store {
	t.Helper()
	s, err := open(context.Background(), cfg, h)
	if err != nil {
		t.Fatalf("open %s: %v", redactDSN(cfg.DSN), err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return s
}

func redactDSN(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.User != nil {
		u.User = url.User(u.User.Username())
		return u.String()
	}
	return dsn
}

// sqliteFileDSN is a SQLite file in the test's temporary directory.
func sqliteFileDSN(t testing.TB) string {
	return "sqlite:" + filepath.Join(t.TempDir(), "ssokit.db")
}

// postgresURL is the server of SSOKIT_TEST_POSTGRES; without it the test
// skips, except in CI (CI set), where it fails.
func postgresURL(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv("SSOKIT_TEST_POSTGRES")
	if dsn == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("SSOKIT_TEST_POSTGRES is not set: CI must run the PostgreSQL tests (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
		}
		t.Skip("set SSOKIT_TEST_POSTGRES (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable) to run the PostgreSQL tests")
	}
	return dsn
}

// postgresAdmin is a pool on the test server outside any test schema.
func postgresAdmin(t testing.TB) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", postgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// postgresSchema creates a schema of a random name, dropped when the test
// ends, and returns a DSN whose search_path selects it, and its name.
func postgresSchema(t testing.TB) (dsn, schema string) {
	t.Helper()
	base := postgresURL(t)
	admin := postgresAdmin(t)
	b := make([]byte, 8)
	rand.Read(b)
	schema = "ssokit_test_" + hex.EncodeToString(b)
	ctx := context.Background()
	if _, err := admin.ExecContext(ctx, `CREATE SCHEMA "`+schema+`"`); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, `DROP SCHEMA "`+schema+`" CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("SSOKIT_TEST_POSTGRES: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), schema
}

func mustParseURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

// waitFor polls cond every 10 ms until it holds or d passes.
func waitFor(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
}
