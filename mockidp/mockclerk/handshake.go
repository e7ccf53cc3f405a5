package mockclerk

import (
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/publicsuffix"

	"github.com/ssokit/ssokit/mockidp/internal/jwtkeys"
)

// Clerk's handshake, as @clerk/backend speaks it: a server-side SDK that
// sees a page load it cannot decide locally sends the browser to the
// FAPI's /v1/client/handshake; the FAPI finds the browser's client (its
// dev browser in development, its __client cookie in production) and
// sends the browser back to redirect_url with a JWS, signed by the
// instance's session key, listing the cookies the app is to set
// ({"handshake": ["__session=...", "__client_uat=...", ...]}), or a nonce
// the SDK redeems once at the BAPI for the same list.

// Cookie and parameter names of the handshake.
const (
	cookieSession      = "__session"
	cookieClientUAT    = "__client_uat"
	cookieClient       = "__client"
	cookieHandshake    = "__clerk_handshake"
	cookieNonce        = "__clerk_handshake_nonce"
	paramDevBrowser    = "__clerk_db_jwt"
	uatMaxAge          = 315360000 // ten years, as Clerk sets __client_uat
	handshakeNonceTTL  = time.Minute
	maxHandshakeInline = 2048 // a larger JSON payload goes by nonce when the SDK accepts one
	maxCredential      = 256  // bound on a dev browser or __client value read from a request
)

// handshakeNonce is a payload waiting to be redeemed once at the BAPI.
type handshakeNonce struct {
	directives []string
	expires    time.Time
}

func (c *Clerk) frontendRoutes() []route {
	return []route{
		{"GET", "/.well-known/jwks.json", c.serveJWKS},
		{"GET", "/sign-in", c.signIn},
		{"POST", "/v1/saml/acs/{conn}", c.finishSignIn},
		{"GET", "/v1/oauth_callback/{conn}", c.finishSignIn},
		{"GET", "/v1/saml/metadata/{conn}", c.spMetadata},
		{"POST", "/v1/dev_browser", c.createDevBrowser},
		{"GET", "/v1/client/handshake", c.handshake},
	}
}

// randToken is 32 random bytes, base64url.
func randToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// newClientLocked starts a client with its credential: a dev browser in
// development, a __client cookie value in production.
func (c *Clerk) newClientLocked() *cClient {
	c.boundClientsLocked()
	cl := &cClient{ID: newID("client")}
	if c.production() {
		cl.Token = randToken()
		c.byToken[cl.Token] = cl
	} else {
		cl.DevBrowser = "dvb_" + randToken()
		c.byDevBrowse[cl.DevBrowser] = cl
	}
	c.clients[cl.ID] = cl
	return cl
}

// maxClients bounds the clients an instance keeps: anyone can start one
// (POST /v1/dev_browser, a sign-in), so past the bound the clients without
// a session go first, then any, down to seven eighths of it.
const maxClients = 100_000

func (c *Clerk) boundClientsLocked() {
	if len(c.clients) < maxClients {
		return
	}
	for _, signedIn := range []bool{false, true} {
		for id, cl := range c.clients {
			if len(c.clients) < maxClients*7/8 {
				return
			}
			if (cl.SessionID != "") == signedIn {
				delete(c.clients, id)
				delete(c.byToken, cl.Token)
				delete(c.byDevBrowse, cl.DevBrowser)
			}
		}
	}
}

// clientOfLocked finds the request's client: by the dev browser given
// (development) or the __client cookie (production); nil when unknown.
func (c *Clerk) clientOfLocked(r *http.Request, devBrowser string) *cClient {
	if c.production() {
		ck, err := r.Cookie(cookieClient)
		if err != nil || len(ck.Value) > maxCredential {
			return nil
		}
		return c.byToken[ck.Value]
	}
	if devBrowser == "" || len(devBrowser) > maxCredential {
		return nil
	}
	return c.byDevBrowse[devBrowser]
}

// createDevBrowser is POST /v1/dev_browser, what clerk-js calls when it
// has none: {"id": token}, the __clerk_db_jwt value.
func (c *Clerk) createDevBrowser(w http.ResponseWriter, r *http.Request) {
	if c.production() {
		clerkError(w, http.StatusBadRequest, "dev_browser_unsupported", "Dev browsers exist on development instances only")
		return
	}
	c.mu.Lock()
	cl := c.newClientLocked()
	c.mu.Unlock()
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{"object": "dev_browser", "id": cl.DevBrowser})
}

