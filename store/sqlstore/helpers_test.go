package sqlstore

import (
	"context"
	"database/sql"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/ssokit/ssokit/internal/testenv"
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
func postgresURL(t testing.TB) string { t.Helper(); return testenv.Postgres(t) }

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
	return testenv.PostgresSchemaNamed(t)
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
