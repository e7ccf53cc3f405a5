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
