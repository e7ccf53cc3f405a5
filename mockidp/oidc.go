package mockidp

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"errors"
	"html"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ssokit/ssokit/internal/httpsec"
	"github.com/ssokit/ssokit/mockidp/internal/jwtkeys"
	"github.com/ssokit/ssokit/mockidp/internal/redirect"
	"github.com/ssokit/ssokit/sso"
)

// routes registers the persona's OIDC endpoints under /{name}.
func (p *Persona) routes(mux httpsec.Registrar) {
	prefix := "/" + p.cfg.Name
	seen := map[string]bool{}
	handle := func(pattern string, h http.HandlerFunc) {
		if !seen[pattern] {
			seen[pattern] = true
			mux.HandleFunc(pattern, h)
		}
	}
	for i := range p.sets {
		es := &p.sets[i]
		handle("GET "+prefix+es.discovery, p.discovery(es))
		handle("GET "+prefix+es.authorize, p.authorize(es))
		handle("POST "+prefix+es.authorize, p.authorize(es))
		handle("POST "+prefix+es.token, p.token(es))
		handle("GET "+prefix+es.userinfo, p.userinfo(es))
		handle("POST "+prefix+es.userinfo, p.userinfo(es))
		handle("GET "+prefix+es.jwks, p.jwks)
		if es.endSession != "" {
			handle("GET "+prefix+es.endSession, p.endSession)
		}
		if es.introspect != "" {
			handle("POST "+prefix+es.introspect, p.introspect(es))
		}
		if es.revoke != "" {
			handle("POST "+prefix+es.revoke, p.revoke)
		}
	}
	if p.cfg.Vendor == sso.AzureAD {
		handle("POST "+prefix+"/graph/v1.0/users/{oid}/getMemberObjects", p.memberObjects)
	}
	p.saml.routes(mux)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// oauthError answers per RFC 6749 section 5.2.
func oauthError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

// aadsts is the number of an Entra error description's AADSTS code.
var aadsts = regexp.MustCompile(`^AADSTS([0-9]+):`)

// tokenError answers a token request's error as the vendor does: RFC 6749's
// error and error_description, and for Entra also error_codes (the AADSTS
// number), timestamp, trace_id, correlation_id and error_uri, with the
// trace ID, correlation ID and timestamp at the end of error_description
// (Microsoft identity platform, "Microsoft Entra authentication and
// authorization error codes": its sample error response).
func (p *Persona) tokenError(w http.ResponseWriter, status int, code, desc string) {
	if p.cfg.Vendor != sso.AzureAD {
		oauthError(w, status, code, desc)
		return
	}
	ts := p.now().UTC().Format("2006-01-02 15:04:05Z")
	trace, corr := guid(randomBytes(rand.Reader, 16)), guid(randomBytes(rand.Reader, 16))
	body := map[string]any{"error": code,
		"error_description": desc + "\r\nTrace ID: " + trace + "\r\nCorrelation ID: " + corr + "\r\nTimestamp: " + ts,
		"timestamp":         ts, "trace_id": trace, "correlation_id": corr}
	if m := aadsts.FindStringSubmatch(desc); m != nil {
		n, _ := strconv.Atoi(m[1])
		body["error_codes"] = []int{n}
		body["error_uri"] = "https://login.microsoftonline.com/error?code=" + m[1]
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, status, body)
}

func (p *Persona) discovery(es *endpointSet) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		b := p.base()
		iss := es.issuer
		if es.discoveryIssuer != "" {
			iss = es.discoveryIssuer
		}
		subjects := []string{"public"}
		if p.cfg.Vendor == sso.AzureAD {
			subjects = []string{"pairwise"}
		}
		scopes := []string{"openid", "profile", "email", "offline_access"}
		claims := []string{"sub", "iss", "aud", "exp", "iat", "nonce", "email", "name", "given_name", "family_name"}
		switch p.cfg.Vendor {
		case sso.Okta:
			scopes = append(scopes, "groups")
			claims = append(claims, "ver", "jti", "amr", "idp", "auth_time", "at_hash", "preferred_username", "email_verified", "groups")
		case sso.AzureAD:
			claims = append(claims, "oid", "tid", "ver", "preferred_username", "groups", "roles", "nbf")
		case sso.GoogleWorkspace:
			scopes = []string{"openid", "email", "profile"}
			claims = append(claims, "azp", "hd", "email_verified", "picture", "at_hash")
		case sso.OneLogin:
			scopes = []string{"openid", "profile", "email", "groups", "params", "name"}
			claims = append(claims, "preferred_username", "groups", "params", "at_hash", "updated_at")
		case sso.JumpCloud:
			claims = append(claims, "email_verified", "auth_time", "at_hash")
		}
		doc := map[string]any{
			"issuer":                                b + iss,
			"authorization_endpoint":                b + es.authorize,
			"token_endpoint":                        b + es.token,
			"userinfo_endpoint":                     b + es.userinfo,
			"jwks_uri":                              b + es.jwks,
			"response_types_supported":              []string{"code"},
			"response_modes_supported":              p.prof.responseModes,
			"grant_types_supported":                 []string{"authorization_code", "refresh_token"},
			"subject_types_supported":               subjects,
			"id_token_signing_alg_values_supported": []string{"RS256"},
			"scopes_supported":                      scopes,
			"claims_supported":                      claims,
			"token_endpoint_auth_methods_supported": p.prof.authMethods,
			"code_challenge_methods_supported":      p.prof.challengeMethods,
		}
		if es.endSession != "" {
			doc["end_session_endpoint"] = b + es.endSession
		}
		if es.introspect != "" {
			doc["introspection_endpoint"] = b + es.introspect
			doc["introspection_endpoint_auth_methods_supported"] = p.prof.authMethods
		}
		if es.revoke != "" {
			doc["revocation_endpoint"] = b + es.revoke
			doc["revocation_endpoint_auth_methods_supported"] = p.prof.authMethods
		}
		if p.cfg.IssParameter {
			doc["authorization_response_iss_parameter_supported"] = true
		}
		if p.cfg.Vendor == sso.AzureAD {
			// Only the members Microsoft's v2.0 document has: no
			// grant_types_supported, no code_challenge_methods_supported,
			// Microsoft's own claims_supported, and its cloud members.
			delete(doc, "grant_types_supported")
			delete(doc, "code_challenge_methods_supported")
			doc["scopes_supported"] = []string{"openid", "profile", "email", "offline_access"}
			doc["claims_supported"] = []string{"sub", "iss", "cloud_instance_name", "cloud_instance_host_name",
				"cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce",
				"preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email"}
			doc["request_uri_parameter_supported"] = false
			doc["http_logout_supported"] = true
			doc["frontchannel_logout_supported"] = true
			doc["tenant_region_scope"] = "NA"
			doc["cloud_instance_name"] = "microsoftonline.com"
			doc["cloud_graph_host_name"] = "graph.windows.net"
			doc["msgraph_host"] = "graph.microsoft.com"
			doc["rbac_url"] = "https://pas.windows.net"
		}
		writeJSON(w, http.StatusOK, doc)
	}
}

