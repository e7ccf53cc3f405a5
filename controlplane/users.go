package controlplane

import (
	"net/http"

	"github.com/ssokit/ssokit/api"
	"github.com/ssokit/ssokit/rbac"
	"github.com/ssokit/ssokit/store"
)

// listUsers is GET /v1/organizations/{org}/users: the org's people ([]
// when none).
func (a *API) listUsers(w http.ResponseWriter, r *http.Request) {
	users, err := a.st.ListUsers(r.Context(), r.PathValue("org"))
	if err != nil {
		fail(w, http.StatusServiceUnavailable, codeUpstream, "could not read")
		return
	}
	writeJSON(w, http.StatusOK, usersOut(users))
}

// orgUser is the person {id} of organization {org}, or a 404 answered.
func (a *API) orgUser(w http.ResponseWriter, r *http.Request) (store.User, bool) {
	u, err := a.st.GetUser(r.Context(), r.PathValue("id"))
	if err != nil || u.OrgID != r.PathValue("org") {
		fail(w, http.StatusNotFound, codeNotFound, "no such person in the organization")
		return store.User{}, false
	}
	return u, true
}

// updateUser is PATCH /v1/organizations/{org}/users/{id} {role}: it sets
// a person's role and ends their sessions, which carry the old role.
func (a *API) updateUser(w http.ResponseWriter, r *http.Request) {
	var body api.UpdateUserRequest
	if !decode(w, r, &body) {
		return
	}
	if !a.auth.Policy().Has(rbac.Role(body.Role)) {
		fail(w, http.StatusUnprocessableEntity, codeInvalidRole, "role is not a defined role")
		return
	}
	u, ok := a.orgUser(w, r)
	if !ok {
		return
	}
	u, err := a.st.UpdateUser(r.Context(), u.ID, func(x *store.User) error { x.Role = body.Role; return nil })
	if err != nil {
		fail(w, http.StatusServiceUnavailable, codeUpstream, "could not save")
		return
	}
	_ = a.admit.RevokeUser(r.Context(), u.ID) // sessions carry the old role
	writeJSON(w, http.StatusOK, userOut(u))
}

// deleteUser is DELETE /v1/organizations/{org}/users/{id}.
func (a *API) deleteUser(w http.ResponseWriter, r *http.Request) {
	u, ok := a.orgUser(w, r)
	if !ok {
		return
	}
	if err := a.st.DeleteUser(r.Context(), u.ID); err != nil {
		fail(w, http.StatusServiceUnavailable, codeUpstream, "could not delete")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
