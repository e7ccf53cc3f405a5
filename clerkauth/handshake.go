package clerkauth

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ssokit/ssokit/internal/strictjson"
	"github.com/ssokit/ssokit/ssoerr"
)

// The cookies and query parameters of Clerk's handshake, as Clerk's
// backend SDK names them.
const (
	// CookieSession holds the session token on the application's host.
	CookieSession = "__session"
	// CookieClientUAT is the time of the client's last sign-in or
	// sign-out (unix seconds; 0 after a sign-out), on the shared site.
	CookieClientUAT = "__client_uat"
	// CookieDevBrowser is a development instance's dev browser token.
	CookieDevBrowser = "__clerk_db_jwt"
	// CookieHandshake carries the handshake payload (a production
	// instance sets it; a development one sends it in the query).
	CookieHandshake = "__clerk_handshake"
	// CookieHandshakeNonce names a payload to fetch from the Backend API.
	CookieHandshakeNonce = "__clerk_handshake_nonce"
	// CookieRedirectCount is the handshake loop guard.
	CookieRedirectCount = "__clerk_redirect_count"
)

// Handshake refusal reasons (with ErrInvalidToken).
const (
	// ReasonHandshakeInQuery: a production instance's payload or nonce
	// arrived in the query string, where only a cookie may carry it.
	ReasonHandshakeInQuery ssoerr.Reason = "handshake_in_query"
	// ReasonHandshakeCategory: the payload's cat header is not a session
	// category (a JWT template or machine token was offered).
	ReasonHandshakeCategory ssoerr.Reason = "handshake_category"
	// ReasonHandshakeDirectives: the payload is not a list of cookie
	// directives within bounds.
	ReasonHandshakeDirectives ssoerr.Reason = "handshake_directives"
)

// HandshakeAPIVersion is the __clerk_api_version the handshake redirect
// names (the version Clerk's backend SDK sends).
const HandshakeAPIVersion = "2026-05-12"

// MaxHandshakeRedirects is the loop guard: after this many handshake
// redirects within the cookie's life, the request is signed out.
const MaxHandshakeRedirects = 3

const (
	maxHandshakeBytes  = 32 << 10
	maxDirectives      = 16
	maxDirectiveBytes  = 8 << 10
	maxNoncePayload    = 64 << 10
	redirectCountAge   = 2 // seconds, as Clerk's SDK
	catSession         = "cl_B7d4PD111AAA"
	catSessionInternal = "cl_I7d4PD111III"
)

// sessionCategory reports whether a JWS header's cat (nil: none) is a
// session token's: absent, or one of Clerk's two session categories; a
// JWT template's or a machine token's is not.
func sessionCategory(cat *string) bool {
	return cat == nil || *cat == catSession || *cat == catSessionInternal
}

// HandshakeConfig configures a Handshake.
type HandshakeConfig struct {
	// Verifier checks the session token a handshake delivers, strictly
	// (issuer, azp, exp, pending status), and supplies the instance's
	// signing keys for the payload. Required.
	Verifier *Verifier
	// PublishableKey names the instance: its Frontend API (the handshake
	// endpoint is {Frontend API}/v1/client/handshake) and its kind
	// (pk_test_ development, pk_live_ production). Required.
	PublishableKey string
	// InsecureHTTPLoopback lets a loopback Frontend API use plain http (a
	// local mock Clerk), as in Config.
	InsecureHTTPLoopback bool
	// AppURL is the application's public origin (scheme://host[:port]).
	// The URL the handshake returns to is AppURL + the request's path and
	// query: never X-Forwarded-* or Host, which a client chooses. Required.
	AppURL string
	// SecretKey and APIURL reach the Backend API's
	// GET /v1/clients/handshake_payload for the nonce variant. Without a
	// secret key a nonce is refused and the handshake asks for the payload
	// itself (no format=nonce).
	SecretKey string
	APIURL    string
	// HTTPClient fetches nonce payloads. Nil means a client with a
	// 5-second timeout.
	HTTPClient *http.Client
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
	// Logger receives refusal details. Nil means silent.
	Logger *slog.Logger
}

