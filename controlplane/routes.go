package controlplane

import "net/http"

// routes mounts every endpoint on a.mux. Browser-facing SSO routes and the
// webhook authenticate themselves (state, IdP response, svix signature);
// the rest go through authenticated and then the authorization helpers.
func (a *API) routes() {
	m := a.mux
	m.HandleFunc("GET /auth/sso/start", a.ssoStart)
	m.HandleFunc("GET /auth/sso/callback", a.ssoCallback)
	m.HandleFunc("POST /auth/sso/acs/{org}", a.directFinish)
	m.HandleFunc("GET /auth/sso/oidc/{org}", a.directFinish)
	m.HandleFunc("POST /v1/auth/login", a.login)
	m.HandleFunc("GET /.well-known/jwks.json", a.auth.Sessions().ServeJWKS)
	m.HandleFunc("POST /webhooks/clerk", a.webhook)

	authed := func(pattern string, h http.HandlerFunc) { m.Handle(pattern, a.authenticated(h)) }
	authed("POST /v1/auth/logout", a.logout)
	authed("GET /v1/auth/whoami", a.whoami)
	authed("POST /v1/organizations", a.platformOnly(a.createOrg))
	authed("PUT /v1/organizations/{org}/sso", a.orgAdmin(a.configureSSO))
	authed("PATCH /v1/organizations/{org}", a.orgAdmin(a.updateOrg))
	authed("GET /v1/organizations/{org}/sso/status", a.orgAdmin(a.ssoStatus))
	authed("POST /v1/organizations/{org}/sso/test", a.orgAdmin(a.ssoTest))
	authed("GET /v1/organizations/{org}/sso/test/start", a.orgAdmin(a.ssoTestStart))
	authed("GET /v1/organizations/{org}/users", a.orgAdmin(a.listUsers))
	authed("PATCH /v1/organizations/{org}/users/{id}", a.orgAdmin(a.updateUser))
	authed("DELETE /v1/organizations/{org}/users/{id}", a.orgAdmin(a.deleteUser))
	authed("POST /v1/organizations/{org}/api-keys", a.orgAdmin(a.createKey))
	authed("GET /v1/organizations/{org}/api-keys", a.orgAdmin(a.listKeys))
	authed("DELETE /v1/organizations/{org}/api-keys/{id}", a.orgAdmin(a.revokeKey))
}
