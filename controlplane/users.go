package controlplane

import (
	"errors"
	"net/http"

	"github.com/ssokit/ssokit/api"
	"github.com/ssokit/ssokit/rbac"
	"github.com/ssokit/ssokit/store"
)

// listUsers is GET /v1/organizations/{org}/users: the org's people ([]
// when none).
func (a *API) listUsers(w http.ResponseWriter, r *http.Request) {
	if _, ok := a.pathOrg(w, r); !ok {
		return // an unknown organization is not one without people
	}
	users, err := a.st.ListUsers(r.Context(), r.PathValue("org"))
	if err != nil {
		fail(w, http.StatusServiceUnavailable, codeUpstream, "could not read")
		return
	}
	writeJSON(w, http.StatusOK, usersOut(users))
}

// orgUser is the person {id} of organization {org}, or a 404 answered
// (a 503 when the store fails: an outage is not an unknown person).
func (a *API) orgUser(w http.ResponseWriter, r *http.Request) (store.User, bool) {
	u, err := a.st.GetUser(r.Context(), r.PathValue("id"))
	switch {
	case err != nil && !errors.Is(err, store.ErrNotFound):
		fail(w, http.StatusServiceUnavailable, codeUpstream, "could not read")
		return store.User{}, false
	case err != nil || u.OrgID != r.PathValue("org"):
		fail(w, http.StatusNotFound, codeNotFound, "no such person in the organization")
		return store.User{}, false
	}
	return u, true
}

// mayChange judges a person as a store write holds them: one of the
// request's organization, ranked at most the caller (errGrantAbove
// otherwise). A person promoted above the caller since the handler read
// them (by another administrator, or a sign-in's group rules, on any
// replica) is not theirs to change or remove.
func (a *API) mayChange(r *http.Request) func(store.User) error {
	return func(x store.User) error {
		if x.OrgID != r.PathValue("org") || !a.mayGrant(r, x.Role) {
			return errGrantAbove
		}
		return nil
	}
}

// updateUser is PATCH /v1/organizations/{org}/users/{id} {role}: it sets
// a person's role and ends their sessions, which carry the old role, in
// one store write: when it fails, neither happened (503).
func (a *API) updateUser(w http.ResponseWriter, r *http.Request) {
	var body api.UpdateUserRequest
	if !decode(w, r, &body) {
		return
	}
	if !a.auth.Policy().Has(rbac.Role(body.Role)) {
		fail(w, http.StatusUnprocessableEntity, codeInvalidRole, "role is not a defined role")
		return
	}
	if !a.mayGrant(r, body.Role) {
		a.refuseGrant(w, r)
		return
	}
	u, ok := a.orgUser(w, r)
	if !ok {
		return
	}
	if !a.mayGrant(r, u.Role) {
		a.refuseGrant(w, r)
		return
	}
	// The person is judged again as the write holds them: one promoted
	// above the caller since the read above (by another administrator, or
	// a sign-in's group rules, on any replica) is not theirs to change.
	u, err := a.admit.ChangeRoleIf(r.Context(), u.ID, body.Role, a.mayChange(r))
	switch {
	case errors.Is(err, errGrantAbove):
		a.refuseGrant(w, r)
		return
	case errors.Is(err, store.ErrNotFound):
		fail(w, http.StatusNotFound, codeNotFound, "no such person in the organization")
		return
	case err != nil:
		fail(w, http.StatusServiceUnavailable, codeUpstream, "could not save")
		return
	}
	writeJSON(w, http.StatusOK, userOut(u))
}

// deleteUser is DELETE /v1/organizations/{org}/users/{id}. The person is
// judged as the removal holds them, as updateUser judges them: one
// promoted above the caller since the read is not theirs to remove.
func (a *API) deleteUser(w http.ResponseWriter, r *http.Request) {
	u, ok := a.orgUser(w, r)
	if !ok {
		return
	}
	if !a.mayGrant(r, u.Role) {
		a.refuseGrant(w, r)
		return
	}
	err := a.st.DeleteUser(r.Context(), u.ID, a.mayChange(r))
	switch {
	case errors.Is(err, errGrantAbove):
		a.refuseGrant(w, r)
		return
	case errors.Is(err, store.ErrNotFound):
		fail(w, http.StatusNotFound, codeNotFound, "no such person in the organization")
		return
	case err != nil:
		fail(w, http.StatusServiceUnavailable, codeUpstream, "could not delete")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
