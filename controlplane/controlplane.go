// Package controlplane is the control plane's HTTP API as one mountable
// http.Handler: SSO start and callback (through Clerk, or a direct IdP
// connection), password login and logout, whoami, organization SSO
// settings and status, people, API keys, and Clerk webhooks. It is the
// library's wiring of middleware, idp, rbac and store; package client is
// its Go client.
package controlplane

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/clerk/clerk-sdk-go/v2"
	clerksession "github.com/clerk/clerk-sdk-go/v2/session"
	"github.com/ssokit/ssokit/idp"
	"github.com/ssokit/ssokit/middleware"
	"github.com/ssokit/ssokit/rbac"
	"github.com/ssokit/ssokit/store"
)

// Config wires the API.
type Config struct {
	// Auth authenticates requests and admits logins. Required; it needs
	// Sessions and Store.
	Auth *middleware.Authenticator
	// AppURL is the app's public URL (callbacks are built from it).
	AppURL string
	// ClerkSignInURL is the Clerk hosted sign-in (…/sign-in). Empty means
	// SSO through Clerk is off (direct connections still work).
	ClerkSignInURL string
	// ClerkAPIURL and ClerkSecretKey let logout revoke the Clerk session.
	ClerkAPIURL, ClerkSecretKey string
	// WebhookSecret (whsec_...) verifies Clerk webhooks; empty refuses them.
	WebhookSecret string
	// BootstrapAdminKey, as a Bearer token, is a platform administrator
	// (creates organizations, sets plans). Empty means none.
	BootstrapAdminKey string
	// AutoProvisionOrgs creates an app organization for each Clerk
	// organization.created webhook (plan "growth", no domains).
	AutoProvisionOrgs bool
	// IdP options for direct connections (HTTP client, keys...).
	IdP idp.Options
	// HTTPClient reaches Clerk's Backend API. Nil: 10 s timeout client.
	HTTPClient *http.Client
	// ErrorPage, when set, renders refusals on the browser-facing SSO
	// routes (status, stable code, human message). Nil: an HTML page when
	// the request accepts HTML, else the JSON error.
	ErrorPage func(w http.ResponseWriter, r *http.Request, status int, code, message string)
	// Now; nil means time.Now. Logger; nil means silent.
	Now    func() time.Time
	Logger *slog.Logger
}

// API is the control-plane handler.
type API struct {
	cfg   Config
	auth  *middleware.Authenticator
	st    store.Store
	mux   *http.ServeMux
	h     http.Handler
	key   []byte // signs SSO start state
	now   func() time.Time
	log   *slog.Logger
	seen  sync.Map // svix-id -> time, replayed webhooks ignored
	conns sync.Map // org ID -> idp.Connector
	clerk *clerksession.Client
}

// PlatformAdmin is the role of the bootstrap key's principal.
const PlatformAdmin = "platform_admin"

// New validates cfg and builds the API.
func New(cfg Config) (*API, error) {
	if cfg.Auth == nil || cfg.Auth.Sessions() == nil || cfg.Auth.Store() == nil {
		return nil, errors.New("controlplane: Config.Auth needs Sessions and Store")
	}
	if _, err := url.Parse(cfg.AppURL); err != nil || cfg.AppURL == "" {
		return nil, errors.New("controlplane: Config.AppURL must be the app's absolute URL")
	}
	a := &API{cfg: cfg, auth: cfg.Auth, st: cfg.Auth.Store(), mux: http.NewServeMux(), now: cfg.Now, log: cfg.Logger}
	if a.now == nil {
		a.now = time.Now
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	a.key = []byte(cfg.BootstrapAdminKey + "|" + cfg.AppURL + "|" + fmt.Sprint(a.now().UnixNano()))
	if cfg.ClerkSecretKey != "" {
		u, k := cfg.ClerkAPIURL, cfg.ClerkSecretKey
		if u == "" {
			u = middleware.DefaultClerkAPIURL
		}
		hc := cfg.HTTPClient
		if hc == nil {
			hc = &http.Client{Timeout: 10 * time.Second}
		}
		a.clerk = clerksession.NewClient(&clerk.ClientConfig{BackendConfig: clerk.BackendConfig{HTTPClient: hc, URL: &u, Key: &k}})
	}
	a.routes()
	cop := http.NewCrossOriginProtection()
	a.h = cop.Handler(a.mux)
	return a, nil
}

// ServeHTTP implements http.Handler.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 256<<10)
	a.h.ServeHTTP(w, r)
}

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
	authed("GET /v1/organizations/{org}/users", a.orgAdmin(a.listUsers))
	authed("PATCH /v1/organizations/{org}/users/{id}", a.orgAdmin(a.updateUser))
	authed("DELETE /v1/organizations/{org}/users/{id}", a.orgAdmin(a.deleteUser))
	authed("POST /v1/organizations/{org}/api-keys", a.orgAdmin(a.createKey))
	authed("GET /v1/organizations/{org}/api-keys", a.orgAdmin(a.listKeys))
	authed("DELETE /v1/organizations/{org}/api-keys/{id}", a.orgAdmin(a.revokeKey))
}

