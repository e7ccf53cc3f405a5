package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"time"

	"github.com/ssokit/ssokit/api"
	"github.com/ssokit/ssokit/client"
	"github.com/ssokit/ssokit/controlplane"
	"github.com/ssokit/ssokit/middleware"
	"github.com/ssokit/ssokit/store"
)

// Config wires the example control plane.
type Config struct {
	// AppURL is the app's public URL, e.g. http://127.0.0.1:4450.
	AppURL string
	// Clerk verifies Clerk session tokens (publishable key, secret key...).
	// AuthorizedParties defaults to AppURL.
	Clerk middleware.ClerkConfig
	// ClerkSignInURL is the Clerk hosted sign-in page.
	ClerkSignInURL string
	// WebhookSecret is the Clerk webhook signing secret (whsec_...).
	WebhookSecret string
	// BootstrapAdminKey is the platform administrator's key.
	BootstrapAdminKey string
	// SessionKey signs the app's session JWTs.
	SessionKey middleware.SessionKey
	// InsecureCookie drops the cookie's Secure flag (http on localhost).
	InsecureCookie bool
	// Store holds organizations and people. Nil: a memory store.
	Store store.Store
	// HTTPClient reaches Clerk. Nil: a 10 s timeout client.
	HTTPClient *http.Client
	// Logger; nil means silent.
	Logger *slog.Logger
}

// App is the example control plane: the dashboard at / and the API.
type App struct {
	api     *controlplane.API
	auth    *middleware.Authenticator
	apiKeys *middleware.APIKeys
	st      store.Store
	h       http.Handler
	appURL  string
}

// New builds the app.
func New(cfg Config) (*App, error) {
	if cfg.AppURL == "" {
		return nil, errors.New("app: AppURL is required")
	}
	if _, err := client.New(client.Config{BaseURL: cfg.AppURL}); err != nil {
		return nil, fmt.Errorf("app: AppURL: %w", err)
	}
	if cfg.Store == nil {
		cfg.Store = store.NewMemory(nil)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	cc := cfg.Clerk
	if len(cc.AuthorizedParties) == 0 {
		cc.AuthorizedParties = []string{cfg.AppURL}
	}
	if cc.HTTPClient == nil {
		cc.HTTPClient = cfg.HTTPClient
	}
	cc.Logger = cfg.Logger
	verifier, err := middleware.NewClerkVerifier(cc)
	if err != nil {
		return nil, err
	}
	sessions, err := middleware.NewSessions(middleware.SessionConfig{Keys: []middleware.SessionKey{cfg.SessionKey},
		Issuer: cfg.AppURL, InsecureCookie: cfg.InsecureCookie})
	if err != nil {
		return nil, err
	}
	keys := middleware.NewAPIKeys(cfg.Store, "", nil)
	var users *middleware.ClerkUsers
	if cc.SecretKey != "" {
		users = middleware.NewClerkUsers(cc.APIURL, cc.SecretKey, cfg.HTTPClient, nil)
	}
	auth, err := middleware.NewAuthenticator(middleware.AuthenticatorConfig{Clerk: verifier, Sessions: sessions,
		Store: cfg.Store, APIKeys: keys, ClerkUsers: users, Logger: cfg.Logger})
	if err != nil {
		return nil, err
	}
	api, err := controlplane.New(controlplane.Config{Auth: auth, AppURL: cfg.AppURL, ClerkSignInURL: cfg.ClerkSignInURL,
		ClerkAPIURL: cc.APIURL, ClerkSecretKey: cc.SecretKey, HTTPClient: cfg.HTTPClient,
		WebhookSecret: cfg.WebhookSecret, BootstrapAdminKey: cfg.BootstrapAdminKey, Logger: cfg.Logger,
		ErrorPage: refusalPage})
	if err != nil {
		return nil, err
	}
	a := &App{api: api, auth: auth, apiKeys: keys, st: cfg.Store, appURL: cfg.AppURL}
	dash := http.NewServeMux()
	dash.HandleFunc("GET /{$}", a.home)
	dash.HandleFunc("POST /dashboard/login", a.passwordLogin)
	dash.HandleFunc("POST /dashboard/logout", a.logout)
	dash.HandleFunc("POST /dashboard/settings", a.settings)
	dash.HandleFunc("POST /dashboard/api-keys", a.createKey)
	dash.HandleFunc("POST /dashboard/api-keys/{id}/revoke", a.revokeKey)
	mux := http.NewServeMux()
	mux.Handle("/", http.NewCrossOriginProtection().Handler(dash))
	for _, p := range []string{"/auth/", "/v1/", "/webhooks/", "/.well-known/"} {
		mux.Handle(p, api)
	}
	a.h = securityHeaders(mux)
	return a, nil
}

// ServeHTTP serves the dashboard and the API.
func (a *App) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.h.ServeHTTP(w, r) }

