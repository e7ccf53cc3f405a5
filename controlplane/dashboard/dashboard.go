package dashboard

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ssokit/ssokit/api"
	"github.com/ssokit/ssokit/client"
	"github.com/ssokit/ssokit/controlplane"
	"github.com/ssokit/ssokit/internal/httpsec"
	"github.com/ssokit/ssokit/rbac"
	"github.com/ssokit/ssokit/ssoerr"
	"github.com/ssokit/ssokit/store"
)

// Config configures a Dashboard. API and AppURL are required.
type Config struct {
	// API is the control plane built by controlplane.New: the dashboard
	// serves it under /auth/, /v1/, /webhooks/ and /.well-known/, and
	// calls it in-process for every page. The dashboard builds no
	// credential of its own; sessions, API keys and admission are the
	// API's.
	API *controlplane.API
	// AppURL is the app's public URL, the same as the API's
	// controlplane.Config.AppURL: the in-process client addresses its
	// requests to it.
	AppURL string
	// Logger receives rendering failures. Nil means silent.
	Logger *slog.Logger
}

// Dashboard is the server-rendered dashboard at / in front of the
// control-plane API. It is an http.Handler serving both.
type Dashboard struct {
	api    *controlplane.API
	st     store.Store
	appURL string
	log    *slog.Logger
	h      http.Handler
	dash   *httpsec.Mux // the dashboard's own routes, for the route walk
}

// New validates cfg and builds the dashboard.
func New(cfg Config) (*Dashboard, error) {
	if cfg.API == nil {
		return nil, errors.New("dashboard: Config.API is required (controlplane.New)")
	}
	if cfg.AppURL == "" {
		return nil, errors.New("dashboard: Config.AppURL is required")
	}
	if _, err := client.New(client.Config{BaseURL: cfg.AppURL}); err != nil {
		return nil, fmt.Errorf("dashboard: AppURL: %w", err)
	}
	d := &Dashboard{api: cfg.API, st: cfg.API.Store(), appURL: strings.TrimSuffix(cfg.AppURL, "/"), log: cfg.Logger}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	dash := httpsec.NewMux()
	d.dash = dash
	dash.HandleFunc("GET /{$}", d.home)
	dash.HandleFunc("POST /dashboard/login", d.passwordLogin)
	dash.HandleFunc("POST /dashboard/logout", d.logout)
	dash.HandleFunc("POST /dashboard/settings", d.settings)
	dash.HandleFunc("POST /dashboard/api-keys", d.createKey)
	dash.HandleFunc("POST /dashboard/api-keys/{id}/revoke", d.revokeKey)
	mux := http.NewServeMux()
	mux.Handle("/", http.NewCrossOriginProtection().Handler(formsOnly(dash.ServeMux)))
	for _, p := range []string{"/auth/", "/v1/", "/webhooks/", "/.well-known/"} {
		mux.Handle(p, cfg.API)
	}
	d.h = securityHeaders(mux)
	return d, nil
}

// maxForm bounds a dashboard form's body; its largest, the SSO settings,
// is a few kilobytes.
const maxForm = 64 << 10

// formsOnly reads a dashboard POST as what its forms send: a URL-encoded
// body of at most maxForm bytes (413 past it; 415 for another type, such
// as a multipart body, which Go would hold in memory up to 32 MiB), parsed
// before the handler runs.
func formsOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
				http.Error(w, "a form is posted as application/x-www-form-urlencoded", http.StatusUnsupportedMediaType)
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, maxForm)
			if err := r.ParseForm(); err != nil {
				var mbe *http.MaxBytesError
				if errors.As(err, &mbe) {
					http.Error(w, "the form is too large", http.StatusRequestEntityTooLarge)
					return
				}
				http.Error(w, "the form could not be read", http.StatusBadRequest)
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}

// notices are the banners a redirect back to the dashboard may name (its
// notice parameter): a code, so that no link can put its own text in the
// dashboard's voice.
var notices = map[string]string{
	"signed-out":     "Signed out.",
	"settings-saved": "Settings saved.",
	"key-revoked":    "API key revoked.",
}

// ServeHTTP serves the dashboard and the API.
func (d *Dashboard) ServeHTTP(w http.ResponseWriter, r *http.Request) { d.h.ServeHTTP(w, r) }

// securityHeaders starts every response with the strictest headers
// (httpsec.Defaults) but Referrer-Policy same-origin: the dashboard's
// forms post to itself, and with no-referrer a browser sends Origin: null
// on those posts, which cross-origin protection refuses where the browser
// sends no Sec-Fetch-Site. No referrer leaves for another origin.
func securityHeaders(h http.Handler) http.Handler {
	return httpsec.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Referrer-Policy", "same-origin")
		h.ServeHTTP(w, r)
	}))
}

