package middleware

import (
	"errors"
	"fmt"
)

// The sentinel errors every refusal wraps. Match them with errors.Is; the
// detail in the wrapping error is for logs, never for the client.
var (
	// ErrNoCredentials means the request carried no credential at all: no
	// Authorization header with the Bearer scheme and no session cookie.
	ErrNoCredentials = errors.New("ssokit: no credentials")
	// ErrInvalidToken means a credential was present but refused: malformed,
	// wrongly signed, wrongly addressed, or failing a claim check.
	ErrInvalidToken = errors.New("ssokit: invalid token")
	// ErrExpired means a well-signed token is past its exp (beyond the leeway).
	// Errors wrapping ErrExpired also match ErrInvalidToken.
	ErrExpired = fmt.Errorf("%w: expired", ErrInvalidToken)
	// ErrForbidden means the principal is authenticated but not allowed.
	ErrForbidden = errors.New("ssokit: forbidden")
	// ErrUpstream means a dependency needed for the decision (the JWKS
	// endpoint, a store) did not answer; the request is refused with 503.
	ErrUpstream = errors.New("ssokit: upstream unavailable")
)

// Reason names the specific check a token failed. Reasons are stable strings
// meant for logs, metrics and tests; clients only ever see the generic error
// code of the sentinel the reason belongs to.
type Reason string

// The reasons a token is refused.
const (
	ReasonMalformed        Reason = "malformed"            // not three base64url parts, bad JSON, trailing data
	ReasonTooLarge         Reason = "too_large"            // token longer than the configured maximum
	ReasonAlgorithm        Reason = "algorithm"            // alg is not the key's algorithm (none, HS256, ...)
	ReasonCritical         Reason = "critical_header"      // a crit header names extensions we do not implement
	ReasonType             Reason = "type"                 // typ present and not JWT
	ReasonMissingKeyID     Reason = "missing_kid"          // no kid header
	ReasonUnknownKeyID     Reason = "unknown_kid"          // kid not in the key set, even after a refresh
	ReasonSignature        Reason = "signature"            // the signature does not verify
	ReasonMissingExpiry    Reason = "missing_exp"          // no exp claim
	ReasonExpired          Reason = "expired"              // exp passed (beyond leeway)
	ReasonNotYetValid      Reason = "not_yet_valid"        // nbf in the future (beyond leeway)
	ReasonIssuedInFuture   Reason = "issued_in_future"     // iat in the future (beyond leeway)
	ReasonIssuer           Reason = "issuer"               // iss is not exactly the expected issuer
	ReasonAuthorizedParty  Reason = "authorized_party"     // azp missing or not an authorized party
	ReasonMissingSubject   Reason = "missing_sub"          // no sub claim
	ReasonMissingSessionID Reason = "missing_sid"          // no sid claim
	ReasonSessionPending   Reason = "session_pending"      // sts is pending: sign-in tasks remain
	ReasonSessionStatus    Reason = "session_status"       // sts is neither active nor pending
	ReasonKeysUnavailable  Reason = "keys_unavailable"     // the key set could not be fetched
	ReasonEmptyToken       Reason = "empty_token"          // a Bearer scheme or cookie with no token
	ReasonAmbiguous        Reason = "ambiguous_request"    // several Authorization headers
	ReasonUnsupportedKey   Reason = "unsupported_key"      // the key for kid is not usable for RS256
	ReasonNumericDate      Reason = "invalid_numeric_date" // exp, nbf or iat not a sane NumericDate
)

// TokenError is the error a refused token produces. It unwraps to one of the
// sentinels (ErrInvalidToken, ErrExpired or ErrUpstream) so callers that only
// care about the class use errors.Is; tests and logs read Reason.
type TokenError struct {
	// Reason is the specific check that failed.
	Reason Reason
	// Detail is a human-readable explanation for logs. It may quote parts
	// of the token and must not be sent to the client.
	Detail string
	// Err is the sentinel (or an underlying cause wrapping one).
	Err error
}

func (e *TokenError) Error() string {
	if e.Detail == "" {
		return fmt.Sprintf("%v (%s)", e.Err, e.Reason)
	}
	return fmt.Sprintf("%v (%s): %s", e.Err, e.Reason, e.Detail)
}

// Unwrap returns the sentinel or cause.
func (e *TokenError) Unwrap() error { return e.Err }

// ReasonOf returns the Reason carried by err, or "" when err carries none.
func ReasonOf(err error) Reason {
	var te *TokenError
	if errors.As(err, &te) {
		return te.Reason
	}
	return ""
}

func invalid(r Reason, detail string) error {
	return &TokenError{Reason: r, Detail: detail, Err: ErrInvalidToken}
}

func invalidf(r Reason, format string, args ...any) error {
	return &TokenError{Reason: r, Detail: fmt.Sprintf(format, args...), Err: ErrInvalidToken}
}
