package controlplane

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"unicode"
	"unicode/utf8"

	"github.com/ssokit/ssokit/api"
	"github.com/ssokit/ssokit/idp"
	"github.com/ssokit/ssokit/rbac"
	"github.com/ssokit/ssokit/ssoerr"
	"github.com/ssokit/ssokit/store"
)

// createOrg is POST /v1/organizations {id, name, plan} (platform
// administrators); plan "" means "free".
func (a *API) createOrg(w http.ResponseWriter, r *http.Request) {
	var body api.CreateOrgRequest
	if !decode(w, r, &body) {
		return
	}
	if !orgIDPattern.MatchString(body.ID) || body.Name == "" {
		fail(w, http.StatusUnprocessableEntity, codeInvalidSettings, "id (1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit) and name are required")
		return
	}
	if msg := checkOrgText(&body.Name, &body.Plan); msg != "" {
		fail(w, http.StatusUnprocessableEntity, codeInvalidSettings, msg)
		return
	}
	if body.Plan == "" {
		body.Plan = "free"
	}
	o := store.Org{ID: body.ID, Name: body.Name, Plan: body.Plan, DefaultRole: string(rbac.Viewer)}
	if err := a.st.CreateOrg(r.Context(), o); errors.Is(err, store.ErrExists) {
		fail(w, http.StatusConflict, codeExists, "the organization exists")
		return
	} else if err != nil {
		fail(w, http.StatusServiceUnavailable, codeUpstream, "could not save")
		return
	}
	org, err := a.st.GetOrg(r.Context(), o.ID)
	if err != nil {
		org = o // created; the read-back failed
	}
	writeJSON(w, http.StatusCreated, orgOut(org))
}

