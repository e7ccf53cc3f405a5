package middleware

import (
	"errors"
	"net/http"

	"github.com/ssokit/ssokit/ssoerr"
)

// The stable error codes of the JSON body {"error": code, "message": text}
// for refusals that carry no public reason.
const (
	CodeNoCredentials      = "no_credentials"
	CodeInvalidToken       = "invalid_token"
	CodeTokenExpired       = "token_expired"
	CodeSessionPending     = "session_pending"
	CodeForbidden          = "insufficient_scope"
	CodeInvalidCredentials = "invalid_credentials"
	CodeRateLimited        = "rate_limited"
	CodeUpstream           = "upstream_unavailable"
	CodeInternal           = "internal_error"
)

// publicReasons are the reasons sent to the client as the error code, with
// their generic message: refusals by the organization's rules, which the
// person or their administrator can act on. Every other reason is logged
// and answered with its class's code.
var publicReasons = map[ssoerr.Reason]string{
	ssoerr.ReasonOrgNotMapped:       "this organization is not set up for single sign-on",
	ssoerr.ReasonDomainNotAllowed:   "this email domain may not sign in to the organization",
	ssoerr.ReasonUserNotProvisioned: "this person has no account in the organization",
	ssoerr.ReasonSSORequired:        "this organization requires single sign-on",
	ssoerr.ReasonPlanNotEntitled:    "single sign-on is not part of the organization's plan",
	ssoerr.ReasonAPIKeyDisabled:     "API keys are disabled for this organization",
	ssoerr.ReasonSessionRevoked:     "the session has ended",
	ssoerr.ReasonNoEmail:            "the identity carries no email",
	ssoerr.ReasonInvalidEmail:       "the email is not one plain address in canonical form",
	ssoerr.ReasonSubjectMismatch:    "the identity provider vouches for this email with another identity than the account's",
}

// PublicCodes lists every code Classify can answer with, for documentation
// and tests.
func PublicCodes() []string {
	codes := []string{CodeNoCredentials, CodeInvalidToken, CodeTokenExpired, CodeSessionPending, CodeForbidden,
		CodeInvalidCredentials, CodeRateLimited, CodeUpstream, CodeInternal}
	for r := range publicReasons {
		codes = append(codes, string(r))
	}
	return codes
}

// ErrorResponse is what WriteError answers for err: the HTTP status, the
// stable code, a generic message, and the RFC 6750 challenge (empty when
// none applies). It never contains err's detail.
type ErrorResponse struct {
	Status    int
	Code      string
	Message   string
	Challenge string
}

const realm = `Bearer realm="ssokit"`

// Classify maps a refusal to its response: the status from the sentinel
// (ssoerr.ErrNoCredentials, ErrInvalidToken and ErrInvalidCredentials 401,
// ErrForbidden 403, ErrRateLimited 429, ErrUpstream 503, anything else 500),
// the code from a public reason or else the sentinel.
func Classify(err error) ErrorResponse {
	r := classClassify(err)
	if msg, ok := publicReasons[ssoerr.ReasonOf(err)]; ok && r.Status != http.StatusServiceUnavailable && r.Status != http.StatusInternalServerError {
		r.Code, r.Message = string(ssoerr.ReasonOf(err)), msg
		if r.Status == http.StatusUnauthorized {
			r.Challenge = realm + `, error="invalid_token"`
		}
	}
	return r
}

func classClassify(err error) ErrorResponse {
	switch {
	case errors.Is(err, ssoerr.ErrNoCredentials):
		return ErrorResponse{http.StatusUnauthorized, CodeNoCredentials, "authentication required", realm}
	case errors.Is(err, ssoerr.ErrExpired):
		return ErrorResponse{http.StatusUnauthorized, CodeTokenExpired, "the token expired",
			realm + `, error="invalid_token", error_description="the token expired"`}
	case errors.Is(err, ssoerr.ErrInvalidToken) && ssoerr.ReasonOf(err) == ssoerr.ReasonSessionPending:
		return ErrorResponse{http.StatusUnauthorized, CodeSessionPending, "the session has pending sign-in tasks",
			realm + `, error="invalid_token", error_description="the session has pending sign-in tasks"`}
	case errors.Is(err, ssoerr.ErrInvalidToken):
		return ErrorResponse{http.StatusUnauthorized, CodeInvalidToken, "the token is invalid", realm + `, error="invalid_token"`}
	case errors.Is(err, ssoerr.ErrInvalidCredentials):
		// No Bearer challenge: an email and password are not a Bearer token.
		return ErrorResponse{http.StatusUnauthorized, CodeInvalidCredentials, "wrong email or password", ""}
	case errors.Is(err, ssoerr.ErrForbidden):
		return ErrorResponse{http.StatusForbidden, CodeForbidden, "not allowed", realm + `, error="insufficient_scope"`}
	case errors.Is(err, ssoerr.ErrRateLimited):
		return ErrorResponse{http.StatusTooManyRequests, CodeRateLimited, "too many attempts, try again later", ""}
	case errors.Is(err, ssoerr.ErrUpstream):
		return ErrorResponse{http.StatusServiceUnavailable, CodeUpstream, "authentication is temporarily unavailable", ""}
	}
	return ErrorResponse{http.StatusInternalServerError, CodeInternal, "internal error", ""}
}

// WriteError answers a refused request per RFC 6750: 401 with a
// WWW-Authenticate Bearer challenge, 403 with insufficient_scope, 429 and
// 503 with Retry-After; the body is JSON with a stable error code and a
// generic message. err's detail is never written.
func WriteError(w http.ResponseWriter, _ *http.Request, err error) {
	resp := Classify(err)
	h := w.Header()
	if resp.Challenge != "" {
		h.Set("WWW-Authenticate", resp.Challenge)
	}
	switch resp.Status {
	case http.StatusServiceUnavailable:
		h.Set("Retry-After", "5")
	case http.StatusTooManyRequests:
		h.Set("Retry-After", "60")
	}
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(resp.Status)
	// Codes and messages are constants without characters JSON escapes.
	_, _ = w.Write([]byte(`{"error":"` + resp.Code + `","message":"` + resp.Message + `"}` + "\n"))
}
