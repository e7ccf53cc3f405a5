package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ssokit/ssokit/internal/faultproxy"
	"github.com/ssokit/ssokit/store"
)

// replicas opens two Stores on one fresh PostgreSQL schema, as two
// replicas of the control plane would.
func replicas(t *testing.T, now func() time.Time, hb *hooks) (a, b *Store, schema string) {
	t.Helper()
	dsn, schema := postgresSchema(t)
	a = openT(t, Config{DSN: dsn, Now: now})
	b = openHooked(t, Config{DSN: dsn, Now: now}, hb)
	return a, b, schema
}

// A one-time value consumed on one replica is refused on the other.
func TestPostgresReplicasConsume(t *testing.T) {
	t.Parallel()
	a, b, _ := replicas(t, nil, nil)
	ctx := context.Background()
	until := time.Now().Add(time.Minute)
	if err := a.Consume(ctx, "state-nonce", until); err != nil {
		t.Fatal(err)
	}
	if err := b.Consume(ctx, "state-nonce", until); !errors.Is(err, store.ErrReplayed) {
		t.Fatalf("the other replica accepted a consumed value: %v", err)
	}
	// And at once on both: one wins.
	var mu sync.Mutex
	wins := 0
	var wg sync.WaitGroup
	for i := range 20 {
		s := []*Store{a, b}[i%2]
		wg.Go(func() {
			err := s.Consume(ctx, "race", until)
			if err != nil && !errors.Is(err, store.ErrReplayed) {
				t.Error(err)
			}
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				wins++
			}
		})
	}
	wg.Wait()
	if wins != 1 {
		t.Errorf("%d consumers on two replicas won", wins)
	}
}

// Concurrent first logins of one person, spread over two replicas, make
// one user, and every call returns it.
func TestPostgresReplicasCreateUser(t *testing.T) {
	t.Parallel()
	a, b, _ := replicas(t, nil, nil)
	ctx := context.Background()
	if err := a.CreateOrg(ctx, store.Org{ID: "acme"}); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	created, ids := 0, map[string]bool{}
	var wg sync.WaitGroup
	for i := range 20 {
		s := []*Store{a, b}[i%2]
		wg.Go(func() {
			u, ok, err := s.CreateUserIfAbsent(ctx, store.User{ID: fmt.Sprintf("u%d", i), OrgID: "acme", Email: "alice@acme.test"})
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			ids[u.ID] = true
			if ok {
				created++
			}
		})
	}
	wg.Wait()
	if created != 1 || len(ids) != 1 {
		t.Fatalf("%d created, %d distinct users returned", created, len(ids))
	}
	if list, _ := b.ListUsers(ctx, "acme"); len(list) != 1 {
		t.Fatalf("%d users stored", len(list))
	}
}

// Every write that can end a session, made on one replica, moves the
// other's Version within a notification's delivery.
func TestPostgresReplicasVersion(t *testing.T) {
	t.Parallel()
	a, b, _ := replicas(t, nil, nil)
	ctx := context.Background()
	a.CreateOrg(ctx, store.Org{ID: "acme"})
	a.CreateUserIfAbsent(ctx, store.User{ID: "u", OrgID: "acme", Email: "a@acme.test"})
	a.CreateAPIKey(ctx, store.APIKey{ID: "k", OrgID: "acme", Hash: "h"})
	for _, w := range []struct {
		name  string
		write func() error
	}{
		{"revocation", func() error { return a.RevokeToken(ctx, "jti", time.Now().Add(time.Hour)) }},
		{"org update", func() error {
			_, err := a.UpdateOrg(ctx, "acme", func(o *store.Org) error { o.RequireSSO = true; return nil })
			return err
		}},
		{"user update", func() error {
			_, err := a.UpdateUser(ctx, "u", func(u *store.User) error { u.ValidAfter = time.Now(); return nil })
			return err
		}},
		{"role change", func() error { _, err := a.ChangeRole(ctx, "u", "admin", time.Now()); return err }},
		{"key revocation", func() error { return a.RevokeAPIKey(ctx, "acme", "k") }},
		{"user removal", func() error { return a.DeleteUser(ctx, "u", nil) }},
		{"org creation", func() error { return a.CreateOrg(ctx, store.Org{ID: "beta"}) }},
	} {
		before := b.Version()
		if err := w.write(); err != nil {
			t.Fatalf("%s: %v", w.name, err)
		}
		if !waitFor(5*time.Second, func() bool { return b.Version() != before }) {
			t.Errorf("%s on one replica did not move the other's version within 5 s", w.name)
		}
	}
	// What the other replica then reads is the write.
	if ok, err := b.IsRevoked(ctx, "jti"); !ok || err != nil {
		t.Errorf("revocation read on the other replica: %v %v", ok, err)
	}
}