// configureSSO is PUT /v1/organizations/{org}/sso: validate the settings
// (validateSSOSettings), then a direct connection (idp.New), then save them
// if the stored plan is entitled (checkSSOPlan), atomically.
func (a *API) configureSSO(w http.ResponseWriter, r *http.Request) {
	var req api.SSOSettings
	if !decode(w, r, &req) {
		return
	}
	s, err := validateSSOSettings(req, a.auth.Policy())
	if err != nil {
		failWith(w, err)
		return
	}
	var connJSON []byte
	if s.Connection != nil {
		if msg := a.pinConnectionURLs(r.PathValue("org"), s.Connection); msg != "" {
			fail(w, http.StatusUnprocessableEntity, codeInvalidConnection, msg)
			return
		}
		if _, err := idp.New(r.Context(), *s.Connection, a.cfg.IdP); err != nil {
			a.log.Info("controlplane: direct connection refused", "org", logValue(r.PathValue("org")), "err", err)
			fail(w, http.StatusUnprocessableEntity, codeInvalidConnection, connectionProblem(err))
			return
		}
		if connJSON, err = a.sealConnection(r.PathValue("org"), *s.Connection); err != nil {
			a.log.Warn("controlplane: a connection's client secret cannot be kept", "org", logValue(r.PathValue("org")), "err", err)
			fail(w, http.StatusUnprocessableEntity, codeSecretsKeyRequired, "the server has no key to encrypt the client secret with (Config.SecretsKeys); it will not keep it in the clear")
			return
		}
	}
	peopleAbove, err := a.peopleAbove(r, r.PathValue("org"))
	if err != nil {
		fail(w, http.StatusServiceUnavailable, codeUpstream, "could not read")
		return
	}
	now := a.now()
	org, err := a.st.UpdateOrg(r.Context(), r.PathValue("org"), func(o *store.Org) error {
		if err := checkSSOPlan(a.ssoPlans(), o.Plan); err != nil {
			return err
		}
		// Roles ranked above the caller's may stay as they are (a rule
		// the platform admin set), never be given, changed or removed.
		stored := ssoSettings{DefaultRole: o.DefaultRole, GroupRoles: o.GroupRoles, ClerkRoleMap: o.ClerkRoleMap}
		above := a.rolesAbove(r, stored)
		if !slices.Equal(above, a.rolesAbove(r, s)) {
			return errGrantAbove
		}
		// Nor may they be reached through a new source of identities. A
		// direct connection to an identity provider of the caller's
		// choosing asserts any address and group: the address of a person
		// ranked above them (whose stored role stands) or the group of a
		// rule above them. A Clerk organization of their choosing (where
		// they hold any Clerk role) reaches a rule above them; people
		// come through Clerk with addresses Clerk verified.
		if (len(above) > 0 || peopleAbove) && s.Connection != nil && !a.sameConnection(*o, *s.Connection) {
			return errGrantAbove
		}
		if len(above) > 0 && s.ClerkOrgID != "" && s.ClerkOrgID != o.ClerkOrgID {
			return errGrantAbove
		}
		// Nor may a person ranked above them be lowered by the rules
		// that decide roles at sign-in: group rules (turned on, every
		// sign-in's role comes from them, and a person no rule matches
		// falls to a mapping or the default role), the Clerk role
		// mapping (which membership webhooks apply) and, under group
		// rules, the default role. While such a person is there, those
		// stay as they are.
		if peopleAbove && !sameRoleRules(*o, s) {
			return errGrantAbove
		}
		// Nor does an organization admin link the organization to a Clerk
		// organization: nothing they hold shows they belong to it, and one
		// not yet mapped would send its members, on their next sign-in,
		// into the organization of whoever named it first. The platform
		// admin links them (or Clerk's organization.created webhook, when
		// organizations are provisioned); an organization admin keeps the
		// stored one or removes it.
		if s.ClerkOrgID != "" && s.ClerkOrgID != o.ClerkOrgID && !isPlatformAdmin(principal(r)) {
			return errClerkOrgLink
		}
		if s.RequireSSO && !o.RequireSSO {
			o.RequireSSOSince = now
		}
		o.ClerkOrgID, o.AllowedDomains, o.DefaultRole = s.ClerkOrgID, s.AllowedDomains, s.DefaultRole
		o.AutoCreateUsers, o.RequireSSO, o.GroupRoles, o.ClerkRoleMap = s.AutoCreateUsers, s.RequireSSO, s.GroupRoles, s.ClerkRoleMap
		o.Connection, o.SSOConfigured = connJSON, true
		return nil
	})
	var refusal *apiError
	switch {
	case errors.Is(err, errGrantAbove):
		a.refuseGrant(w, r)
		return
	case errors.Is(err, errClerkOrgLink):
		fail(w, http.StatusForbidden, codeClerkOrgLink, "only the platform admin links an organization to a Clerk organization")
		return
	case errors.As(err, &refusal):
		failWith(w, refusal)
		return
	case errors.Is(err, store.ErrNotFound):
		fail(w, http.StatusNotFound, codeNotFound, "no such organization")
		return
	case errors.Is(err, store.ErrExists):
		fail(w, http.StatusConflict, codeClerkOrgTaken, "that Clerk organization is mapped to another organization")
		return
	case err != nil:
		fail(w, http.StatusServiceUnavailable, codeUpstream, "could not save")
		return
	}
	// The connector cache is keyed by the stored connection: the new one is built on first use.
	writeJSON(w, http.StatusOK, orgOut(org))
}

