package middleware

import (
	"context"
	"encoding/json"
	"sync/atomic"
	"time"

	"github.com/clerk/clerk-sdk-go/v2"
)

// Credential names the kind of credential a Principal was built from.
type Credential string

// The credentials ssokit accepts.
const (
	// CredentialClerkSession is a Clerk session token, from the
	// Authorization header or Clerk's __session cookie.
	CredentialClerkSession Credential = "clerk_session"
)

// Principal is the authenticated caller of a request. Values handed out by
// a verifier may be shared between requests (the token cache returns the
// same *Principal for the same token): treat them as read-only.
type Principal struct {
	// Credential is the kind of credential that authenticated the request.
	Credential Credential
	// UserID is the Clerk user ID (the token's sub).
	UserID string
	// SessionID is the Clerk session ID (sid).
	SessionID string
	// Email is the email address when the token carries one (Clerk's
	// default session token does not; a customized one often does).
	Email string
	// ClerkOrg is the active Clerk organization; its ID is empty when the
	// session has no active organization.
	ClerkOrg ClerkOrg
	// Issuer is the token's iss; AuthorizedParty its azp.
	Issuer, AuthorizedParty string
	// IssuedAt and ExpiresAt come from iat (zero when absent) and exp.
	IssuedAt, ExpiresAt time.Time
	// Clerk is the token decoded into the Clerk SDK's own claim type, with
	// v2 organization claims already mapped to the v1 fields, so helpers
	// such as HasPermission and HasRole work. Nil for other credentials.
	Clerk *clerk.SessionClaims
	// RawClaims is the verified JSON payload, for custom claims.
	RawClaims json.RawMessage

	// The app's view, once the person is admitted to an app organization
	// (app sessions and API keys carry it; a bare Clerk token does not):
	// OrgID, Role, AuthMethod (sso, password, api_key) and IdPName (okta,
	// azure_ad, ...).
	OrgID, Role, AuthMethod, IdPName string
	// APIKeyID names the API key of an api_key principal.
	APIKeyID string

	app *AppClaims
	// checked is the store version (+1) at which the checks that can end
	// an app session or API key early last passed; shared with the cache.
	checked *atomic.Uint64
}

// ClerkOrg is the active organization of a Clerk session.
type ClerkOrg struct {
	// ID is the organization ID (org_...), Slug its slug.
	ID, Slug string
	// Role is the member's role, always with Clerk's "org:" prefix
	// (v2 tokens carry it without; it is added).
	Role string
	// Permissions are "org:<feature>:<permission>" strings.
	Permissions []string
}

// Claim decodes the custom claim name from the verified payload into v. It
// reports false when the claim is absent and an error when it does not
// decode into v.
func (p *Principal) Claim(name string, v any) (bool, error) {
	if len(p.RawClaims) == 0 {
		return false, nil
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(p.RawClaims, &all); err != nil {
		return false, err
	}
	raw, ok := all[name]
	if !ok {
		return false, nil
	}
	return true, json.Unmarshal(raw, v)
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
