package client

import (
	"context"
	"net/http"

	"github.com/ssokit/ssokit/api"
)

// WhoAmI returns the caller as the API sees it.
func (a *AuthService) WhoAmI(ctx context.Context) (api.Whoami, error) {
	var out api.Whoami
	err := a.c.do(ctx, http.MethodGet, "/v1/auth/whoami", nil, &out)
	return out, err
}

// Login signs in with a password. The session is a cookie: give the
// client an HTTPClient with a cookie jar to keep it.
func (a *AuthService) Login(ctx context.Context, org, email, password string) (api.Whoami, error) {
	var out api.Whoami
	err := a.c.do(ctx, http.MethodPost, "/v1/auth/login", api.LoginRequest{Org: org, Email: email, Password: password}, &out)
	return out, err
}

// Logout ends the session (and the Clerk session behind it, when the
// control plane can revoke it).
func (a *AuthService) Logout(ctx context.Context) error {
	return a.c.do(ctx, http.MethodPost, "/v1/auth/logout", nil, nil)
}
