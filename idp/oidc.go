package idp

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"
	"github.com/ssokit/ssokit/internal/jwks"
	"github.com/ssokit/ssokit/internal/state"
	"github.com/ssokit/ssokit/sso"
	"golang.org/x/oauth2"
)

// Key set policy for OIDC connections.
const (
	oidcKeyTTL         = time.Hour
	oidcRefreshBetween = 30 * time.Second
)

// oidcConnector is an OpenID Connect relying party for one connection, on
// go-oidc and x/oauth2, with its own rate-limited key set and the checks
// go-oidc leaves to its caller (nonce, at_hash, tenant, hd).
type oidcConnector struct {
	conn        Connection
	opts        Options
	oauth       oauth2.Config
	verifier    *oidc.IDTokenVerifier
	keys        *jwks.Cache
	state       stateCodec
	multiTenant string // the {tenantid} issuer template, for common/organizations
	issParam    bool   // discovery's authorization_response_iss_parameter_supported (RFC 9207)
	jwksURI     string
	userinfoURL string
}

// keySet verifies ID token signatures with the connection's key cache:
// refetches on unknown kids are rate-limited and single-flight, unlike
// go-oidc's RemoteKeySet.
type keySet struct{ cache *jwks.Cache }

var oidcAlgs = []jose.SignatureAlgorithm{jose.RS256, jose.RS384, jose.RS512, jose.ES256, jose.ES384, jose.PS256}

// keyErrKey carries, in the context go-oidc passes to the key set, where
// to record the key set's refusal: go-oidc flattens the error it wraps.
type keyErrKey struct{}

func (k keySet) VerifySignature(ctx context.Context, raw string) ([]byte, error) {
	payload, err := k.verify(ctx, raw, "ID token")
	if err != nil {
		if p, ok := ctx.Value(keyErrKey{}).(*error); ok {
			*p = err
		}
	}
	return payload, err
}

// verify checks the signature of raw, a compact JWS (what names it in a
// refusal), with the connection's key set and algorithms.
func (k keySet) verify(ctx context.Context, raw, what string) ([]byte, error) {
	jws, err := jose.ParseSignedCompact(raw, oidcAlgs)
	if err != nil {
		return nil, refuse(ErrInvalidResponse, ReasonAlgorithm, "%s: %v", what, err)
	}
	if len(jws.Signatures) != 1 || jws.Signatures[0].Header.KeyID == "" {
		return nil, refuse(ErrInvalidResponse, ReasonSignature, "%s needs exactly one signature with a kid", what)
	}
	key, err := k.cache.Key(ctx, jws.Signatures[0].Header.KeyID)
	switch {
	case errors.Is(err, jwks.ErrUnknownKey):
		return nil, refuse(ErrInvalidResponse, ReasonUnknownKey, "%v", err)
	case err != nil:
		// The fetch error (the address a tenant's jwks_uri resolved to,
		// what answered there) is in the operator's log (the cache's
		// Logger); the refusal, which an organization's administrators
		// read, says only which step failed.
		return nil, refuse(ErrUpstream, ReasonUpstream, "%s: the key set could not be fetched", what)
	}
	payload, err := jws.Verify(key)
	if err != nil {
		return nil, refuse(ErrInvalidResponse, ReasonSignature, "%s signature: %v", what, err)
	}
	return payload, nil
}