// fapiHostname is the Frontend API's host name, without a port.
func (c *Clerk) fapiHostname() string {
	u, err := url.Parse(c.FrontendAPIURL())
	if err != nil {
		return ""
	}
	return u.Hostname()
}

// cookieDomain is the Domain of __client_uat and the handshake cookies:
// the FAPI host's registrable domain, its eTLD+1 by the public suffix
// list (clerk.example.test -> example.test, clerk.example.co.uk ->
// example.co.uk), "" (host-only) for an IP address or a host that is
// its own registrable domain or a public suffix.
func (c *Clerk) cookieDomain() string {
	h := c.fapiHostname()
	if h == "" || net.ParseIP(h) != nil {
		return ""
	}
	d, err := publicsuffix.EffectiveTLDPlusOne(h)
	if err != nil || d == h {
		return ""
	}
	return d
}

// secureCookies reports whether the FAPI is served over https.
func (c *Clerk) secureCookies() bool { return strings.HasPrefix(c.FrontendAPIURL(), "https://") }

// cookie renders a Set-Cookie value: name=value; Path=/; [Domain=d;]
// [Max-Age=n;] [HttpOnly;] SameSite=Lax[; Secure]. maxAge < 0 leaves
// Max-Age out (a session cookie).
func (c *Clerk) cookie(name, value string, shared bool, maxAge int, httpOnly bool) string {
	return c.cookieAt(name, value, "/", shared, maxAge, httpOnly)
}

// cookieAt is cookie with another Path.
func (c *Clerk) cookieAt(name, value, path string, shared bool, maxAge int, httpOnly bool) string {
	var b strings.Builder
	b.WriteString(name + "=" + value + "; Path=" + path)
	if d := c.cookieDomain(); shared && d != "" {
		b.WriteString("; Domain=" + d)
	}
	if maxAge >= 0 {
		b.WriteString("; Max-Age=" + strconv.Itoa(maxAge))
	}
	if httpOnly {
		b.WriteString("; HttpOnly")
	}
	b.WriteString("; SameSite=Lax")
	if c.secureCookies() {
		b.WriteString("; Secure")
	}
	return b.String()
}

// CookieSuffix is the suffix of the instance's suffixed cookie names
// (__session_<sfx>): the first 8 characters of base64url(SHA-1(publishable
// key)), as @clerk/shared computes it.
func (c *Clerk) CookieSuffix() string {
	sum := sha1.Sum([]byte(c.PublishableKey()))
	return base64.RawURLEncoding.EncodeToString(sum[:])[:8]
}

// signInCookies are the production sign-in's cookies on the FAPI host:
// __client (host-only, HttpOnly; the FAPI's own, so under /{name} when
// the FAPI shares its host: neither another instance nor an app on the
// host sees or replaces it) and __client_uat (on the eTLD+1).
func (c *Clerk) signInCookies(cl *cClient) []string {
	return []string{
		c.cookieAt(cookieClient, cl.Token, c.stateCookiePath(), false, uatMaxAge, true),
		c.cookie(cookieClientUAT, strconv.FormatInt(cl.UAT, 10), true, uatMaxAge, false),
	}
}

// directives are the cookies the app is to set: the session token and
// __client_uat when signed in (token != ""), their clearing otherwise,
// with _<sfx> copies when suffixed; the dev browser in development; the
// handshake cookies' deletion in production.
func (c *Clerk) directives(cl *cClient, token string, suffixed bool) []string {
	names := func(n string) []string {
		if suffixed {
			return []string{n, n + "_" + c.CookieSuffix()}
		}
		return []string{n}
	}
	var out []string
	if c.production() {
		out = append(out, c.cookie(cookieHandshake, "", true, 0, false), c.cookie(cookieNonce, "", true, 0, false))
	}
	uat := "0"
	if token != "" {
		uat = strconv.FormatInt(cl.UAT, 10)
	}
	for _, n := range names(cookieClientUAT) {
		out = append(out, c.cookie(n, uat, true, uatMaxAge, false))
	}
	for _, n := range names(cookieSession) {
		if token != "" {
			out = append(out, c.cookie(n, token, false, -1, false))
		} else {
			out = append(out, c.cookie(n, "", false, 0, false))
		}
	}
	if !c.production() && cl != nil {
		for _, n := range names(paramDevBrowser) {
			out = append(out, n+"="+cl.DevBrowser+"; Path=/; SameSite=Lax")
		}
	}
	return out
}

