package controlplane

import (
	"errors"
	"net/http"
	"time"

	"github.com/ssokit/ssokit/rbac"
	"github.com/ssokit/ssokit/store"
)

// NewAPIKey is POST .../api-keys's answer: the key, shown once.
type NewAPIKey struct {
	store.APIKey
	Key string `json:"key"`
}

func (a *API) createKey(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Name      string     `json:"name"`
		Role      string     `json:"role"`
		ExpiresAt *time.Time `json:"expires_at"`
	}
	if !decode(w, r, &body) {
		return
	}
	if body.Name == "" || !a.auth.Policy().Has(rbac.Role(body.Role)) {
		fail(w, http.StatusUnprocessableEntity, codeInvalidSettings, "name and a defined role are required")
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
	keys := a.auth.APIKeys()
	if keys == nil {
		fail(w, http.StatusNotImplemented, codeAPIKeysUnavailable, "API keys are not configured")
		return
	}
	plain, k, err := keys.Create(r.Context(), r.PathValue("org"), body.Name, body.Role, exp)
	if err != nil {
		fail(w, http.StatusServiceUnavailable, codeUpstream, "could not save")
		return
	}
	writeJSON(w, http.StatusCreated, NewAPIKey{APIKey: k, Key: plain})
}

func (a *API) listKeys(w http.ResponseWriter, r *http.Request) {
	ks, err := a.st.ListAPIKeys(r.Context(), r.PathValue("org"))
	if err != nil {
		fail(w, http.StatusServiceUnavailable, codeUpstream, "could not read")
		return
	}
	if ks == nil {
		ks = []store.APIKey{}
	}
	writeJSON(w, http.StatusOK, ks)
}

func (a *API) revokeKey(w http.ResponseWriter, r *http.Request) {
	if err := a.st.RevokeAPIKey(r.Context(), r.PathValue("org"), r.PathValue("id")); errors.Is(err, store.ErrNotFound) {
		fail(w, http.StatusNotFound, codeNotFound, "no such API key")
		return
	} else if err != nil {
		fail(w, http.StatusServiceUnavailable, codeUpstream, "could not save")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
