package controlplane

import (
	"context"
	"time"

	"github.com/ssokit/ssokit/idp"
	"github.com/ssokit/ssokit/store"
)

// connector returns the org's direct IdP connector, built once and cached
// by the organization and the stored connection's digest: a change of the
// connection (on this replica or another) builds a new one.
func (a *API) connector(ctx context.Context, org store.Org) (idp.Connector, error) {
	key := connectionKey(org)
	if c, ok := a.conns.Get(key); ok {
		return c, nil
	}
	conn, err := a.orgConnection(org)
	if err != nil {
		return nil, err
	}
	c, err := idp.New(ctx, conn, a.cfg.IdP)
	if err != nil {
		return nil, err
	}
	a.conns.Set(key, c, time.Time{})
	return c, nil
}
