package controlplane

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ssokit/ssokit/idp"
	"github.com/ssokit/ssokit/store"
)

type counter struct{ v atomic.Uint64 }

func (c *counter) Version() uint64 { return c.v.Load() }

// The joined version moves whenever either part moves, and only then; two
// different pairs never read as the same version.
func TestJoinedVersions(t *testing.T) {
	var a, b counter
	j := &joinedVersions{parts: [2]store.Versioned{&a, &b}}
	v0 := j.Version()
	if j.Version() != v0 {
		t.Fatal("moved without a change")
	}
	seen := map[uint64]bool{v0: true}
	for i, step := range []func(){func() { a.v.Add(1) }, func() { b.v.Add(1) }, func() { a.v.Add(1); b.v.Add(1) }, func() { b.v.Store(1 << 40) }} {
		step()
		v := j.Version()
		if seen[v] {
			t.Fatalf("step %d: version %d seen before", i, v)
		}
		seen[v] = true
	}
}

type failingCache struct{ err error }

func (f failingCache) Consume(context.Context, string, time.Time) error { return f.err }

// A store's replay answer becomes package idp's: a replay is ErrReplayed,
// anything else ErrUpstream (a 503), never a pass.
func TestReplayCacheAdapter(t *testing.T) {
	ctx := context.Background()
	if err := (replayCache{failingCache{nil}}).Consume(ctx, "k", time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := (replayCache{failingCache{store.ErrReplayed}}).Consume(ctx, "k", time.Now()); !errors.Is(err, idp.ErrReplayed) {
		t.Fatalf("replayed: %v", err)
	}
	for _, e := range []error{store.ErrUnavailable, errors.New("connection reset")} {
		if err := (replayCache{failingCache{e}}).Consume(ctx, "k", time.Now()); !errors.Is(err, idp.ErrUpstream) || errors.Is(err, idp.ErrReplayed) {
			t.Fatalf("%v: %v", e, err)
		}
	}
}