func newOIDC(ctx context.Context, c Connection, opts Options) (*oidcConnector, error) {
	s := c.OIDC
	if _, err := checkFetchURL("issuer", s.Issuer, opts); err != nil {
		return nil, err
	}
	redirect, err := checkHTTPURL("redirect_url", s.RedirectURL)
	if err != nil {
		return nil, err
	}
	if s.ClientID == "" || s.ClientSecret == "" {
		return nil, fmt.Errorf("%w: the connection needs client_id and client_secret", ErrConfig)
	}
	hctx := oidc.ClientContext(ctx, opts.client())
	multi := c.Vendor == sso.AzureAD && (strings.Contains(s.Issuer, "/common/") || strings.Contains(s.Issuer, "/organizations/"))
	if multi {
		if len(s.AllowedTenants) == 0 {
			return nil, fmt.Errorf("%w: an Azure AD common/organizations issuer needs allowed_tenants: the tid of every tenant to admit", ErrConfig)
		}
		hctx = oidc.InsecureIssuerURLContext(hctx, s.Issuer)
	}
	provider, err := oidc.NewProvider(hctx, s.Issuer)
	if err != nil {
		var mismatch *oidc.IssuerMismatchError
		if errors.As(err, &mismatch) {
			opts.logger().Warn("idp: discovery names another issuer", "connection", c.ID, "discovered", clip(mismatch.Discovered, 256), "configured", mismatch.Provided)
			return nil, fmt.Errorf("%w: the discovery document names another issuer than the connection's %q: use the issuer of the discovery document exactly (trailing slash included)", ErrConfig, mismatch.Provided)
		}
		return nil, fetchFailed(opts, "discovery", strings.TrimSuffix(s.Issuer, "/")+"/.well-known/openid-configuration", err)
	}
	var disc struct {
		Issuer   string `json:"issuer"`
		JWKSURI  string `json:"jwks_uri"`
		Userinfo string `json:"userinfo_endpoint"`
		// any: a member of another type (a string "true") is not
		// JSON true, and must not fail the whole document.
		IssParam any `json:"authorization_response_iss_parameter_supported"`
	}
	if err := provider.Claims(&disc); err != nil || disc.JWKSURI == "" {
		return nil, fmt.Errorf("%w: the discovery document has no jwks_uri", ErrConfig)
	}
	// The browser is sent there, not the server: any host will do, but
	// not a javascript: or data: URL, nor a path of this site.
	if _, err := checkHTTPURL("authorization_endpoint", provider.Endpoint().AuthURL); err != nil {
		return nil, fmt.Errorf("%w: the discovery document's authorization_endpoint must be an absolute http(s) URL", ErrConfig)
	}
	if _, err := checkFetchURL("token_endpoint", provider.Endpoint().TokenURL, opts); err != nil {
		return nil, fmt.Errorf("%w: the discovery document's token_endpoint must be an https URL of a public host", ErrConfig)
	}
	if disc.Userinfo != "" {
		if _, err := checkFetchURL("userinfo_endpoint", disc.Userinfo, opts); err != nil {
			return nil, fmt.Errorf("%w: the discovery document's userinfo_endpoint must be an https URL of a public host", ErrConfig)
		}
	}
	if _, err := checkFetchURL("jwks_uri", disc.JWKSURI, opts); err != nil {
		return nil, fmt.Errorf("%w: the discovery document's jwks_uri must be an https URL of a public host", ErrConfig)
	}
	st, err := newStateCodec(opts, redirect.Scheme == "https")
	if err != nil {
		return nil, err
	}
	o := &oidcConnector{conn: c, opts: opts, state: st}
	if multi {
		if !strings.Contains(disc.Issuer, "{tenantid}") {
			return nil, fmt.Errorf("%w: a multi-tenant Azure AD discovery should name the issuer with {tenantid}, and this one does not", ErrConfig)
		}
		o.multiTenant = disc.Issuer
	}
	o.jwksURI, o.userinfoURL, o.issParam = disc.JWKSURI, disc.Userinfo, disc.IssParam == true
	o.keys = &jwks.Cache{Now: opts.Now, TTL: oidcKeyTTL, Interval: oidcRefreshBetween, Logger: opts.Logger,
		Fetch: fetchJWKS(opts.client(), disc.JWKSURI)}
	o.verifier = oidc.NewVerifier(s.Issuer, keySet{o.keys}, &oidc.Config{
		ClientID: s.ClientID, SupportedSigningAlgs: []string{"RS256", "RS384", "RS512", "ES256", "ES384", "PS256"},
		Now: opts.now, SkipIssuerCheck: multi,
	})
	ep := provider.Endpoint()
	ep.AuthStyle = oauth2.AuthStyleInHeader
	if s.TokenEndpointAuthMethod == "client_secret_post" {
		ep.AuthStyle = oauth2.AuthStyleInParams
	}
	scopes := s.Scopes
	if len(scopes) == 0 {
		scopes = []string{oidc.ScopeOpenID, "profile", "email"}
		if c.Vendor == sso.Okta || c.Vendor == sso.OneLogin {
			scopes = append(scopes, "groups")
		}
	}
	if !slices.Contains(scopes, oidc.ScopeOpenID) {
		scopes = append([]string{oidc.ScopeOpenID}, scopes...)
	}
	o.oauth = oauth2.Config{ClientID: s.ClientID, ClientSecret: s.ClientSecret, Endpoint: ep, RedirectURL: s.RedirectURL, Scopes: scopes}
	return o, nil
}

