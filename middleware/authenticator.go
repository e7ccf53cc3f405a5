package middleware

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/clerk/clerk-sdk-go/v2"
	"github.com/ssokit/ssokit/rbac"
	"github.com/ssokit/ssokit/store"
)

// DefaultSessionCookie is the cookie in which Clerk's frontend keeps the
// session token on the application's own domain.
const DefaultSessionCookie = "__session"

// AuthenticatorConfig configures an Authenticator. At least one credential
// source (Clerk, Sessions, APIKeys) is required.
type AuthenticatorConfig struct {
	// Clerk verifies Clerk session tokens (Bearer or __session cookie).
	Clerk *ClerkVerifier

	// Sessions verifies the app's own session cookie and issues it.
	Sessions *Sessions

	// APIKeys checks agent API keys (X-API-Key, or a Bearer token with
	// the key prefix).
	APIKeys *APIKeys

	// Store holds organizations, users, keys and revocations; needed for
	// admission, password login, revocation and API keys.
	Store store.Store

	// Policy ranks roles and grants permissions. Nil means
	// rbac.DefaultRoles.
	Policy *rbac.Policy

	// ClerkUsers looks up the email of a Clerk token without one.
	ClerkUsers *ClerkUsers

	// ClerkRoles gives a Clerk-token principal an app role from its Clerk
	// organization role when there is no Store (a handler protected by
	// Clerk alone), e.g. {"org:admin": "admin", "org:member": "viewer"}, so
	// RequireRole and RequirePermission work on Clerk tokens. Keys match
	// with or without the "org:" prefix. Nil, or a role not listed, leaves
	// the role empty, which every RequireRole refuses. With a Store, the
	// stored role applies instead.
	ClerkRoles map[string]rbac.Role

	// SSOPlans are the organization plans entitled to SSO. Zero means
	// enterprise and growth.
	SSOPlans []string

	// GroupsClaim and IdPClaim name the Clerk token claims carrying the
	// IdP groups and the IdP name. Zero means "groups" and "idp".
	GroupsClaim, IdPClaim string

	// Now is the clock; nil means time.Now.
	Now func() time.Time

	// SessionCookie is the cookie read when the request has no Bearer
	// token. Zero means DefaultSessionCookie ("__session").
	SessionCookie string

	// ErrorHandler writes the response for a refused request. It receives
	// the refusal (match it with errors.Is against ErrNoCredentials,
	// ErrInvalidToken, ErrExpired, ErrForbidden, ErrUpstream). Nil means
	// WriteError, which answers per RFC 6750.
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)

	// Logger receives each refusal with its reason. Nil means silent.
	Logger *slog.Logger
}

// Authenticator turns a request's credential into a Principal. The decision
// is Authenticate; Handler adapts it to net/http.
type Authenticator struct {
	clerk        *ClerkVerifier
	sessions     *Sessions
	apiKeys      *APIKeys
	store        store.Store
	policy       *rbac.Policy
	clerkUsers   *ClerkUsers
	ssoPlans     []string
	groupsClaim  string
	idpClaim     string
	clerkRoles   map[string]rbac.Role
	now          func() time.Time
	accountLimit *limiter
	ipLimit      *limiter
	cookie       string
	onError      func(w http.ResponseWriter, r *http.Request, err error)
	log          *slog.Logger
}