func (p *Persona) jwks(w http.ResponseWriter, r *http.Request) {
	for _, f := range p.takeFaults(siteJWKS) {
		switch f {
		case FaultJWKSUnavailable:
			http.Error(w, "service unavailable", http.StatusServiceUnavailable)
			return
		case FaultJWKSSlow:
			if !sleepCtx(r, slowFaultDelay) {
				return
			}
		}
	}
	set, err := p.keys.JWKS()
	if err == nil && p.cfg.Vendor == sso.AzureAD {
		err = p.azureJWKS(set)
	}
	if err != nil {
		http.Error(w, "key generation failed", http.StatusInternalServerError)
		return
	}
	writeJSON(w, http.StatusOK, set)
}

func sleepCtx(r *http.Request, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

// authorize is the authorization endpoint: GET from the relying party, POST
// from the persona's own login page.
func (p *Persona) authorize(es *endpointSet) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			p.errorPage(w, http.StatusBadRequest, "invalid_request", "The request could not be parsed.")
			return
		}
		q := r.Form
		if k := repeated(q, "client_id", "redirect_uri"); k != "" {
			p.errorPage(w, http.StatusBadRequest, "invalid_request", "The "+k+" parameter is repeated.")
			return
		}
		cl, ok := p.client(q.Get("client_id"))
		if !ok {
			p.errorPage(w, http.StatusBadRequest, "unauthorized_client", "The client_id is not registered with this identity provider.")
			return
		}
		redirectURI := q.Get("redirect_uri")
		if !redirect.Allowed(cl.RedirectURIs, redirectURI) {
			p.errorPage(w, http.StatusBadRequest, "invalid_request", "The redirect_uri does not match the client's registration.")
			return
		}
		state := q.Get("state")
		// The response mode carries errors too, once it is one the vendor
		// accepts; an unknown or refused one is answered in the query.
		mode := q.Get("response_mode")
		fail := func(code, desc string) {
			v := url.Values{"error": {code}, "error_description": {desc}}
			if state != "" {
				v.Set("state", state)
			}
			if p.sendsIss() {
				v.Set("iss", p.base()+es.issuer)
			}
			respond(w, r, redirectURI, mode, v)
		}
		if mode != "" && !slices.Contains(p.prof.responseModes, mode) {
			refused := mode
			mode = "query"
			fail("invalid_request", "response_mode "+refused+" is not supported; use "+strings.Join(p.prof.responseModes, ", ")+".")
			return
		}
		if k := repeated(q, authorizeParams...); k != "" {
			fail("invalid_request", "The "+k+" parameter is repeated.")
			return
		}
		if q.Get("response_type") == "" {
			fail("invalid_request", "The response_type parameter is missing.")
			return
		}
		if q.Get("response_type") != "code" {
			fail("unsupported_response_type", "Only the authorization code flow (response_type=code) is supported.")
			return
		}
		scopes := strings.Fields(q.Get("scope"))
		if !slices.Contains(scopes, "openid") {
			fail("invalid_scope", "The scope must include openid.")
			return
		}
		if prompts := strings.Fields(q.Get("prompt")); len(prompts) > 1 && slices.Contains(prompts, "none") {
			fail("invalid_request", "prompt=none cannot be combined with another value.")
			return
		}
		challenge, method := q.Get("code_challenge"), q.Get("code_challenge_method")
		switch {
		case challenge != "":
			if method == "" {
				method = "plain"
			}
			if !slices.Contains(p.prof.challengeMethods, method) {
				fail("invalid_request", "code_challenge_method "+method+" is not supported; use "+strings.Join(p.prof.challengeMethods, " or ")+".")
				return
			}
			if !validVerifier(challenge) {
				fail("invalid_request", "The code_challenge is malformed.")
				return
			}
		case p.prof.pkceRequired || p.authMethod(cl) == "none":
			fail("invalid_request", "PKCE (code_challenge with S256) is required.")
			return
		}
		if faults := p.takeFaults(siteAuthorize); hasFault(faults, FaultAccessDenied) {
			fail("access_denied", "The resource owner or authorization server denied the request.")
			return
		}

		var email string
		fromPage := r.Method == http.MethodPost && q.Get("mockidp_login") == "1"
		switch {
		case fromPage:
			email = strings.TrimSpace(q.Get("email"))
		default:
			if e, ok := p.popQueue(); ok {
				email = e
			} else if hint := q.Get("login_hint"); hint != "" && !p.cfg.Interactive {
				email = hint
			} else if slices.Contains(strings.Fields(q.Get("prompt")), "none") {
				// OIDC Core 3.1.2.1: with prompt=none no page may be
				// shown; who would sign in is unknown (3.1.2.6).
				fail("login_required", "The user is not signed in and prompt=none forbids asking.")
				return
			} else {
				p.loginPage(w, r, q, "")
				return
			}
		}
		u, ok := p.User(email)
		if !ok {
			if fromPage {
				p.loginPage(w, r, q, p.prof.unknownUser)
				return
			}
			fail("access_denied", p.prof.unknownUser)
			return
		}
		now := p.now()
		g := &grant{
			client: cl.ClientID, redirectURI: redirectURI, email: u.Email, scopes: scopes,
			nonce: q.Get("nonce"), challenge: challenge, method: method, set: es,
			authTime: now, expires: now.Add(codeTTL),
		}
		g.origin = g
		switch p.cfg.Vendor {
		case sso.GoogleWorkspace:
			g.offline = q.Get("access_type") == "offline"
		case sso.OneLogin: // offline_access only with the password grant
		default:
			g.offline = slices.Contains(scopes, "offline_access")
		}
		code := p.store(p.codes, g, now)
		v := url.Values{"code": {code}}
		if state != "" {
			v.Set("state", state)
		}
		if p.cfg.Vendor == sso.AzureAD {
			v.Set("session_state", guid(p.hash("session", code)))
		}
		if p.sendsIss() {
			v.Set("iss", p.base()+es.issuer)
		}
		respond(w, r, redirectURI, mode, v)
	}
}

