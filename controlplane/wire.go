package controlplane

import (
	"bytes"
	"context"
	"encoding/json"

	"github.com/ssokit/ssokit/admission"
	"github.com/ssokit/ssokit/api"
	"github.com/ssokit/ssokit/idp"
	"github.com/ssokit/ssokit/middleware"
	"github.com/ssokit/ssokit/store"
)

// The converters from the store's and the middleware's types to the API's
// wire types (package api). Every time goes through api.Time / api.TimePtr,
// so what a handler returns at creation is what a later read returns.

// orgOut is an organization as the API returns it.
func orgOut(o store.Org) api.Org {
	return api.Org{
		ID: o.ID, Name: o.Name, Plan: o.Plan,
		ClerkOrgID: o.ClerkOrgID, AllowedDomains: o.AllowedDomains, DefaultRole: o.DefaultRole,
		AutoCreateUsers: o.AutoCreateUsers, RequireSSO: o.RequireSSO, DisableAPIKeyAuth: o.DisableAPIKeyAuth,
		GroupRoles: groupRulesOut(o.GroupRoles), ClerkRoleMap: o.ClerkRoleMap,
		Connection: connectionOut(o.Connection), SSOConfigured: o.SSOConfigured,
		RequireSSOSince: api.Time(o.RequireSSOSince), LastSSOLogin: api.Time(o.LastSSOLogin), LastSSOProvider: o.LastSSOProvider,
		CreatedAt: api.Time(o.Created), UpdatedAt: api.Time(o.Updated),
	}
}

// connectionOut is a stored direct connection as the API returns it: the
// OIDC client secret is never written back; "client_secret_set" says
// whether one is stored. A stored connection that does not decode is
// omitted rather than passed through, so no stored byte reaches the wire
// unexamined.
func connectionOut(stored []byte) json.RawMessage {
	if len(stored) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(stored))
	dec.UseNumber() // numbers (max_clock_skew) round-trip exactly
	var view map[string]any
	if err := dec.Decode(&view); err != nil || view == nil {
		return nil
	}
	if oidc, ok := view["oidc"].(map[string]any); ok {
		secret, _ := oidc["client_secret"].(string)
		delete(oidc, "client_secret")
		oidc["client_secret_set"] = secret != ""
	} else if view["oidc"] != nil {
		return nil // not an idp.Connection: say nothing
	}
	out, err := json.Marshal(view)
	if err != nil {
		return nil
	}
	return out
}

func groupRulesOut(rules []store.GroupRule) []api.GroupRule {
	if rules == nil {
		return nil
	}
	out := make([]api.GroupRule, len(rules))
	for i, g := range rules {
		out[i] = api.GroupRule{Group: g.Group, Role: g.Role}
	}
	return out
}

func groupRulesIn(rules []api.GroupRule) []store.GroupRule {
	if rules == nil {
		return nil
	}
	out := make([]store.GroupRule, len(rules))
	for i, g := range rules {
		out[i] = store.GroupRule{Group: g.Group, Role: g.Role}
	}
	return out
}

// userOut is a person as the API returns them (never the password hash).
func userOut(u store.User) api.User {
	return api.User{ID: u.ID, OrgID: u.OrgID, Email: u.Email, Role: u.Role, ClerkUserID: u.ClerkUserID,
		Source: u.Source, LastLogin: api.Time(u.LastLogin), CreatedAt: api.Time(u.Created)}
}

// usersOut is a list of people; never nil, so an empty list is [].
func usersOut(users []store.User) []api.User {
	out := make([]api.User, len(users))
	for i, u := range users {
		out[i] = userOut(u)
	}
	return out
}

// keyOut is an API key as listed (never its hash).
func keyOut(k store.APIKey) api.APIKey {
	return api.APIKey{ID: k.ID, OrgID: k.OrgID, Name: k.Name, Role: k.Role, Prefix: k.Prefix,
		CreatedAt: api.Time(k.Created), ExpiresAt: api.Time(k.Expires), LastUsed: api.Time(k.LastUsed), Revoked: k.Revoked}
}

// keysOut is a list of keys; never nil.
func keysOut(keys []store.APIKey) []api.APIKey {
	out := make([]api.APIKey, len(keys))
	for i, k := range keys {
		out[i] = keyOut(k)
	}
	return out
}

// newKeyOut is a created key with its secret, shown once.
func newKeyOut(plain string, k store.APIKey) api.NewAPIKey {
	return api.NewAPIKey{APIKey: keyOut(k), Key: plain}
}

// whoamiOut is the caller as whoami and login answer. user_id is the app
// user's ID whatever the credential (the Principal's UserID; empty for an
// API key or the platform administrator, who are no app user); the Clerk
// user and the API key have fields of their own.
func whoamiOut(p *middleware.Principal) api.Whoami {
	return api.Whoami{UserID: p.UserID, ClerkUserID: p.ClerkUserID, APIKeyID: p.APIKeyID, Email: p.Email, OrgID: p.OrgID,
		Role: p.Role, AuthMethod: p.AuthMethod, IdPName: p.IdPName}
}

// personOut is whoami of a person just admitted (a password login).
func personOut(p *admission.Person) api.Whoami {
	return api.Whoami{UserID: p.UserID, ClerkUserID: p.ClerkUserID, Email: p.Email, OrgID: p.OrgID, Role: p.Role,
		AuthMethod: p.AuthMethod, IdPName: p.IdPName}
}

// checkReportOut is a connection check's report on the wire.
func checkReportOut(r idp.CheckReport) api.SSOTestReport {
	out := api.SSOTestReport{OK: r.OK, Steps: make([]api.SSOTestStep, len(r.Steps))}
	for i, s := range r.Steps {
		out.Steps[i] = api.SSOTestStep{Name: s.Name, OK: s.OK, Detail: s.Detail}
	}
	return out
}

// identityOut is a normalized sign-in on the wire (for a test sign-in that
// shows an administrator what the IdP sends; it omits the raw attributes
// and the SAML session details).
func identityOut(id idp.Identity) *api.Identity {
	return &api.Identity{Subject: id.Subject, Email: id.Email, EmailVerified: id.EmailVerified,
		FirstName: id.FirstName, LastName: id.LastName, Groups: id.Groups, IdP: string(id.IdP), Protocol: string(id.Protocol),
		ConnectionID: id.ConnectionID, TenantID: id.TenantID, HostedDomain: id.HostedDomain}
}

// whoamiOf is whoamiOut with the Clerk user of an app session read from
// the store: app session tokens do not carry it. A store miss leaves it
// empty rather than failing whoami.
func (a *API) whoamiOf(ctx context.Context, p *middleware.Principal) api.Whoami {
	me := whoamiOut(p)
	if me.ClerkUserID == "" && p.Credential == middleware.CredentialAppSession && p.UserID != "" {
		if u, err := a.st.GetUser(ctx, p.UserID); err == nil {
			me.ClerkUserID = u.ClerkUserID
		}
	}
	return me
}
