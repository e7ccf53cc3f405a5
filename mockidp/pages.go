package mockidp

import (
	"html/template"
	"net/http"
	"net/url"

	"github.com/ssokit/ssokit/internal/httpsec"
)

var pages = template.Must(template.New("").Parse(`
{{define "head"}}<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#1d2433}
h1{font-size:1.4rem}table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #dde;padding:.3rem;text-align:left;vertical-align:top}
code{font-size:.85em;word-break:break-all}.err{color:#a01818}button{font:inherit;padding:.3rem .8rem}
.user{display:block;margin:.3rem 0}input[type=email]{font:inherit;padding:.3rem;width:20rem}
</style></head><body>{{end}}

{{define "login"}}{{template "head" .}}
<h1>{{.Vendor}} sign-in ({{.Persona}})</h1>
<p>Mock identity provider: choose a user, or type an email.</p>
{{if .Error}}<p class="err" role="alert">{{.Error}}</p>{{end}}
<form method="{{if .Method}}{{.Method}}{{else}}post{{end}}" action="{{.Action}}">
{{range $k, $vs := .Params}}{{range $vs}}<input type="hidden" name="{{$k}}" value="{{.}}">{{end}}{{end}}
<input type="hidden" name="mockidp_login" value="1">
{{range .Users}}<button class="user" type="submit" name="email" value="{{.Email}}">{{.Email}} — {{.GivenName}} {{.FamilyName}}</button>{{end}}
<p><label>Email <input type="email" name="email" autocomplete="username"></label> <button type="submit">Sign in</button></p>
</form></body></html>{{end}}

{{define "error"}}{{template "head" .}}
<h1>{{.Title}}</h1>{{if .Code}}<p><code>{{.Code}}</code></p>{{end}}<p>{{.Message}}</p></body></html>{{end}}

{{define "index"}}{{template "head" .}}
<h1>ssokit mock identity platform</h1>
{{range .Personas}}<h2>{{.Name}} <small>({{.Vendor}})</small></h2>
<table><tr><th>issuer</th><td><code>{{.OIDC.Issuer}}</code></td></tr>
<tr><th>discovery</th><td><a href="{{.OIDC.DiscoveryURL}}"><code>{{.OIDC.DiscoveryURL}}</code></a></td></tr>
{{range .OIDC.OtherIssuers}}<tr><th>other issuer</th><td><code>{{.}}</code></td></tr>{{end}}
<tr><th>SAML entity ID</th><td><code>{{.SAML.EntityID}}</code></td></tr>
<tr><th>SAML metadata</th><td><a href="{{.SAML.MetadataURL}}"><code>{{.SAML.MetadataURL}}</code></a></td></tr>
<tr><th>SAML SSO</th><td><code>{{.SAML.SSOURL}}</code></td></tr>
{{range .Clients}}<tr><th>client</th><td><code>{{.ClientID}}</code> / <code>{{.ClientSecret}}</code> ({{.TokenEndpointAuthMethod}})</td></tr>{{end}}
{{range .Users}}<tr><th>user</th><td>{{.Email}} {{if .Groups}}— groups {{range .Groups}}<code>{{.}}</code> {{end}}{{end}}</td></tr>{{end}}
</table>{{end}}
</body></html>{{end}}
`))

func (p *Persona) loginPage(w http.ResponseWriter, r *http.Request, params url.Values, errMsg string) {
	params = cloneValues(params)
	params.Del("mockidp_login")
	params.Del("email")
	users := p.Users()
	// No form-action: browsers apply it to every redirect after the
	// submission, and the sign-in redirects to the relying party (and, via
	// a broker such as Clerk, on to the app).
	httpsec.Page(w.Header(), httpsec.CSP{InlineStyles: true, AnyFormAction: true})
	status := http.StatusOK
	if errMsg != "" {
		status = http.StatusUnprocessableEntity
	}
	w.WriteHeader(status)
	_ = pages.ExecuteTemplate(w, "login", map[string]any{
		"Title": "Sign in", "Vendor": p.cfg.Vendor, "Persona": p.cfg.Name, "Error": errMsg,
		"Action": r.URL.Path, "Params": params, "Users": users,
	})
}

func (p *Persona) errorPage(w http.ResponseWriter, status int, code, msg string) {
	title := "Sign-in error"
	if code == "" {
		title = "Signed out"
	}
	httpsec.Page(w.Header(), httpsec.CSP{InlineStyles: true})
	w.WriteHeader(status)
	_ = pages.ExecuteTemplate(w, "error", map[string]any{"Title": title, "Code": code, "Message": msg})
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}
