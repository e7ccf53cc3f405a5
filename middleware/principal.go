package middleware

import (
	"context"
	"time"

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

// PrincipalFrom returns the Principal the authenticator stored in ctx.
func PrincipalFrom(ctx context.Context) (*Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(*Principal)
	return p, ok && p != nil
}
