// Package ssoerr is the one error vocabulary of ssokit: a handful of
// sentinel errors that say what class of refusal happened, checked with
// errors.Is, and a typed Reason that names the specific check, read with
// ReasonOf. Every ssokit package that refuses a credential or a login
// returns an *Error built here, so a caller matches the same names whatever
// package refused.
//
// The detail of an *Error is for logs. HTTP layers answer with the class
// (status) and, for the reasons marked public, the reason as a stable code;
// the detail never reaches the client.
//
// The package imports only the standard library.
package ssoerr

import (
	"errors"
	"fmt"
)

// The sentinels. Every *Error unwraps to exactly one of them.
var (
	// ErrNoCredentials means the request carried no credential at all.
	ErrNoCredentials = errors.New("no credentials")
	// ErrInvalidToken means a token, session or key was presented and
	// refused: malformed, wrongly signed, wrongly addressed, unknown,
	// revoked, or failing a claim check.
	ErrInvalidToken = errors.New("invalid token")
	// ErrExpired means a credential that was once valid is past its expiry.
	// Errors wrapping ErrExpired also match ErrInvalidToken.
	ErrExpired = fmt.Errorf("%w: expired", ErrInvalidToken)
	// ErrInvalidCredentials means an email and password did not match an
	// account. It is not an ErrInvalidToken: no token was involved.
	ErrInvalidCredentials = errors.New("invalid credentials")
	// ErrForbidden means the caller is known but not allowed: by role, by
	// the organization's SSO rules or by its plan.
	ErrForbidden = errors.New("forbidden")
	// ErrRateLimited means too many attempts; try again later.
	ErrRateLimited = errors.New("rate limited")
	// ErrUpstream means a dependency needed for the decision (a JWKS
	// endpoint, the Clerk Backend API, a store) did not answer. A refusal
	// of this class is never a verdict on the credential.
	ErrUpstream = errors.New("upstream unavailable")
)

// Reason names the specific check that refused. Reasons are stable strings
// for logs, metrics and tests.
type Reason string

// Reasons about the form and signature of a token.
const (
	ReasonMalformed       Reason = "malformed"             // not three base64url parts, bad JSON, duplicate members, trailing data
	ReasonTooLarge        Reason = "too_large"             // longer than the configured maximum
	ReasonAlgorithm       Reason = "algorithm"             // alg is not the key's algorithm (none, HS256, ...)
	ReasonCritical        Reason = "critical_header"       // a crit header names extensions not implemented
	ReasonType            Reason = "type"                  // typ present and not JWT
	ReasonCategory        Reason = "token_category"        // Clerk's cat header names a JWT template or machine token, not a session
	ReasonMissingKeyID    Reason = "missing_kid"           // no kid header
	ReasonUnknownKeyID    Reason = "unknown_kid"           // kid not in the key set, even after a refresh
	ReasonSignature       Reason = "signature"             // the signature does not verify
	ReasonUnsupportedKey  Reason = "unsupported_key"       // the key for kid is not usable for the algorithm
	ReasonKeysUnavailable Reason = "keys_unavailable"      // the key set could not be fetched (ErrUpstream)
	ReasonEmptyToken      Reason = "empty_token"           // a Bearer scheme, cookie or header with no value
	ReasonAmbiguous       Reason = "ambiguous_request"     // a credential header given twice
	ReasonNumericDate     Reason = "invalid_numeric_date"  // exp, nbf or iat not a sane NumericDate
	ReasonStore           Reason = "store_unavailable"     // the store did not answer (ErrUpstream)
	ReasonClerkAPI        Reason = "clerk_api_unavailable" // the Clerk Backend API did not answer (ErrUpstream)
)