// Handshake resolves a Clerk session on a page load the way Clerk's
// backend SDK does (authenticateRequest for session tokens): from the
// __session cookie when it is fresh, else by a redirect through the
// Frontend API's /v1/client/handshake, whose signed payload of cookie
// directives comes back in __clerk_handshake (query in development,
// cookie in production) or as a __clerk_handshake_nonce to fetch from the
// Backend API. It implements the SDK's decision steps for a primary
// domain without satellites, organization sync, __refresh or a proxy URL,
// with the loop guard; it checks the session token more strictly than the
// SDK (the issuer too) and never accepts a production payload from the
// query. It is safe for concurrent use.
type Handshake struct {
	v          *Verifier
	fapi       string
	fapiHost   string // the publishable key's Frontend API, without a scheme
	live       bool
	app        *url.URL
	suffix     string
	secret     string
	api        string
	client     *http.Client
	now        func() time.Time
	log        *slog.Logger
	allowNames map[string]bool
}

// NewHandshake validates cfg and returns a Handshake.
func NewHandshake(cfg HandshakeConfig) (*Handshake, error) {
	if cfg.Verifier == nil {
		return nil, errors.New("clerkauth: HandshakeConfig needs a Verifier")
	}
	pk, err := ParsePublishableKey(cfg.PublishableKey)
	if err != nil {
		return nil, err
	}
	app, err := url.Parse(cfg.AppURL)
	if err != nil || (app.Scheme != "https" && app.Scheme != "http") || app.Host == "" || app.User != nil ||
		(app.Path != "" && app.Path != "/") || app.RawQuery != "" || app.Fragment != "" {
		return nil, fmt.Errorf("clerkauth: HandshakeConfig.AppURL %q must be an origin (scheme://host[:port])", cfg.AppURL)
	}
	app.Path = ""
	h := &Handshake{v: cfg.Verifier, fapi: pk.Issuer(cfg.InsecureHTTPLoopback), fapiHost: pk.FrontendAPI, live: pk.Live, app: app,
		secret: cfg.SecretKey, client: cfg.HTTPClient, now: cfg.Now, log: cfg.Logger}
	if err := checkURL("Frontend API", h.fapi, cfg.InsecureHTTPLoopback); err != nil {
		return nil, err
	}
	if h.secret != "" {
		h.api = strings.TrimSuffix(cfg.APIURL, "/")
		if h.api == "" {
			h.api = DefaultClerkAPIURL
		}
		if err := checkURL("APIURL", h.api, cfg.InsecureHTTPLoopback); err != nil {
			return nil, err
		}
	}
	if h.client == nil {
		h.client = &http.Client{Timeout: 5 * time.Second}
	}
	if h.now == nil {
		h.now = time.Now
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	sum := sha1.Sum([]byte(cfg.PublishableKey))
	h.suffix = base64.RawURLEncoding.EncodeToString(sum[:])[:8]
	h.allowNames = map[string]bool{}
	for _, n := range []string{CookieSession, CookieClientUAT, CookieDevBrowser, CookieHandshake, CookieHandshakeNonce} {
		h.allowNames[n] = true
		h.allowNames[n+"_"+h.suffix] = true
	}
	return h, nil
}

// Production reports whether the instance is a production one (pk_live_).
func (h *Handshake) Production() bool { return h.live }

// CookieSuffix is the suffix of the instance's own cookie names
// (__session_<suffix>, __client_uat_<suffix>): the first 8 characters of
// base64url(SHA-1(publishable key)), as Clerk computes it.
func (h *Handshake) CookieSuffix() string { return h.suffix }

// FrontendAPIURL is the instance's Frontend API URL.
func (h *Handshake) FrontendAPIURL() string { return h.fapi }

// HandshakeStatus is the outcome of Handshake.Authenticate.
type HandshakeStatus int

// The outcomes.
const (
	// SignedOut: no Clerk session; Reason says why, Err carries a refusal.
	SignedOut HandshakeStatus = iota
	// SignedIn: Session is the verified Clerk session.
	SignedIn
	// Redirect: the browser must go to Location (a 307 with no-store,
	// written by WriteRedirect).
	Redirect
)

// HandshakeResult is what Authenticate decided.
type HandshakeResult struct {
	Status HandshakeStatus
	// Session is set when Status is SignedIn, and Token is its session
	// token (to pass on as a Bearer token).
	Session *Session
	Token   string
	// Location is set when Status is Redirect.
	Location string
	// Reason is Clerk's name for the decision (the __clerk_hs_reason of a
	// redirect, or why the request is signed out).
	Reason string
	// Err is the refusal behind a SignedOut caused by a bad credential or
	// payload (nil for a plain signed-out browser). Errors wrapping
	// ErrUpstream mean the keys or the Backend API could not be reached.
	Err error
}

// WriteRedirect answers a Redirect result: 307 to Location with
// Cache-Control: no-store.
func (res HandshakeResult) WriteRedirect(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Location", res.Location)
	w.WriteHeader(http.StatusTemporaryRedirect)
}

// Eligible reports whether r may be answered with a handshake redirect:
// a GET document (or iframe) navigation, as Clerk's SDK decides it.
func Eligible(r *http.Request) bool {
	if r.Method != http.MethodGet {
		return false
	}
	switch dest := r.Header.Get("Sec-Fetch-Dest"); dest {
	case "document", "iframe":
		return true
	case "":
		return strings.HasPrefix(r.Header.Get("Accept"), "text/html")
	}
	return false
}

// Authenticate decides a page load. Cookie directives of a verified
// payload (only Clerk's own cookie names) and the loop guard are written
// to w's headers; the caller writes the rest of the response (for a
// Redirect, WriteRedirect). A credential or handshake cookie sent twice
// under one name (cookie tossing from a sibling subdomain) signs the
// request out.
func (h *Handshake) Authenticate(w http.ResponseWriter, r *http.Request) HandshakeResult {
	res := h.authenticate(w, r)
	if res.Status == SignedIn && cookieValue(r, CookieRedirectCount) != "" {
		// The handshakes ended in a session: the loop guard starts over,
		// so a second sign-in within the counter's life (another person
		// after a sign-out) is not taken for a loop.
		http.SetCookie(w, &http.Cookie{Name: CookieRedirectCount, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
			SameSite: http.SameSiteLaxMode, Secure: h.app.Scheme == "https"})
	}
	return res
}

func (h *Handshake) authenticate(w http.ResponseWriter, r *http.Request) HandshakeResult {
	ctx := r.Context()
	q := r.URL.Query()
	for _, n := range []string{CookieSession, CookieClientUAT, CookieDevBrowser, CookieHandshake, CookieHandshakeNonce, CookieRedirectCount,
		CookieSession + "_" + h.suffix, CookieClientUAT + "_" + h.suffix, CookieDevBrowser + "_" + h.suffix} {
		if len(r.CookiesNamed(n)) > 1 {
			return h.out("duplicate-cookie", ssoerr.Newf(ssoerr.ErrInvalidToken, ssoerr.ReasonAmbiguous, "cookie %s sent twice", n))
		}
	}
	for _, n := range []string{CookieHandshake, CookieHandshakeNonce, CookieDevBrowser} {
		if len(q[n]) > 1 {
			return h.out("duplicate-parameter", ssoerr.Newf(ssoerr.ErrInvalidToken, ssoerr.ReasonAmbiguous, "parameter %s given twice", n))
		}
	}

	// Step 1: a handshake payload or nonce.
	if res, ok := h.resolvePayload(ctx, w, r, q); ok {
		return res
	}
	c := h.cookieNames(r)
	session := cookieValue(r, c.session)
	uat := cookieValue(r, c.uat)
	if !h.live {
		// Step 3: a dev browser arriving in the query is synchronized.
		if q.Get(CookieDevBrowser) != "" {
			return h.handshake(w, r, "dev-browser-sync", c)
		}
		// Step 4: no dev browser at all.
		if cookieValue(r, c.devBrowser) == "" {
			return h.handshake(w, r, "dev-browser-missing", c)
		}
	}
	uatSec, uatErr := strconv.ParseInt(uat, 10, 64)
	if uat == "" || uatErr != nil || uatSec < 0 {
		uatSec = 0
	}
	switch {
	case uatSec == 0 && session == "":
		return h.out("session-token-and-uat-missing", nil) // step 5
	case uatSec == 0:
		return h.handshake(w, r, "session-token-but-no-client-uat", c) // step 6
	case session == "":
		return h.handshake(w, r, "client-uat-but-no-session-token", c) // step 7
	}
	s, err := h.v.Verify(ctx, session)
	switch {
	case err == nil:
		if s.IssuedAt.Unix() < uatSec {
			return h.handshake(w, r, "session-token-iat-before-client-uat", c) // step 9
		}
		return HandshakeResult{Status: SignedIn, Session: s, Token: session, Reason: "session-token-valid"}
	case errors.Is(err, ssoerr.ErrExpired):
		return h.handshakeOr(w, r, "session-token-expired", c, err) // step 11
	case ssoerr.ReasonOf(err) == ssoerr.ReasonNotYetValid:
		return h.handshakeOr(w, r, "session-token-nbf", c, err)
	case ssoerr.ReasonOf(err) == ssoerr.ReasonIssuedInFuture:
		return h.handshakeOr(w, r, "session-token-iat-in-the-future", c, err)
	}
	return h.out("session-token-invalid", err) // step 8 and the rest
}

func (h *Handshake) out(reason string, err error) HandshakeResult {
	if err != nil {
		h.log.Info("clerkauth: handshake signed out", "reason", reason, "err", err)
	}
	return HandshakeResult{Status: SignedOut, Reason: reason, Err: err}
}

// handshakeOr redirects when the request is eligible, else signs out with
// err.
func (h *Handshake) handshakeOr(w http.ResponseWriter, r *http.Request, reason string, c clerkCookies, err error) HandshakeResult {
	if !Eligible(r) {
		return h.out(reason, err)
	}
	return h.handshake(w, r, reason, c)
}

// handshake builds the redirect to the Frontend API, or signs out when the
// request cannot take one.
func (h *Handshake) handshake(w http.ResponseWriter, r *http.Request, reason string, c clerkCookies) HandshakeResult {
	if !Eligible(r) {
		return h.out(reason+" (not a page load)", nil)
	}
	n := redirectCount(r)
	if n >= MaxHandshakeRedirects {
		return h.out("handshake-loop", nil)
	}
	v := url.Values{
		"redirect_url":        {h.returnURL(r)},
		"__clerk_api_version": {HandshakeAPIVersion},
		"suffixed_cookies":    {strconv.FormatBool(c.suffixed)},
		"__clerk_hs_reason":   {reason},
	}
	if h.secret != "" {
		v.Set("format", "nonce")
	}
	if !h.live {
		db := r.URL.Query().Get(CookieDevBrowser)
		if db == "" {
			db = cookieValue(r, c.devBrowser)
		}
		if db != "" {
			v.Set(CookieDevBrowser, db)
		}
	}
	http.SetCookie(w, &http.Cookie{Name: CookieRedirectCount, Value: strconv.Itoa(n + 1), Path: "/",
		MaxAge: redirectCountAge, HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: h.app.Scheme == "https"})
	return HandshakeResult{Status: Redirect, Reason: reason, Location: h.fapi + "/v1/client/handshake?" + v.Encode()}
}

// clerkCookies are the names of the Clerk cookies a request is read
// from: the plain ones or the instance's suffixed ones.
type clerkCookies struct {
	suffixed                 bool
	session, uat, devBrowser string
}

// cookieNames decides, as Clerk's SDK does (usesSuffixedCookies), whether
// the browser's Clerk cookies are the instance's suffixed ones
// (__session_<suffix>, __client_uat_<suffix>, __clerk_db_jwt_<suffix>),
// which clerk-js writes beside the plain ones, or the plain ones, which
// every Clerk app on the site shares (another port on localhost,
// __client_uat on the eTLD+1). The tokens are decoded unverified only to
// choose; the one chosen is then verified in full.
func (h *Handshake) cookieNames(r *http.Request) clerkCookies {
	if h.usesSuffixedCookies(r) {
		return clerkCookies{suffixed: true, session: CookieSession + "_" + h.suffix,
			uat: CookieClientUAT + "_" + h.suffix, devBrowser: CookieDevBrowser + "_" + h.suffix}
	}
	return clerkCookies{session: CookieSession, uat: CookieClientUAT, devBrowser: CookieDevBrowser}
}

func (h *Handshake) usesSuffixedCookies(r *http.Request) bool {
	sfxUAT := cookieValue(r, CookieClientUAT+"_"+h.suffix)
	uat := cookieValue(r, CookieClientUAT)
	sfxSession := cookieValue(r, CookieSession+"_"+h.suffix)
	session := cookieValue(r, CookieSession)
	if session != "" {
		iss, _, _, ok := peekClaims(session)
		if !ok || iss == "" {
			return false
		}
		if host := strings.TrimPrefix(strings.TrimPrefix(iss, "https://"), "http://"); host != h.fapiHost {
			return true // the plain session is another instance's
		}
	}
	if sfxUAT == "" && sfxSession == "" {
		return false
	}
	_, iat, _, _ := peekClaims(session)
	_, sfxIat, sfxExp, sfxOK := peekClaims(sfxSession)
	switch {
	case sfxUAT != "0" && uat != "0" && iat > sfxIat:
		return false
	case sfxUAT == "0" && uat != "0":
		return false
	case !h.live && sfxOK && sfxUAT != "0" && uat == "0" && sfxExp <= float64(h.now().Unix()):
		return false
	case sfxUAT == "" && sfxSession != "":
		return false
	}
	return true
}

// peekClaims reads iss, iat and exp of a JWT without verifying it (zero
// when absent); ok is false when it does not decode.
func peekClaims(tok string) (iss string, iat, exp float64, ok bool) {
	_, rest, found := strings.Cut(tok, ".")
	pl, _, found2 := strings.Cut(rest, ".")
	if !found || !found2 || len(tok) > maxHandshakeBytes {
		return "", 0, 0, false
	}
	b, err := b64.DecodeString(pl)
	if err != nil {
		return "", 0, 0, false
	}
	var c struct {
		Iss any `json:"iss"`
		Iat any `json:"iat"`
		Exp any `json:"exp"`
	}
	if json.Unmarshal(b, &c) != nil {
		return "", 0, 0, false
	}
	iss, _ = c.Iss.(string)
	iat, _ = c.Iat.(float64)
	exp, _ = c.Exp.(float64)
	return iss, iat, exp, true
}

// handshakeParams are removed from the URL a handshake returns to.
var handshakeParams = []string{CookieHandshake, CookieHandshakeNonce, CookieDevBrowser, "__dev_session", "__clerk_help"}

// returnURL is the request's URL on the configured origin, without the
// handshake's own parameters.
func (h *Handshake) returnURL(r *http.Request) string {
	u := *h.app
	u.Path, u.RawPath = r.URL.Path, r.URL.RawPath
	q := r.URL.Query()
	for _, p := range handshakeParams {
		q.Del(p)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// CleanURL is the request's path and query without the handshake's
// parameters: where a development instance's handshake lands once its
// directives are applied. Leading slashes are folded into one: a request
// for //evil.test/ would otherwise be redirected to //evil.test/, which a
// browser reads as another host.
func CleanURL(r *http.Request) string {
	q := r.URL.Query()
	for _, p := range handshakeParams {
		q.Del(p)
	}
	u := url.URL{Path: "/" + strings.TrimLeft(r.URL.Path, "/"), RawQuery: q.Encode()}
	if r.URL.RawPath != "" {
		u.RawPath = "/" + strings.TrimLeft(r.URL.RawPath, "/")
	}
	return u.RequestURI()
}

// resolvePayload is step 1. It reports false when the request carries no
// payload or nonce.
func (h *Handshake) resolvePayload(ctx context.Context, w http.ResponseWriter, r *http.Request, q url.Values) (HandshakeResult, bool) {
	tok, nonce := q.Get(CookieHandshake), q.Get(CookieHandshakeNonce)
	inQuery := tok != "" || nonce != ""
	if tok == "" {
		tok = cookieValue(r, CookieHandshake)
	}
	if nonce == "" {
		nonce = cookieValue(r, CookieHandshakeNonce)
	}
	if tok == "" && nonce == "" {
		return HandshakeResult{}, false
	}
	if inQuery && h.live {
		return h.out("handshake-in-query", ssoerr.New(ssoerr.ErrInvalidToken, ReasonHandshakeInQuery,
			"a production instance delivers the handshake in a cookie, never in the URL")), true
	}
	var directives []string
	var err error
	if tok != "" {
		directives, err = h.verifyPayload(ctx, tok)
	} else {
		directives, err = h.fetchNonce(ctx, nonce)
	}
	if err != nil {
		return h.out("handshake-invalid", err), true
	}
	var sessionTok string
	for _, d := range directives {
		c, err := http.ParseSetCookie(d)
		if err != nil || !h.allowNames[c.Name] {
			h.log.Info("clerkauth: handshake directive skipped", "name", cookieName(d))
			continue
		}
		if !h.domainOK(c.Domain) {
			h.log.Info("clerkauth: handshake directive for another domain skipped", "name", c.Name, "domain", c.Domain)
			continue
		}
		if s := c.String(); s != "" {
			w.Header().Add("Set-Cookie", s)
		}
		if c.Name == CookieSession || c.Name == CookieSession+"_"+h.suffix {
			sessionTok = c.Value
			if c.MaxAge < 0 || (!c.Expires.IsZero() && !c.Expires.After(h.now())) {
				sessionTok = ""
			}
		}
	}
	if sessionTok == "" {
		return h.out("handshake-signed-out", nil), true
	}
	s, err := h.v.Verify(ctx, sessionTok)
	if err != nil {
		return h.out("handshake-session-invalid", err), true
	}
	return HandshakeResult{Status: SignedIn, Session: s, Token: sessionTok, Reason: "handshake"}, true
}

// domainOK accepts a directive's Domain when it is empty or the request
// host or one of its parent domains (a browser would refuse the rest).
func (h *Handshake) domainOK(domain string) bool {
	if domain == "" {
		return true
	}
	host := strings.ToLower(h.app.Hostname())
	d := strings.ToLower(strings.TrimPrefix(domain, "."))
	return host == d || (strings.HasSuffix(host, "."+d) && strings.Contains(d, "."))
}

func cookieName(directive string) string {
	name, _, _ := strings.Cut(directive, "=")
	if len(name) > 64 {
		name = name[:64]
	}
	return strings.TrimSpace(name)
}

// verifyPayload checks a handshake JWT as Clerk's SDK does (typ, alg, cat,
// signature with the instance keys) with a strict JSON pass, and returns
// its directives.
func (h *Handshake) verifyPayload(ctx context.Context, tok string) ([]string, error) {
	if len(tok) > maxHandshakeBytes {
		return nil, invalidf(ssoerr.ReasonTooLarge, "handshake payload is %d bytes, limit %d", len(tok), maxHandshakeBytes)
	}
	hs, rest, ok := strings.Cut(tok, ".")
	pl, sig, ok2 := strings.Cut(rest, ".")
	if !ok || !ok2 || strings.IndexByte(sig, '.') >= 0 {
		return nil, invalid(ssoerr.ReasonMalformed, "handshake payload is not a compact JWS")
	}
	hb, err := b64.DecodeString(hs)
	if err != nil {
		return nil, invalidf(ssoerr.ReasonMalformed, "handshake header: %v", err)
	}
	if err := strictjson.Check(hb, "alg", "kid", "typ", "cat", "crit"); err != nil {
		return nil, invalidf(ssoerr.ReasonMalformed, "handshake header: %v", err)
	}
	var hdr struct {
		Alg  string          `json:"alg"`
		Kid  string          `json:"kid"`
		Typ  *string         `json:"typ"`
		Cat  *string         `json:"cat"`
		Crit json.RawMessage `json:"crit"`
	}
	if err := json.Unmarshal(hb, &hdr); err != nil {
		return nil, invalidf(ssoerr.ReasonMalformed, "handshake header: %v", err)
	}
	if hdr.Crit != nil {
		return nil, invalid(ssoerr.ReasonCritical, "crit header present")
	}
	if hdr.Typ != nil && *hdr.Typ != "JWT" {
		return nil, invalidf(ssoerr.ReasonType, "typ %q", *hdr.Typ)
	}
	if !sessionCategory(hdr.Cat) {
		return nil, invalidf(ReasonHandshakeCategory, "cat %q is not a session category", *hdr.Cat)
	}
	var hf func() hash.Hash
	var ch crypto.Hash
	switch hdr.Alg {
	case "RS256":
		hf, ch = sha256.New, crypto.SHA256
	case "RS384":
		hf, ch = sha512.New384, crypto.SHA384
	case "RS512":
		hf, ch = sha512.New, crypto.SHA512
	default:
		return nil, invalidf(ssoerr.ReasonAlgorithm, "alg %q", hdr.Alg)
	}
	if hdr.Kid == "" {
		return nil, invalid(ssoerr.ReasonMissingKeyID, "no kid header")
	}
	pub, err := h.v.keys.key(ctx, hdr.Kid)
	if err != nil {
		return nil, err
	}
	sb, err := b64.DecodeString(sig)
	if err != nil {
		return nil, invalidf(ssoerr.ReasonMalformed, "handshake signature: %v", err)
	}
	d := hf()
	d.Write([]byte(tok[:len(hs)+1+len(pl)]))
	if err := rsa.VerifyPKCS1v15(pub.Public(), ch, d.Sum(nil), sb); err != nil {
		return nil, invalid(ssoerr.ReasonSignature, "handshake signature does not verify")
	}
	payload, err := b64.DecodeString(pl)
	if err != nil {
		return nil, invalidf(ssoerr.ReasonMalformed, "handshake payload: %v", err)
	}
	if err := strictjson.Check(payload, "handshake"); err != nil {
		return nil, invalidf(ssoerr.ReasonMalformed, "handshake payload: %v", err)
	}
	var body struct {
		Handshake []string `json:"handshake"`
	}
	if err := json.Unmarshal(payload, &body); err != nil {
		return nil, invalidf(ssoerr.ReasonMalformed, "handshake payload: %v", err)
	}
	return body.Handshake, checkDirectives(body.Handshake)
}

func checkDirectives(ds []string) error {
	if len(ds) > maxDirectives {
		return invalidf(ReasonHandshakeDirectives, "%d directives, limit %d", len(ds), maxDirectives)
	}
	for _, d := range ds {
		if len(d) > maxDirectiveBytes {
			return invalidf(ReasonHandshakeDirectives, "a directive of %d bytes", len(d))
		}
	}
	return nil
}

// fetchNonce asks the Backend API for the directives a nonce names.
func (h *Handshake) fetchNonce(ctx context.Context, nonce string) ([]string, error) {
	if h.secret == "" {
		return nil, invalid(ssoerr.ReasonMalformed, "a handshake nonce needs the secret key to fetch its payload")
	}
	if len(nonce) > 256 {
		return nil, invalid(ssoerr.ReasonTooLarge, "handshake nonce too long")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.api+"/clients/handshake_payload?"+url.Values{"nonce": {nonce}}.Encode(), nil)
	if err != nil {
		return nil, invalid(ssoerr.ReasonMalformed, "handshake nonce")
	}
	req.Header.Set("Authorization", "Bearer "+h.secret)
	req.Header.Set("Clerk-API-Version", HandshakeAPIVersion)
	resp, err := h.client.Do(req)
	if err != nil {
		return nil, ssoerr.Upstream(ssoerr.ReasonClerkAPI, errors.New("handshake payload fetch failed"))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxNoncePayload+1))
	switch {
	case err != nil || resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
		return nil, ssoerr.Upstream(ssoerr.ReasonClerkAPI, fmt.Errorf("handshake payload fetch: status %d", resp.StatusCode))
	case resp.StatusCode != http.StatusOK:
		return nil, invalidf(ssoerr.ReasonMalformed, "handshake nonce refused by the Backend API (status %d)", resp.StatusCode)
	case len(body) > maxNoncePayload:
		return nil, invalid(ssoerr.ReasonTooLarge, "handshake payload too large")
	}
	if err := strictjson.Check(body, "directives"); err != nil {
		return nil, invalidf(ssoerr.ReasonMalformed, "handshake payload: %v", err)
	}
	var p struct {
		Directives []string `json:"directives"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, invalidf(ssoerr.ReasonMalformed, "handshake payload: %v", err)
	}
	return p.Directives, checkDirectives(p.Directives)
}

// cookieValue is the value of the one cookie named name ("" when absent;
// Authenticate refuses duplicates before reading).
func cookieValue(r *http.Request, name string) string {
	if cs := r.CookiesNamed(name); len(cs) == 1 {
		return cs[0].Value
	}
	return ""
}

func redirectCount(r *http.Request) int {
	n, err := strconv.Atoi(cookieValue(r, CookieRedirectCount))
	if err != nil || n < 0 {
		return 0
	}
	return n
}