// respond delivers an authorization response (or error) to the redirect
// URI in the response mode: query (the default for code), fragment, or
// form_post (OAuth 2.0 Form Post Response Mode: an auto-submitting form).
// sendsIss reports whether the persona puts iss on its authorization
// responses (RFC 9207): Google does, without saying so in its discovery
// document; any persona does with IssParameter.
func (p *Persona) sendsIss() bool {
	return p.cfg.IssParameter || p.cfg.Vendor == sso.GoogleWorkspace
}

func respond(w http.ResponseWriter, r *http.Request, redirectURI, mode string, v url.Values) {
	switch mode {
	case "fragment":
		http.Redirect(w, r, redirectURI+"#"+v.Encode(), http.StatusFound)
	case "form_post":
		writeFormPost(w, redirectURI, v)
	default:
		http.Redirect(w, r, addQuery(redirectURI, v), http.StatusFound)
	}
}

// formPostScript submits the page's form; the page's CSP allows only it.
const formPostScript = "document.forms[0].submit();"

func writeFormPost(w http.ResponseWriter, action string, v url.Values) {
	var b strings.Builder
	b.WriteString(`<!DOCTYPE html><html><head><meta charset="utf-8"><title>Submit This Form</title></head><body>` + "\n")
	b.WriteString(`<form method="post" action="` + html.EscapeString(action) + `">` + "\n")
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		for _, val := range v[k] {
			b.WriteString(`<input type="hidden" name="` + html.EscapeString(k) + `" value="` + html.EscapeString(val) + `"/>` + "\n")
		}
	}
	b.WriteString(`<noscript><p>Script is disabled. Click Submit to continue.</p><input type="submit" value="Submit"/></noscript>` + "\n")
	b.WriteString(`</form><script>` + formPostScript + `</script></body></html>` + "\n")
	// The script by its hash. No form-action, as on the SAML auto-submit
	// page: the redirect_uri redirects on, and Chromium applies
	// form-action to those redirects too.
	httpsec.Page(w.Header(), httpsec.CSP{Scripts: []string{formPostScript}, AnyFormAction: true})
	w.Header().Set("Pragma", "no-cache")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, b.String())
}

func addQuery(u string, v url.Values) string {
	if strings.Contains(u, "?") {
		return u + "&" + v.Encode()
	}
	return u + "?" + v.Encode()
}

// The parameters of authorization and token requests, which RFC 6749
// section 3.1 forbids repeating (OpenID Connect Core adds its own).
var (
	authorizeParams = []string{"response_type", "response_mode", "scope", "state", "nonce", "prompt",
		"login_hint", "max_age", "code_challenge", "code_challenge_method", "access_type"}
	tokenParams = []string{"grant_type", "code", "redirect_uri", "code_verifier", "refresh_token", "scope",
		"client_id", "client_secret"}
)

// repeated is the first of names that v holds more than once, or "".
func repeated(v url.Values, names ...string) string {
	for _, k := range names {
		if len(v[k]) > 1 {
			return k
		}
	}
	return ""
}

// validVerifier checks RFC 7636's 43-128 unreserved characters.
func validVerifier(s string) bool {
	if len(s) < 43 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~') {
			return false
		}
	}
	return true
}

