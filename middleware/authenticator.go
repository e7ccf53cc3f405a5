package middleware

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ssokit/ssokit/admission"
	"github.com/ssokit/ssokit/apikey"
	"github.com/ssokit/ssokit/appsession"
	"github.com/ssokit/ssokit/clerkauth"
	"github.com/ssokit/ssokit/internal/ttlcache"
	"github.com/ssokit/ssokit/rbac"
	"github.com/ssokit/ssokit/ssoerr"
	"github.com/ssokit/ssokit/ssoevent"
	"github.com/ssokit/ssokit/store"
)

// Defaults for the zero values of AuthenticatorConfig.
const (
	// DefaultSessionCookie is the cookie in which Clerk's frontend keeps the
	// session token on the application's own domain.
	DefaultSessionCookie = "__session"
	// DefaultClientUATCookie is the cookie in which Clerk's frontend keeps
	// the time of the browser's last sign-in or sign-out (unix seconds; 0
	// once signed out).
	DefaultClientUATCookie = "__client_uat"
	// DefaultCacheSize bounds each principal cache (one per credential
	// kind).
	DefaultCacheSize = 10_000
	// maxCacheTTL bounds an entry whose credential has no expiry (an API
	// key without one); the store version is checked on every hit anyway.
	maxCacheTTL = time.Hour
)

// AuthenticatorConfig configures an Authenticator. At least one credential
// source (Clerk, Sessions, APIKeys) is required; Sessions and APIKeys need
// Admission, whose organization rules decide whether a session or key still
// counts.
type AuthenticatorConfig struct {
	// Clerk verifies Clerk session tokens (Bearer or __session cookie).
	Clerk *clerkauth.Verifier
	// Sessions verifies the app's own session cookie.
	Sessions *appsession.Manager
	// APIKeys checks agent API keys (X-API-Key, or a Bearer token with the
	// key prefix).
	APIKeys *apikey.Manager
	// Admission applies the organizations' rules: an app session of a
	// removed person or of a password login in an org that now requires
	// SSO ends; an org that disables API keys refuses them; and a Clerk
	// token whose organization and email map to an app person carries that
	// person's app organization and role.
	Admission *admission.Admitter
	// Versions, when set, reports a counter that moves whenever anything
	// that can end a session or key changes (store.Memory implements
	// it). Checks that passed are then remembered per
	// credential until it moves; without it every request is checked in
	// full.
	Versions store.Versioned
	// Policy ranks roles and grants permissions for RequireRole and
	// RequirePermission. Nil means the Admission's policy, or
	// rbac.MustDefault() without one.
	Policy *rbac.Policy
	// ClerkRoles gives a Clerk-token principal not mapped to an app person
	// an app role from its Clerk organization role, e.g.
	// {"org:admin": "admin", "org:member": "viewer"}, so RequireRole and
	// RequirePermission work on Clerk tokens alone. Keys match with or
	// without the "org:" prefix. Nil, or a role not listed, leaves the role
	// empty, which every RequireRole refuses.
	ClerkRoles map[string]rbac.Role
	// ClerkUsers looks up the email of a Clerk session whose token carries
	// none (ClerkLogin needs it to admit the person).
	ClerkUsers *clerkauth.Users
	// GroupsClaim and IdPClaim name the Clerk token claims carrying the IdP
	// groups and the IdP name. Zero means "groups" and "idp".
	GroupsClaim, IdPClaim string
	// JoinedGroups names, by the IdP claim's value, the identity providers
	// whose groups claim may arrive as one string that joins the groups
	// with a separator, and that separator: {"onelogin": ";"}. A groups
	// claim that is one string from any other IdP, or with no IdP claim,
	// is one group: a group name holding a separator (a Google group a
	// user named "Book club; admins") is never read as two, one of them a
	// group the person is not in.
	JoinedGroups map[string]string
	// SessionCookie is Clerk's session cookie, read when the request has no
	// Bearer token and no app session. Zero means DefaultSessionCookie.
	SessionCookie string
	// ClientUATCookie is Clerk's __client_uat cookie that goes with
	// SessionCookie: a token from the session cookie counts only when it
	// is there, not 0 (the browser's Clerk client signed out), and not
	// after the token's iat (the client signed in again since), as Clerk's
	// SDK reads the pair. Zero means "__client_uat" followed by whatever
	// follows "__session" in SessionCookie (its suffix, as in
	// "__session_<suffix>").
	ClientUATCookie string
	// CacheSize bounds each of the three principal caches (Clerk tokens,
	// app sessions, API keys). Zero means DefaultCacheSize. An entry never
	// outlives its credential.
	CacheSize int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// ErrorHandler writes the response for a refused request. It receives
	// the refusal (match it with errors.Is against the ssoerr sentinels).
	// Nil means WriteError, which answers per RFC 6750.
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)
	// Logger receives every decision as an ssoevent record: refusals and
	// unavailability at Info, acceptances at Debug. Nil means silent.
	Logger *slog.Logger
	// OnEvent receives every authentication decision (and every
	// authorization refusal) as an ssoevent.Event: metrics, audit. Nil
	// means none. It runs on the request's goroutine and must not block.
	OnEvent ssoevent.Hook
}

