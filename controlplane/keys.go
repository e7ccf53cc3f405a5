package controlplane

import (
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/ssokit/ssokit/api"
	"github.com/ssokit/ssokit/rbac"
	"github.com/ssokit/ssokit/store"
)

// maxKeyName bounds an API key's name.
const maxKeyName = 200

// createKey is POST /v1/organizations/{org}/api-keys {name, role,
// expires_at}: the answer holds the secret, shown this once.
func (a *API) createKey(w http.ResponseWriter, r *http.Request) {
	var body api.CreateAPIKeyRequest
	if !decode(w, r, &body) {
		return
	}
	if body.Name == "" || !printable(body.Name, maxKeyName) || !a.auth.Policy().Has(rbac.Role(body.Role)) {
		fail(w, http.StatusUnprocessableEntity, codeInvalidSettings, "a name (at most 200 bytes of printable text) and a defined role are required")
		return
	}
	if !a.mayGrant(r, body.Role) {
		a.refuseGrant(w, r)
		return
	}
	var exp time.Time
	if body.ExpiresAt != nil {
		if !body.ExpiresAt.After(a.now()) {
			fail(w, http.StatusUnprocessableEntity, codeInvalidSettings, "expires_at is in the past")
			return
		}
		exp = *body.ExpiresAt
	}
	// The organization must exist: a SQL store refuses a key of an
	// unknown one (a foreign key) and the memory store would keep it,
	// for an organization later created under that ID to take up.
	if _, ok := a.pathOrg(w, r); !ok {
		return
	}
	plain, k, err := a.apiKeys.Create(r.Context(), r.PathValue("org"), body.Name, body.Role, exp)
	if errors.Is(err, store.ErrNotFound) {
		fail(w, http.StatusNotFound, codeNotFound, "no such organization")
		return
	} else if err != nil {
		fail(w, http.StatusServiceUnavailable, codeUpstream, "could not save")
		return
	}
	writeJSON(w, http.StatusCreated, newKeyOut(plain, k))
}

// listKeys is GET /v1/organizations/{org}/api-keys (never the secrets).
func (a *API) listKeys(w http.ResponseWriter, r *http.Request) {
	if _, ok := a.pathOrg(w, r); !ok {
		return // an unknown organization is not one without keys
	}
	ks, err := a.st.ListAPIKeys(r.Context(), r.PathValue("org"))
	if err != nil {
		fail(w, http.StatusServiceUnavailable, codeUpstream, "could not read")
		return
	}
	writeJSON(w, http.StatusOK, keysOut(ks))
}

// revokeKey is DELETE /v1/organizations/{org}/api-keys/{id}. As with
// people, a key holding a role ranked above the caller's is not theirs to
// revoke.
func (a *API) revokeKey(w http.ResponseWriter, r *http.Request) {
	if !isPlatformAdmin(principal(r)) {
		ks, err := a.st.ListAPIKeys(r.Context(), r.PathValue("org"))
		if err != nil {
			fail(w, http.StatusServiceUnavailable, codeUpstream, "could not read")
			return
		}
		if i := slices.IndexFunc(ks, func(k store.APIKey) bool { return k.ID == r.PathValue("id") }); i >= 0 && !a.mayGrant(r, ks[i].Role) {
			a.refuseGrant(w, r)
			return
		}
	}
	if err := a.st.RevokeAPIKey(r.Context(), r.PathValue("org"), r.PathValue("id")); errors.Is(err, store.ErrNotFound) {
		fail(w, http.StatusNotFound, codeNotFound, "no such API key")
		return
	} else if err != nil {
		fail(w, http.StatusServiceUnavailable, codeUpstream, "could not save")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
