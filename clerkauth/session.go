package clerkauth

import (
	"encoding/json"
	"time"

	"github.com/clerk/clerk-sdk-go/v2"
)

// Session is a verified Clerk session token. Values handed out by a
// Verifier are shared between requests (the token cache returns the same
// *Session for the same token): treat them as read-only.
type Session struct {
	// UserID is the Clerk user ID (sub); SessionID the Clerk session (sid).
	UserID, SessionID string
	// Email is the email claim when the token carries one (Clerk's default
	// session token does not; a customized one often does).
	Email string
	// Org is the active Clerk organization; its ID is empty when the
	// session has none.
	Org Org
	// Issuer is the token's iss; AuthorizedParty its azp.
	Issuer, AuthorizedParty string
	// IssuedAt and ExpiresAt come from iat (zero when absent) and exp.
	IssuedAt, ExpiresAt time.Time
	// Claims is the token decoded into the Clerk SDK's own claim type, with
	// v2 organization claims mapped to the v1 fields, so the SDK's helpers
	// (HasPermission, HasRole) work.
	Claims *clerk.SessionClaims
	// RawClaims is the verified JSON payload, for custom claims.
	RawClaims json.RawMessage
}

// Org is the active organization of a Clerk session.
type Org struct {
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
func (s *Session) Claim(name string, v any) (bool, error) {
	if len(s.RawClaims) == 0 {
		return false, nil
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(s.RawClaims, &all); err != nil {
		return false, err
	}
	raw, ok := all[name]
	if !ok {
		return false, nil
	}
	return true, json.Unmarshal(raw, v)
}