// Authenticator turns a request's credential into a Principal. The
// decision is Authenticate; Handler adapts it to net/http.
type Authenticator struct {
	clerk        *clerkauth.Verifier
	sessions     *appsession.Manager
	apiKeys      *apikey.Manager
	admit        *admission.Admitter
	versions     store.Versioned
	policy       *rbac.Policy
	clerkRoles   map[string]rbac.Role
	clerkUsers   *clerkauth.Users
	groupsClaim  string
	joinedGroups map[string]string
	idpClaim     string
	cookie       string
	uatCookie    string
	now          func() time.Time
	onError      func(w http.ResponseWriter, r *http.Request, err error)
	log          *slog.Logger
	events       ssoevent.Emitter
	emitting     bool // a logger or hook is set: decisions become events

	clerkCache, appCache, keyCache *ttlcache.Cache[*cached]
}

// cached is a principal whose credential verified, and the store version
// (+1; 0 = never) at which the organization's checks last passed.
type cached struct {
	p       *Principal
	checked atomic.Uint64
}

// NewAuthenticator validates cfg and returns an Authenticator.
func NewAuthenticator(cfg AuthenticatorConfig) (*Authenticator, error) {
	if cfg.Clerk == nil && cfg.Sessions == nil && cfg.APIKeys == nil {
		return nil, errors.New("middleware: AuthenticatorConfig needs Clerk, Sessions or APIKeys")
	}
	if (cfg.Sessions != nil || cfg.APIKeys != nil) && cfg.Admission == nil {
		return nil, errors.New("middleware: app sessions and API keys need AuthenticatorConfig.Admission")
	}
	a := &Authenticator{clerk: cfg.Clerk, sessions: cfg.Sessions, apiKeys: cfg.APIKeys, admit: cfg.Admission, versions: cfg.Versions,
		policy: cfg.Policy, clerkRoles: cfg.ClerkRoles, clerkUsers: cfg.ClerkUsers, groupsClaim: cfg.GroupsClaim, joinedGroups: maps.Clone(cfg.JoinedGroups), idpClaim: cfg.IdPClaim,
		cookie: cfg.SessionCookie, uatCookie: cfg.ClientUATCookie, now: cfg.Now, onError: cfg.ErrorHandler, log: cfg.Logger,
		events: ssoevent.Emitter{Logger: cfg.Logger, Hook: cfg.OnEvent}, emitting: cfg.Logger != nil || cfg.OnEvent != nil}
	if a.policy == nil {
		if a.admit != nil {
			a.policy = a.admit.Policy()
		} else {
			a.policy = rbac.MustDefault()
		}
	}
	if a.groupsClaim == "" {
		a.groupsClaim = "groups"
	}
	if a.idpClaim == "" {
		a.idpClaim = "idp"
	}
	if a.cookie == "" {
		a.cookie = DefaultSessionCookie
	}
	if a.uatCookie == "" {
		suffix, ok := strings.CutPrefix(a.cookie, DefaultSessionCookie)
		if !ok {
			suffix = ""
		}
		a.uatCookie = DefaultClientUATCookie + suffix
	}
	if a.now == nil {
		a.now = time.Now
	}
	if a.onError == nil {
		a.onError = WriteError
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	size := cfg.CacheSize
	if size <= 0 {
		size = DefaultCacheSize
	}
	for _, c := range []**ttlcache.Cache[*cached]{&a.clerkCache, &a.appCache, &a.keyCache} {
		var err error
		if *c, err = ttlcache.New[*cached](ttlcache.Config{MaxEntries: size, TTL: maxCacheTTL, Now: a.now}); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// Authenticate decides who made r. An X-API-Key header, else an
// Authorization Bearer token (an API key or a Clerk token), else the app
// session cookie, else Clerk's __session cookie: the first present is the
// credential, and a refused one never falls back to the next. An absent
// credential is ssoerr.ErrNoCredentials; an empty, duplicated, undecodable
// or failing one is a refusal, never a pass-through.
func (a *Authenticator) Authenticate(r *http.Request) (*Principal, error) {
	p, err := a.authenticate(r)
	if a.emitting {
		a.emit(r, ssoevent.Authentication, p, err)
	}
	return p, err
}

// emit sends one decision about r as an event, if anything reads it.
func (a *Authenticator) emit(r *http.Request, kind ssoevent.Kind, p *Principal, err error) {
	e := ssoevent.Event{Kind: kind, Outcome: ssoevent.Accepted, Method: r.Method, Path: r.URL.Path}
	switch {
	case err == nil:
	case errors.Is(err, ssoerr.ErrUpstream):
		e.Outcome, e.Reason = ssoevent.Unavailable, string(ssoerr.ReasonOf(err))
	default:
		e.Outcome, e.Reason = ssoevent.Refused, string(ssoerr.ReasonOf(err))
		if errors.Is(err, ssoerr.ErrNoCredentials) {
			e.Reason = CodeNoCredentials
		}
	}
	ctx := r.Context()
	if !a.events.Active(ctx, e.Level()) {
		return
	}
	e.Time = a.now()
	if p != nil {
		e.Credential, e.UserID, e.OrgID, e.Email = string(p.Credential), p.UserID, p.OrgID, p.Email
		e.AuthMethod, e.IdPName = p.AuthMethod, p.IdPName
	}
	a.events.Emit(ctx, e)
}

// authenticate is Authenticate's decision, before it is recorded.
func (a *Authenticator) authenticate(r *http.Request) (*Principal, error) {
	ctx := r.Context()
	if a.apiKeys != nil {
		if vs := r.Header["X-Api-Key"]; len(vs) > 0 {
			if len(vs) > 1 {
				return nil, ssoerr.New(ssoerr.ErrInvalidToken, ssoerr.ReasonAmbiguous, "more than one X-API-Key header")
			}
			return a.apiKey(ctx, vs[0])
		}
	}
	tok, fromHeader, err := bearer(r)
	if err != nil {
		return nil, err
	}
	if fromHeader {
		if a.apiKeys != nil && a.apiKeys.Looks(tok) {
			return a.apiKey(ctx, tok)
		}
		if a.clerk == nil {
			return nil, ssoerr.New(ssoerr.ErrInvalidToken, ssoerr.ReasonMalformed, "Bearer token is neither an API key nor a session this app accepts")
		}
		return a.clerkToken(ctx, tok)
	}
	if a.sessions != nil {
		// A session cookie seen before, sent once, is found in the cache
		// without net/http's cookie parsing, which validates every byte of
		// the value and allocates: the cache holds only values that were
		// validated and verified when first seen, so nothing is skipped.
		// Either way the cache is looked up once per request.
		raw, single := onlyCookie(r, a.sessions.CookieName())
		if single {
			if e, hit := a.appCache.Get(raw); hit {
				if a.fresh(e, a.version()) {
					return e.p, nil
				}
				return a.appEntry(ctx, raw, e)
			}
		}
		if v, ok, err := cookie(r, a.sessions.CookieName()); err != nil {
			return nil, err
		} else if ok {
			if single && v == raw {
				return a.appEntry(ctx, v, nil) // the fast path's lookup missed it
			}
			return a.appSession(ctx, v)
		}
	}
	if a.clerk != nil {
		if v, ok, err := cookie(r, a.cookie); err != nil {
			return nil, err
		} else if ok {
			p, err := a.clerkToken(ctx, v)
			if err != nil {
				return nil, err
			}
			if err := a.clientSignedIn(r, p.IssuedAt); err != nil {
				return nil, err
			}
			return p, nil
		}
	}
	return nil, ssoerr.ErrNoCredentials
}

// clientSignedIn applies Clerk's __client_uat to a session token from the
// cookie (issued at iat), as Clerk's SDK does before it trusts the cookie:
// a browser whose Clerk client signed out (the cookie missing or 0), or
// signed in again after the token was issued (the browser's sessions
// changed), has no session in the cookie, even an unexpired one.
func (a *Authenticator) clientSignedIn(r *http.Request, iat time.Time) error {
	cs := r.CookiesNamed(a.uatCookie)
	if len(cs) > 1 {
		return ssoerr.Newf(ssoerr.ErrInvalidToken, ssoerr.ReasonAmbiguous, "cookie %s sent %d times", a.uatCookie, len(cs))
	}
	var uat int64
	if len(cs) == 1 {
		uat, _ = strconv.ParseInt(cs[0].Value, 10, 64) // not a number: as none
	}
	switch {
	case uat <= 0:
		return ssoerr.Newf(ssoerr.ErrInvalidToken, ssoerr.ReasonClientSignedOut, "%s missing or 0: the Clerk client is signed out", a.uatCookie)
	case iat.IsZero() || iat.Unix() < uat:
		return ssoerr.Newf(ssoerr.ErrInvalidToken, ssoerr.ReasonClientSignedOut, "the session token was issued before %s %d", a.uatCookie, uat)
	}
	return nil
}

// version is the store version + 1, or 0 when the store has none (then
// nothing is remembered as checked).
func (a *Authenticator) version() uint64 {
	if a.versions == nil {
		return 0
	}
	return a.versions.Version() + 1
}

// fresh reports whether e's checks passed at the current version.
func (a *Authenticator) fresh(e *cached, ver uint64) bool {
	return ver != 0 && e.checked.Load() == ver
}

// appSession verifies the app's session cookie and applies what can end
// it early (its jti revoked, the person removed or revoked, require_sso
// after a password login).
func (a *Authenticator) appSession(ctx context.Context, tok string) (*Principal, error) {
	e, _ := a.appCache.Get(tok)
	return a.appEntry(ctx, tok, e)
}

// appEntry is appSession once the cache has been asked: e is tok's entry,
// nil when it has none.
func (a *Authenticator) appEntry(ctx context.Context, tok string, e *cached) (*Principal, error) {
	ver := a.version()
	if e != nil && a.fresh(e, ver) {
		return e.p, nil
	}
	hit := e != nil
	if !hit {
		c, err := a.sessions.Verify(tok)
		if err != nil {
			return nil, err
		}
		e = &cached{p: &Principal{Credential: CredentialAppSession, UserID: c.Subject, Email: c.Email, OrgID: c.OrgID, Role: c.Role,
			AuthMethod: c.AuthMethod, IdPName: c.IdPName, SessionID: c.ID, IssuedAt: c.IssuedTime(), ExpiresAt: c.ExpiresTime(), App: c}}
	}
	if revoked, err := a.sessions.Revoked(ctx, e.p.App); err != nil {
		return nil, err
	} else if revoked {
		return nil, ssoerr.Newf(ssoerr.ErrInvalidToken, ssoerr.ReasonSessionRevoked, "session %s revoked", e.p.SessionID)
	}
	if err := a.admit.CheckSession(ctx, admission.Session{UserID: e.p.UserID, OrgID: e.p.OrgID, AuthMethod: e.p.AuthMethod, IssuedAt: e.p.IssuedAt}); err != nil {
		return nil, err
	}
	e.checked.Store(ver)
	if !hit {
		a.appCache.Set(tok, e, e.p.ExpiresAt)
	}
	return e.p, nil
}

// apiKey checks an API key and its organization's rules; a key that passed
// at the current store version costs a cache lookup and a lock-free
// last-use record.
func (a *Authenticator) apiKey(ctx context.Context, tok string) (*Principal, error) {
	ver := a.version()
	if e, ok := a.keyCache.Get(tok); ok && a.fresh(e, ver) {
		// The cache entry dies at the key's expiry, so a hit is unexpired.
		a.apiKeys.RecordUse(e.p.APIKeyID, a.now())
		return e.p, nil
	}
	k, err := a.apiKeys.Verify(ctx, tok)
	if err != nil {
		a.keyCache.Delete(tok)
		return nil, err
	}
	if err := a.admit.CheckAPIKey(ctx, k); err != nil {
		return nil, err
	}
	e := &cached{p: &Principal{Credential: CredentialAPIKey, APIKeyID: k.ID, OrgID: k.OrgID, Role: k.Role,
		AuthMethod: admission.MethodAPIKey, ExpiresAt: k.Expires}}
	e.checked.Store(ver)
	a.keyCache.Set(tok, e, k.Expires)
	return e.p, nil
}

// clerkToken verifies a Clerk session token. With Admission, a token whose
// Clerk organization and email map to an app person carries that person's
// app user, organization and role (looked up again whenever the store
// version moves); otherwise ClerkRoles may give it a role.
func (a *Authenticator) clerkToken(ctx context.Context, tok string) (*Principal, error) {
	ver := a.version()
	e, hit := a.clerkCache.Get(tok)
	if hit && (a.admit == nil || a.fresh(e, ver)) {
		return e.p, nil
	}
	s, err := a.clerk.Verify(ctx, tok)
	if err != nil {
		return nil, err
	}
	p := &Principal{Credential: CredentialClerkSession, Email: s.Email, SessionID: s.SessionID, ClerkUserID: s.UserID,
		ClerkOrg: s.Org, IssuedAt: s.IssuedAt, ExpiresAt: s.ExpiresAt, Clerk: s}
	if a.admit != nil && s.Org.ID != "" && s.Email != "" {
		person, ok, err := a.admit.Lookup(ctx, s.Org.ID, s.Email, s.UserID)
		if err != nil {
			return nil, err
		}
		if ok {
			p.UserID, p.OrgID, p.Role, p.AuthMethod, p.Email = person.UserID, person.OrgID, person.Role, admission.MethodSSO, person.Email
			p.IdPName, _ = claimString(s, a.idpClaim)
		}
	}
	if p.OrgID == "" {
		p.Role = a.clerkRole(s.Org)
	}
	if a.admit != nil && ver == 0 {
		return p, nil // the mapping is looked up on every request: nothing to remember
	}
	e = &cached{p: p}
	e.checked.Store(ver)
	a.clerkCache.Set(tok, e, s.ExpiresAt)
	return p, nil
}

// clerkRole is the app role ClerkRoles gives a Clerk organization role.
func (a *Authenticator) clerkRole(org clerkauth.Org) string {
	if org.ID == "" || a.clerkRoles == nil {
		return ""
	}
	role, ok := a.clerkRoles[org.Role]
	if !ok {
		if rest, cut := strings.CutPrefix(org.Role, "org:"); cut {
			role = a.clerkRoles[rest]
		} else if org.Role != "" {
			role = a.clerkRoles["org:"+org.Role]
		}
	}
	return string(role)
}

func claimString(s *clerkauth.Session, name string) (string, bool) {
	var v string
	ok, err := s.Claim(name, &v)
	return v, ok && err == nil
}

// bearer returns the Authorization Bearer token (fromHeader) if any.
// Another scheme (Basic for a proxy, say) is not ours to judge.
func bearer(r *http.Request) (tok string, fromHeader bool, err error) {
	switch hs := r.Header["Authorization"]; len(hs) {
	case 0:
	case 1:
		scheme, tok, _ := strings.Cut(hs[0], " ")
		if strings.EqualFold(scheme, "Bearer") {
			tok = strings.TrimLeft(tok, " ")
			if tok == "" {
				return "", false, ssoerr.New(ssoerr.ErrInvalidToken, ssoerr.ReasonEmptyToken, "Bearer scheme with no token")
			}
			return tok, true, nil
		}
	default:
		return "", false, ssoerr.New(ssoerr.ErrInvalidToken, ssoerr.ReasonAmbiguous, "more than one Authorization header")
	}
	return "", false, nil
}

// onlyCookie returns the raw value of the one cookie called name in r's
// Cookie headers, split and trimmed as net/http splits them; false when
// there is none, or more than one (a part counts whatever its value, so
// where net/http would see two, onlyCookie never sees one), or the value
// is quoted. It allocates nothing. Callers use the value only as a key of
// values already verified.
func onlyCookie(r *http.Request, name string) (string, bool) {
	var found string
	n := 0
	for _, line := range r.Header["Cookie"] {
		for line != "" {
			part, rest, _ := strings.Cut(line, ";")
			line = rest
			k, v, _ := strings.Cut(textproto.TrimString(part), "=")
			if textproto.TrimString(k) != name {
				continue
			}
			if n++; n > 1 {
				return "", false
			}
			found = v
		}
	}
	if n != 1 || found == "" || strings.HasPrefix(found, `"`) {
		return "", false
	}
	return found, true
}

// cookie reads the credential cookie name. A cookie sent twice (one of
// them planted from a sibling subdomain, say) is ambiguous and refused; an
// empty one is refused.
func cookie(r *http.Request, name string) (string, bool, error) {
	cs := r.CookiesNamed(name)
	switch {
	case len(cs) == 0:
		return "", false, nil
	case len(cs) > 1:
		return "", false, ssoerr.Newf(ssoerr.ErrInvalidToken, ssoerr.ReasonAmbiguous, "cookie %s sent %d times", name, len(cs))
	case cs[0].Value == "":
		return "", false, ssoerr.Newf(ssoerr.ErrInvalidToken, ssoerr.ReasonEmptyToken, "empty %s cookie", name)
	}
	return cs[0].Value, true, nil
}

// Handler returns middleware that authenticates every request before next
// runs. The Principal is in the request context (PrincipalFrom), and for
// Clerk sessions the SDK's claims are too (clerk.SessionClaimsFromContext),
// so handlers written for clerk-sdk-go keep working. Refusals go to the
// configured ErrorHandler and next is not called.
func (a *Authenticator) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := a.Authenticate(r)
		if err != nil {
			a.Refuse(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(withRequest(r.Context(), p)))
	})
}

// Refuse answers a refusal through the configured ErrorHandler. An
// authorization refusal (ssoerr.ErrForbidden) is recorded as an event with
// the principal in r's context; an authentication refusal was recorded by
// Authenticate, so here it is only logged at Debug with its error.
func (a *Authenticator) Refuse(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, ssoerr.ErrForbidden) && a.emitting {
		p, _ := PrincipalFrom(r.Context())
		a.emit(r, ssoevent.Authorization, p, err)
	} else {
		a.log.LogAttrs(r.Context(), slog.LevelDebug, "middleware: request refused",
			slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.String("reason", string(ssoerr.ReasonOf(err))), slog.String("err", err.Error()))
	}
	a.onError(w, r, err)
}

// Policy is the authenticator's RBAC policy.
func (a *Authenticator) Policy() *rbac.Policy { return a.policy }
