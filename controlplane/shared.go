package controlplane

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ssokit/ssokit/idp"
	"github.com/ssokit/ssokit/store"
)

// replayCache is a store.ReplayCache as package idp's: a value seen
// before is idp.ErrReplayed, a cache that cannot answer idp.ErrUpstream
// (the login is refused with a 503, never let through).
type replayCache struct{ c store.ReplayCache }

func (r replayCache) Consume(ctx context.Context, key string, until time.Time) error {
	err := r.c.Consume(ctx, key, until)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrReplayed):
		return fmt.Errorf("%w: %v", idp.ErrReplayed, err)
	}
	return fmt.Errorf("%w: replay cache: %v", idp.ErrUpstream, err)
}

// revocations is where app sessions' revocations live: Expiring when
// there is one, else the Store.
func (a *API) revocations() store.Revocations {
	if a.exp != nil {
		return a.exp
	}
	return a.st
}

// versions is the version the Authenticator caches against: the Store's,
// joined with Expiring's when that is another object (revocations in
// Redis). Nil when either reports none: every request is checked in
// full, since a revocation written where no version moves would
// otherwise leave a cached session valid.
func (a *API) versions() store.Versioned {
	sv, ok := a.st.(store.Versioned)
	if !ok {
		return nil
	}
	if a.exp == nil || any(a.exp) == any(a.st) {
		return sv
	}
	ev, ok := a.exp.(store.Versioned)
	if !ok {
		return nil
	}
	return &joinedVersions{parts: [2]store.Versioned{sv, ev}}
}

// joinedVersions moves whenever either of its parts does: it counts the
// changes of the pair it has seen, so no two pairs share a version.
type joinedVersions struct {
	parts [2]store.Versioned
	mu    sync.Mutex
	last  [2]uint64
	n     uint64
}

func (j *joinedVersions) Version() uint64 {
	now := [2]uint64{j.parts[0].Version(), j.parts[1].Version()}
	j.mu.Lock()
	defer j.mu.Unlock()
	if now != j.last || j.n == 0 {
		j.last = now
		j.n++
	}
	return j.n
}
