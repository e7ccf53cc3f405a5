package controlplane

import (
	"net/http"
	"strings"
)

// routes mounts every endpoint on a.mux. Browser-facing SSO routes and the
// webhook authenticate themselves (state, IdP response, svix signature);
// the rest go through authenticated and then the authorization helpers.
func (a *API) routes() {
	m := a.mux
	m.HandleFunc("GET /auth/sso/start", a.ssoStart)
	m.HandleFunc("GET /auth/sso/callback", a.ssoCallback)
	m.HandleFunc("POST /auth/sso/acs/{org}", a.directFinish)
	m.HandleFunc("GET /auth/sso/oidc/{org}", a.directFinish)
	m.HandleFunc("GET /auth/sso/saml/{org}/metadata", a.spMetadata)
	m.HandleFunc("POST /v1/auth/login", a.login)
	m.HandleFunc("POST /v1/auth/session", a.exchange)
	m.HandleFunc("GET /.well-known/jwks.json", a.sessions.ServeJWKS)
	m.HandleFunc("POST /webhooks/clerk", a.clerkWebhook)

	authed := func(pattern string, h http.HandlerFunc) { m.Handle(pattern, a.authenticated(h)) }
	authed("POST /v1/auth/logout", a.logout)
	authed("GET /v1/auth/whoami", a.whoami)
	authed("POST /v1/organizations", a.platformOnly(a.createOrg))
	authed("PUT /v1/organizations/{org}/sso", a.orgAdmin(a.configureSSO))
	authed("PATCH /v1/organizations/{org}", a.orgAdmin(a.updateOrg))
	authed("GET /v1/organizations/{org}/sso/status", a.orgAdmin(a.ssoStatus))
	authed("GET /v1/organizations/{org}/sso/events", a.orgAdmin(a.ssoEvents))
	authed("GET /v1/organizations/{org}/sso/saml", a.orgAdmin(a.samlServiceProvider))
	authed("POST /v1/organizations/{org}/sso/test", a.orgAdmin(a.ssoTest))
	authed("GET /v1/organizations/{org}/sso/test/start", a.orgAdmin(a.ssoTestStart))
	authed("GET /v1/organizations/{org}/users", a.orgAdmin(a.listUsers))
	authed("PATCH /v1/organizations/{org}/users/{id}", a.orgAdmin(a.updateUser))
	authed("DELETE /v1/organizations/{org}/users/{id}", a.orgAdmin(a.deleteUser))
	authed("POST /v1/organizations/{org}/api-keys", a.orgAdmin(a.createKey))
	authed("GET /v1/organizations/{org}/api-keys", a.orgAdmin(a.listKeys))
	authed("DELETE /v1/organizations/{org}/api-keys/{id}", a.orgAdmin(a.revokeKey))
}

// crossOriginExempt are the routes a customer's identity provider sends
// the browser to from its own site: the SAML response is a cross-site form
// POST to the ACS (and an OIDC callback a cross-site navigation). They
// authenticate themselves — the IdP's signed response, the state bound to
// this browser by its cookie, the replay cache — so cross-origin
// protection, which would refuse every real browser's POST there, is off
// on exactly these patterns.
var crossOriginExempt = []string{"POST /auth/sso/acs/{org}", "GET /auth/sso/oidc/{org}"}

// crossOrigin refuses cross-origin browser requests (net/http's
// CrossOriginProtection: Sec-Fetch-Site, else Origin against Host) with
// the JSON refusal every other route answers, except on crossOriginExempt,
// and answers requests that match no route as JSON too: 405 with Allow
// when the path exists under other methods, else 404.
func (a *API) crossOrigin(h http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	for _, p := range crossOriginExempt {
		cop.AddInsecureBypassPattern(p)
	}
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fail(w, http.StatusForbidden, codeCrossOrigin, "cross-origin requests are refused")
	}))
	return cop.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := a.mux.Handler(r); pattern != "" {
			h.ServeHTTP(w, r)
			return
		}
		var allow []string
		for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
			probe := r.Clone(r.Context())
			probe.Method = m
			if _, pattern := a.mux.Handler(probe); pattern != "" {
				allow = append(allow, m)
			}
		}
		if len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			fail(w, http.StatusMethodNotAllowed, codeMethodNotAllowed, "this route does not take "+r.Method)
			return
		}
		fail(w, http.StatusNotFound, codeNotFound, "no such route")
	}))
}
