package mockclerk

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/ssokit/ssokit/idp"
	"github.com/ssokit/ssokit/internal/httpsec"
	"github.com/ssokit/ssokit/mockidp/internal/autopost"
	"github.com/ssokit/ssokit/sso"
)

// The hosted sign-in: an email picks the enterprise connection by its
// domain, the mock Clerk (a real SAML service provider or OIDC relying
// party through package idp) logs the person in at the persona, creates or
// updates the user and the membership, starts a session on the browser's
// client and sends the browser back to redirect_url: in development with
// __clerk_db_jwt (the dev browser) in the query, in production with the
// __client and __client_uat cookies set. The app then gets the session
// through the handshake (handshake.go).

func (c *Clerk) signInError(w http.ResponseWriter, status int, code, msg string) {
	c.pageError(w, "Sign-in error", status, code, msg)
}

func (c *Clerk) pageError(w http.ResponseWriter, title string, status int, code, msg string) {
	httpsec.Page(w.Header(), httpsec.CSP{InlineStyles: true})
	w.WriteHeader(status)
	_ = errorPage.Execute(w, map[string]any{"Title": title, "Code": code, "Message": msg})
}

func (c *Clerk) signIn(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	redirect := q.Get("redirect_url")
	if !c.redirectAllowed(redirect) {
		c.signInError(w, http.StatusBadRequest, "redirect_url_not_allowed", "The redirect_url is not an allowed redirect URL of this instance.")
		return
	}
	db := q.Get(paramDevBrowser)
	if db != "" {
		c.mu.Lock()
		known := !c.production() && c.clientOfLocked(r, db) != nil
		c.mu.Unlock()
		if !known {
			c.signInError(w, http.StatusBadRequest, "dev_browser_invalid", "The __clerk_db_jwt is not a dev browser of this instance.")
			return
		}
	}
	email := strings.TrimSpace(q.Get("email"))
	if email == "" {
		email = strings.TrimSpace(q.Get("login_hint"))
	}
	if email == "" {
		// No form-action: the form comes back here, which redirects on
		// to the connection's identity provider, and browsers apply
		// form-action to every redirect after a submission.
		httpsec.Page(w.Header(), httpsec.CSP{InlineStyles: true, AnyFormAction: true})
		_ = signInPage.Execute(w, map[string]string{"Action": r.URL.Path, "Redirect": redirect, "DevBrowser": db, "Name": c.cfg.Name})
		return
	}
	cn := c.connectionFor(email)
	if cn == nil {
		c.signInError(w, http.StatusUnprocessableEntity, "form_identifier_not_found",
			"No enterprise connection is set up for the domain of "+email+".")
		return
	}
	conn, err := c.connector(r.Context(), cn)
	if err != nil {
		c.log.Warn("mockclerk: clerk connection unusable", "connection", cn.ID, "err", err)
		c.signInError(w, http.StatusBadGateway, "connection_unavailable", "The enterprise connection could not be used.")
		return
	}
	back := url.Values{"redirect_url": {redirect}}
	if db != "" {
		back.Set(paramDevBrowser, db)
	}
	// The return path travels in the connector's state cookie, bound to
	// this browser; finishSignIn reads redirect_url and the dev browser
	// back from it.
	if err := conn.Start(w, r, "/sign-in/complete?"+back.Encode(), email); err != nil {
		c.signInError(w, http.StatusBadGateway, "connection_unavailable", "The enterprise connection could not start.")
	}
}

var signInPage = mustTemplate(`<!doctype html><html><head><meta charset="utf-8"><title>Sign in</title></head><body>
<h1>Sign in ({{.Name}})</h1><p>Mock Clerk hosted sign-in: enterprise SSO by email domain.</p>
<form method="get" action="{{.Action}}"><input type="hidden" name="redirect_url" value="{{.Redirect}}">{{if .DevBrowser}}<input type="hidden" name="__clerk_db_jwt" value="{{.DevBrowser}}">{{end}}
<label>Email <input type="email" name="email" autocomplete="username"></label> <button type="submit">Continue</button></form></body></html>`)

