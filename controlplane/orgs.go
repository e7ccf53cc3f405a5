package controlplane

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

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
	if body.ID == "" || strings.ContainsAny(body.ID, "/ ") || body.Name == "" {
		fail(w, http.StatusUnprocessableEntity, codeInvalidSettings, "id (no spaces or slashes) and name are required")
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
	org, _ := a.st.GetOrg(r.Context(), o.ID)
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
		if _, err := idp.New(r.Context(), *s.Connection, a.cfg.IdP); err != nil {
			fail(w, http.StatusUnprocessableEntity, codeInvalidConnection, err.Error())
			return
		}
		connJSON, _ = json.Marshal(s.Connection)
	}
	now := a.now()
	org, err := a.st.UpdateOrg(r.Context(), r.PathValue("org"), func(o *store.Org) error {
		if err := checkSSOPlan(o.Plan); err != nil {
			return err
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
	a.conns.Delete(org.ID)
	writeJSON(w, http.StatusOK, orgOut(org))
}

// updateOrg is PATCH /v1/organizations/{org}: set the switches given.
// Only platform administrators set the plan.
func (a *API) updateOrg(w http.ResponseWriter, r *http.Request) {
	var body api.UpdateOrgRequest
	if !decode(w, r, &body) {
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
	} else if err != nil {
		fail(w, http.StatusServiceUnavailable, codeUpstream, "could not save")
		return
	}
	writeJSON(w, http.StatusOK, orgOut(org))
}