// authenticateClient checks the token request's client credentials as the
// client is registered. It runs before any code is redeemed.
func (p *Persona) authenticateClient(r *http.Request) (ClientConfig, int, string, string) {
	basicID, basicSecret, hasBasic := r.BasicAuth()
	postID, postSecret := r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	var id, secret, used string
	switch {
	case hasBasic && postSecret != "":
		return ClientConfig{}, http.StatusBadRequest, "invalid_request", "The client authenticated with more than one method."
	case hasBasic:
		// RFC 6749 section 2.3.1: form-urlencoded before base64.
		var err1, err2 error
		id, err1 = url.QueryUnescape(basicID)
		secret, err2 = url.QueryUnescape(basicSecret)
		if err1 != nil || err2 != nil {
			return ClientConfig{}, http.StatusUnauthorized, "invalid_client", "The client credentials are not form-encoded."
		}
		if postID != "" && postID != id {
			return ClientConfig{}, http.StatusBadRequest, "invalid_request", "client_id differs between header and body."
		}
		used = "client_secret_basic"
	case postSecret != "":
		id, secret, used = postID, postSecret, "client_secret_post"
	default:
		id, used = postID, "none"
	}
	cl, ok := p.client(id)
	if !ok || id == "" {
		return ClientConfig{}, http.StatusUnauthorized, "invalid_client", "Client authentication failed: unknown client."
	}
	if method := p.authMethod(cl); method != used {
		return ClientConfig{}, http.StatusUnauthorized, "invalid_client", "Client authentication failed: the client is registered for " + method + "."
	}
	if used != "none" && subtle.ConstantTimeCompare([]byte(secret), []byte(cl.ClientSecret)) != 1 {
		return ClientConfig{}, http.StatusUnauthorized, "invalid_client", "Client authentication failed: wrong client secret."
	}
	return cl, 0, "", ""
}

func (p *Persona) token(es *endpointSet) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for _, f := range p.takeFaults(siteToken) {
			switch f {
			case FaultTokenError500:
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(http.StatusInternalServerError)
				w.Write([]byte("<html><body>Internal Server Error</body></html>"))
				return
			case FaultTokenInvalidJSON:
				w.Header().Set("Content-Type", "application/json")
				w.Write([]byte(`{"access_token": "tok", "token_type": "Bearer", "id_token": `))
				return
			case FaultTokenSlow:
				if !sleepCtx(r, slowFaultDelay) {
					return
				}
			}
		}
		if err := r.ParseForm(); err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				p.tokenError(w, http.StatusRequestEntityTooLarge, "invalid_request", "The request body is too large.")
				return
			}
			p.tokenError(w, http.StatusBadRequest, "invalid_request", "The request body is not a form.")
			return
		}
		if k := repeated(r.PostForm, tokenParams...); k != "" {
			p.tokenError(w, http.StatusBadRequest, "invalid_request", "The "+k+" parameter is repeated.")
			return
		}
		cl, status, code, desc := p.authenticateClient(r)
		if status != 0 {
			if status == http.StatusUnauthorized && r.Header.Get("Authorization") != "" {
				w.Header().Set("WWW-Authenticate", `Basic realm="`+p.cfg.Name+`"`)
			}
			p.tokenError(w, status, code, desc)
			return
		}
		now := p.now()
		var g *grant
		var rg *grant // the refresh token's grant, when g narrows it
		keep := false // the refresh token stays, no new one is sent
		switch r.PostForm.Get("grant_type") {
		case "authorization_code":
			c, ok := p.redeem(r.PostForm.Get("code"))
			switch {
			case !ok:
				p.tokenError(w, http.StatusBadRequest, "invalid_grant", "The authorization code is invalid or was already used.")
				return
			case c.client != cl.ClientID:
				p.tokenError(w, http.StatusBadRequest, "invalid_grant", "The authorization code was issued to another client.")
				return
			case c.set.issuer != es.issuer:
				// Okta's authorization servers redeem only their own
				// codes; Azure's tenant, common and organizations
				// endpoints share the tenant's issuer.
				p.tokenError(w, http.StatusBadRequest, "invalid_grant", "The authorization code was issued by another authorization server.")
				return
			case now.After(c.expires):
				p.tokenError(w, http.StatusBadRequest, "invalid_grant", "The authorization code has expired.")
				return
			case r.PostForm.Get("redirect_uri") != c.redirectURI:
				p.tokenError(w, http.StatusBadRequest, "invalid_grant", "The redirect_uri does not match the authorization request.")
				return
			}
			if msg := checkPKCE(c, r.PostForm.Get("code_verifier")); msg != "" {
				p.tokenError(w, http.StatusBadRequest, "invalid_grant", msg)
				return
			}
			g = c
		case "refresh_token":
			// Google keeps a refresh token until it is revoked and
			// answers without a new one; the others rotate it.
			keep = p.cfg.Vendor == sso.GoogleWorkspace
			spend := p.take
			if keep {
				spend = p.lookup
			}
			rt := r.PostForm.Get("refresh_token")
			// RFC 6749 section 6: a scope asked for must have been
			// granted; it narrows this answer's tokens, not the refresh
			// token's grant. Azure's refresh tokens are multi-resource.
			asked := strings.Fields(r.PostForm.Get("scope"))
			if c, ok := p.lookup(p.refresh, rt); ok && c.client == cl.ClientID && p.cfg.Vendor != sso.AzureAD {
				for _, s := range asked {
					if !c.hasScope(s) {
						p.tokenError(w, http.StatusBadRequest, "invalid_scope", "The requested scope "+s+" was not granted to the refresh token.")
						return
					}
				}
			}
			c, ok := spend(p.refresh, rt)
			if !ok || c.client != cl.ClientID || c.set.issuer != es.issuer || now.After(c.expires) {
				p.tokenError(w, http.StatusBadRequest, "invalid_grant", "The refresh token is invalid, expired or was issued to another client or by another authorization server.")
				return
			}
			g = c
			if len(asked) > 0 && p.cfg.Vendor != sso.AzureAD {
				rg = g
				n := *g
				n.scopes = asked
				g = &n
			}
		case "client_credentials":
			if p.cfg.Vendor != sso.AzureAD {
				p.tokenError(w, http.StatusBadRequest, "unsupported_grant_type", "Only authorization_code and refresh_token are supported.")
				return
			}
			p.clientCredentials(w, r, es, cl, now)
			return
		case "":
			p.tokenError(w, http.StatusBadRequest, "invalid_request", "grant_type is missing.")
			return
		default:
			p.tokenError(w, http.StatusBadRequest, "unsupported_grant_type", "Only authorization_code and refresh_token are supported.")
			return
		}
		u, ok := p.User(g.email)
		if !ok {
			p.tokenError(w, http.StatusBadRequest, "invalid_grant", "The user no longer exists.")
			return
		}
		access := *g
		access.expires = now.Add(accessTTL)
		at := p.store(p.access, &access, now)
		if jwt, err := p.mintAccessToken(&u, g, now); err != nil {
			p.tokenError(w, http.StatusInternalServerError, "server_error", "Could not sign the access token.")
			return
		} else if jwt != "" {
			p.rekey(p.access, at, jwt)
			at = jwt
		}
		idt, err := p.mintIDToken(&u, g, at, now)
		if err != nil {
			p.tokenError(w, http.StatusInternalServerError, "server_error", "Could not sign the ID token.")
			return
		}
		resp := map[string]any{
			"access_token": at, "token_type": tokenType(p.cfg.Vendor), "expires_in": int(accessTTL / time.Second),
			"scope": strings.Join(g.scopes, " "), "id_token": idt,
		}
		if g.offline && !keep {
			if rg == nil {
				rg = g
			}
			next := *rg
			next.expires = now.Add(refreshTTL)
			resp["refresh_token"] = p.store(p.refresh, &next, now)
		}
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Pragma", "no-cache")
		writeJSON(w, http.StatusOK, resp)
	}
}