// fetchJWKS fetches the connection's key set, keeping only keys strong
// enough to trust (strongSigningKey).
func fetchJWKS(client *http.Client, uri string) jwks.Fetcher {
	return jwks.HTTPFetcher(client, uri, strongSigningKey)
}

// strongSigningKey holds a key set's keys to the rule of SAML signing
// certificates (checkSigningKey): RSA of at least minRSABits, ECDSA of at
// least 256 bits. A weaker key is left out of the set, so a token signed
// with it is refused as signed by an unknown key.
func strongSigningKey(_ string, key crypto.PublicKey) bool {
	switch key.(type) {
	case *rsa.PublicKey, *ecdsa.PublicKey:
		return keyWeakness(key) == ""
	}
	return false
}

// Connection returns the connection's settings.
func (o *oidcConnector) Connection() Connection { return o.conn }

// Start sends the browser to the authorization endpoint with PKCE S256,
// a nonce and a state bound to this browser by a signed cookie.
func (o *oidcConnector) Start(w http.ResponseWriter, r *http.Request, returnTo, loginHint string) error {
	handle, nonce, verifier := randomToken(24), randomToken(24), oauth2.GenerateVerifier()
	if err := o.state.set(w, handle, state.Payload{ConnectionID: o.conn.ID, OIDCNonce: nonce, PKCEVerifier: verifier, ReturnTo: localPath(returnTo)}); err != nil {
		return err
	}
	opts := []oauth2.AuthCodeOption{oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)}
	if loginHint != "" {
		opts = append(opts, oauth2.SetAuthURLParam("login_hint", loginHint))
	}
	if o.conn.Vendor == sso.GoogleWorkspace && len(o.conn.AllowedDomains) == 1 {
		opts = append(opts, oauth2.SetAuthURLParam("hd", o.conn.AllowedDomains[0])) // a hint; hd is checked on return
	}
	http.Redirect(w, r, o.oauth.AuthCodeURL(handle, opts...), http.StatusFound)
	return nil
}

// Finish handles the redirect back: state against this browser's cookie,
// the code exchanged with the PKCE verifier, the ID token verified, then
// nonce, at_hash, tenant and hosted domain checked.
func (o *oidcConnector) Finish(w http.ResponseWriter, r *http.Request) (*Identity, string, error) {
	id, returnTo, err := o.finish(w, r)
	if err != nil {
		o.opts.logger().Info("idp: OIDC login refused", "connection", o.conn.ID, "reason", ReasonOf(err), "err", err)
	}
	return id, returnTo, err
}

