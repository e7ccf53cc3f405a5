package middleware

import (
	"errors"
	"net/http"
)

// The stable error codes of the JSON body {"error": code, "message": text}.
const (
	CodeNoCredentials  = "no_credentials"
	CodeInvalidToken   = "invalid_token"
	CodeTokenExpired   = "token_expired"
	CodeSessionPending = "session_pending"
	CodeForbidden      = "insufficient_scope"
	CodeUpstream       = "upstream_unavailable"
	CodeInternal       = "internal_error"
)

// ErrorResponse is what WriteError would answer for err: the HTTP status,
// the stable code, a generic message, and the RFC 6750 challenge (empty
// when none applies). It never contains err's detail.
type ErrorResponse struct {
	Status    int
	Code      string
	Message   string
	Challenge string
}

// Classify maps a refusal to its response.
func Classify(err error) ErrorResponse {
	const realm = `Bearer realm="ssokit"`
	var pe *PolicyError
	if errors.As(err, &pe) {
		r := ErrorResponse{Status: pe.Status, Code: pe.Code, Message: policyMessages[pe.Code]}
		switch pe.Status {
		case http.StatusUnauthorized:
			r.Challenge = realm + `, error="invalid_token"`
		case http.StatusForbidden:
			r.Challenge = realm + `, error="insufficient_scope"`
		}
		if r.Message == "" {
			r.Message = "not allowed"
		}
		return r
	}
	switch {
	case errors.Is(err, ErrNoCredentials):
		return ErrorResponse{http.StatusUnauthorized, CodeNoCredentials, "authentication required", realm}
	case errors.Is(err, ErrExpired):
		return ErrorResponse{http.StatusUnauthorized, CodeTokenExpired, "the token expired",
			realm + `, error="invalid_token", error_description="the token expired"`}
	case errors.Is(err, ErrInvalidToken) && ReasonOf(err) == ReasonSessionPending:
		return ErrorResponse{http.StatusUnauthorized, CodeSessionPending, "the session has pending sign-in tasks",
			realm + `, error="invalid_token", error_description="the session has pending sign-in tasks"`}
	case errors.Is(err, ErrInvalidToken):
		return ErrorResponse{http.StatusUnauthorized, CodeInvalidToken, "the token is invalid",
			realm + `, error="invalid_token"`}
	case errors.Is(err, ErrForbidden):
		return ErrorResponse{http.StatusForbidden, CodeForbidden, "not allowed",
			realm + `, error="insufficient_scope"`}
	case errors.Is(err, ErrUpstream):
		return ErrorResponse{http.StatusServiceUnavailable, CodeUpstream, "authentication is temporarily unavailable", ""}
	}
	return ErrorResponse{http.StatusInternalServerError, CodeInternal, "internal error", ""}
}

// WriteError answers a refused request per RFC 6750: 401 with a
// WWW-Authenticate Bearer challenge, 403 with insufficient_scope, 503 with
// Retry-After for an upstream outage; the body is JSON with a stable error
// code and a generic message. err's detail is never written.
func WriteError(w http.ResponseWriter, _ *http.Request, err error) {
	resp := Classify(err)
	h := w.Header()
	if resp.Challenge != "" {
		h.Set("WWW-Authenticate", resp.Challenge)
	}
	if resp.Status == http.StatusServiceUnavailable {
		h.Set("Retry-After", "5")
	}
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(resp.Status)
	// Codes and messages are constants without characters JSON escapes.
	_, _ = w.Write([]byte(`{"error":"` + resp.Code + `","message":"` + resp.Message + `"}` + "\n"))
}

// policyMessages are the generic messages of policy codes.
var policyMessages = map[string]string{
	CodeOrgNotMapped:       "this organization is not set up for single sign-on",
	CodeDomainNotAllowed:   "this email domain may not sign in to the organization",
	CodeUserNotProvisioned: "this person has no account in the organization",
	CodeSSORequired:        "this organization requires single sign-on",
	CodePlanNotEntitled:    "single sign-on is not part of the organization's plan",
	CodeAPIKeyDisabled:     "API keys are disabled for this organization",
	CodeSessionRevoked:     "the session has ended",
	CodeInvalidCredentials: "wrong email or password",
	CodeRateLimited:        "too many attempts, try again later",
	CodeNoEmail:            "the identity carries no email",
}
