package controlplane

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"

	"github.com/ssokit/ssokit/admission"
	"github.com/ssokit/ssokit/api"
	"github.com/ssokit/ssokit/idp"
	"github.com/ssokit/ssokit/rbac"
	"github.com/ssokit/ssokit/store"
)

// ssoSettings are SSO settings as validateSSOSettings accepts them, in the
// store's types.
type ssoSettings struct {
	ClerkOrgID      string
	AllowedDomains  []string
	DefaultRole     string
	AutoCreateUsers bool
	RequireSSO      bool
	GroupRoles      []store.GroupRule
	ClerkRoleMap    map[string]string
	// Connection is nil for SSO through Clerk.
	Connection *idp.Connection
}

// rolesAbove lists, sorted, the settings' entries that give a role ranked
// above the request principal's (none for the platform admin): the
// default role, group rules and Clerk role mappings, each with what it
// applies to.
func (a *API) rolesAbove(r *http.Request, s ssoSettings) []string {
	var out []string
	if s.DefaultRole != "" && !a.mayGrant(r, s.DefaultRole) {
		out = append(out, "default_role\x00"+s.DefaultRole)
	}
	for _, g := range s.GroupRoles {
		if !a.mayGrant(r, g.Role) {
			out = append(out, "group_roles\x00"+g.Group+"\x00"+g.Role)
		}
	}
	for k, role := range s.ClerkRoleMap {
		if !a.mayGrant(r, role) {
			out = append(out, "clerk_role_map\x00"+k+"\x00"+role)
		}
	}
	slices.Sort(out)
	return out
}

// peopleAbove reports whether organization orgID has a person ranked
// above the request principal (never for the platform admin).
func (a *API) peopleAbove(r *http.Request, orgID string) (bool, error) {
	if isPlatformAdmin(principal(r)) {
		return false, nil
	}
	users, err := a.st.ListUsers(r.Context(), orgID)
	if err != nil {
		return false, err
	}
	return slices.ContainsFunc(users, func(u store.User) bool { return !a.mayGrant(r, u.Role) }), nil
}

// sameRoleRules reports whether s decides roles at sign-in and on
// membership webhooks as the stored o does: the same group rules (in any
// order: the highest match wins), the same Clerk role mapping and, when
// group rules are on, the same default role (without them it is only a
// new person's first role).
func sameRoleRules(o store.Org, s ssoSettings) bool {
	rules := func(gs []store.GroupRule) []string {
		out := make([]string, len(gs))
		for i, g := range gs {
			out[i] = g.Group + "\x00" + g.Role
		}
		slices.Sort(out)
		return slices.Compact(out)
	}
	if !slices.Equal(rules(o.GroupRoles), rules(s.GroupRoles)) || !maps.Equal(o.ClerkRoleMap, s.ClerkRoleMap) {
		return false
	}
	return len(s.GroupRoles) == 0 || o.DefaultRole == s.DefaultRole
}

// sameConnection reports whether c is the organization's stored direct
// connection: every setting, the client secret included, the same (the
// ID aside, which the organization's own replaces). A stored connection
// that does not open is never the same.
func (a *API) sameConnection(o store.Org, c idp.Connection) bool {
	if len(o.Connection) == 0 {
		return false
	}
	stored, err := a.orgConnection(o)
	if err != nil {
		return false
	}
	stored.ID, c.ID = "", ""
	sb, err1 := json.Marshal(stored)
	cb, err2 := json.Marshal(c)
	return err1 == nil && err2 == nil && bytes.Equal(sb, cb)
}

// maxRuleName bounds a group rule's group, a Clerk role mapped by
// clerk_role_map and the Clerk organization ID: they reach the store (a
// PostgreSQL store refuses a NUL byte), logs and the dashboard, as an
// organization's name does.
const maxRuleName = 1024

// validateSSOSettings checks the body of PUT /v1/organizations/{org}/sso
// against the role policy and returns it normalized (allowed domains in the
// lower-case ASCII form admission compares against), or an *apiError: 422
// invalid_settings whose message names the field, or 400 invalid_json when
// the connection is not an idp.Connection. It is pure: no store, no
// network. The direct connection's own validation (metadata, discovery)
// and the plan (checkSSOPlan) are checked apart, because they need the
// network and the stored organization.
func validateSSOSettings(in api.SSOSettings, pol *rbac.Policy) (ssoSettings, error) {
	invalid := func(format string, args ...any) (ssoSettings, error) {
		return ssoSettings{}, &apiError{Status: http.StatusUnprocessableEntity, Code: codeInvalidSettings, Message: fmt.Sprintf(format, args...)}
	}
	s := ssoSettings{ClerkOrgID: in.ClerkOrgID, DefaultRole: in.DefaultRole, AutoCreateUsers: in.AutoCreateUsers,
		RequireSSO: in.RequireSSO, GroupRoles: groupRulesIn(in.GroupRoles), ClerkRoleMap: in.ClerkRoleMap}
	if len(in.Connection) > 0 && string(in.Connection) != "null" {
		dec := json.NewDecoder(bytes.NewReader(in.Connection))
		dec.DisallowUnknownFields()
		s.Connection = new(idp.Connection)
		if err := dec.Decode(s.Connection); err != nil {
			return ssoSettings{}, &apiError{Status: http.StatusBadRequest, Code: codeInvalidJSON, Message: "connection: " + jsonProblem(err)}
		}
		if name := inexactName(in.Connection, s.Connection); name != "" {
			return ssoSettings{}, &apiError{Status: http.StatusBadRequest, Code: codeInvalidJSON, Message: "connection: an unknown field (field names are spelled exactly as the API spells them)"}
		}
	}
	switch {
	case s.ClerkOrgID == "" && s.Connection == nil:
		return invalid("give clerk_org_id or a direct connection")
	case len(in.AllowedDomains) == 0:
		return invalid("allowed_domains must name at least one domain")
	case s.DefaultRole != "" && !pol.Has(rbac.Role(s.DefaultRole)):
		return invalid("default_role is not a defined role")
	}
	if !printable(s.ClerkOrgID, maxRuleName) {
		return invalid("clerk_org_id must be at most %d bytes of printable text", maxRuleName)
	}
	for _, g := range s.GroupRoles {
		if g.Group == "" || !pol.Has(rbac.Role(g.Role)) {
			return invalid("group_roles need a group and a defined role")
		}
		if !printable(g.Group, maxRuleName) {
			return invalid("group_roles: a group must be at most %d bytes of printable text", maxRuleName)
		}
	}
	for k, role := range s.ClerkRoleMap {
		if !pol.Has(rbac.Role(role)) {
			return invalid("clerk_role_map maps to an undefined role")
		}
		if !printable(k, maxRuleName) {
			return invalid("clerk_role_map: a Clerk role must be at most %d bytes of printable text", maxRuleName)
		}
	}
	s.AllowedDomains = make([]string, 0, len(in.AllowedDomains))
	for _, d := range in.AllowedDomains {
		n, why := admission.NormalizeDomainPattern(d)
		if why != "" {
			return invalid("allowed_domains: %q %s", d, why)
		}
		s.AllowedDomains = append(s.AllowedDomains, n)
	}
	return s, nil
}