// Error is the JSON error body: a stable code and a message.
type Error struct {
	Code    string `json:"error"`
	Message string `json:"message"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func fail(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, Error{Code: code, Message: msg})
}

// browserFail answers a failure on a browser-facing route (/auth/sso/...):
// through Config.ErrorPage when set, as an HTML page when the browser asks
// for HTML, else as the JSON error.
func (a *API) browserFail(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	if a.cfg.ErrorPage != nil {
		w.Header().Set("Cache-Control", "no-store")
		a.cfg.ErrorPage(w, r, status, code, msg)
		return
	}
	if !strings.Contains(r.Header.Get("Accept"), "text/html") {
		fail(w, status, code, msg)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = errorPage.Execute(w, map[string]any{"Status": status, "Code": code, "Message": msg})
}

var errorPage = template.Must(template.New("error").Parse(`<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>Sign-in refused</title></head>
<body style="font:15px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem">
<h1>Sign-in refused</h1><p id="message" role="alert">{{.Message}}</p><p>Code <code id="code">{{.Code}}</code> (HTTP {{.Status}}).</p>
<p><a href="/">Back</a></p></body></html>`))

// browserRefuse is refuse for browser-facing routes.
func (a *API) browserRefuse(w http.ResponseWriter, r *http.Request, err error) {
	a.log.Info("controlplane: refused", "path", r.URL.Path, "code", middleware.CodeOf(err), "err", err)
	resp := middleware.Classify(err)
	if resp.Challenge != "" {
		w.Header().Set("WWW-Authenticate", resp.Challenge)
	}
	if resp.Status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "5")
	}
	a.browserFail(w, r, resp.Status, resp.Code, resp.Message)
}

// refuse answers an authentication or policy refusal with its code.
func (a *API) refuse(w http.ResponseWriter, r *http.Request, err error) {
	a.log.Info("controlplane: refused", "path", r.URL.Path, "code", middleware.CodeOf(err), "err", err)
	middleware.WriteError(w, r, err)
}

func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			fail(w, http.StatusRequestEntityTooLarge, "too_large", "the body is too large")
			return false
		}
		fail(w, http.StatusBadRequest, "invalid_json", err.Error())
		return false
	}
	if dec.More() {
		fail(w, http.StatusBadRequest, "invalid_json", "trailing data after the JSON body")
		return false
	}
	return true
}

func (a *API) authenticated(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if k := a.cfg.BootstrapAdminKey; k != "" {
			if scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " "); strings.EqualFold(scheme, "Bearer") &&
				subtle.ConstantTimeCompare([]byte(tok), []byte(k)) == 1 {
				h(w, r.WithContext(middleware.WithPrincipal(r.Context(), &middleware.Principal{UserID: "bootstrap", Role: PlatformAdmin, AuthMethod: middleware.MethodAPIKey})))
				return
			}
		}
		p, err := a.auth.Authenticate(r)
		if err != nil {
			a.refuse(w, r, err)
			return
		}
		h(w, r.WithContext(middleware.WithPrincipal(r.Context(), p)))
	})
}

func principal(r *http.Request) *middleware.Principal {
	p, _ := middleware.PrincipalFrom(r.Context())
	return p
}

func (a *API) platformOnly(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if principal(r).Role != PlatformAdmin {
			a.refuse(w, r, fmt.Errorf("%w: platform administrators only", middleware.ErrForbidden))
			return
		}
		h(w, r)
	}
}

// orgAdmin admits the organization's admins (and platform admins).
func (a *API) orgAdmin(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p := principal(r)
		if p.Role == PlatformAdmin {
			h(w, r)
			return
		}
		if p.OrgID != r.PathValue("org") || !a.auth.Policy().AtLeast(rbac.Role(p.Role), rbac.Admin) {
			a.refuse(w, r, fmt.Errorf("%w: organization admins only", middleware.ErrForbidden))
			return
		}
		h(w, r)
	}
}

// Whoami is GET /v1/auth/whoami's answer.
type Whoami struct {
	UserID     string `json:"user_id"`
	Email      string `json:"email"`
	OrgID      string `json:"org_id"`
	Role       string `json:"role"`
	AuthMethod string `json:"auth_method"`
	IdPName    string `json:"idp_name"`
}

func whoamiOf(p *middleware.Principal) Whoami {
	return Whoami{UserID: p.UserID, Email: p.Email, OrgID: p.OrgID, Role: p.Role, AuthMethod: p.AuthMethod, IdPName: p.IdPName}
}

func (a *API) whoami(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	if p.OrgID == "" && p.Role != PlatformAdmin {
		a.refuse(w, r, fmt.Errorf("%w: the Clerk session maps to no person of an app organization", middleware.ErrForbidden))
		return
	}
	writeJSON(w, http.StatusOK, whoamiOf(p))
}

// --- SSO ---

func (a *API) sign(v string) string {
	m := hmac.New(sha256.New, a.key)
	m.Write([]byte(v))
	return base64.RawURLEncoding.EncodeToString([]byte(v)) + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

func (a *API) unsign(s string) (string, bool) {
	p, mac, ok := strings.Cut(s, ".")
	if !ok {
		return "", false
	}
	v, err := base64.RawURLEncoding.DecodeString(p)
	if err != nil || !hmac.Equal([]byte(a.sign(string(v))[len(p)+1:]), []byte(mac)) {
		return "", false
	}
	return string(v), true
}

// localPath keeps return paths on this site.
func localPath(p string) string {
	if p == "" || p[0] != '/' || strings.HasPrefix(p, "//") || strings.ContainsAny(p, "\\\r\n\t") {
		return "/"
	}
	return p
}

// ssoStart: ?email= (or org=) -> the org's direct IdP connection, or the
// Clerk sign-in, with a signed return path.
func (a *API) ssoStart(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	ret := localPath(q.Get("return_to"))
	email, orgID := strings.TrimSpace(q.Get("email")), q.Get("org")
	if orgID != "" {
		if org, err := a.st.GetOrg(r.Context(), orgID); err == nil && len(org.Connection) > 0 {
			conn, err := a.connector(r.Context(), org)
			if err != nil {
				a.browserFail(w, r, http.StatusBadGateway, "connection_error", "the organization's identity provider connection is unusable")
				return
			}
			if err := conn.Start(w, r, ret, email); err != nil {
				a.browserFail(w, r, http.StatusBadGateway, "connection_error", "the organization's identity provider connection is unusable")
			}
			return
		}
	}
	if a.cfg.ClerkSignInURL == "" {
		a.browserFail(w, r, http.StatusBadRequest, "sso_unavailable", "no SSO path for this request")
		return
	}
	cb := strings.TrimSuffix(a.cfg.AppURL, "/") + "/auth/sso/callback?" + url.Values{"state": {a.sign(ret + "\x00" + fmt.Sprint(a.now().Unix()))}}.Encode()
	v := url.Values{"redirect_url": {cb}}
	if email != "" {
		v.Set("email", email)
	}
	http.Redirect(w, r, a.cfg.ClerkSignInURL+"?"+v.Encode(), http.StatusFound)
}

// ssoCallback: verify the Clerk token, map, admit, role, cookie, redirect.
func (a *API) ssoCallback(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Referrer-Policy", "no-referrer")
	q := r.URL.Query()
	state, ok := a.unsign(q.Get("state"))
	ret, issued, _ := strings.Cut(state, "\x00")
	var t int64
	fmt.Sscan(issued, &t)
	if !ok || a.now().Unix()-t > 600 {
		a.browserFail(w, r, http.StatusBadRequest, "invalid_state", "the sign-in expired or did not start here; start again")
		return
	}
	verifier := a.auth.Clerk()
	if verifier == nil {
		a.browserFail(w, r, http.StatusBadRequest, "sso_unavailable", "Clerk is not configured")
		return
	}
	p, err := verifier.Verify(r.Context(), q.Get("session_token"))
	if err != nil {
		a.browserRefuse(w, r, err)
		return
	}
	l, err := a.auth.ClerkLogin(r.Context(), p)
	if err != nil {
		a.browserRefuse(w, r, err)
		return
	}
	a.finish(w, r, l, ret)
}

func (a *API) finish(w http.ResponseWriter, r *http.Request, l middleware.SSOLogin, ret string) {
	ap, err := a.auth.Admit(r.Context(), l)
	if err != nil {
		a.browserRefuse(w, r, err)
		return
	}
	if err := a.auth.StartSession(w, ap); err != nil {
		a.browserFail(w, r, http.StatusInternalServerError, "session_error", "could not start the session")
		return
	}
	http.Redirect(w, r, localPath(ret), http.StatusFound)
}

func (a *API) connector(ctx context.Context, org store.Org) (idp.Connector, error) {
	if c, ok := a.conns.Load(org.ID); ok {
		return c.(idp.Connector), nil
	}
	var conn idp.Connection
	if err := json.Unmarshal(org.Connection, &conn); err != nil {
		return nil, err
	}
	c, err := idp.New(ctx, conn, a.cfg.IdP)
	if err != nil {
		return nil, err
	}
	a.conns.Store(org.ID, c)
	return c, nil
}

// directFinish is the ACS / OIDC callback of an org's direct connection.
func (a *API) directFinish(w http.ResponseWriter, r *http.Request) {
	org, err := a.st.GetOrg(r.Context(), r.PathValue("org"))
	if err != nil || len(org.Connection) == 0 {
		a.browserFail(w, r, http.StatusNotFound, "not_found", "no direct connection for this organization")
		return
	}
	conn, err := a.connector(r.Context(), org)
	if err != nil {
		a.browserFail(w, r, http.StatusBadGateway, "connection_error", "the organization's identity provider connection is unusable")
		return
	}
	id, ret, err := conn.Finish(w, r)
	if err != nil {
		a.log.Info("controlplane: direct SSO refused", "org", org.ID, "reason", idp.ReasonOf(err), "err", err)
		a.browserFail(w, r, http.StatusUnauthorized, "sso_failed", "single sign-on failed")
		return
	}
	a.finish(w, r, middleware.IdentityLogin(org.ID, id), ret)
}

// --- password, logout ---

func (a *API) login(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Org      string `json:"org"`
		Email    string `json:"email"`
		Password string `json:"password"`
	}
	if !decode(w, r, &body) {
		return
	}
	ip := r.RemoteAddr
	if i := strings.LastIndexByte(ip, ':'); i > 0 {
		ip = ip[:i]
	}
	p, err := a.auth.PasswordLogin(r.Context(), body.Org, body.Email, body.Password, ip)
	if err != nil {
		a.refuse(w, r, err)
		return
	}
	if err := a.auth.StartSession(w, p); err != nil {
		fail(w, http.StatusInternalServerError, "session_error", "could not start the session")
		return
	}
	writeJSON(w, http.StatusOK, whoamiOf(p))
}

func (a *API) logout(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	if err := a.auth.Logout(r.Context(), w, p); err != nil {
		fail(w, http.StatusServiceUnavailable, "upstream_unavailable", "could not record the logout")
		return
	}
	if sid := clerkSessionOf(p); sid != "" && a.clerk != nil {
		if _, err := a.clerk.Revoke(r.Context(), &clerksession.RevokeParams{ID: sid}); err != nil {
			a.log.Warn("controlplane: revoking the Clerk session failed", "sid", sid, "err", err)
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

func clerkSessionOf(p *middleware.Principal) string {
	var c struct {
		CSID string `json:"csid"`
	}
	if len(p.RawClaims) > 0 && json.Unmarshal(p.RawClaims, &c) == nil {
		return c.CSID
	}
	return ""
}

// --- organizations ---

// SSOSettings is PUT /v1/organizations/{org}/sso's body.
type SSOSettings struct {
	ClerkOrgID      string            `json:"clerk_org_id"`
	AllowedDomains  []string          `json:"allowed_domains"`
	DefaultRole     string            `json:"default_role"`
	AutoCreateUsers bool              `json:"auto_create_users"`
	RequireSSO      bool              `json:"require_sso"`
	GroupRoles      []store.GroupRule `json:"group_roles,omitempty"`
	ClerkRoleMap    map[string]string `json:"clerk_role_map,omitempty"`
	Connection      *idp.Connection   `json:"connection,omitempty"`
}

// SSOStatus is GET /v1/organizations/{org}/sso/status's answer.
type SSOStatus struct {
	SSOEnabled      bool    `json:"sso_enabled"`
	Provider        string  `json:"provider"`
	ConnectionState string  `json:"connection_state"`
	LastLogin       *string `json:"last_login"`
	TotalSSOUsers   int     `json:"total_sso_users"`
}

var ssoPlans = []string{"enterprise", "growth"}

func (a *API) configureSSO(w http.ResponseWriter, r *http.Request) {
	var s SSOSettings
	if !decode(w, r, &s) {
		return
	}
	pol := a.auth.Policy()
	switch {
	case s.ClerkOrgID == "" && s.Connection == nil:
		fail(w, http.StatusUnprocessableEntity, "invalid_settings", "give clerk_org_id or a direct connection")
		return
	case len(s.AllowedDomains) == 0:
		fail(w, http.StatusUnprocessableEntity, "invalid_settings", "allowed_domains must name at least one domain")
		return
	case s.DefaultRole != "" && !pol.Has(rbac.Role(s.DefaultRole)):
		fail(w, http.StatusUnprocessableEntity, "invalid_settings", "default_role is not a defined role")
		return
	}
	for _, g := range s.GroupRoles {
		if g.Group == "" || !pol.Has(rbac.Role(g.Role)) {
			fail(w, http.StatusUnprocessableEntity, "invalid_settings", "group_roles need a group and a defined role")
			return
		}
	}
	for _, role := range s.ClerkRoleMap {
		if !pol.Has(rbac.Role(role)) {
			fail(w, http.StatusUnprocessableEntity, "invalid_settings", "clerk_role_map maps to an undefined role")
			return
		}
	}
	var connJSON []byte
	if s.Connection != nil {
		if _, err := idp.New(r.Context(), *s.Connection, a.cfg.IdP); err != nil {
			fail(w, http.StatusUnprocessableEntity, "invalid_connection", err.Error())
			return
		}
		connJSON, _ = json.Marshal(s.Connection)
	}
	now := a.now()
	org, err := a.st.UpdateOrg(r.Context(), r.PathValue("org"), func(o *store.Org) error {
		if !slices.Contains(ssoPlans, o.Plan) {
			return errPlan
		}
		if s.RequireSSO && !o.RequireSSO {
			o.RequireSSOSince = now
		}
		o.ClerkOrgID, o.AllowedDomains, o.DefaultRole = s.ClerkOrgID, s.AllowedDomains, s.DefaultRole
		o.AutoCreateUsers, o.RequireSSO, o.GroupRoles, o.ClerkRoleMap = s.AutoCreateUsers, s.RequireSSO, s.GroupRoles, s.ClerkRoleMap
		o.Connection, o.SSOConfigured = connJSON, true
		return nil
	})
	switch {
	case errors.Is(err, errPlan):
		fail(w, http.StatusForbidden, middleware.CodePlanNotEntitled, "single sign-on is not part of the organization's plan")
		return
	case errors.Is(err, store.ErrNotFound):
		fail(w, http.StatusNotFound, "not_found", "no such organization")
		return
	case errors.Is(err, store.ErrExists):
		fail(w, http.StatusConflict, "clerk_org_taken", "that Clerk organization is mapped to another organization")
		return
	case err != nil:
		fail(w, http.StatusServiceUnavailable, "upstream_unavailable", "could not save")
		return
	}
	a.conns.Delete(org.ID)
	writeJSON(w, http.StatusOK, org)
}

var errPlan = errors.New("plan not entitled")

func (a *API) updateOrg(w http.ResponseWriter, r *http.Request) {
	var body struct {
		RequireSSO        *bool   `json:"require_sso"`
		DisableAPIKeyAuth *bool   `json:"disable_api_key_auth"`
		Plan              *string `json:"plan"`
		Name              *string `json:"name"`
	}
	if !decode(w, r, &body) {
		return
	}
	if body.Plan != nil && principal(r).Role != PlatformAdmin {
		a.refuse(w, r, fmt.Errorf("%w: only platform administrators set plans", middleware.ErrForbidden))
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
		fail(w, http.StatusNotFound, "not_found", "no such organization")
		return
	} else if err != nil {
		fail(w, http.StatusServiceUnavailable, "upstream_unavailable", "could not save")
		return
	}
	writeJSON(w, http.StatusOK, org)
}

func (a *API) ssoStatus(w http.ResponseWriter, r *http.Request) {
	org, err := a.st.GetOrg(r.Context(), r.PathValue("org"))
	if err != nil {
		fail(w, http.StatusNotFound, "not_found", "no such organization")
		return
	}
	users, _ := a.st.ListUsers(r.Context(), org.ID)
	n := 0
	for _, u := range users {
		if u.Source == middleware.MethodSSO {
			n++
		}
	}
	st := SSOStatus{SSOEnabled: org.SSOConfigured && (org.ClerkOrgID != "" || len(org.Connection) > 0), Provider: org.LastSSOProvider,
		ConnectionState: "not_configured", TotalSSOUsers: n}
	if len(org.Connection) > 0 {
		var c idp.Connection
		if json.Unmarshal(org.Connection, &c) == nil {
			st.Provider = string(c.Vendor)
		}
		if _, err := a.connector(r.Context(), org); err != nil {
			st.ConnectionState = "error"
		} else {
			st.ConnectionState = "active"
		}
	} else if org.ClerkOrgID != "" {
		st.ConnectionState = "active"
		if !org.SSOConfigured {
			st.ConnectionState = "inactive"
		}
	}
	if !org.LastSSOLogin.IsZero() {
		s := org.LastSSOLogin.UTC().Format(time.RFC3339)
		st.LastLogin = &s
	}
	writeJSON(w, http.StatusOK, st)
}

func (a *API) ssoTest(w http.ResponseWriter, r *http.Request) {
	var body struct {
		LoginHint string `json:"login_hint"`
	}
	if !decode(w, r, &body) {
		return
	}
	org, err := a.st.GetOrg(r.Context(), r.PathValue("org"))
	if err != nil || len(org.Connection) == 0 {
		fail(w, http.StatusUnprocessableEntity, "no_connection", "the organization has no direct connection to test")
		return
	}
	conn, err := a.connector(r.Context(), org)
	if err != nil {
		writeJSON(w, http.StatusOK, idp.TestReport{Steps: []idp.TestStep{{Name: "configuration", Detail: err.Error()}}})
		return
	}
	client := a.cfg.IdP.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 15 * time.Second}
	}
	writeJSON(w, http.StatusOK, idp.TestConnection(r.Context(), conn, client, body.LoginHint))
}

func (a *API) createOrg(w http.ResponseWriter, r *http.Request) {
	var body struct {
		ID   string `json:"id"`
		Name string `json:"name"`
		Plan string `json:"plan"`
	}
	if !decode(w, r, &body) {
		return
	}
	if body.ID == "" || strings.ContainsAny(body.ID, "/ ") || body.Name == "" {
		fail(w, http.StatusUnprocessableEntity, "invalid_settings", "id (no spaces or slashes) and name are required")
		return
	}
	if body.Plan == "" {
		body.Plan = "free"
	}
	o := store.Org{ID: body.ID, Name: body.Name, Plan: body.Plan, DefaultRole: string(rbac.Viewer)}
	if err := a.st.CreateOrg(r.Context(), o); errors.Is(err, store.ErrExists) {
		fail(w, http.StatusConflict, "exists", "the organization exists")
		return
	} else if err != nil {
		fail(w, http.StatusServiceUnavailable, "upstream_unavailable", "could not save")
		return
	}
	org, _ := a.st.GetOrg(r.Context(), o.ID)
	writeJSON(w, http.StatusCreated, org)
}

// --- people ---

func (a *API) listUsers(w http.ResponseWriter, r *http.Request) {
	users, err := a.st.ListUsers(r.Context(), r.PathValue("org"))
	if err != nil {
		fail(w, http.StatusServiceUnavailable, "upstream_unavailable", "could not read")
		return
	}
	if users == nil {
		users = []store.User{}
	}
	writeJSON(w, http.StatusOK, users)
}

func (a *API) orgUser(w http.ResponseWriter, r *http.Request) (store.User, bool) {
	u, err := a.st.GetUser(r.Context(), r.PathValue("id"))
	if err != nil || u.OrgID != r.PathValue("org") {
		fail(w, http.StatusNotFound, "not_found", "no such person in the organization")
		return store.User{}, false
	}
	return u, true
}

func (a *API) updateUser(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Role string `json:"role"`
	}
	if !decode(w, r, &body) {
		return
	}
	if !a.auth.Policy().Has(rbac.Role(body.Role)) {
		fail(w, http.StatusUnprocessableEntity, "invalid_role", "role is not a defined role")
		return
	}
	u, ok := a.orgUser(w, r)
	if !ok {
		return
	}
	u, err := a.st.UpdateUser(r.Context(), u.ID, func(x *store.User) error { x.Role = body.Role; return nil })
	if err != nil {
		fail(w, http.StatusServiceUnavailable, "upstream_unavailable", "could not save")
		return
	}
	_ = a.auth.RevokeUser(r.Context(), u.ID) // sessions carry the old role
	writeJSON(w, http.StatusOK, u)
}

func (a *API) deleteUser(w http.ResponseWriter, r *http.Request) {
	u, ok := a.orgUser(w, r)
	if !ok {
		return
	}
	if err := a.st.DeleteUser(r.Context(), u.ID); err != nil {
		fail(w, http.StatusServiceUnavailable, "upstream_unavailable", "could not delete")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// --- API keys ---

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
		fail(w, http.StatusUnprocessableEntity, "invalid_settings", "name and a defined role are required")
		return
	}
	var exp time.Time
	if body.ExpiresAt != nil {
		if !body.ExpiresAt.After(a.now()) {
			fail(w, http.StatusUnprocessableEntity, "invalid_settings", "expires_at is in the past")
			return
		}
		exp = *body.ExpiresAt
	}
	keys := a.auth.APIKeys()
	if keys == nil {
		fail(w, http.StatusNotImplemented, "api_keys_unavailable", "API keys are not configured")
		return
	}
	plain, k, err := keys.Create(r.Context(), r.PathValue("org"), body.Name, body.Role, exp)
	if err != nil {
		fail(w, http.StatusServiceUnavailable, "upstream_unavailable", "could not save")
		return
	}
	writeJSON(w, http.StatusCreated, NewAPIKey{APIKey: k, Key: plain})
}

func (a *API) listKeys(w http.ResponseWriter, r *http.Request) {
	ks, err := a.st.ListAPIKeys(r.Context(), r.PathValue("org"))
	if err != nil {
		fail(w, http.StatusServiceUnavailable, "upstream_unavailable", "could not read")
		return
	}
	if ks == nil {
		ks = []store.APIKey{}
	}
	writeJSON(w, http.StatusOK, ks)
}

func (a *API) revokeKey(w http.ResponseWriter, r *http.Request) {
	if err := a.st.RevokeAPIKey(r.Context(), r.PathValue("org"), r.PathValue("id")); errors.Is(err, store.ErrNotFound) {
		fail(w, http.StatusNotFound, "not_found", "no such API key")
		return
	} else if err != nil {
		fail(w, http.StatusServiceUnavailable, "upstream_unavailable", "could not save")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