func checkPKCE(g *grant, verifier string) string {
	if g.challenge == "" {
		if verifier != "" {
			return "A code_verifier was sent but the authorization request had no code_challenge."
		}
		return ""
	}
	if !validVerifier(verifier) {
		return "The code_verifier is missing or malformed."
	}
	want := verifier
	if g.method == "S256" {
		s := sha256.Sum256([]byte(verifier))
		want = base64.RawURLEncoding.EncodeToString(s[:])
	}
	if subtle.ConstantTimeCompare([]byte(want), []byte(g.challenge)) != 1 {
		return "The code_verifier does not match the code_challenge."
	}
	return ""
}

// mintIDToken signs the ID token for g, applying armed ID-token faults.
func (p *Persona) mintIDToken(u *UserConfig, g *grant, accessToken string, now time.Time) (string, error) {
	faults := p.takeFaults(siteIDToken)
	c := p.idTokenClaims(u, g, accessToken, now)
	key, err := p.keys.Active()
	if err != nil {
		return "", err
	}
	for _, f := range faults {
		switch f {
		case FaultIDTokenExpired:
			c["iat"], c["exp"] = now.Add(-2*time.Hour).Unix(), now.Add(-time.Hour).Unix()
			if _, ok := c["nbf"]; ok {
				c["nbf"] = c["iat"]
			}
		case FaultIDTokenNotYet:
			c["iat"], c["nbf"], c["exp"] = now.Add(time.Hour).Unix(), now.Add(time.Hour).Unix(), now.Add(2*time.Hour).Unix()
		case FaultWrongAudience:
			c["aud"] = "mockidp-another-client"
		case FaultWrongIssuer:
			c["iss"] = p.base() + "/not-the-issuer"
		case FaultMissingNonce:
			delete(c, "nonce")
		case FaultWrongNonce:
			c["nonce"] = "mockidp-wrong-nonce"
		case FaultWrongAtHash:
			if _, ok := c["at_hash"]; ok {
				c["at_hash"] = tokenHash("mockidp-another-access-token")
			}
		case FaultKeyRotated:
			if key, err = p.keys.Rotate(); err != nil {
				return "", err
			}
		case FaultUnpublishedKey:
			if key, err = p.keys.Spare(); err != nil {
				return "", err
			}
		}
	}
	header := map[string]any{"alg": "RS256", "kid": p.publicKID(key)}
	if p.cfg.Vendor != sso.Okta {
		header["typ"] = "JWT"
	}
	if hasFault(faults, FaultAlgNone) {
		header["alg"] = "none"
	}
	tok, err := jwtkeys.Sign(key, header, c)
	if err != nil {
		return "", err
	}
	if hasFault(faults, FaultBadSignature) {
		i := strings.LastIndexByte(tok, '.') + 1
		b := []byte(tok)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		tok = string(b)
	}
	return tok, nil
}

func (p *Persona) bearer(w http.ResponseWriter, r *http.Request) (*grant, bool) {
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") || tok == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="`+p.cfg.Name+`"`)
		oauthError(w, http.StatusUnauthorized, "invalid_request", "A Bearer access token is required.")
		return nil, false
	}
	g, ok := p.lookup(p.access, tok)
	if !ok || p.now().After(g.expires) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="`+p.cfg.Name+`", error="invalid_token"`)
		oauthError(w, http.StatusUnauthorized, "invalid_token", "The access token is invalid or expired.")
		return nil, false
	}
	return g, true
}

// userinfo answers es's userinfo endpoint for its own access tokens.
func (p *Persona) userinfo(es *endpointSet) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		g, ok := p.bearer(w, r)
		if !ok {
			return
		}
		if g.set.issuer != es.issuer {
			// Another authorization server's token (Okta's custom and org
			// servers each answer only their own).
			w.Header().Set("WWW-Authenticate", `Bearer realm="`+p.cfg.Name+`", error="invalid_token"`)
			oauthError(w, http.StatusUnauthorized, "invalid_token", "The access token was issued by another authorization server.")
			return
		}
		u, ok := p.User(g.email)
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="`+p.cfg.Name+`", error="invalid_token"`)
			oauthError(w, http.StatusUnauthorized, "invalid_token", "The user no longer exists.")
			return
		}
		var c map[string]any
		if p.cfg.Vendor == sso.AzureAD {
			c = p.azureUserinfo(&u, g)
		} else {
			c = p.identityClaims(&u, g)
			for k, v := range u.Claims {
				if !protectedClaims[k] {
					c[k] = v
				}
			}
		}
		if p.cfg.UserinfoSubject != "" {
			c["sub"] = p.cfg.UserinfoSubject
		}
		writeJSON(w, http.StatusOK, c)
	}
}

