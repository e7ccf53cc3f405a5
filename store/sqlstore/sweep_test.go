package sqlstore

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ssokit/ssokit/store"
)

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func rowCount(t *testing.T, s *Store, table string) int {
	t.Helper()
	var n int
	if err := s.rw.QueryRow("SELECT count(*) FROM " + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// The sweeper deletes the expired rows of every expiring table by the
// store's clock, more than a batch of them, and keeps every live one.
func testSweep(t *testing.T, dsn string) {
	ctx := context.Background()
	clk := &clock{t: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
	s := openT(t, Config{DSN: dsn, Now: clk.Now})
	soon, later := clk.Now().Add(time.Minute), clk.Now().Add(time.Hour)
	// More expired one-time values than a batch holds.
	tx, err := s.rw.Begin()
	if err != nil {
		t.Fatal(err)
	}
	for i := range sweepBatch + 500 {
		if _, err := tx.Exec("INSERT INTO replay (key, until) VALUES ($1, $2)", keyArg(fmt.Sprintf("old%d", i)), s.untilArg(soon)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"a", "b"} {
		must0(t, s.RevokeToken(ctx, "soon-"+k, soon))
		must0(t, s.RevokeToken(ctx, "later-"+k, later))
		must0(t, s.Consume(ctx, "later-"+k, later))
		_, err := s.Claim(ctx, "soon-"+k, soon)
		must0(t, err)
		must0(t, s.Done(ctx, "later-"+k, later))
		_, err = s.Hit(ctx, "soon-"+k, time.Minute)
		must0(t, err)
		_, err = s.Hit(ctx, "later-"+k, 24*time.Hour)
		must0(t, err)
	}
	if n, err := s.sweep(ctx); err != nil || n != 0 {
		t.Fatalf("a sweep before anything expired deleted %d: %v", n, err)
	}
	// Expired by this replica's clock, but not for CleanupGrace: a
	// replica whose clock is behind may still need them.
	clk.Advance(2 * time.Minute)
	if n, err := s.sweep(ctx); err != nil || n != 0 {
		t.Fatalf("a sweep within the cleanup grace deleted %d: %v", n, err)
	}
	clk.Advance(store.CleanupGrace)
	n, err := s.sweep(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(sweepBatch + 500 + 2 + 2 + 2); n != want {
		t.Errorf("the sweep deleted %d rows, want %d", n, want)
	}
	for table, want := range map[string]int{"replay": 2, "revocations": 2, "webhooks": 2, "rate_counts": 2} {
		if got := rowCount(t, s, table); got != want {
			t.Errorf("%s: %d rows left, want %d", table, got, want)
		}
	}
	for _, k := range []string{"a", "b"} {
		if ok, _ := s.IsRevoked(ctx, "later-"+k); !ok {
			t.Error("a live revocation was swept")
		}
	}
	if n, _ := s.Hit(ctx, "later-a", 24*time.Hour); n != 2 {
		t.Errorf("a live count was swept: %d", n)
	}
}

func TestSweepSQLite(t *testing.T) {
	t.Parallel()
	testSweep(t, "sqlite::memory:")
}

func TestSweepPostgres(t *testing.T) {
	t.Parallel()
	dsn, _ := postgresSchema(t)
	testSweep(t, dsn)
}

// The sweeper runs by itself every SweepInterval.
func TestSweeperRuns(t *testing.T) {
	t.Parallel()
	clk := &clock{t: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
	s := openT(t, Config{DSN: sqliteFileDSN(t), Now: clk.Now, SweepInterval: 10 * time.Millisecond})
	ctx := context.Background()
	must0(t, s.Consume(ctx, "k", clk.Now().Add(time.Second)))
	must0(t, s.RevokeToken(ctx, "j", clk.Now().Add(time.Second)))
	time.Sleep(50 * time.Millisecond)
	if rowCount(t, s, "replay") != 1 || rowCount(t, s, "revocations") != 1 {
		t.Fatal("the sweeper deleted a live row")
	}
	clk.Advance(time.Second + store.CleanupGrace)
	if !waitFor(2*time.Second, func() bool { return rowCount(t, s, "replay") == 0 && rowCount(t, s, "revocations") == 0 }) {
		t.Fatal("the sweeper did not delete expired rows")
	}
}

func must0(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