// updateOrg is PATCH /v1/organizations/{org}: set the switches given.
// Only platform administrators set the plan.
func (a *API) updateOrg(w http.ResponseWriter, r *http.Request) {
	var body api.UpdateOrgRequest
	if !decode(w, r, &body) {
		return
	}
	if msg := checkOrgText(body.Name, body.Plan); msg != "" {
		fail(w, http.StatusUnprocessableEntity, codeInvalidSettings, msg)
		return
	}
	if body.Name != nil && *body.Name == "" {
		fail(w, http.StatusUnprocessableEntity, codeInvalidSettings, "name cannot be empty")
		return
	}
	if body.Plan != nil && !isPlatformAdmin(principal(r)) {
		a.refuse(w, r, ssoerr.New(ssoerr.ErrForbidden, ssoerr.ReasonRole, "only the platform administrator sets plans"))
		return
	}
	now := a.now()
	org, err := a.st.UpdateOrg(r.Context(), r.PathValue("org"), func(o *store.Org) error {
		if body.RequireSSO != nil {
			if *body.RequireSSO && !o.RequireSSO {
				// Required with no way to sign in by SSO, nobody in the
				// organization signs in at all, its admins included.
				if !o.SSOConfigured || (o.ClerkOrgID == "" && len(o.Connection) == 0) {
					return errSSONotConfigured
				}
				o.RequireSSOSince = now
			}
			o.RequireSSO = *body.RequireSSO
		}
		if body.DisableAPIKeyAuth != nil {
			o.DisableAPIKeyAuth = *body.DisableAPIKeyAuth
		}
		if body.Plan != nil {
			o.Plan = *body.Plan
		}
		if body.Name != nil {
			o.Name = *body.Name
		}
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		fail(w, http.StatusNotFound, codeNotFound, "no such organization")
		return
	} else if errors.Is(err, errSSONotConfigured) {
		fail(w, http.StatusUnprocessableEntity, codeSSONotConfigured, "SSO cannot be required before SSO settings are saved: nobody in the organization could sign in")
		return
	} else if err != nil {
		fail(w, http.StatusServiceUnavailable, codeUpstream, "could not save")
		return
	}
	writeJSON(w, http.StatusOK, orgOut(org))
}

// errSSONotConfigured refuses require_sso on an organization with no SSO.
var errSSONotConfigured = errors.New("controlplane: SSO is not configured")

// Limits on what an organization's fields may hold: they reach URLs,
// logs, headers and pages.
const (
	maxOrgName = 200
	maxPlan    = 64
)

// orgIDPattern is an organization ID: it is a path segment of every
// organization route.
var orgIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// checkOrgText checks a name and a plan (nil: not given): at most
// maxOrgName and maxPlan bytes, printable text without control characters.
// It returns "" or the message of a 422.
func checkOrgText(name, plan *string) string {
	if name != nil && !printable(*name, maxOrgName) {
		return fmt.Sprintf("name must be at most %d bytes of printable text", maxOrgName)
	}
	if plan != nil && !printable(*plan, maxPlan) {
		return fmt.Sprintf("plan must be at most %d bytes of printable text", maxPlan)
	}
	return ""
}

// printable reports whether s is at most max bytes of UTF-8 without
// control or format characters (bidi overrides included).
func printable(s string, max int) bool {
	if len(s) > max || !utf8.ValidString(s) {
		return false
	}
	for _, c := range s {
		if unicode.IsControl(c) || unicode.Is(unicode.Cf, c) {
			return false
		}
	}
	return true
}

// maxConnectionProblem bounds the message of an invalid_connection.
const maxConnectionProblem = 300

// connectionProblem is the message of a 422 invalid_connection: idp's
// configuration refusal (which says what to fix in the connection's own
// terms), bounded; any other failure as a generic message, since it may
// carry addresses and errors of the network.
func connectionProblem(err error) string {
	if !errors.Is(err, idp.ErrConfig) {
		return "the connection could not be built: check its metadata or discovery URL and that the IdP answers"
	}
	return bounded(err.Error(), maxConnectionProblem)
}

// pathOrg reads the organization the request's {org} names, answering 404
// not_found when there is none and 503 when the store fails.
func (a *API) pathOrg(w http.ResponseWriter, r *http.Request) (store.Org, bool) {
	org, err := a.st.GetOrg(r.Context(), r.PathValue("org"))
	switch {
	case errors.Is(err, store.ErrNotFound):
		fail(w, http.StatusNotFound, codeNotFound, "no such organization")
		return store.Org{}, false
	case err != nil:
		fail(w, http.StatusServiceUnavailable, codeUpstream, "could not read the organization")
		return store.Org{}, false
	}
	return org, true
}