// memberObjects answers Azure AD's group overage lookup as Microsoft Graph
// getMemberObjects does: a delegated token for its own user only, an
// app-only token of the tenant carrying a Graph application permission
// that reads memberships (graphMemberPermissions) for any user. Errors
// have Graph's shape ({"error":{"code","message","innerError"}}): 401
// InvalidAuthenticationToken without a valid token, 403
// Authorization_RequestDenied without the permission, 404
// Request_ResourceNotFound for an unknown object ID, 400
// Request_BadRequest without the securityEnabledOnly parameter.
func (p *Persona) memberObjects(w http.ResponseWriter, r *http.Request) {
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") || tok == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="`+graphAppID+`"`)
		p.graphError(w, http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token is empty.")
		return
	}
	g, ok := p.lookup(p.access, tok)
	if !ok || p.now().After(g.expires) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="`+graphAppID+`"`)
		p.graphError(w, http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience.")
		return
	}
	var body struct {
		SecurityEnabledOnly *bool `json:"securityEnabledOnly"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&body); err != nil || body.SecurityEnabledOnly == nil {
		p.graphError(w, http.StatusBadRequest, "Request_BadRequest", "The parameter 'securityEnabledOnly' is missing or invalid.")
		return
	}
	oid := r.PathValue("oid")
	if !g.app {
		u, ok := p.User(g.email)
		if !ok || p.userID(&u) != oid {
			p.graphError(w, http.StatusForbidden, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"value": p.groupIDs(u.Groups)})
		return
	}
	if !slices.ContainsFunc(g.roles, func(r string) bool { return slices.Contains(graphMemberPermissions, r) }) {
		p.graphError(w, http.StatusForbidden, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
		return
	}
	for _, u := range p.Users() {
		if strings.EqualFold(p.userID(&u), oid) {
			writeJSON(w, http.StatusOK, map[string]any{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#Collection(Edm.String)",
				"value": p.groupIDs(u.Groups)})
			return
		}
	}
	p.graphError(w, http.StatusNotFound, "Request_ResourceNotFound",
		"Resource '"+oid+"' does not exist or one of its queried reference-property objects are not present.")
}

// graphMemberPermissions are the Microsoft Graph application permissions
// that let an app-only token call getMemberObjects on any user.
var graphMemberPermissions = []string{"GroupMember.Read.All", "Group.Read.All", "Directory.Read.All", "Directory.ReadWrite.All"}

// graphError answers as Microsoft Graph does (learn.microsoft.com, "Microsoft
// Graph error responses and resource types").
func (p *Persona) graphError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, map[string]any{"error": map[string]any{"code": code, "message": message,
		"innerError": map[string]string{"date": p.now().UTC().Format("2006-01-02T15:04:05"),
			"request-id": guid(randomBytes(rand.Reader, 16)), "client-request-id": guid(randomBytes(rand.Reader, 16))}}})
}

// clientCredentials answers Entra's client credentials grant (Microsoft
// identity platform, "OAuth 2.0 client credentials flow"): a confidential
// client of the tenant, scope {resource}/.default naming Microsoft Graph,
// an app-only v1.0 Graph token whose roles are the client's application
// permissions; no ID token, no refresh token, no scope in the answer.
func (p *Persona) clientCredentials(w http.ResponseWriter, r *http.Request, es *endpointSet, cl ClientConfig, now time.Time) {
	if p.authMethod(cl) == "none" {
		p.tokenError(w, http.StatusUnauthorized, "invalid_client", "AADSTS7000218: The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
		return
	}
	if es.name != "tenant" {
		p.tokenError(w, http.StatusBadRequest, "invalid_request", "AADSTS50059: No tenant-identifying information found in either the request or implied by any provided credentials.")
		return
	}
	scope := strings.TrimSpace(r.PostForm.Get("scope"))
	switch {
	case scope == "":
		p.tokenError(w, http.StatusBadRequest, "invalid_request", "AADSTS900144: The request body must contain the following parameter: 'scope'.")
		return
	case strings.ContainsAny(scope, " \t") || !strings.HasSuffix(scope, "/.default"):
		p.tokenError(w, http.StatusBadRequest, "invalid_scope", "AADSTS1002012: The provided value for scope "+scope+" is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).")
		return
	}
	resource := strings.TrimSuffix(scope, "/.default")
	if resource != "https://graph.microsoft.com" && resource != graphAppID {
		p.tokenError(w, http.StatusBadRequest, "invalid_resource", "AADSTS500011: The resource principal named "+resource+" was not found in the tenant.")
		return
	}
	g := &grant{client: cl.ClientID, app: true, roles: slices.Clone(cl.ApplicationPermissions), set: es, expires: now.Add(accessTTL)}
	h := p.store(p.access, g, now)
	key, err := p.keys.Active()
	if err != nil {
		p.tokenError(w, http.StatusInternalServerError, "server_error", "Could not sign the access token.")
		return
	}
	jwt, err := jwtkeys.Sign(key, map[string]any{"typ": "JWT", "alg": "RS256", "kid": p.publicKID(key)}, p.appTokenClaims(cl, resource, now))
	if err != nil {
		p.tokenError(w, http.StatusInternalServerError, "server_error", "Could not sign the access token.")
		return
	}
	p.rekey(p.access, h, jwt)
	ttl := int(accessTTL/time.Second) - 1
	w.Header().Set("Cache-Control", "no-store, no-cache")
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusOK, map[string]any{"token_type": "Bearer", "expires_in": ttl, "ext_expires_in": ttl, "access_token": jwt})
}

