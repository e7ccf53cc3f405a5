package middleware

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/clerk/clerk-sdk-go/v2"
)

// DefaultSessionCookie is the cookie in which Clerk's frontend keeps the
// session token on the application's own domain.
const DefaultSessionCookie = "__session"

// AuthenticatorConfig configures an Authenticator. Clerk is required.
type AuthenticatorConfig struct {
	// Clerk verifies Clerk session tokens. Required.
	Clerk *ClerkVerifier

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
	clerk   *ClerkVerifier
	cookie  string
	onError func(w http.ResponseWriter, r *http.Request, err error)
	log     *slog.Logger
}

// NewAuthenticator validates cfg and returns an Authenticator.
func NewAuthenticator(cfg AuthenticatorConfig) (*Authenticator, error) {
	if cfg.Clerk == nil {
		return nil, errors.New("ssokit: AuthenticatorConfig.Clerk is required")
	}
	a := &Authenticator{clerk: cfg.Clerk, cookie: cfg.SessionCookie, onError: cfg.ErrorHandler, log: cfg.Logger}
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
	tok, err := a.token(r)
	if err != nil {
		return nil, err
	}
	return a.clerk.Verify(r.Context(), tok)
}

func (a *Authenticator) token(r *http.Request) (string, error) {
	switch hs := r.Header["Authorization"]; len(hs) {
	case 0:
	case 1:
		scheme, tok, _ := strings.Cut(hs[0], " ")
		if strings.EqualFold(scheme, "Bearer") {
			tok = strings.TrimLeft(tok, " ")
			if tok == "" {
				return "", invalid(ReasonEmptyToken, "Bearer scheme with no token")
			}
			return tok, nil
		}
		// Another scheme (Basic for a proxy, say) is not ours to judge.
	default:
		return "", invalid(ReasonAmbiguous, "more than one Authorization header")
	}
	c, err := r.Cookie(a.cookie)
	if err != nil {
		return "", ErrNoCredentials
	}
	if c.Value == "" {
		return "", invalid(ReasonEmptyToken, "empty "+a.cookie+" cookie")
	}
	return c.Value, nil
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