func (o *oidcConnector) finish(w http.ResponseWriter, r *http.Request) (_ *Identity, _ string, err error) {
	// verified: this login's code was exchanged at the IdP's token
	// endpoint, so what follows is the IdP's answer, not anyone's.
	verified := false
	defer func() {
		if err != nil && verified {
			err = vouched(err)
		}
	}()
	q := r.URL.Query()
	st, ok := o.state.take(w, r, q.Get("state"), o.conn.ID)
	if !ok {
		// First, even for an error redirect: without this browser's
		// state it is anyone's link, and its text anyone's.
		return nil, "", refuse(ErrNoLogin, ReasonState, "no login of this browser matches the state")
	}
	if err := o.checkIssParam(q); err != nil {
		return nil, "", err
	}
	if e := q.Get("error"); e != "" {
		return nil, "", refuse(ErrIdPRefused, ReasonIdPError, "%s: %s", clip(e, 64), clip(q.Get("error_description"), 256))
	}
	ctx, cancel := context.WithTimeout(oidc.ClientContext(r.Context(), o.opts.client()), 15*time.Second)
	defer cancel()
	tok, err := o.oauth.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(st.PKCEVerifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode < 500 {
			return nil, "", refuse(ErrInvalidResponse, ReasonCode, "token endpoint: %s %s", clip(o.scrub(re.ErrorCode), 64), clip(o.scrub(re.ErrorDescription), 256))
		}
		if errors.As(err, &re) && re.Response != nil {
			// Never the body: an IdP's 5xx page is its own text, of any size.
			return nil, "", refuse(ErrUpstream, ReasonUpstream, "token endpoint: HTTP %d", re.Response.StatusCode)
		}
		var netErr *url.Error
		if errors.As(err, &netErr) {
			// The network error names the address the tenant's token
			// endpoint resolved to and how it answered: the operator's
			// log has it, the refusal (read by the organization's
			// administrators) only the step.
			o.opts.logger().Warn("idp: token endpoint request failed", "connection", o.conn.ID, "url", trimQuery(o.oauth.Endpoint.TokenURL), "err", err)
			return nil, "", refuse(ErrUpstream, ReasonUpstream, "token endpoint: the request failed")
		}
		return nil, "", refuse(ErrUpstream, ReasonUpstream, "token endpoint: %v", err)
	}
	verified = true
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, "", refuse(ErrInvalidResponse, ReasonMalformed, "the token response has no id_token")
	}
	var keyErr error
	idt, err := o.verifier.Verify(context.WithValue(ctx, keyErrKey{}, &keyErr), raw)
	if err != nil {
		if keyErr != nil {
			return nil, "", keyErr
		}
		return nil, "", classifyOIDC(err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(st.OIDCNonce)) != 1 {
		return nil, "", refuse(ErrInvalidResponse, ReasonNonce, "the ID token's nonce is not this login's")
	}
	if idt.AccessTokenHash != "" {
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
			return nil, "", refuse(ErrInvalidResponse, ReasonAtHash, "%v", err)
		}
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return nil, "", refuse(ErrInvalidResponse, ReasonMalformed, "claims: %v", err)
	}
	if err := o.checkAuthorizedParty(idt.Audience, claims); err != nil {
		return nil, "", err
	}
	if o.userinfoURL != "" && o.needsUserinfo(claims) {
		if err := o.addUserinfo(ctx, tok, idt.Issuer, idt.Subject, claims); err != nil {
			return nil, "", err
		}
	}
	id := oidcIdentity(o.conn, claims)
	if o.multiTenant != "" {
		if !slices.Contains(o.conn.OIDC.AllowedTenants, id.TenantID) {
			return nil, "", refuse(ErrNotAllowed, ReasonTenant, "tenant %q is not allowed", id.TenantID)
		}
		if want := strings.Replace(o.multiTenant, "{tenantid}", id.TenantID, 1); idt.Issuer != want {
			return nil, "", refuse(ErrInvalidResponse, ReasonIssuer, "iss %q is not tenant %s's issuer %q", idt.Issuer, id.TenantID, want)
		}
	}
	if id.Email != "" && o.conn.Vendor == sso.AzureAD {
		if err := o.checkEmailDomainOwner(claims, id.Email); err != nil {
			return nil, "", err
		}
	}
	if id.Email != "" {
		switch verified, present := emailVerifiedClaim(claims); {
		case present && !verified:
			return nil, "", refuse(ErrNotAllowed, ReasonEmailUnverified, "email_verified is %v for %s", claims["email_verified"], id.Email)
		case !present && sendsEmailVerified(o.conn.Vendor):
			return nil, "", refuse(ErrNotAllowed, ReasonEmailVerifiedNone, "the %s identity carries no email_verified claim", o.conn.Vendor)
		}
	}
	if o.conn.Vendor == sso.GoogleWorkspace {
		if id.HostedDomain == "" {
			return nil, "", refuse(ErrNotAllowed, ReasonNoHostedDomain, "a consumer Google account (no hd) is not a Workspace login")
		}
		if _, domain, _ := strings.Cut(id.Email, "@"); id.Email != "" && !strings.EqualFold(domain, id.HostedDomain) {
			return nil, "", refuse(ErrNotAllowed, ReasonHostedDomainEmail, "hd %q is not the domain of the email %q", id.HostedDomain, id.Email)
		}
		if len(o.conn.AllowedDomains) > 0 && !slices.ContainsFunc(o.conn.AllowedDomains, func(d string) bool { return strings.EqualFold(d, id.HostedDomain) }) {
			return nil, "", refuse(ErrNotAllowed, ReasonHostedDomain, "hd %q is not an allowed domain", id.HostedDomain)
		}
	}
	if hasOverage(claims) {
		if o.opts.GroupResolver == nil {
			return nil, "", refuse(ErrGroupOverage, ReasonGroupOverage, "Azure AD sent more than 200 groups as an overage claim; configure a group resolver")
		}
		// The claim's own endpoint is never called: the resolver's
		// configured Graph URL is, so a token cannot send the access token
		// elsewhere.
		groups, err := o.opts.GroupResolver.ResolveGroups(ctx, id, tok.AccessToken)
		if err != nil {
			return nil, "", groupRefusal(o.opts.logger(), o.conn.ID, err)
		}
		id.Groups = groups
	}
	if id.Subject == "" {
		return nil, "", refuse(ErrInvalidResponse, ReasonNoSubject, "the ID token names no subject")
	}
	return id, st.ReturnTo, nil
}

