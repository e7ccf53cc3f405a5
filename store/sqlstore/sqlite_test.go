package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/ssokit/ssokit/store"
)

// A write through one Open of a SQLite file moves the Version of another
// Open of it within the poll interval.
func TestSQLiteTwoOpensVersion(t *testing.T) {
	t.Parallel()
	dsn := sqliteFileDSN(t)
	a := openT(t, Config{DSN: dsn, InvalidationPoll: 20 * time.Millisecond})
	b := openT(t, Config{DSN: dsn, InvalidationPoll: 20 * time.Millisecond})
	ctx := context.Background()
	time.Sleep(50 * time.Millisecond) // b's own start is behind it
	for _, w := range []struct {
		name  string
		write func() error
	}{
		{"revocation", func() error { return a.RevokeToken(ctx, "jti", time.Now().Add(time.Hour)) }},
		{"org creation", func() error { return a.CreateOrg(ctx, store.Org{ID: "acme"}) }},
		{"org update", func() error {
			_, err := a.UpdateOrg(ctx, "acme", func(o *store.Org) error { o.RequireSSO = true; return nil })
			return err
		}},
	} {
		before := b.Version()
		if err := w.write(); err != nil {
			t.Fatal(err)
		}
		if !waitFor(2*time.Second, func() bool { return b.Version() != before }) {
			t.Errorf("%s through one Open did not move the other's version within 2 s", w.name)
		}
	}
	if ok, err := b.IsRevoked(ctx, "jti"); !ok || err != nil {
		t.Errorf("the other Open reads %v %v", ok, err)
	}
	// Its own reads do not move it.
	v := b.Version()
	b.GetOrg(ctx, "acme")
	b.IsRevoked(ctx, "jti")
	time.Sleep(100 * time.Millisecond)
	if b.Version() != v {
		t.Errorf("reads moved the version")
	}
}

// Writers in two Opens of one file at once neither fail with
// SQLITE_BUSY nor break the one-winner rules.
func TestSQLiteConcurrentWriters(t *testing.T) {
	t.Parallel()
	dsn := sqliteFileDSN(t)
	a := openT(t, Config{DSN: dsn})
	b := openT(t, Config{DSN: dsn})
	ctx := context.Background()
	if err := a.CreateOrg(ctx, store.Org{ID: "acme"}); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	wins, created := 0, 0
	ids := map[string]bool{}
	var wg sync.WaitGroup
	until := time.Now().Add(time.Hour)
	for i := range 40 {
		s := []*Store{a, b}[i%2]
		wg.Go(func() {
			if err := s.Consume(ctx, fmt.Sprintf("k%d", i), until); err != nil {
				t.Errorf("consume: %v", err)
			}
			err := s.Consume(ctx, "race", until)
			if err != nil && !errors.Is(err, store.ErrReplayed) {
				t.Errorf("consume race: %v", err)
			}
			u, ok, uerr := s.CreateUserIfAbsent(ctx, store.User{ID: fmt.Sprintf("u%d", i), OrgID: "acme", Email: "alice@acme.test"})
			if uerr != nil {
				t.Errorf("create user: %v", uerr)
			}
			if _, herr := s.Hit(ctx, "ip", time.Hour); herr != nil {
				t.Errorf("hit: %v", herr)
			}
			if _, uerr := s.UpdateOrg(ctx, "acme", func(o *store.Org) error {
				time.Sleep(3 * time.Millisecond) // between the read and the write, another Open's writer runs
				o.Name += "x"
				return nil
			}); uerr != nil {
				t.Errorf("update org: %v", uerr)
			}
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				wins++
			}
			if ok {
				created++
			}
			ids[u.ID] = true
		})
	}
	wg.Wait()
	if wins != 1 || created != 1 || len(ids) != 1 {
		t.Errorf("%d consumers won, %d users created, %d distinct", wins, created, len(ids))
	}
	if n, _ := b.Hit(ctx, "ip", time.Hour); n != 41 {
		t.Errorf("the 41st hit counted %d", n)
	}
	if o, _ := a.GetOrg(ctx, "acme"); len(o.Name) != 40 {
		t.Errorf("40 updates made a name of %d", len(o.Name))
	}
}

