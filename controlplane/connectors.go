package controlplane

import (
	"context"
	"encoding/json"
	"time"

	"github.com/ssokit/ssokit/idp"
	"github.com/ssokit/ssokit/store"
)

// connector returns the org's direct IdP connector, built once and cached
// by org ID until the org's SSO settings change (configureSSO drops it).
func (a *API) connector(ctx context.Context, org store.Org) (idp.Connector, error) {
	if c, ok := a.conns.Get(org.ID); ok {
		return c, nil
	}
	var conn idp.Connection
	if err := json.Unmarshal(org.Connection, &conn); err != nil {
		return nil, err
	}
	c, err := idp.New(ctx, conn, a.cfg.IdP)
	if err != nil {
		return nil, err
	}
	a.conns.Set(org.ID, c, time.Time{})
	return c, nil
}