// checkAuthorizedParty applies OpenID Connect Core 3.1.3.7, steps 4 and
// 5, which go-oidc leaves to its caller: an azp claim must name this
// client (a token whose aud lists this client beside the one it was
// issued to is that one's), and an ID token with several audiences must
// carry one.
func (o *oidcConnector) checkAuthorizedParty(aud []string, claims map[string]any) error {
	azp, present := claims["azp"]
	switch {
	case !present && len(aud) > 1:
		return refuse(ErrInvalidResponse, ReasonAudience, "the ID token has %d audiences and no azp", len(aud))
	case !present:
		return nil
	case azp != o.oauth.ClientID:
		return refuse(ErrInvalidResponse, ReasonAudience, "azp %q is not this client", clip(fmt.Sprint(azp), 256))
	}
	return nil
}

// hasOverage reports whether the claims carry Azure AD's groups overage
// claim (_claim_names.groups) instead of the groups.
func hasOverage(claims map[string]any) bool {
	names, _ := claims["_claim_names"].(map[string]any)
	_, ok := names["groups"]
	return ok
}

// needsUserinfo reports whether the ID token lacks a claim the profile
// reads: the email, both names, or the groups when the groups scope was
// asked for (Entra ID's userinfo never carries groups).
func (o *oidcConnector) needsUserinfo(claims map[string]any) bool {
	missing := func(key string) bool {
		name := field(o.conn, oidcProfiles, key)
		if name == "" {
			return false
		}
		_, ok := claims[name]
		return !ok
	}
	switch {
	case missing("email"):
		return true
	case missing("first_name") && missing("last_name") && claims["name"] == nil:
		return true
	case o.conn.Vendor != sso.AzureAD && slices.Contains(o.oauth.Scopes, "groups") && missing("groups") && !hasOverage(claims):
		return true
	}
	return false
}

// addUserinfo calls the userinfo endpoint with the access token and adds
// the claims the ID token lacks (the ID token's own claims win). Its sub
// must be the ID token's: a userinfo answer about someone else is refused.
// iss is the ID token's issuer.
func (o *oidcConnector) addUserinfo(ctx context.Context, tok *oauth2.Token, iss, sub string, claims map[string]any) error {
	extra, err := o.userinfo(ctx, tok, iss)
	if err != nil {
		return err
	}
	if s, _ := extra["sub"].(string); s == "" || subtle.ConstantTimeCompare([]byte(s), []byte(sub)) != 1 {
		return refuse(ErrInvalidResponse, ReasonUserinfoSubject, "userinfo names sub %q, the ID token %q", clip(s, 256), sub)
	}
	for k, v := range extra {
		if _, ok := claims[k]; !ok {
			claims[k] = v
		}
	}
	return nil
}

// maxUserinfo bounds a userinfo answer.
const maxUserinfo = 1 << 20