// handshake is GET /v1/client/handshake.
func (c *Clerk) handshake(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	redirect := q.Get("redirect_url")
	if !c.redirectAllowed(redirect) {
		c.pageError(w, "Handshake error", http.StatusBadRequest, "redirect_url_not_allowed", "The redirect_url is not an allowed redirect URL of this instance.")
		return
	}
	c.mu.Lock()
	cl := c.clientOfLocked(r, q.Get(paramDevBrowser))
	sid := ""
	if cl != nil {
		sid = cl.SessionID
		if s := c.sessions[sid]; s != nil && q.Has("organization_id") {
			c.selectOrgLocked(s, q.Get("organization_id"))
		}
	}
	c.mu.Unlock()
	c.log.Debug("mockclerk: handshake", "reason", q.Get("__clerk_hs_reason"), "client", cl != nil)
	token := ""
	if sid != "" {
		tok, err := c.mintToken(sid, origin(redirect), sessionTokenTTL)
		switch {
		case err == nil:
			token = tok
		case err != errSessionNotActive:
			c.pageError(w, "Handshake error", http.StatusInternalServerError, "token_unavailable", "Could not issue the session token.")
			return
		}
	}
	dirs := c.directives(cl, token, q.Get("suffixed_cookies") == "true")
	key, err := c.keys.Active()
	var payload string
	if err == nil {
		payload, err = jwtkeys.Sign(key, map[string]any{"alg": "RS256", "kid": key.KID, "typ": "JWT"}, map[string]any{"handshake": dirs})
	}
	if err != nil {
		c.pageError(w, "Handshake error", http.StatusInternalServerError, "token_unavailable", "Could not sign the handshake.")
		return
	}
	name, value := cookieHandshake, payload
	if q.Get("format") == "nonce" && (directivesSize(dirs) > maxHandshakeInline || c.cfg.HandshakeNonce) {
		name, value = cookieNonce, randToken()
		now := c.now()
		c.mu.Lock()
		for n, e := range c.nonces {
			if now.After(e.expires) {
				delete(c.nonces, n)
			}
		}
		c.nonces[value] = handshakeNonce{directives: dirs, expires: now.Add(handshakeNonceTTL)}
		c.mu.Unlock()
	}
	w.Header().Set("Cache-Control", "no-store")
	// Whatever handshake parameters redirect_url already carries go: the
	// SDK reads the query before the cookie, so a planted one would win.
	if c.production() {
		w.Header().Add("Set-Cookie", c.cookie(name, value, true, -1, false))
		w.Header().Set("Location", withParams(redirect, nil, cookieHandshake, cookieNonce))
	} else {
		w.Header().Set("Location", withParams(redirect, url.Values{name: {value}}, cookieHandshake, cookieNonce, paramDevBrowser))
	}
	w.WriteHeader(http.StatusTemporaryRedirect)
}

// directivesSize is the length of the payload's JSON, {"handshake":[...]}.
func directivesSize(dirs []string) int {
	b, _ := json.Marshal(map[string]any{"handshake": dirs})
	return len(b)
}

// selectOrgLocked makes the organization (ID or slug) the session's
// active one when the user is a member; "" selects the personal account.
func (c *Clerk) selectOrgLocked(s *cSession, idOrSlug string) {
	if idOrSlug == "" {
		s.OrgID = ""
		return
	}
	if o := c.orgLocked(idOrSlug); o != nil && c.memberships[o.ID][s.UserID] != nil {
		s.OrgID = o.ID
	}
}

// handshakePayload is BAPI GET /v1/clients/handshake_payload?nonce=: the
// directives of a nonce handshake, once.
func (c *Clerk) handshakePayload(w http.ResponseWriter, r *http.Request) {
	n := r.URL.Query().Get("nonce")
	if n == "" {
		clerkError(w, http.StatusBadRequest, "form_param_missing", "nonce is required")
		return
	}
	c.mu.Lock()
	e, ok := c.nonces[n]
	delete(c.nonces, n)
	c.mu.Unlock()
	if !ok || c.now().After(e.expires) {
		clerkError(w, http.StatusNotFound, "resource_not_found", "No handshake payload for this nonce (unknown, used or expired)")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"directives": e.directives})
}