// asUser is the Go client calling the API in-process with the browser's
// cookies, so the dashboard uses exactly the API a script would. Cookies
// the API sets are passed back to the browser.
func (d *Dashboard) asUser(w http.ResponseWriter, r *http.Request) *client.Client {
	rt := &inProcess{h: d.api, cookie: r.Header.Get("Cookie"), forwarded: r.Header.Values("X-Forwarded-For"), remote: r.RemoteAddr, w: w}
	c, err := client.New(client.Config{BaseURL: d.appURL, HTTPClient: &http.Client{Transport: rt}})
	if err != nil {
		panic(err) // New checked AppURL
	}
	return c
}

// inProcess is an http.RoundTripper that serves a request with a handler
// in this process.
type inProcess struct {
	h      http.Handler
	cookie string
	// forwarded and remote are the browser request's X-Forwarded-For and
	// peer: the API counts password attempts per client address, which
	// behind a trusted proxy is in X-Forwarded-For.
	forwarded []string
	remote    string
	w         http.ResponseWriter
}

func (t *inProcess) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	if req.Body == nil {
		req.Body = http.NoBody
	}
	if t.cookie != "" {
		req.Header.Set("Cookie", t.cookie)
	}
	if len(t.forwarded) > 0 {
		req.Header["X-Forwarded-For"] = t.forwarded
	}
	req.RemoteAddr = t.remote
	req.RequestURI = req.URL.RequestURI()
	if req.Host == "" {
		req.Host = req.URL.Host
	}
	rec := &recorder{header: http.Header{}}
	t.h.ServeHTTP(rec, req)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	resp := &http.Response{
		Status: strconv.Itoa(rec.status) + " " + http.StatusText(rec.status), StatusCode: rec.status,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Header: rec.header,
		Body: io.NopCloser(bytes.NewReader(rec.body.Bytes())), ContentLength: int64(rec.body.Len()), Request: req,
	}
	for _, c := range resp.Cookies() {
		http.SetCookie(t.w, c)
	}
	return resp, nil
}

// recorder is the http.ResponseWriter of an in-process request.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(b)
}

type view struct {
	Me       *api.Whoami
	Org      *store.Org
	Status   *api.SSOStatus
	Events   []api.SSOEvent
	Keys     []api.APIKey
	NewKey   string
	Admin    bool
	Error    string
	Notice   string
	Email    string
	LoginOrg string
}

func (d *Dashboard) home(w http.ResponseWriter, r *http.Request) {
	d.render(w, r, http.StatusOK, view{Notice: notices[r.URL.Query().Get("notice")]})
}

// render fills the view for the signed-in person (if any) and writes it.
func (d *Dashboard) render(w http.ResponseWriter, r *http.Request, status int, v view) {
	ctx := r.Context()
	c := d.asUser(w, r)
	if me, err := c.Auth.WhoAmI(ctx); err == nil {
		v.Me = &me
		v.Admin = d.isAdmin(me.Role)
		if org, err := d.st.GetOrg(ctx, me.OrgID); err == nil {
			v.Org = &org
		}
		if v.Admin {
			if st, err := c.Organizations.SSOStatus(ctx, me.OrgID); err == nil {
				v.Status = &st
			}
			v.Events, _ = c.Organizations.SSOEvents(ctx, me.OrgID, 20)
			v.Keys, _ = c.APIKeys.List(ctx, me.OrgID)
		}
	} else if v.Error == "" && d.hasSession(r) {
		v.Error = messageOf(err)
	}
	// No form-action: the SSO form goes to /auth/sso/start, which
	// redirects to the sign-in (Clerk's, an identity provider's), and
	// browsers apply form-action to every redirect after a submission.
	httpsec.Page(w.Header(), httpsec.CSP{InlineStyles: true, AnyFormAction: true})
	w.Header().Set("Referrer-Policy", "same-origin")
	w.WriteHeader(status)
	if err := page.Execute(w, v); err != nil {
		d.log.Debug("dashboard: render", "err", err)
	}
}

func (d *Dashboard) hasSession(r *http.Request) bool {
	_, err := r.Cookie(d.api.Sessions().CookieName())
	return err == nil
}

func messageOf(err error) string {
	var e *client.Error
	if errors.As(err, &e) {
		return fmt.Sprintf("%s (%s)", e.Message, e.Code)
	}
	return "the request failed"
}