// userinfo asks the userinfo endpoint, with the access token, for the
// person's claims. A failure is reported by its status, never its body (an
// IdP's error page is its own text). A signed answer (application/jwt,
// OIDC Core 5.3.2) is held to the ID token's rules: one of its algorithms,
// a key of the connection's key set (refetched as rarely), and it must
// carry iss, the ID token's issuer iss, and aud naming this client (5.3.2:
// "MUST contain the Claims iss ... and aud").
func (o *oidcConnector) userinfo(ctx context.Context, tok *oauth2.Token, iss string) (map[string]any, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, o.userinfoURL, nil)
	if err != nil {
		return nil, refuse(ErrUpstream, ReasonUserinfo, "userinfo: %v", err)
	}
	tok.SetAuthHeader(req)
	req.Header.Set("Accept", "application/json, application/jwt")
	resp, err := o.opts.client().Do(req)
	if err != nil {
		o.opts.logger().Warn("idp: userinfo request failed", "connection", o.conn.ID, "url", trimQuery(o.userinfoURL), "err", err)
		return nil, refuse(ErrUpstream, ReasonUserinfo, "userinfo: the request failed")
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, refuse(ErrUpstream, ReasonUserinfo, "userinfo: HTTP %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxUserinfo+1))
	switch {
	case err != nil:
		return nil, refuse(ErrUpstream, ReasonUserinfo, "userinfo: reading the answer failed")
	case len(body) > maxUserinfo:
		return nil, refuse(ErrInvalidResponse, ReasonUserinfo, "userinfo: the answer is over %d bytes", maxUserinfo)
	}
	mediaType, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	signed := mediaType == "application/jwt"
	if signed {
		if body, err = (keySet{o.keys}).verify(ctx, strings.TrimSpace(string(body)), "signed userinfo"); err != nil {
			return nil, err
		}
	}
	var claims map[string]any
	if err := json.Unmarshal(body, &claims); err != nil || claims == nil {
		return nil, refuse(ErrInvalidResponse, ReasonUserinfo, "userinfo: the answer is not a JSON object")
	}
	if signed {
		switch got, ok := claims["iss"]; {
		case !ok:
			return nil, refuse(ErrInvalidResponse, ReasonIssuer, "signed userinfo: no iss")
		case got != iss:
			return nil, refuse(ErrInvalidResponse, ReasonIssuer, "signed userinfo: iss %q is not the ID token's issuer", clip(fmt.Sprint(got), 256))
		}
		if aud, ok := claims["aud"]; !ok || !audienceHas(aud, o.oauth.ClientID) {
			return nil, refuse(ErrInvalidResponse, ReasonAudience, "signed userinfo: aud does not name this client")
		}
	}
	return claims, nil
}

// audienceHas reports whether aud, a JWT aud claim (a string or an array
// of strings), names client.
func audienceHas(aud any, client string) bool {
	switch a := aud.(type) {
	case string:
		return a == client
	case []any:
		for _, v := range a {
			if v == client {
				return true
			}
		}
	}
	return false
}

func classifyOIDC(err error) error {
	var le *LoginError
	if errors.As(err, &le) {
		return err
	}
	var expired *oidc.TokenExpiredError
	msg := err.Error()
	switch {
	case errors.As(err, &expired):
		return refuse(ErrInvalidResponse, ReasonExpired, "%s", msg)
	case strings.Contains(msg, "audience"):
		return refuse(ErrInvalidResponse, ReasonAudience, "%s", msg)
	case strings.Contains(msg, "issued by a different provider"):
		return refuse(ErrInvalidResponse, ReasonIssuer, "%s", msg)
	case strings.Contains(msg, "before the nbf"):
		return refuse(ErrInvalidResponse, ReasonNotYetValid, "%s", msg)
	case strings.Contains(msg, "malformed jwt"), strings.Contains(msg, "unsupported signing algorithm"):
		return refuse(ErrInvalidResponse, ReasonAlgorithm, "%s", msg)
	}
	return refuse(ErrInvalidResponse, ReasonSignature, "%s", msg)
}

// checkIssParam applies RFC 9207 to the redirect back from the IdP: an iss
// parameter must name the connection's issuer (a response another IdP sent
// to this callback, a mix-up, is refused before its code goes anywhere),
// and an IdP whose discovery says it sends one
// (authorization_response_iss_parameter_supported) must have sent it. A
// multi-tenant Azure AD connection's iss is its template's, for one of the
// allowed tenants.
func (o *oidcConnector) checkIssParam(q url.Values) error {
	vs, sent := q["iss"]
	switch {
	case !sent && o.issParam:
		return refuse(ErrInvalidResponse, ReasonIssuer, "the IdP says it sends iss with its responses (RFC 9207), and this one has none")
	case !sent:
		return nil
	case len(vs) != 1:
		return refuse(ErrInvalidResponse, ReasonIssuer, "iss sent %d times", len(vs))
	case o.multiTenant != "":
		for _, tid := range o.conn.OIDC.AllowedTenants {
			if vs[0] == strings.Replace(o.multiTenant, "{tenantid}", tid, 1) {
				return nil
			}
		}
	case vs[0] == o.conn.OIDC.Issuer:
		return nil
	}
	return refuse(ErrInvalidResponse, ReasonIssuer, "iss %q is not the connection's issuer (RFC 9207: the response is another IdP's)", clip(vs[0], 256))
}

// scrub takes the client secret out of text the IdP wrote, before it goes
// into a refusal (logged, and kept in the SSO log): an OP that echoes the
// credentials it was sent (mockoidc's invalid_client does) must not put
// the secret there, raw, form-encoded or in a Basic header.
func (o *oidcConnector) scrub(s string) string {
	sec := o.oauth.ClientSecret
	if sec == "" {
		return s
	}
	basic := base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(o.oauth.ClientID) + ":" + url.QueryEscape(sec)))
	for _, v := range []string{basic, sec, url.QueryEscape(sec)} {
		s = strings.ReplaceAll(s, v, "[client secret]")
	}
	return s
}