// NewAuthenticator validates cfg and returns an Authenticator.
func NewAuthenticator(cfg AuthenticatorConfig) (*Authenticator, error) {
	if cfg.Clerk == nil && cfg.Sessions == nil && cfg.APIKeys == nil {
		return nil, errors.New("ssokit: AuthenticatorConfig needs Clerk, Sessions or APIKeys")
	}
	if cfg.APIKeys != nil && cfg.Store == nil {
		return nil, errors.New("ssokit: API keys need AuthenticatorConfig.Store")
	}
	a := &Authenticator{clerk: cfg.Clerk, sessions: cfg.Sessions, apiKeys: cfg.APIKeys, store: cfg.Store, policy: cfg.Policy,
		clerkUsers: cfg.ClerkUsers, ssoPlans: cfg.SSOPlans, groupsClaim: cfg.GroupsClaim, idpClaim: cfg.IdPClaim, clerkRoles: cfg.ClerkRoles, now: cfg.Now,
		cookie: cfg.SessionCookie, onError: cfg.ErrorHandler, log: cfg.Logger}
	if a.policy == nil {
		a.policy = rbac.MustDefault()
	}
	if a.ssoPlans == nil {
		a.ssoPlans = defaultSSOPlans
	}
	if a.groupsClaim == "" {
		a.groupsClaim = "groups"
	}
	if a.idpClaim == "" {
		a.idpClaim = "idp"
	}
	if a.now == nil {
		a.now = time.Now
	}
	a.accountLimit = newLimiter(10, 15*time.Minute, a.now)
	a.ipLimit = newLimiter(100, 15*time.Minute, a.now)
	if a.cookie == "" {
		a.cookie = DefaultSessionCookie
	}
	if a.onError == nil {
		a.onError = WriteError
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	return a, nil
}

// Authenticate decides who made r. The token is taken from the
// Authorization header when it uses the Bearer scheme, otherwise from the
// session cookie; a Bearer header always wins, and a refused header never
// falls back to the cookie. An absent credential is ErrNoCredentials; an
// empty, undecodable or failing one is a refusal, never a pass-through.
func (a *Authenticator) Authenticate(r *http.Request) (*Principal, error) {
	ctx := r.Context()
	if a.apiKeys != nil {
		if vs := r.Header["X-Api-Key"]; len(vs) > 0 {
			if len(vs) > 1 {
				return nil, invalid(ReasonAmbiguous, "more than one X-API-Key header")
			}
			return a.apiKey(ctx, vs[0])
		}
	}
	tok, fromHeader, err := a.bearer(r)
	if err != nil {
		return nil, err
	}
	if fromHeader {
		if a.apiKeys != nil && a.apiKeys.Looks(tok) {
			return a.apiKey(ctx, tok)
		}
		return a.clerkToken(ctx, tok)
	}
	if a.sessions != nil {
		if v, ok := cookieValue(r, a.sessions.cookie); ok {
			p, _, err := a.sessions.Verify(v)
			if err != nil {
				return nil, err
			}
			if err := a.checkAppSession(ctx, p); err != nil {
				return nil, err
			}
			return p, nil
		}
	}
	if a.clerk != nil {
		if c, err := r.Cookie(a.cookie); err == nil {
			if c.Value == "" {
				return nil, invalid(ReasonEmptyToken, "empty "+a.cookie+" cookie")
			}
			return a.clerkToken(ctx, c.Value)
		}
	}
	return nil, ErrNoCredentials
}

// apiKey checks an API key: from the cache while the store's version has
// not moved (no revocation, no organization change) and the key has not
// expired; otherwise in full.
func (a *Authenticator) apiKey(ctx context.Context, tok string) (*Principal, error) {
	vs, versioned := a.store.(store.Versioned)
	var ver uint64
	if versioned {
		ver = vs.Version() + 1
		if e := a.apiKeys.cached(tok); e != nil {
			now := a.now().UnixNano()
			if e.checked.Load() == ver && (e.expires == 0 || now < e.expires) {
				e.used.Store(now)
				return e.p, nil
			}
		}
	}
	k, err := a.apiKeys.Verify(ctx, tok)
	if err != nil {
		return nil, err
	}
	p, err := a.checkAPIKey(ctx, k)
	if err != nil {
		return nil, err
	}
	if versioned {
		e := &keyEntry{p: p}
		if !k.Expires.IsZero() {
			e.expires = k.Expires.UnixNano()
		}
		e.checked.Store(ver)
		a.apiKeys.remember(tok, e)
	}
	return p, nil
}

// clerkToken verifies a Clerk session token. With a store, the principal
// also carries the app organization and the person's stored role when both
// are known (a copy: verified principals are shared through the cache).
func (a *Authenticator) clerkToken(ctx context.Context, tok string) (*Principal, error) {
	if a.clerk == nil {
		return nil, invalid(ReasonMalformed, "Bearer token is neither an API key nor a session this app accepts")
	}
	p, err := a.clerk.Verify(ctx, tok)
	if err == nil && a.store == nil && a.clerkRoles != nil {
		return a.withClerkRole(p), nil
	}
	if err != nil || a.store == nil || p.ClerkOrg.ID == "" || p.Email == "" {
		return p, err
	}
	org, err := a.store.OrgByClerkID(ctx, p.ClerkOrg.ID)
	if err != nil {
		return p, nil
	}
	u, err := a.store.UserByEmail(ctx, org.ID, p.Email)
	if err != nil {
		return p, nil
	}
	np := *p
	np.OrgID, np.Role, np.AuthMethod = org.ID, u.Role, MethodSSO
	np.IdPName, _ = claimString(p, a.idpClaim)
	return &np, nil
}

// withClerkRole is p with the app role ClerkRoles gives its Clerk
// organization role (a copy: verified principals are shared).
func (a *Authenticator) withClerkRole(p *Principal) *Principal {
	cr := p.ClerkOrg.Role
	role, ok := a.clerkRoles[cr]
	if !ok {
		if rest, cut := strings.CutPrefix(cr, "org:"); cut {
			role, ok = a.clerkRoles[rest]
		} else if cr != "" {
			role, ok = a.clerkRoles["org:"+cr]
		}
	}
	if !ok || p.ClerkOrg.ID == "" {
		return p
	}
	np := *p
	np.Role = string(role)
	return &np
}

func claimString(p *Principal, name string) (string, bool) {
	var s string
	ok, err := p.Claim(name, &s)
	return s, ok && err == nil
}

// bearer returns the Authorization Bearer token (fromHeader) if any.
func (a *Authenticator) bearer(r *http.Request) (tok string, fromHeader bool, err error) {
	switch hs := r.Header["Authorization"]; len(hs) {
	case 0:
	case 1:
		scheme, tok, _ := strings.Cut(hs[0], " ")
		if strings.EqualFold(scheme, "Bearer") {
			tok = strings.TrimLeft(tok, " ")
			if tok == "" {
				return "", false, invalid(ReasonEmptyToken, "Bearer scheme with no token")
			}
			return tok, true, nil
		}
		// Another scheme (Basic for a proxy, say) is not ours to judge.
	default:
		return "", false, invalid(ReasonAmbiguous, "more than one Authorization header")
	}
	return "", false, nil
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
			a.refuse(w, r, err)
			return
		}
		ctx := WithPrincipal(r.Context(), p)
		if p.Clerk != nil {
			ctx = clerk.ContextWithSessionClaims(ctx, p.Clerk)
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func (a *Authenticator) refuse(w http.ResponseWriter, r *http.Request, err error) {
	a.log.LogAttrs(r.Context(), slog.LevelInfo, "ssokit: request refused",
		slog.String("method", r.Method), slog.String("path", r.URL.Path),
		slog.String("reason", string(ReasonOf(err))), slog.String("err", err.Error()))
	a.onError(w, r, err)
}

// cookieValue finds a cookie's value without parsing every cookie into
// allocations (http.Request.Cookie does): the request path reads one.
func cookieValue(r *http.Request, name string) (string, bool) {
	for _, line := range r.Header["Cookie"] {
		for line != "" {
			var part string
			part, line, _ = strings.Cut(line, ";")
			part = strings.TrimLeft(part, " ")
			if k, v, ok := strings.Cut(part, "="); ok && k == name {
				return strings.Trim(v, `"`), true
			}
		}
	}
	return "", false
}