// Stores on other schemas of the database do not hear each other.
func TestPostgresSchemasApart(t *testing.T) {
	t.Parallel()
	dsnX, _ := postgresSchema(t)
	dsnY, _ := postgresSchema(t)
	x := openT(t, Config{DSN: dsnX})
	y := openT(t, Config{DSN: dsnY})
	peer := openT(t, Config{DSN: dsnY})
	ctx := context.Background()
	before := peer.Version()
	// Notifications reach a listener in commit order: x's, if peer heard
	// it, would come before y's.
	if err := x.RevokeToken(ctx, "jti", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := y.RevokeToken(ctx, "jti", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if !waitFor(5*time.Second, func() bool { return peer.Version() != before }) {
		t.Fatal("a write on the peer's schema did not reach it")
	}
	time.Sleep(200 * time.Millisecond)
	if got := peer.Version(); got != before+1 {
		t.Errorf("the peer's version moved by %d for one write on its schema: it hears other schemas", got-before)
	}
}

// everyCall is one call of every method of the store's interfaces.
func everyCall(s *Store) map[string]func(context.Context) error {
	later := time.Now().Add(time.Hour)
	return map[string]func(context.Context) error{
		"CreateOrg": func(ctx context.Context) error { return s.CreateOrg(ctx, store.Org{ID: "new"}) },
		"GetOrg":    func(ctx context.Context) error { _, err := s.GetOrg(ctx, "acme"); return err },
		"OrgByClerkID": func(ctx context.Context) error {
			_, err := s.OrgByClerkID(ctx, "org_1")
			return err
		},
		"UpdateOrg": func(ctx context.Context) error {
			_, err := s.UpdateOrg(ctx, "acme", func(*store.Org) error { return nil })
			return err
		},
		"ListOrgs": func(ctx context.Context) error { _, err := s.ListOrgs(ctx); return err },
		"GetUser":  func(ctx context.Context) error { _, err := s.GetUser(ctx, "u"); return err },
		"UserByEmail": func(ctx context.Context) error {
			_, err := s.UserByEmail(ctx, "acme", "a@acme.test")
			return err
		},
		"CreateUserIfAbsent": func(ctx context.Context) error {
			_, _, err := s.CreateUserIfAbsent(ctx, store.User{ID: "u2", OrgID: "acme", Email: "b@acme.test"})
			return err
		},
		"UpdateUser": func(ctx context.Context) error {
			_, err := s.UpdateUser(ctx, "u", func(*store.User) error { return nil })
			return err
		},
		"ChangeRole": func(ctx context.Context) error { _, err := s.ChangeRole(ctx, "u", "admin", later); return err },
		"DeleteUser": func(ctx context.Context) error { return s.DeleteUser(ctx, "gone", nil) },
		"ListUsers":  func(ctx context.Context) error { _, err := s.ListUsers(ctx, "acme"); return err },
		"CreateAPIKey": func(ctx context.Context) error {
			return s.CreateAPIKey(ctx, store.APIKey{ID: "k2", OrgID: "acme", Hash: "h2"})
		},
		"APIKeyByHash": func(ctx context.Context) error { _, err := s.APIKeyByHash(ctx, "h"); return err },
		"ListAPIKeys":  func(ctx context.Context) error { _, err := s.ListAPIKeys(ctx, "acme"); return err },
		"RevokeAPIKey": func(ctx context.Context) error { return s.RevokeAPIKey(ctx, "acme", "k") },
		"TouchAPIKeys": func(ctx context.Context) error {
			return s.TouchAPIKeys(ctx, map[string]time.Time{"k": time.Now()})
		},
		"RevokeToken": func(ctx context.Context) error { return s.RevokeToken(ctx, "jti", later) },
		"IsRevoked":   func(ctx context.Context) error { _, err := s.IsRevoked(ctx, "jti"); return err },
		"Consume":     func(ctx context.Context) error { return s.Consume(ctx, "once", later) },
		"Claim":       func(ctx context.Context) error { _, err := s.Claim(ctx, "msg", later); return err },
		"Done":        func(ctx context.Context) error { return s.Done(ctx, "msg", later) },
		"Release":     func(ctx context.Context) error { return s.Release(ctx, "msg") },
		"Hit":         func(ctx context.Context) error { _, err := s.Hit(ctx, "ip", time.Minute); return err },
	}
}

// A replica whose listener connection is killed moves its version and
// refuses every call with store.ErrUnavailable until it listens again,
// which it does by itself; then its version moves again and it serves.
func TestPostgresListenerLost(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	var once sync.Once
	reconnecting := make(chan struct{}, 100)
	hb := &hooks{beforeReconnect: func(ctx context.Context) {
		reconnecting <- struct{}{}
		select {
		case <-release:
		case <-ctx.Done():
		}
	}}
	a, b, _ := replicas(t, nil, hb)
	t.Cleanup(func() { once.Do(func() { close(release) }) })
	ctx := context.Background()
	a.CreateOrg(ctx, store.Org{ID: "acme", ClerkOrgID: "org_1"})
	a.CreateUserIfAbsent(ctx, store.User{ID: "u", OrgID: "acme", Email: "a@acme.test"})
	a.CreateAPIKey(ctx, store.APIKey{ID: "k", OrgID: "acme", Hash: "h"})
	if b.Degraded() {
		t.Fatal("degraded from the start")
	}
	for name, call := range everyCall(b) {
		if err := call(ctx); errors.Is(err, store.ErrUnavailable) {
			t.Fatalf("%s before the listener was lost: %v", name, err)
		}
	}

	pid := b.listenerPID()
	before := b.Version()
	var killed bool
	if err := postgresAdmin(t).QueryRowContext(ctx, "SELECT pg_terminate_backend($1)", int64(pid)).Scan(&killed); err != nil || !killed {
		t.Fatalf("terminate listener backend %d: %v %v", pid, killed, err)
	}
	if !waitFor(5*time.Second, b.Degraded) {
		t.Fatal("the store is not degraded after its listener connection was killed")
	}
	if !waitFor(time.Second, func() bool { return b.Version() != before }) {
		t.Error("losing the listener did not move the version")
	}
	select { // it tries again by itself; the hook holds the attempt
	case <-reconnecting:
	case <-time.After(5 * time.Second):
		t.Fatal("no attempt to reconnect")
	}
	// A revocation on the other replica meanwhile is not heard.
	if err := a.RevokeToken(ctx, "missed", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	for name, call := range everyCall(b) {
		if err := call(ctx); !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("%s while degraded: %v, want store.ErrUnavailable", name, err)
		}
	}
	if other, err := a.GetOrg(ctx, "acme"); err != nil || other.ID != "acme" {
		t.Errorf("the other replica is affected: %v", err)
	}

	degradedAt := b.Version()
	once.Do(func() { close(release) })
	if !waitFor(10*time.Second, func() bool { return !b.Degraded() }) {
		t.Fatal("the store did not recover")
	}
	if b.Version() == degradedAt {
		t.Error("recovering did not move the version")
	}
	if ok, err := b.IsRevoked(ctx, "missed"); !ok || err != nil {
		t.Errorf("after recovery: %v %v", ok, err)
	}
	if newPID := b.listenerPID(); newPID == pid || newPID == 0 {
		t.Errorf("listener pid %d after recovery (was %d)", newPID, pid)
	}
	// It hears the other replica again.
	v := b.Version()
	if err := a.RevokeToken(ctx, "heard", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if !waitFor(5*time.Second, func() bool { return b.Version() != v }) {
		t.Error("after recovery the other replica's revocation is not heard")
	}
}

// A listener that cannot reconnect at once keeps trying, with backoff,
// without a hook holding it.
func TestPostgresListenerReconnectsUnaided(t *testing.T) {
	t.Parallel()
	_, b, _ := replicas(t, nil, nil)
	var killed bool
	if err := postgresAdmin(t).QueryRow("SELECT pg_terminate_backend($1)", int64(b.listenerPID())).Scan(&killed); err != nil || !killed {
		t.Fatalf("terminate: %v %v", killed, err)
	}
	if !waitFor(5*time.Second, b.Degraded) {
		t.Fatal("not degraded")
	}
	if !waitFor(10*time.Second, func() bool { return !b.Degraded() }) {
		t.Fatal("did not recover by itself")
	}
	if _, err := b.ListOrgs(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// Several replicas opening a fresh schema at once all succeed, and each
// migration is applied once.
func TestPostgresConcurrentOpen(t *testing.T) {
	t.Parallel()
	dsn, _ := postgresSchema(t)
	var wg sync.WaitGroup
	stores := make([]*Store, 4)
	errs := make([]error, 4)
	for i := range stores {
		wg.Go(func() { stores[i], errs[i] = Open(context.Background(), Config{DSN: dsn}) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("open %d: %v", i, err)
			continue
		}
		t.Cleanup(func() { stores[i].Close() })
	}
	if t.Failed() {
		return
	}
	var n, distinct int
	if err := stores[0].rw.QueryRow("SELECT count(*), count(DISTINCT version) FROM schema_migrations").Scan(&n, &distinct); err != nil {
		t.Fatal(err)
	}
	want, _ := embeddedMigrations(dialectPostgres)
	if n != len(want) || distinct != len(want) {
		t.Errorf("schema_migrations has %d rows, %d versions; want %d", n, distinct, len(want))
	}
}

// A search_path that names no existing schema is refused with a clear
// error.
func TestPostgresNoSchema(t *testing.T) {
	t.Parallel()
	dsn, schema := postgresSchema(t)
	_, err := Open(context.Background(), Config{DSN: replaceSchema(dsn, schema+"_missing")})
	if err == nil {
		t.Fatal("opened a store with no schema")
	}
	t.Log(err)
}

func replaceSchema(dsn, schema string) string {
	u := mustParseURL(dsn)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Concurrent updates of one organization from two replicas are applied
// one after the other: none is lost.
func TestPostgresReplicasUpdateOrg(t *testing.T) {
	t.Parallel()
	a, b, _ := replicas(t, nil, nil)
	ctx := context.Background()
	if err := a.CreateOrg(ctx, store.Org{ID: "acme"}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 20 {
		s := []*Store{a, b}[i%2]
		wg.Go(func() {
			if _, err := s.UpdateOrg(ctx, "acme", func(o *store.Org) error {
				o.AllowedDomains = append(o.AllowedDomains, fmt.Sprintf("d%d.test", i))
				return nil
			}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if o, _ := b.GetOrg(ctx, "acme"); len(o.AllowedDomains) != 20 {
		t.Errorf("20 concurrent updates kept %d domains: updates were lost", len(o.AllowedDomains))
	}
}

// A quiet listener connection is checked and kept: quiet periods neither
// degrade the store nor lose later notifications.
func TestPostgresListenerQuiet(t *testing.T) {
	t.Parallel()
	a, b, _ := replicas(t, nil, &hooks{listenerPing: 20 * time.Millisecond})
	ctx := context.Background()
	pid := b.listenerPID()
	for i := range 5 {
		time.Sleep(100 * time.Millisecond) // several quiet periods, each ended by a ping
		if b.Degraded() || b.listenerPID() != pid {
			t.Fatalf("a quiet connection was taken for lost (degraded %v, pid %d, was %d)", b.Degraded(), b.listenerPID(), pid)
		}
		v := b.Version()
		if err := a.RevokeToken(ctx, fmt.Sprint("j", i), time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if !waitFor(5*time.Second, func() bool { return b.Version() != v }) {
			t.Fatalf("after quiet period %d a notification was not heard", i)
		}
	}
	// A connection that dies while quiet is noticed.
	var killed bool
	if err := postgresAdmin(t).QueryRow("SELECT pg_terminate_backend($1)", int64(pid)).Scan(&killed); err != nil || !killed {
		t.Fatalf("terminate: %v %v", killed, err)
	}
	if !waitFor(5*time.Second, b.Degraded) {
		t.Fatal("not degraded")
	}
	if !waitFor(10*time.Second, func() bool { return !b.Degraded() }) {
		t.Fatal("did not recover")
	}
}

// A call the database does not answer (a row lock held by a stuck
// transaction, a network that stalls) fails with store.ErrUnavailable at
// Config.CallTimeout, even on a context without a deadline: it never
// holds its caller, or a connection of the pool, for good.
func TestPostgresStalledCallsFail(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	bounded := func(t *testing.T, name string, call func() error) {
		t.Helper()
		done := make(chan error, 1)
		start := time.Now()
		go func() { done <- call() }()
		select {
		case err := <-done:
			if !errors.Is(err, store.ErrUnavailable) {
				t.Errorf("%s: %v, want store.ErrUnavailable", name, err)
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("%s took %v", name, d)
			}
		case <-time.After(5 * time.Second):
			t.Errorf("%s still waits after 5 s: the call is unbounded", name)
		}
	}

	t.Run("lock", func(t *testing.T) {
		t.Parallel()
		dsn, schema := postgresSchema(t)
		s := openT(t, Config{DSN: dsn, CallTimeout: 300 * time.Millisecond})
		if err := s.CreateOrg(ctx, store.Org{ID: "acme"}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.CreateUserIfAbsent(ctx, store.User{ID: "u1", OrgID: "acme", Email: "a@acme.test"}); err != nil {
			t.Fatal(err)
		}
		// Another client holds the person's row, and the organization's,
		// and does not finish.
		tx, err := postgresAdmin(t).BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		q := fmt.Sprintf(`SELECT 1 FROM %[1]s.users WHERE id = 'u1' FOR UPDATE; SELECT 1 FROM %[1]s.orgs WHERE id = 'acme' FOR UPDATE`, pgx.Identifier{schema}.Sanitize())
		if _, err := tx.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
		bounded(t, "ChangeRole", func() error { _, err := s.ChangeRole(ctx, "u1", "admin", time.Now()); return err })
		bounded(t, "UpdateOrg", func() error {
			_, err := s.UpdateOrg(ctx, "acme", func(*store.Org) error { return nil })
			return err
		})
	})

	t.Run("network", func(t *testing.T) {
		t.Parallel()
		dsn, _ := postgresSchema(t)
		u := mustParseURL(dsn)
		p, err := faultproxy.New(u.Host)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.Close)
		u.Host = p.Addr()
		s := openT(t, Config{DSN: u.String(), CallTimeout: 300 * time.Millisecond})
		if err := s.CreateOrg(ctx, store.Org{ID: "acme"}); err != nil {
			t.Fatal(err)
		}
		p.Slow(time.Hour)
		bounded(t, "IsRevoked", func() error { _, err := s.IsRevoked(ctx, "j"); return err })
		bounded(t, "Consume", func() error { return s.Consume(ctx, "once", time.Now().Add(time.Minute)) })
		bounded(t, "GetUser", func() error { _, err := s.GetUser(ctx, "u1"); return err })
		bounded(t, "Hit", func() error { _, err := s.Hit(ctx, "ip", time.Minute); return err })
		p.Slow(0)
	})
}