// endSession is RP-initiated logout. Okta (which requires id_token_hint),
// Ory Hydra (JumpCloud) and OneLogin redirect to post_logout_redirect_uri
// only with an ID token they issued as id_token_hint, and only to a URI
// registered for the client it names (OpenID Connect RP-Initiated Logout
// 1.0, section 3); Azure takes no hint and redirects to a URI registered
// for an app of the tenant.
func (p *Persona) endSession(w http.ResponseWriter, r *http.Request) {
	target := r.URL.Query().Get("post_logout_redirect_uri")
	if p.cfg.Vendor == sso.Okta {
		// Okta's /v1/logout needs the hint with or without a redirect.
		if _, ok := p.hintedClient(r.URL.Query().Get("id_token_hint")); !ok {
			p.errorPage(w, http.StatusBadRequest, "invalid_request", "The id_token_hint parameter is required: an ID token this identity provider issued.")
			return
		}
	}
	if target == "" {
		p.errorPage(w, http.StatusOK, "", "You have been signed out.")
		return
	}
	clients := p.Clients()
	if p.cfg.Vendor != sso.AzureAD {
		cl, ok := p.hintedClient(r.URL.Query().Get("id_token_hint"))
		if !ok {
			p.errorPage(w, http.StatusBadRequest, "invalid_request", "A post_logout_redirect_uri needs an id_token_hint: an ID token this identity provider issued.")
			return
		}
		clients = []ClientConfig{cl}
	}
	for _, c := range clients {
		if redirect.Allowed(c.PostLogoutRedirectURIs, target) || redirect.Allowed(c.RedirectURIs, target) {
			if st := r.URL.Query().Get("state"); st != "" {
				target = addQuery(target, url.Values{"state": {st}})
			}
			http.Redirect(w, r, target, http.StatusFound)
			return
		}
	}
	p.errorPage(w, http.StatusBadRequest, "invalid_request", "The post_logout_redirect_uri is not registered.")
}

// hintedClient is the registered client an id_token_hint was issued to:
// an ID token signed by the persona's keys, from one of its issuers,
// whose aud names the client. Its expiry does not matter (RP-Initiated
// Logout 1.0: an expired ID token is a valid hint).
func (p *Persona) hintedClient(hint string) (ClientConfig, bool) {
	raw, ok := p.keys.Verify(hint)
	if !ok {
		return ClientConfig{}, false
	}
	var c struct {
		Iss string          `json:"iss"`
		Aud json.RawMessage `json:"aud"`
	}
	if json.Unmarshal(raw, &c) != nil || !slices.ContainsFunc(p.sets, func(es endpointSet) bool { return p.base()+es.issuer == c.Iss }) {
		return ClientConfig{}, false
	}
	var aud []string
	if json.Unmarshal(c.Aud, &aud) != nil {
		var one string
		if json.Unmarshal(c.Aud, &one) != nil {
			return ClientConfig{}, false
		}
		aud = []string{one}
	}
	if len(aud) != 1 {
		return ClientConfig{}, false
	}
	return p.client(aud[0])
}

// mintAccessToken signs g's access token where the vendor issues JWTs
// (accessTokenClaims); "" where it issues opaque ones.
func (p *Persona) mintAccessToken(u *UserConfig, g *grant, now time.Time) (string, error) {
	c := p.accessTokenClaims(u, g, now)
	if c == nil {
		return "", nil
	}
	key, err := p.keys.Active()
	if err != nil {
		return "", err
	}
	header := map[string]any{"alg": "RS256", "kid": p.publicKID(key)}
	if p.cfg.Vendor == sso.AzureAD {
		header["typ"] = "JWT"
	}
	return jwtkeys.Sign(key, header, c)
}

// rekey files the grant stored under handle h under tok instead.
func (p *Persona) rekey(m map[string]*grant, h, tok string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if g, ok := m[h]; ok {
		delete(m, h)
		m[tok] = g
	}
}

// tokenAuth parses a form POST and authenticates its client, answering
// the error itself; ok is false when it did.
func (p *Persona) tokenAuth(w http.ResponseWriter, r *http.Request) (ClientConfig, bool) {
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "The request body is not a form.")
		return ClientConfig{}, false
	}
	cl, status, code, desc := p.authenticateClient(r)
	if status != 0 {
		if status == http.StatusUnauthorized && r.Header.Get("Authorization") != "" {
			w.Header().Set("WWW-Authenticate", `Basic realm="`+p.cfg.Name+`"`)
		}
		oauthError(w, status, code, desc)
		return ClientConfig{}, false
	}
	if r.PostForm.Get("token") == "" {
		oauthError(w, http.StatusBadRequest, "invalid_request", "The token parameter is missing.")
		return ClientConfig{}, false
	}
	return cl, true
}