// connectionFor finds the active enterprise connection of the email's
// domain.
func (c *Clerk) connectionFor(email string) *cConn {
	_, domain, ok := strings.Cut(strings.ToLower(email), "@")
	if !ok {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	ids := make([]string, 0, len(c.conns))
	for id := range c.conns {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		cn := c.conns[id]
		if cn.Active && slices.ContainsFunc(cn.Domains, func(d string) bool { return strings.EqualFold(d, domain) }) {
			return cn
		}
	}
	return nil
}

// connector returns the idp.Connector for a connection, registering the
// mock Clerk at the persona on first use.
func (c *Clerk) connector(ctx context.Context, cn *cConn) (idp.Connector, error) {
	c.mu.Lock()
	conn := c.connectors[cn.ID]
	c.mu.Unlock()
	if conn != nil {
		return conn, nil
	}
	// One build at a time, and only if no other made it meanwhile: two
	// first sign-ins at once would each register the mock at the persona
	// under a client secret of their own, and the connector kept would
	// not hold the secret the persona kept (its code exchanges refused).
	buildConnector.Lock()
	defer buildConnector.Unlock()
	c.mu.Lock()
	conn = c.connectors[cn.ID]
	key := c.stateKeyLocked()
	c.mu.Unlock()
	if conn != nil {
		return conn, nil
	}
	p := c.idp(cn.Persona)
	if p == nil {
		return nil, fmt.Errorf("mockclerk: no persona %s", cn.Persona)
	}
	vendor := p.Vendor()
	front := c.FrontendAPIURL()
	ic := idp.Connection{ID: c.cfg.Name + "-" + cn.ID, Vendor: vendor}
	switch cn.Protocol {
	case "saml":
		// The signature algorithms are stated, not left to idp's default
		// (SHA-256 only): the mock Clerk accepts RSA-SHA256 and, as
		// OneLogin still signs with by default, RSA-SHA1, so the
		// platform's sign-in keeps working whichever a persona uses.
		s := &idp.SAMLSettings{IDPMetadataURL: p.SAMLMetadataURL(), EntityID: front + "/v1/saml/metadata/" + cn.ID,
			ACSURL: front + "/v1/saml/acs/" + cn.ID, AllowSHA1: clerkAllowsSHA1}
		if err := p.RegisterServiceProvider("clerk-"+c.cfg.Name+"-"+cn.ID, s.EntityID, s.ACSURL); err != nil {
			return nil, err
		}
		ic.Protocol, ic.SAML = sso.SAML, s
	default:
		secret := randHex(16)
		clientID, redirect := "clerk-"+c.cfg.Name+"-"+cn.ID, front+"/v1/oauth_callback/"+cn.ID
		if err := p.RegisterClient(clientID, secret, redirect); err != nil {
			return nil, err
		}
		ic.Protocol = sso.OIDC
		ic.OIDC = &idp.OIDCSettings{Issuer: p.Issuer(), ClientID: clientID, ClientSecret: secret,
			RedirectURL: redirect, TokenEndpointAuthMethod: "client_secret_post",
			Scopes: []string{"openid", "profile", "email", "groups"}}
	}
	graph := idp.GraphGroupResolver{HTTPClient: c.host.HTTPClient()}
	if g, ok := p.(interface{ GraphURL() string }); ok { // a mockidp persona's Graph imitation
		graph.BaseURL = g.GraphURL()
	}
	conn, err := idp.New(ctx, ic, idp.Options{HTTPClient: c.host.HTTPClient(), InsecureAllowLoopback: true, Now: c.now, Logger: c.log,
		StateKey: key, CookiePath: c.stateCookiePath(), GroupResolver: graph})
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.connectors[cn.ID] = conn
	c.mu.Unlock()
	return conn, nil
}

// buildConnector serializes building connectors (Clerk.connector).
var buildConnector sync.Mutex

// clerkAllowsSHA1 is whether the mock Clerk's SAML connections accept
// responses signed with SHA-1 (idp.SAMLSettings.AllowSHA1) besides
// SHA-256. It is the mock's choice, made so that personas signing as
// OneLogin does by default (RSA-SHA1) still sign people in; it makes no
// claim about the hosted Clerk's own policy.
const clerkAllowsSHA1 = true

// stateCookiePath scopes the connectors' login state cookie to the FAPI:
// its path prefix, or the whole Frontend host.
func (c *Clerk) stateCookiePath() string {
	if c.cfg.FrontendHost != "" {
		return "/"
	}
	return c.fapiPrefix()
}

func (c *Clerk) stateKeyLocked() []byte {
	if c.stateKey == nil {
		c.stateKey = make([]byte, 32)
		_, _ = rand.Read(c.stateKey)
	}
	return c.stateKey
}

func (c *Clerk) spMetadata(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	cn := c.conns[r.PathValue("conn")]
	c.mu.Unlock()
	if cn == nil || cn.Protocol != "saml" {
		http.NotFound(w, r)
		return
	}
	conn, err := c.connector(r.Context(), cn)
	if err != nil {
		http.Error(w, "connection unavailable", http.StatusBadGateway)
		return
	}
	md, err := conn.(interface{ Metadata() ([]byte, error) }).Metadata()
	if err != nil {
		http.Error(w, "metadata unavailable", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/samlmetadata+xml")
	w.Write(md)
}

// finishSignIn is the ACS and the OIDC callback of every connection.
func (c *Clerk) finishSignIn(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	cn := c.conns[r.PathValue("conn")]
	c.mu.Unlock()
	if cn == nil {
		c.signInError(w, http.StatusNotFound, "resource_not_found", "Unknown enterprise connection.")
		return
	}
	conn, err := c.connector(r.Context(), cn)
	if err != nil {
		c.signInError(w, http.StatusBadGateway, "connection_unavailable", "The enterprise connection could not be used.")
		return
	}
	id, back, err := conn.Finish(w, r)
	if err != nil {
		c.log.Info("mockclerk: clerk sign-in refused", "connection", cn.ID, "reason", idp.ReasonOf(err), "err", err)
		c.signInError(w, http.StatusUnauthorized, "sso_failed", "Single sign-on failed: "+idp.ReasonOf(err))
		return
	}
	bu, _ := url.Parse(back)
	redirect := bu.Query().Get("redirect_url")
	if !c.redirectAllowed(redirect) {
		c.signInError(w, http.StatusBadRequest, "redirect_url_not_allowed", "The redirect_url is not allowed.")
		return
	}
	// An identity without an address (or one without a domain) has no
	// domain to hold to the connection's: nobody signs in with it.
	if domainOf(id.Email) == "" || c.connectionFor(id.Email) != cn {
		c.signInError(w, http.StatusForbidden, "domain_mismatch", "The identity provider returned an email outside the connection's domains.")
		return
	}
	// The browser's client: the dev browser it started with (or a new
	// one), or its __client cookie (or a new client).
	c.mu.Lock()
	cl := c.clientOfLocked(r, bu.Query().Get(paramDevBrowser))
	if cl == nil {
		cl = c.newClientLocked()
	}
	c.mu.Unlock()
	sid := c.provision(cn, id, origin(redirect), cl.ID)
	c.mu.Lock()
	cl.SessionID, cl.UAT = sid, c.now().Unix()
	c.mu.Unlock()
	w.Header().Set("Cache-Control", "no-store")
	if c.production() {
		for _, ck := range c.signInCookies(cl) {
			w.Header().Add("Set-Cookie", ck)
		}
		http.Redirect(w, r, redirect, http.StatusFound)
		return
	}
	http.Redirect(w, r, withParams(redirect, url.Values{paramDevBrowser: {cl.DevBrowser}}), http.StatusFound)
}

func domainOf(email string) string {
	_, d, _ := strings.Cut(email, "@")
	return d
}

// provision creates or updates the user from the identity (names, SAML or
// OIDC account, groups into public_metadata.groups as custom attribute
// mapping does), adds the membership with the connection's default role
// (just in time), starts a session and announces each change.
func (c *Clerk) provision(cn *cConn, id *idp.Identity, azp, clientID string) string {
	now := c.now().UnixMilli()
	c.mu.Lock()
	_, existed := c.userByEmailLocked(id.Email)
	u := c.userLocked(id.Email, id.FirstName, id.LastName, now)
	if id.FirstName != "" {
		u.FirstName = id.FirstName
	}
	if id.LastName != "" {
		u.LastName = id.LastName
	}
	groups := make([]any, 0, len(id.Groups))
	for _, g := range id.Groups {
		groups = append(groups, g)
	}
	u.PublicMetadata = mergeMeta(u.PublicMetadata, map[string]any{"groups": groups}, true)
	u.SAMLAccounts = slices.DeleteFunc(u.SAMLAccounts, func(a map[string]any) bool { return a["connection_id"] == cn.ID })
	u.SAMLAccounts = append(u.SAMLAccounts, map[string]any{"object": "saml_account", "id": "samlacc_" + randHex(12),
		"provider": clerkProvider(cn, c.idp(cn.Persona)), "active": true, "email_address": id.Email,
		"first_name": id.FirstName, "last_name": id.LastName, "provider_user_id": id.Subject, "public_metadata": map[string]any{},
		"verification":  map[string]any{"status": "verified", "strategy": "saml", "attempts": nil, "expire_at": nil},
		"connection_id": cn.ID})
	u.Updated, u.LastSignIn = now, now
	userOut := c.userJSONLocked(u)
	var memberOut map[string]any
	if o := c.orgs[cn.Organization]; o != nil && c.memberships[o.ID][u.ID] == nil {
		c.memberships[o.ID][u.ID] = &cMembership{ID: newID("orgmem"), Role: clerkRole(cn.DefaultRole), Created: now, Updated: now,
			PublicMetadata: map[string]any{}, PrivateMetadata: map[string]any{}}
		memberOut = c.membershipJSONLocked(o.ID, u.ID)
	}
	c.mu.Unlock()
	if existed {
		c.emit("user.updated", userOut)
	} else {
		c.emit("user.created", userOut)
	}
	if memberOut != nil {
		c.emit("organizationMembership.created", memberOut)
	}
	return c.newSession(u.ID, cn.Organization, azp, string(id.IdP), clientID).ID
}

func (c *Clerk) userByEmailLocked(email string) (*cUser, bool) {
	for _, u := range c.users {
		if strings.EqualFold(u.Email, email) {
			return u, true
		}
	}
	return nil, false
}

// SignIn runs the hosted sign-in headlessly with client as email, then
// the handshake as @clerk/backend would start it for redirectURL, and
// returns the __session token of the handshake's payload. It follows
// redirects and posts auto-submit forms (SAML's, and OIDC form_post
// pages) as a browser does; it carries
// the dev browser (development) or the __client cookie (production)
// itself, so client needs no cookie jar beyond what the identity provider
// round trip wants (give it one).
func (c *Clerk) SignIn(client *http.Client, email, redirectURL string) (string, error) {
	cl := *client
	cl.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), redirectURL) || len(via) > 20 {
			return http.ErrUseLastResponse
		}
		return nil
	}
	resp, err := cl.Get(c.SignInURL() + "?" + url.Values{"redirect_url": {redirectURL}, "email": {email}}.Encode())
	for range 3 {
		if err != nil {
			return "", err
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); resp.StatusCode == http.StatusFound && strings.HasPrefix(loc, redirectURL) {
			return c.handshakeToken(&cl, resp, loc, redirectURL)
		}
		action, form, ok := autopost.Form(resp.Request.URL, body)
		if !ok {
			return "", fmt.Errorf("mockclerk: sign-in ended with %d: %.300s", resp.StatusCode, body)
		}
		resp, err = cl.PostForm(action, form)
	}
	return "", errors.New("mockclerk: sign-in did not come back")
}

