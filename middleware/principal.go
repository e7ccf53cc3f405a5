package middleware

import (
	"context"
	"time"

	clerk "github.com/clerk/clerk-sdk-go/v2"
	"github.com/ssokit/ssokit/appsession"
	"github.com/ssokit/ssokit/clerkauth"
)

// Credential names the kind of credential a Principal was built from.
type Credential string

// The credentials ssokit accepts.
const (
	// CredentialClerkSession is a Clerk session token, from the
	// Authorization header or Clerk's __session cookie.
	CredentialClerkSession Credential = "clerk_session"
	// CredentialAppSession is the app's own session token, from its cookie.
	CredentialAppSession Credential = "app_session"
	// CredentialAPIKey is an agent API key.
	CredentialAPIKey Credential = "api_key"
	// CredentialPlatformAdmin is the operator of the whole deployment (the
	// control plane's bootstrap key): not a member of any organization and
	// not a role in any organization's role namespace.
	CredentialPlatformAdmin Credential = "platform_admin"
)

// Principal is the authenticated caller of a request. Values handed out by
// the Authenticator are shared between requests that present the same
// credential (they are cached): treat them as read-only.
type Principal struct {
	// Credential is the kind of credential that authenticated the request.
	Credential Credential
	// UserID is the app user's ID. It is empty when the credential names no
	// app user: an API key, the platform administrator, or a Clerk token
	// whose person is not (yet) an app user.
	UserID string
	// Email is the person's address, when known.
	Email string
	// OrgID is the app organization and Role the caller's role in it; both
	// empty for a Clerk token not mapped to an app organization (Role may
	// then come from AuthenticatorConfig.ClerkRoles).
	OrgID, Role string
	// AuthMethod is sso, password or api_key; IdPName the identity provider
	// of an SSO sign-in (okta, azure_ad, ...), when known.
	AuthMethod, IdPName string
	// SessionID is the app session's ID (jti) for an app session, the Clerk
	// session ID (sid) for a Clerk token.
	SessionID string
	// ClerkUserID is the Clerk user (sub of a Clerk token, or recorded at an
	// SSO sign-in through Clerk).
	ClerkUserID string
	// APIKeyID names the API key of an api_key principal.
	APIKeyID string
	// ClerkOrg is the active Clerk organization of a Clerk token.
	ClerkOrg clerkauth.Org
	// IssuedAt and ExpiresAt bound the credential (zero when it has none).
	IssuedAt, ExpiresAt time.Time
	// Clerk is the verified Clerk session of a Clerk token (nil otherwise),
	// with the Clerk SDK's claims and the raw payload for custom claims.
	Clerk *clerkauth.Session
	// App is the verified app session of an app session (nil otherwise).
	App *appsession.Claims
}

type principalKey struct{}

// WithPrincipal returns a copy of ctx carrying p.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// requestContext is the context Handler gives the next handler: the
// principal and, for a Clerk session, the session claims where
// clerk.SessionClaimsFromContext finds them, in one allocation where
// WithPrincipal and clerk.ContextWithSessionClaims would make two.
type requestContext struct {
	context.Context
	p      *Principal
	claims *clerk.SessionClaims // nil unless the credential was a Clerk session
}

// Value answers the principal's key and clerk-sdk-go's session-claims key,
// and asks the parent for any other.
func (c *requestContext) Value(key any) any {
	if key == (principalKey{}) {
		return c.p
	}
	if c.claims != nil && isClerkClaimsKey(key) {
		return c.claims
	}
	return c.Context.Value(key)
}

// clerkProbe holds probeClaims under clerk-sdk-go's session-claims key,
// which the SDK keeps unexported: a key is the SDK's exactly when
// clerkProbe answers it with probeClaims.
var (
	probeClaims = new(clerk.SessionClaims)
	clerkProbe  = clerk.ContextWithSessionClaims(context.Background(), probeClaims)
)

func isClerkClaimsKey(key any) bool {
	v, _ := clerkProbe.Value(key).(*clerk.SessionClaims)
	return v == probeClaims
}

// withRequest returns ctx carrying p, and p's Clerk session claims for
// clerk.SessionClaimsFromContext.
func withRequest(ctx context.Context, p *Principal) context.Context {
	c := &requestContext{Context: ctx, p: p}
	if p.Clerk != nil {
		c.claims = p.Clerk.Claims
	}
	return c
}

// PrincipalFrom returns the Principal the authenticator stored in ctx.
func PrincipalFrom(ctx context.Context) (*Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(*Principal)
	return p, ok && p != nil
}