// CheckClientSecret asks the token endpoint whether it accepts the client
// credentials, by redeeming a code that cannot exist: invalid_client means
// refused, invalid_grant means the credentials passed.
func (o *oidcConnector) CheckClientSecret(ctx context.Context) error {
	ctx = oidc.ClientContext(ctx, o.opts.client())
	_, err := o.oauth.Exchange(ctx, "ssokit-credential-probe-"+randomToken(8))
	var re *oauth2.RetrieveError
	switch {
	case err == nil:
		return fmt.Errorf("%w: the token endpoint accepted a made-up code", ErrConfig)
	case errors.As(err, &re) && re.ErrorCode == "invalid_client":
		return fmt.Errorf("%w: the token endpoint refused the client ID or secret (invalid_client)", ErrConfig)
	case errors.As(err, &re) && re.ErrorCode == "invalid_grant":
		return nil
	}
	if errors.As(err, &re) {
		// RetrieveError's text is the OP's error_description, or its
		// whole body: what it echoes of the credentials stays out of
		// the log, and so does more than a kilobyte of it.
		err = errors.New(clip(o.scrub(err.Error()), 1024))
	}
	return fetchFailed(o.opts, "token endpoint", o.oauth.Endpoint.TokenURL, err)
}

// checkEmailDomainOwner holds an Entra ID address to xms_edov, the
// optional claim by which Entra says whether the tenant owns the
// address's domain: false (or any value but true) is refused always
// (email_unverified). A multi-tenant connection refuses an address
// without it (email_verified_missing): the administrator of any allowed
// tenant can set any address, another tenant's people's included, on
// their own users ("nOAuth"). A single-tenant connection's addresses come
// from the customer's own directory and stand without it.
func (o *oidcConnector) checkEmailDomainOwner(claims map[string]any, email string) error {
	v, present := claims["xms_edov"]
	switch {
	case present && !edovTrue(v):
		return refuse(ErrNotAllowed, ReasonEmailUnverified, "xms_edov is %v: Entra ID does not vouch that the tenant owns the domain of %s", v, email)
	case !present && o.multiTenant != "":
		return refuse(ErrNotAllowed, ReasonEmailVerifiedNone, "a multi-tenant Entra ID connection needs the optional ID token claim xms_edov, which this token lacks: any allowed tenant's administrator can give their users any address")
	}
	return nil
}

// edovTrue reports whether an xms_edov value says the tenant owns the
// address's domain: JSON true, or the string "true".
func edovTrue(v any) bool { return v == true || v == "true" }