// handshakeToken runs the handshake after a sign-in whose last answer was
// signedIn (redirecting to loc) and returns the payload's session token.
func (c *Clerk) handshakeToken(cl *http.Client, signedIn *http.Response, loc, redirectURL string) (string, error) {
	q := url.Values{"redirect_url": {redirectURL}, "__clerk_api_version": {"2025-04-10"}, "suffixed_cookies": {"false"},
		"__clerk_hs_reason": {"dev-browser-sync"}}
	var clientCookie *http.Cookie
	if c.production() {
		for _, ck := range signedIn.Cookies() {
			if ck.Name == cookieClient {
				clientCookie = ck
			}
		}
		if clientCookie == nil {
			return "", errors.New("mockclerk: the sign-in set no __client cookie")
		}
		q.Set("__clerk_hs_reason", "client-uat-but-no-session-token")
	} else {
		lu, err := url.Parse(loc)
		if err != nil || lu.Query().Get(paramDevBrowser) == "" {
			return "", errors.New("mockclerk: the sign-in returned no dev browser")
		}
		q.Set(paramDevBrowser, lu.Query().Get(paramDevBrowser))
	}
	req, err := http.NewRequest(http.MethodGet, c.FrontendAPIURL()+"/v1/client/handshake?"+q.Encode(), nil)
	if err != nil {
		return "", err
	}
	if clientCookie != nil {
		req.AddCookie(&http.Cookie{Name: cookieClient, Value: clientCookie.Value})
	}
	hc := *cl
	hc.Jar = nil // the __client cookie is sent above, and only it
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := hc.Do(req)
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTemporaryRedirect {
		return "", fmt.Errorf("mockclerk: handshake answered %d", resp.StatusCode)
	}
	payload := ""
	if c.production() {
		for _, ck := range resp.Cookies() {
			if ck.Name == cookieHandshake {
				payload = ck.Value
			}
		}
	} else if lu, err := url.Parse(resp.Header.Get("Location")); err == nil {
		payload = lu.Query().Get(cookieHandshake)
	}
	return sessionFromHandshake(payload)
}

// sessionFromHandshake returns the value of the last __session directive
// of a handshake payload (not verified: the caller made it).
func sessionFromHandshake(payload string) (string, error) {
	parts := strings.Split(payload, ".")
	if len(parts) != 3 {
		return "", errors.New("mockclerk: the handshake carried no payload")
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", err
	}
	var body struct {
		Handshake []string `json:"handshake"`
	}
	if err := json.Unmarshal(raw, &body); err != nil {
		return "", err
	}
	tok := ""
	for _, d := range body.Handshake {
		if v, ok := strings.CutPrefix(d, cookieSession+"="); ok {
			tok, _, _ = strings.Cut(v, ";")
		}
	}
	if tok == "" {
		return "", errors.New("mockclerk: the handshake says signed out")
	}
	return tok, nil
}