// introspect is RFC 7662 token introspection as Okta answers it: the
// token's scope, client_id, username (the login), exp, iat, sub (the
// login), aud, iss, token_type, uid and, for a JWT, its jti; {"active":
// false} for a token that is unknown, expired, revoked, another client's
// or another authorization server's.
func (p *Persona) introspect(es *endpointSet) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		cl, ok := p.tokenAuth(w, r)
		if !ok {
			return
		}
		tok := r.PostForm.Get("token")
		now := p.now()
		w.Header().Set("Cache-Control", "no-store")
		g, ttl := p.lookupToken(tok, r.PostForm.Get("token_type_hint"))
		var u UserConfig
		if g != nil {
			u, ok = p.User(g.email)
		}
		if g == nil || !ok || g.client != cl.ClientID || g.set != es || now.After(g.expires) {
			writeJSON(w, http.StatusOK, map[string]any{"active": false})
			return
		}
		aud := es.accessAudience
		if aud == "" {
			aud = p.base() + es.issuer
		}
		resp := map[string]any{
			"active": true, "scope": strings.Join(g.scopes, " "), "client_id": g.client,
			"username": u.Email, "exp": g.expires.Unix(), "iat": g.expires.Add(-ttl).Unix(),
			"sub": u.Email, "aud": aud, "iss": p.base() + es.issuer, "token_type": "Bearer",
			"uid": p.userID(&u),
		}
		if jti := jwtID(tok); jti != "" {
			resp["jti"] = jti
		}
		writeJSON(w, http.StatusOK, resp)
	}
}

// lookupToken finds an access or refresh token, the hint's kind first.
func (p *Persona) lookupToken(tok, hint string) (*grant, time.Duration) {
	if hint == "refresh_token" {
		if g, ok := p.lookup(p.refresh, tok); ok {
			return g, refreshTTL
		}
	}
	if g, ok := p.lookup(p.access, tok); ok {
		return g, accessTTL
	}
	if g, ok := p.lookup(p.refresh, tok); ok {
		return g, refreshTTL
	}
	return nil, 0
}

// jwtID is the jti of a JWT access token ("" for an opaque one).
func jwtID(tok string) string {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return ""
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var c struct {
		JTI string `json:"jti"`
	}
	if json.Unmarshal(b, &c) != nil {
		return ""
	}
	return c.JTI
}

// revoke is RFC 7009 revocation: an authenticated client's own access or
// refresh token stops working; the answer is 200 with an empty body
// whatever the token was (unknown, already revoked, another client's).
func (p *Persona) revoke(w http.ResponseWriter, r *http.Request) {
	cl, ok := p.tokenAuth(w, r)
	if !ok {
		return
	}
	tok := r.PostForm.Get("token")
	p.mu.Lock()
	if g, ok := p.refresh[tok]; ok && g.client == cl.ClientID {
		// Okta: revoking a refresh token revokes the access tokens of
		// its grant too (not the reverse).
		delete(p.refresh, tok)
		for k, a := range p.access {
			if a.origin != nil && a.origin == g.origin {
				delete(p.access, k)
			}
		}
	}
	if g, ok := p.access[tok]; ok && g.client == cl.ClientID {
		delete(p.access, tok)
	}
	p.mu.Unlock()
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}

// The keys Azure AD publishes carry an X.509 certificate (x5c) and its
// SHA-1 thumbprint (x5t), and an issuer member, and no alg. The mock's
// certificates are issued by a throwaway in-process CA (Microsoft's are
// self-signed); relying parties use the key, not the chain.
var (
	azureCertCA struct {
		once sync.Once
		key  *ecdsa.PrivateKey
		err  error
	}
	azureCerts sync.Map // kid + "\x00" + n -> []byte (DER)
)

func (p *Persona) azureJWKS(set map[string]any) error {
	keys, _ := set["keys"].([]any)
	for _, k := range keys {
		jwk, ok := k.(map[string]any)
		if !ok {
			continue
		}
		n, _ := jwk["n"].(string)
		e, _ := jwk["e"].(string)
		kid, _ := jwk["kid"].(string)
		der, err := azureCert(kid, n, e)
		if err != nil {
			return err
		}
		thumb := sha1.Sum(der)
		delete(jwk, "alg")
		jwk["x5t"] = base64.RawURLEncoding.EncodeToString(thumb[:])
		jwk["kid"] = jwk["x5t"] // Azure's kid is its x5t
		jwk["x5c"] = []string{base64.StdEncoding.EncodeToString(der)}
		jwk["issuer"] = p.base() + "/{tenantid}/v2.0"
	}
	return nil
}

// publicKID is the kid a key goes by in the persona's JWKS and JWT
// headers: for Azure AD the certificate's thumbprint, as in Microsoft's
// published keys (login.microsoftonline.com/common/discovery/v2.0/keys:
// kid equals x5t on every key); for the others the key ring's.
func (p *Persona) publicKID(k *jwtkeys.Key) string {
	if p.cfg.Vendor != sso.AzureAD {
		return k.KID
	}
	jwk := k.JWK()
	n, _ := jwk["n"].(string)
	e, _ := jwk["e"].(string)
	der, err := azureCert(k.KID, n, e)
	if err != nil {
		return k.KID
	}
	sum := sha1.Sum(der)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func azureCert(kid, n, e string) ([]byte, error) {
	cacheKey := kid + "\x00" + n
	if der, ok := azureCerts.Load(cacheKey); ok {
		return der.([]byte), nil
	}
	nb, err1 := base64.RawURLEncoding.DecodeString(n)
	eb, err2 := base64.RawURLEncoding.DecodeString(e)
	if err1 != nil || err2 != nil {
		return nil, errors.New("mockidp: malformed JWK")
	}
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(nb), E: int(new(big.Int).SetBytes(eb).Int64())}
	ca := &azureCertCA
	ca.once.Do(func() { ca.key, ca.err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader) })
	if ca.err != nil {
		return nil, ca.err
	}
	serial := new(big.Int).SetBytes(nb[:16])
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "accounts.accesscontrol.windows.net"},
		NotBefore:    time.Now().Add(-24 * time.Hour),
		NotAfter:     time.Now().Add(5 * 365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	issuer := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mockidp Azure AD key CA"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, issuer, pub, ca.key)
	if err != nil {
		return nil, err
	}
	v, _ := azureCerts.LoadOrStore(cacheKey, der)
	return v.([]byte), nil
}
