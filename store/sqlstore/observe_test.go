package sqlstore

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/ssokit/ssokit/store"
)

// TestObserve: Config.Observe is told of every read and write with its
// duration, and of a failed one with its error.
func TestObserve(t *testing.T) {
	t.Parallel()
	var (
		mu  sync.Mutex
		ops []string
	)
	s := openT(t, Config{DSN: sqliteFileDSN(t), Observe: func(op string, d time.Duration, err error) {
		mu.Lock()
		defer mu.Unlock()
		if d < 0 {
			t.Errorf("%s took %v", op, d)
		}
		if err != nil {
			op += " error"
		}
		ops = append(ops, op)
	}})
	ctx := context.Background()
	count := func(op string) int {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for _, o := range ops {
			if o == op {
				n++
			}
		}
		return n
	}
	w0, r0 := count("write"), count("read")
	if err := s.CreateOrg(ctx, store.Org{ID: "acme"}); err != nil {
		t.Fatal(err)
	}
	if count("write") != w0+1 {
		t.Errorf("a created organization: %d writes observed, want %d", count("write"), w0+1)
	}
	if _, err := s.GetOrg(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeToken(ctx, "jti-1", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if count("read") != r0+1 || count("write") != w0+2 {
		t.Errorf("reads %d (want %d), writes %d (want %d)", count("read"), r0+1, count("write"), w0+2)
	}
	if err := s.CreateOrg(ctx, store.Org{ID: "acme"}); err == nil {
		t.Fatal("a second acme was created")
	}
	if count("write error") != 1 {
		t.Errorf("a refused write: %d errors observed, want 1 (%v)", count("write error"), ops)
	}
}