func (d *Dashboard) passwordLogin(w http.ResponseWriter, r *http.Request) {
	org, email := r.PostFormValue("org"), r.PostFormValue("email")
	if _, err := d.asUser(w, r).Auth.Login(r.Context(), org, email, r.PostFormValue("password")); err != nil {
		status := http.StatusUnauthorized
		var e *client.Error
		if errors.As(err, &e) {
			status = e.Status
		}
		d.render(w, r, status, view{Error: "Password sign-in refused: " + messageOf(err), Email: email, LoginOrg: org})
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (d *Dashboard) logout(w http.ResponseWriter, r *http.Request) {
	_ = d.asUser(w, r).Auth.Logout(r.Context())
	http.Redirect(w, r, "/?notice=signed-out", http.StatusSeeOther)
}

// isAdmin reports whether role opens the organization's admin routes:
// ranked at or above admin by the API's policy, as the API judges it (an
// owner of the host's policy is one).
func (d *Dashboard) isAdmin(role string) bool {
	return d.api.Authenticator().Policy().AtLeast(rbac.Role(role), rbac.Admin)
}

// admin returns the signed-in admin's org, or answers and returns "".
func (d *Dashboard) admin(w http.ResponseWriter, r *http.Request) (*client.Client, string) {
	c := d.asUser(w, r)
	me, err := c.Auth.WhoAmI(r.Context())
	if err != nil {
		d.render(w, r, http.StatusUnauthorized, view{Error: messageOf(err)})
		return nil, ""
	}
	if !d.isAdmin(me.Role) {
		d.render(w, r, http.StatusForbidden, view{Error: "Only organization admins may change this."})
		return nil, ""
	}
	return c, me.OrgID
}

func (d *Dashboard) settings(w http.ResponseWriter, r *http.Request) {
	c, org := d.admin(w, r)
	if c == nil {
		return
	}
	requireSSO, noKeys := r.PostFormValue("require_sso") == "on", r.PostFormValue("disable_api_key_auth") == "on"
	if _, err := c.Organizations.Update(r.Context(), org, api.UpdateOrgRequest{RequireSSO: &requireSSO, DisableAPIKeyAuth: &noKeys}); err != nil {
		d.render(w, r, http.StatusUnprocessableEntity, view{Error: messageOf(err)})
		return
	}
	http.Redirect(w, r, "/?notice=settings-saved", http.StatusSeeOther)
}

func (d *Dashboard) createKey(w http.ResponseWriter, r *http.Request) {
	c, org := d.admin(w, r)
	if c == nil {
		return
	}
	name, role := strings.TrimSpace(r.PostFormValue("name")), r.PostFormValue("role")
	k, err := c.APIKeys.Create(r.Context(), org, name, role, time.Time{})
	if err != nil {
		d.render(w, r, http.StatusUnprocessableEntity, view{Error: messageOf(err)})
		return
	}
	d.render(w, r, http.StatusOK, view{NewKey: k.Key, Notice: "API key " + k.Name + " created. Copy it now: it is not shown again."})
}

func (d *Dashboard) revokeKey(w http.ResponseWriter, r *http.Request) {
	c, org := d.admin(w, r)
	if c == nil {
		return
	}
	if err := c.APIKeys.Revoke(r.Context(), org, r.PathValue("id")); err != nil {
		d.render(w, r, http.StatusUnprocessableEntity, view{Error: messageOf(err)})
		return
	}
	http.Redirect(w, r, "/?notice=key-revoked", http.StatusSeeOther)
}

// ErrorPage renders a refused sign-in for people: the message, a hint for
// the common codes and the stable code. Pass it as
// controlplane.Config.ErrorPage so the SSO routes the dashboard links to
// answer with a page in the dashboard's style.
func ErrorPage(w http.ResponseWriter, _ *http.Request, status int, code, message string) {
	var b bytes.Buffer
	if err := refusal.Execute(&b, map[string]any{"Status": status, "Code": code, "Message": message,
		"Hint": hints[code]}); err != nil {
		http.Error(w, message, status)
		return
	}
	// The page's own policy: the dashboard's inline styles, a link back.
	httpsec.Page(w.Header(), httpsec.CSP{InlineStyles: true})
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}

var hints = map[string]string{
	string(ssoerr.ReasonDomainNotAllowed):   "Your email domain is not one this organization admits. Ask its administrator to add it.",
	string(ssoerr.ReasonOrgNotMapped):       "Your organization is not connected to this app yet.",
	string(ssoerr.ReasonUserNotProvisioned): "Your organization admits only people its administrator has added.",
	"invalid_state":                         "The sign-in took too long or started elsewhere. Start again.", // controlplane's code for a bad or old state
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

var page = template.Must(template.New("dashboard").Parse(`<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>ssokit control plane</title>` + style + `</head><body>
<h1>ssokit control plane</h1>
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
</table>
<h3>Recent sign-ins</h3>
<table id="sso-events"><tr><th>Time (UTC)</th><th>Email</th><th>Identity provider</th><th>Outcome</th><th>Why</th></tr>
{{range $.Events}}<tr class="sso-event"><td>{{.Time.Format "2006-01-02 15:04:05"}}</td><td>{{.Email}}</td><td>{{.IdPName}} {{.Protocol}}</td>
<td class="outcome">{{.Outcome}}</td><td>{{if .Reason}}<code class="reason">{{.Reason}}</code> {{.Check}}{{end}}{{if .Unverified}} <em class="unverified">(not vouched for by the identity provider: anyone could have sent it)</em>{{end}}</td></tr>
{{else}}<tr><td colspan="5">No sign-in attempt yet.</td></tr>{{end}}
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
