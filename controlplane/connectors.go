package controlplane

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/ssokit/ssokit/idp"
	"github.com/ssokit/ssokit/store"
)

// connFailureTTL is how long a connection that failed to build is not
// tried again. Anyone may start a sign-in, and building fetches the
// tenant's discovery document or metadata: without it, every anonymous
// start would make the server fetch (and wait up to the fetch timeout)
// from an identity provider that is down or a URL that never answers.
const connFailureTTL = 30 * time.Second

// connector returns the org's direct IdP connector, built once and cached
// by the organization and the stored connection's digest: a change of the
// connection (on this replica or another) builds a new one. Concurrent
// requests for a connector not yet built wait for one build; a build that
// fails is answered from memory for connFailureTTL.
func (a *API) connector(ctx context.Context, org store.Org) (idp.Connector, error) {
	key := connectionKey(org)
	if c, ok := a.conns.Get(key); ok {
		return c, nil
	}
	if err, ok := a.connFails.Get(key); ok {
		return nil, err
	}
	b, first := a.building.join(key)
	if first {
		// One request's cancellation must not fail the others waiting
		// on the same build, nor be remembered as the connection's
		// failure: the build runs to its own fetch timeouts.
		func() {
			b.err = errConnectorBuild // if the build panics, the waiters get this
			defer a.building.done(key, b)
			b.c, b.err = a.buildConnector(context.WithoutCancel(ctx), org)
			if b.err != nil {
				a.connFails.Set(key, b.err, time.Time{})
				return
			}
			a.conns.Set(key, b.c, time.Time{})
		}()
	}
	select {
	case <-b.ready:
		return b.c, b.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// errConnectorBuild is the failure of a connector build that ended
// without a result.
var errConnectorBuild = errors.New("controlplane: the connector build ended without a result")

func (a *API) buildConnector(ctx context.Context, org store.Org) (idp.Connector, error) {
	conn, err := a.orgConnection(org)
	if err != nil {
		return nil, err
	}
	return idp.New(ctx, conn, a.idpOptions(org.ID))
}

// connBuilds are the connector builds under way, by connection key.
type connBuilds struct {
	mu sync.Mutex
	m  map[string]*connBuild
}

// connBuild is one build; ready closes when c and err are set.
type connBuild struct {
	ready chan struct{}
	c     idp.Connector
	err   error
}

// join returns the build under way for key, or a new one that the caller
// (first) must run and end with done.
func (bs *connBuilds) join(key string) (b *connBuild, first bool) {
	bs.mu.Lock()
	defer bs.mu.Unlock()
	if b, ok := bs.m[key]; ok {
		return b, false
	}
	if bs.m == nil {
		bs.m = map[string]*connBuild{}
	}
	b = &connBuild{ready: make(chan struct{})}
	bs.m[key] = b
	return b, true
}

// done publishes b's result to those waiting and forgets it.
func (bs *connBuilds) done(key string, b *connBuild) {
	bs.mu.Lock()
	delete(bs.m, key)
	bs.mu.Unlock()
	close(b.ready)
}

// idpOptions are Config.IdP for org's connection: its group resolver makes
// app-only lookups only for the organizations in Config.AppOnlyGroupOrgs.
func (a *API) idpOptions(orgID string) idp.Options {
	o := a.cfg.IdP
	if o.GroupResolver != nil && !slices.Contains(a.cfg.AppOnlyGroupOrgs, orgID) {
		o.GroupResolver = delegatedOnly{o.GroupResolver}
	}
	return o
}

// delegatedOnly is a group resolver that looks up only with the person's
// own access token (OIDC), never with app-only credentials (SAML).
type delegatedOnly struct{ next idp.GroupResolver }

func (d delegatedOnly) ResolveGroups(ctx context.Context, id *idp.Identity, accessToken string) ([]string, error) {
	if accessToken == "" {
		return nil, fmt.Errorf("%w: the organization is not in the control plane's AppOnlyGroupOrgs", idp.ErrNoAppCredentials)
	}
	return d.next.ResolveGroups(ctx, id, accessToken)
}
