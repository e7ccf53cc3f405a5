package appsession

import (
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Claims are the app session token's claims. Issue sets Issuer, IssuedAt,
// Expires and ID; the caller sets the rest.
type Claims struct {
	// Subject is the app user's ID.
	Subject string `json:"sub"`
	// OrgID is the app organization; Role the person's role in it.
	OrgID string `json:"org_id"`
	Role  string `json:"role"`
	// AuthMethod is how the person signed in: sso or password.
	AuthMethod string `json:"auth_method"`
	// IdPName is the identity provider of an SSO sign-in (okta, ...).
	IdPName string `json:"idp_name,omitempty"`
	// Email is the person's email address.
	Email string `json:"email,omitempty"`
	// ClerkSID is the Clerk session behind an SSO sign-in through Clerk.
	ClerkSID string `json:"csid,omitempty"`
	// Issuer is the iss: Config.Issuer.
	Issuer string `json:"iss"`
	// IssuedAt and Expires are iat and exp, in Unix seconds.
	IssuedAt int64 `json:"iat"`
	Expires  int64 `json:"exp"`
	// ID is the jti, unique per session: revocation names it.
	ID string `json:"jti"`
}

// IssuedTime is IssuedAt as a time.
func (c *Claims) IssuedTime() time.Time { return time.Unix(c.IssuedAt, 0) }

// ExpiresTime is Expires as a time.
func (c *Claims) ExpiresTime() time.Time { return time.Unix(c.Expires, 0) }

// The jwt.Claims interface, through which golang-jwt validates the times
// and the issuer.

// GetExpirationTime implements jwt.Claims.
func (c *Claims) GetExpirationTime() (*jwt.NumericDate, error) { return numericDate(c.Expires), nil }

// GetIssuedAt implements jwt.Claims.
func (c *Claims) GetIssuedAt() (*jwt.NumericDate, error) { return numericDate(c.IssuedAt), nil }

// GetNotBefore implements jwt.Claims: app sessions have no nbf.
func (c *Claims) GetNotBefore() (*jwt.NumericDate, error) { return nil, nil }

// GetIssuer implements jwt.Claims.
func (c *Claims) GetIssuer() (string, error) { return c.Issuer, nil }

// GetSubject implements jwt.Claims.
func (c *Claims) GetSubject() (string, error) { return c.Subject, nil }

// GetAudience implements jwt.Claims: app sessions have no aud.
func (c *Claims) GetAudience() (jwt.ClaimStrings, error) { return nil, nil }

func numericDate(unix int64) *jwt.NumericDate {
	if unix == 0 {
		return nil
	}
	return jwt.NewNumericDate(time.Unix(unix, 0))
}