// Reasons about the claims of a token.
const (
	ReasonMissingExpiry    Reason = "missing_exp"      // no exp claim
	ReasonExpired          Reason = "expired"          // exp passed (beyond leeway); ErrExpired
	ReasonNotYetValid      Reason = "not_yet_valid"    // nbf in the future (beyond leeway)
	ReasonIssuedInFuture   Reason = "issued_in_future" // iat in the future (beyond leeway)
	ReasonIssuer           Reason = "issuer"           // iss is not exactly the expected issuer
	ReasonAuthorizedParty  Reason = "authorized_party" // azp missing or not an authorized party
	ReasonMissingSubject   Reason = "missing_sub"      // no sub (or another required identifier)
	ReasonMissingSessionID Reason = "missing_sid"      // no sid claim
	ReasonSessionPending   Reason = "session_pending"  // Clerk sts is pending: sign-in tasks remain
	ReasonSessionStatus    Reason = "session_status"   // Clerk sts is neither active nor pending
	// ReasonClientSignedOut: Clerk's __session cookie came without its
	// __client_uat, or with 0 (the browser's Clerk client signed out), or
	// with a time after the token's iat (it signed in again since).
	ReasonClientSignedOut Reason = "client_signed_out"
)

// Reasons about API keys.
const (
	ReasonUnknownAPIKey Reason = "unknown_api_key" // no key with this hash
	ReasonAPIKeyRevoked Reason = "api_key_revoked" // the key was revoked
	ReasonAPIKeyExpired Reason = "api_key_expired" // the key is past its expiry; ErrExpired
)

// Reasons of the organization's rules. These are public: an HTTP layer may
// send them to the client as the stable error code.
const (
	ReasonOrgNotMapped       Reason = "org_not_mapped"        // no app organization for the Clerk organization
	ReasonDomainNotAllowed   Reason = "domain_not_allowed"    // the email's domain is not an allowed domain
	ReasonUserNotProvisioned Reason = "user_not_provisioned"  // unknown person and auto_create_users off
	ReasonSSORequired        Reason = "sso_required"          // the organization requires SSO
	ReasonPlanNotEntitled    Reason = "plan_not_entitled"     // the plan has no SSO
	ReasonAPIKeyDisabled     Reason = "api_key_auth_disabled" // the organization refuses API keys
	ReasonSessionRevoked     Reason = "session_revoked"       // the session or its user, key or org is gone
	ReasonInvalidCredentials Reason = "invalid_credentials"   // wrong email or password
	ReasonRateLimited        Reason = "rate_limited"          // too many attempts
	ReasonNoEmail            Reason = "email_missing"         // the identity carries no email
	ReasonInvalidEmail       Reason = "email_invalid"         // the email is not one plain address in canonical form
	ReasonSubjectMismatch    Reason = "subject_mismatch"      // the IdP vouches for the email with another subject than the account's
	ReasonRole               Reason = "insufficient_role"     // role below the one required, or lacking a permission
)

// Error is a refusal: the class (Err, one of the sentinels or a cause that
// wraps one), the specific Reason, and Detail for logs.
type Error struct {
	// Reason is the specific check that failed.
	Reason Reason
	// Detail explains the refusal for logs. It may quote the presented
	// credential and must not be sent to the client.
	Detail string
	// Err is the sentinel, or an underlying cause wrapping one.
	Err error
}

// Error formats the class, the reason and the detail.
func (e *Error) Error() string {
	if e.Detail == "" {
		return fmt.Sprintf("%v (%s)", e.Err, e.Reason)
	}
	return fmt.Sprintf("%v (%s): %s", e.Err, e.Reason, e.Detail)
}

// Unwrap returns the sentinel or cause.
func (e *Error) Unwrap() error { return e.Err }

// New returns an *Error of class sentinel for reason r with detail.
func New(sentinel error, r Reason, detail string) error {
	return &Error{Reason: r, Detail: detail, Err: sentinel}
}

// Newf is New with a formatted detail.
func Newf(sentinel error, r Reason, format string, args ...any) error {
	return &Error{Reason: r, Detail: fmt.Sprintf(format, args...), Err: sentinel}
}

// Upstream wraps cause (a store or network failure) as an ErrUpstream
// refusal for reason r. Both the sentinel and cause stay matchable.
func Upstream(r Reason, cause error) error {
	return &Error{Reason: r, Detail: cause.Error(), Err: fmt.Errorf("%w: %w", ErrUpstream, cause)}
}

// ReasonOf returns the Reason carried by err, or "" when err carries none.
func ReasonOf(err error) Reason {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}
