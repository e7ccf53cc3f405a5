package client

import (
	"context"
	"net/http"
	"time"

	"github.com/ssokit/ssokit/api"
)

// Create makes a key acting with role; expires zero means it does not
// expire. The answer holds the secret, shown this once.
func (k *APIKeys) Create(ctx context.Context, org, name, role string, expires time.Time) (api.NewAPIKey, error) {
	req := api.CreateAPIKeyRequest{Name: name, Role: role}
	if !expires.IsZero() {
		req.ExpiresAt = &expires
	}
	var out api.NewAPIKey
	err := k.c.do(ctx, http.MethodPost, orgPath(org, "api-keys"), req, &out)
	return out, err
}

// List lists an organization's keys (never their secrets).
func (k *APIKeys) List(ctx context.Context, org string) ([]api.APIKey, error) {
	var out []api.APIKey
	err := k.c.do(ctx, http.MethodGet, orgPath(org, "api-keys"), nil, &out)
	return out, err
}

// Revoke revokes a key.
func (k *APIKeys) Revoke(ctx context.Context, org, id string) error {
	return k.c.do(ctx, http.MethodDelete, orgPath(org, "api-keys", id), nil, nil)
}
