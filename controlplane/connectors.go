package controlplane

import (
	"context"
	"fmt"
	"slices"
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
	c, err := idp.New(ctx, conn, a.idpOptions(org.ID))
	if err != nil {
		return nil, err
	}
	a.conns.Set(key, c, time.Time{})
	return c, nil
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