// Each sqlite::memory: Open is a database of its own.
func TestSQLiteMemoryPrivate(t *testing.T) {
	t.Parallel()
	a := openT(t, Config{DSN: "sqlite::memory:"})
	b := openT(t, Config{DSN: "sqlite::memory:"})
	ctx := context.Background()
	if err := a.CreateOrg(ctx, store.Org{ID: "acme"}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.GetOrg(ctx, "acme"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another in-memory Open sees the org: %v", err)
	}
	// The one connection is kept: the database outlives idle time.
	time.Sleep(10 * time.Millisecond)
	if _, err := a.GetOrg(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
}

// A SQLite file keeps what was written across Close and Open.
func TestSQLiteReopen(t *testing.T) {
	t.Parallel()
	dsn := sqliteFileDSN(t)
	ctx := context.Background()
	s, err := Open(ctx, Config{DSN: dsn})
	if err != nil {
		t.Fatal(err)
	}
	s.CreateOrg(ctx, store.Org{ID: "acme", AllowedDomains: []string{"acme.test"}})
	s.RevokeToken(ctx, "jti", time.Now().Add(time.Hour))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("a second Close: %v", err)
	}
	s2 := openT(t, Config{DSN: dsn})
	if o, err := s2.GetOrg(ctx, "acme"); err != nil || o.AllowedDomains[0] != "acme.test" {
		t.Fatalf("%v %+v", err, o)
	}
	if ok, _ := s2.IsRevoked(ctx, "jti"); !ok {
		t.Fatal("revocation lost")
	}
}

// The schema holds the constraints, not only the code: a row written
// around the store is refused.
func TestSchemaConstraints(t *testing.T) {
	t.Parallel()
	run := func(t *testing.T, s *Store) {
		ctx := context.Background()
		if err := s.CreateOrg(ctx, store.Org{ID: "acme", ClerkOrgID: "org_1"}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.CreateUserIfAbsent(ctx, store.User{ID: "u1", OrgID: "acme", Email: "a@acme.test"}); err != nil {
			t.Fatal(err)
		}
		s.CreateAPIKey(ctx, store.APIKey{ID: "k1", OrgID: "acme", Hash: "h1"})
		now := s.encodeTime(time.Now().UTC().Truncate(time.Microsecond))
		for name, q := range map[string]string{
			"two users of one email": "INSERT INTO users (id, org_id, email, created_at) VALUES ('u2', 'acme', 'a@acme.test', $1)",
			"a user of no org":       "INSERT INTO users (id, org_id, email, created_at) VALUES ('u3', 'nope', 'b@acme.test', $1)",
			"a Clerk org twice":      "INSERT INTO orgs (id, clerk_org_id, created_at, updated_at) VALUES ('beta', 'org_1', $1, $1)",
			"a key hash twice":       "INSERT INTO api_keys (id, org_id, hash, created_at) VALUES ('k2', 'acme', 'h1', $1)",
			"an empty key hash":      "INSERT INTO api_keys (id, org_id, hash, created_at) VALUES ('k3', 'acme', '', $1)",
		} {
			if _, err := s.rw.ExecContext(ctx, q, now); err == nil {
				t.Errorf("%s: accepted", name)
			}
		}
		// Organizations without a Clerk organization are many.
		for _, id := range []string{"c", "d"} {
			if err := s.CreateOrg(ctx, store.Org{ID: id}); err != nil {
				t.Errorf("an org without a Clerk organization: %v", err)
			}
		}
	}
	t.Run("sqlite", func(t *testing.T) { t.Parallel(); run(t, openT(t, Config{DSN: "sqlite::memory:"})) })
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		dsn, _ := postgresSchema(t)
		run(t, openT(t, Config{DSN: dsn}))
	})
}

// A new SQLite file, and its WAL, are readable by the owner only.
func TestSQLiteFileMode(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := openT(t, Config{DSN: "sqlite:" + filepath.Join(dir, "ssokit.db")})
	must0(t, s.CreateOrg(context.Background(), store.Org{ID: "acme"}))
	for _, name := range []string{"ssokit.db", "ssokit.db-wal"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", name, fi.Mode().Perm())
		}
	}
}