// Store is the app's store (the demo seeds it).
func (a *App) Store() store.Store { return a.st }

// FlushAPIKeyUse writes the batched API-key last-use times.
func (a *App) FlushAPIKeyUse(ctx context.Context) error { return a.apiKeys.Flush(ctx) }

func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("X-Frame-Options", "DENY")
		w.Header().Set("Referrer-Policy", "same-origin")
		h.ServeHTTP(w, r)
	})
}

// asUser is the Go client calling the API in-process with the browser's
// cookies, so the dashboard uses exactly the API a script would. Cookies
// the API sets are passed back to the browser.
func (a *App) asUser(w http.ResponseWriter, r *http.Request) *client.Client {
	rt := &inProcess{h: a.api, cookie: r.Header.Get("Cookie"), remote: r.RemoteAddr, w: w}
	c, err := client.New(client.Config{BaseURL: a.appURL, HTTPClient: &http.Client{Transport: rt}})
	if err != nil {
		panic(err) // New checked AppURL
	}
	return c
}

type inProcess struct {
	h      http.Handler
	cookie string
	remote string
	w      http.ResponseWriter
}

func (t *inProcess) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.cookie != "" {
		req.Header.Set("Cookie", t.cookie)
	}
	req.RemoteAddr = t.remote
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, req)
	resp := rec.Result()
	for _, c := range resp.Cookies() {
		http.SetCookie(t.w, c)
	}
	resp.Request = req
	return resp, nil
}

type view struct {
	Me       *api.Whoami
	Org      *store.Org
	Status   *api.SSOStatus
	Keys     []api.APIKey
	NewKey   string
	Admin    bool
	Error    string
	Notice   string
	Email    string
	LoginOrg string
}

func (a *App) home(w http.ResponseWriter, r *http.Request) {
	a.render(w, r, http.StatusOK, view{Notice: r.URL.Query().Get("notice")})
}

// render fills the view for the signed-in person (if any) and writes it.
func (a *App) render(w http.ResponseWriter, r *http.Request, status int, v view) {
	ctx := r.Context()
	c := a.asUser(w, r)
	if me, err := c.Auth.WhoAmI(ctx); err == nil {
		v.Me = &me
		v.Admin = me.Role == "admin"
		if org, err := a.st.GetOrg(ctx, me.OrgID); err == nil {
			v.Org = &org
		}
		if v.Admin {
			if st, err := c.Organizations.SSOStatus(ctx, me.OrgID); err == nil {
				v.Status = &st
			}
			v.Keys, _ = c.APIKeys.List(ctx, me.OrgID)
		}
	} else if v.Error == "" && a.hasSession(r) {
		v.Error = messageOf(err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := dashboard.Execute(w, v); err != nil {
		slog.Default().Debug("app: render", "err", err)
	}
}

func (a *App) hasSession(r *http.Request) bool {
	_, err := r.Cookie(a.auth.Sessions().CookieName())
	return err == nil
}

func messageOf(err error) string {
	var e *client.Error
	if errors.As(err, &e) {
		return fmt.Sprintf("%s (%s)", e.Message, e.Code)
	}
	return "the request failed"
}

func (a *App) passwordLogin(w http.ResponseWriter, r *http.Request) {
	org, email := r.PostFormValue("org"), r.PostFormValue("email")
	if _, err := a.asUser(w, r).Auth.Login(r.Context(), org, email, r.PostFormValue("password")); err != nil {
		status := http.StatusUnauthorized
		var e *client.Error
		if errors.As(err, &e) {
			status = e.Status
		}
		a.render(w, r, status, view{Error: "Password sign-in refused: " + messageOf(err), Email: email, LoginOrg: org})
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (a *App) logout(w http.ResponseWriter, r *http.Request) {
	_ = a.asUser(w, r).Auth.Logout(r.Context())
	http.Redirect(w, r, "/?notice="+url.QueryEscape("Signed out."), http.StatusSeeOther)
}

// admin returns the signed-in admin's org, or answers and returns "".
func (a *App) admin(w http.ResponseWriter, r *http.Request) (*client.Client, string) {
	c := a.asUser(w, r)
	me, err := c.Auth.WhoAmI(r.Context())
	if err != nil {
		a.render(w, r, http.StatusUnauthorized, view{Error: messageOf(err)})
		return nil, ""
	}
	if me.Role != "admin" {
		a.render(w, r, http.StatusForbidden, view{Error: "Only organization admins may change this."})
		return nil, ""
	}
	return c, me.OrgID
}

func (a *App) settings(w http.ResponseWriter, r *http.Request) {
	c, org := a.admin(w, r)
	if c == nil {
		return
	}
	requireSSO, noKeys := r.PostFormValue("require_sso") == "on", r.PostFormValue("disable_api_key_auth") == "on"
	if _, err := c.Organizations.Update(r.Context(), org, api.UpdateOrgRequest{RequireSSO: &requireSSO, DisableAPIKeyAuth: &noKeys}); err != nil {
		a.render(w, r, http.StatusUnprocessableEntity, view{Error: messageOf(err)})
		return
	}
	http.Redirect(w, r, "/?notice="+url.QueryEscape("Settings saved."), http.StatusSeeOther)
}

func (a *App) createKey(w http.ResponseWriter, r *http.Request) {
	c, org := a.admin(w, r)
	if c == nil {
		return
	}
	name, role := strings.TrimSpace(r.PostFormValue("name")), r.PostFormValue("role")
	k, err := c.APIKeys.Create(r.Context(), org, name, role, time.Time{})
	if err != nil {
		a.render(w, r, http.StatusUnprocessableEntity, view{Error: messageOf(err)})
		return
	}
	a.render(w, r, http.StatusOK, view{NewKey: k.Key, Notice: "API key " + k.Name + " created. Copy it now: it is not shown again."})
}

func (a *App) revokeKey(w http.ResponseWriter, r *http.Request) {
	c, org := a.admin(w, r)
	if c == nil {
		return
	}
	if err := c.APIKeys.Revoke(r.Context(), org, r.PathValue("id")); err != nil {
		a.render(w, r, http.StatusUnprocessableEntity, view{Error: messageOf(err)})
		return
	}
	http.Redirect(w, r, "/?notice="+url.QueryEscape("API key revoked."), http.StatusSeeOther)
}

// refusalPage renders a refused sign-in for people, with the stable code.
func refusalPage(w http.ResponseWriter, _ *http.Request, status int, code, message string) {
	var b bytes.Buffer
	if err := refusal.Execute(&b, map[string]any{"Status": status, "Code": code, "Message": message,
		"Hint": hints[code]}); err != nil {
		http.Error(w, message, status)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}

var hints = map[string]string{
	"domain_not_allowed":   "Your email domain is not one this organization admits. Ask its administrator to add it.",
	"org_not_mapped":       "Your organization is not connected to this app yet.",
	"user_not_provisioned": "Your organization admits only people its administrator has added.",
	"invalid_state":        "The sign-in took too long or started elsewhere. Start again.",
}

const style = `<style>
body{font:15px/1.5 system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;color:#1d2433}
h1{font-size:1.5rem}h2{font-size:1.1rem;margin-top:2rem}table{border-collapse:collapse}
td,th{padding:.25rem .75rem .25rem 0;text-align:left;vertical-align:top}
.err{background:#fde8e8;border:1px solid #f5b5b5;padding:.5rem .75rem}
.ok{background:#e8f6ea;border:1px solid #a9dbb2;padding:.5rem .75rem}
code{background:#f2f4f7;padding:0 .25rem}form{margin:.5rem 0}
</style>`

var refusal = template.Must(template.New("refusal").Parse(`<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>Sign-in refused</title>` + style + `</head><body>
<h1>Sign-in refused</h1>
<p class="err" id="refusal" role="alert">{{.Message}}</p>
{{if .Hint}}<p id="hint">{{.Hint}}</p>{{end}}
<p>Code <code id="code">{{.Code}}</code> (HTTP {{.Status}})</p>
<p><a href="/">Back to sign-in</a></p></body></html>`))

var dashboard = template.Must(template.New("dashboard").Parse(`<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>ssokit control plane</title>` + style + `</head><body>
<h1>ssokit example control plane</h1>
{{if .Notice}}<p class="ok" id="notice" data-notice="{{.Notice}}">{{.Notice}}</p>{{end}}
{{if .Error}}<p class="err" id="error" role="alert">{{.Error}}</p>{{end}}
{{if .NewKey}}<p>New API key: <code id="new-key">{{.NewKey}}</code></p>{{end}}
{{with .Me}}
<h2>Signed in</h2>
<table id="whoami">
<tr><th>Email</th><td id="email">{{.Email}}</td></tr>
<tr><th>Organization</th><td id="org">{{.OrgID}}</td></tr>
<tr><th>Role</th><td id="role">{{.Role}}</td></tr>
<tr><th>Signed in with</th><td id="auth-method">{{.AuthMethod}}</td></tr>
<tr><th>Identity provider</th><td id="idp-name">{{.IdPName}}</td></tr>
<tr><th>User ID</th><td><code>{{.UserID}}</code></td></tr>
</table>
<form method="post" action="/dashboard/logout"><button id="logout" type="submit">Sign out</button></form>
{{end}}
{{if and .Me .Admin}}
{{with .Status}}<h2>Single sign-on</h2>
<table id="sso-status">
<tr><th>SSO enabled</th><td id="sso-enabled">{{.SSOEnabled}}</td></tr>
<tr><th>Provider</th><td id="sso-provider">{{.Provider}}</td></tr>
<tr><th>Connection</th><td id="sso-state">{{.ConnectionState}}</td></tr>
<tr><th>Last SSO login</th><td>{{if .LastLogin}}{{.LastLogin}}{{else}}never{{end}}</td></tr>
<tr><th>SSO users</th><td id="sso-users">{{.TotalSSOUsers}}</td></tr>
</table>{{end}}
{{with $.Org}}<h2>Organization settings</h2>
<table><tr><th>Plan</th><td>{{.Plan}}</td></tr>
<tr><th>Clerk organization</th><td><code>{{.ClerkOrgID}}</code></td></tr>
<tr><th>Allowed domains</th><td>{{range .AllowedDomains}}<code>{{.}}</code> {{end}}</td></tr>
<tr><th>Default role</th><td>{{.DefaultRole}}</td></tr>
<tr><th>Group rules</th><td>{{range .GroupRoles}}<code>{{.Group}}</code> → {{.Role}}<br>{{end}}</td></tr></table>
<form method="post" action="/dashboard/settings" id="settings">
<label><input type="checkbox" name="require_sso" id="require-sso" {{if .RequireSSO}}checked{{end}}> Require SSO (turns password sign-in off)</label><br>
<label><input type="checkbox" name="disable_api_key_auth" id="disable-api-keys" {{if .DisableAPIKeyAuth}}checked{{end}}> Disable agent API keys</label><br>
<button type="submit" id="save-settings">Save settings</button></form>{{end}}
<h2>API keys</h2>
<table id="api-keys"><tr><th>Name</th><th>Role</th><th>Created</th><th></th></tr>
{{range .Keys}}<tr><td>{{.Name}}</td><td>{{.Role}}</td><td>{{.CreatedAt.Format "2006-01-02 15:04"}}</td>
<td>{{if not .Revoked}}<form method="post" action="/dashboard/api-keys/{{.ID}}/revoke"><button type="submit">Revoke</button></form>{{else}}revoked{{end}}</td></tr>{{end}}
</table>
<form method="post" action="/dashboard/api-keys" id="new-api-key">
<label>Name <input name="name" id="key-name" value="deploy-bot" required></label>
<label>Role <select name="role" id="key-role"><option>viewer</option><option selected>editor</option><option>admin</option></select></label>
<button type="submit" id="create-key">Create API key</button></form>
{{end}}
{{if not .Me}}
<h2>Sign in</h2>
<form method="get" action="/auth/sso/start" id="sso-form">
<input type="hidden" name="return_to" value="/">
<label>Work email <input type="email" name="email" id="sso-email" required autocomplete="username"></label>
<button type="submit" id="sso-button">Sign in with SSO</button></form>
<h2>Or with a password</h2>
<form method="post" action="/dashboard/login" id="password-form">
<label>Organization <input name="org" id="pw-org" value="{{.LoginOrg}}" required></label>
<label>Email <input type="email" name="email" id="pw-email" value="{{.Email}}" required></label>
<label>Password <input type="password" name="password" id="pw-password" required></label>
<button type="submit" id="pw-button">Sign in</button></form>
{{end}}
</body></html>`))
