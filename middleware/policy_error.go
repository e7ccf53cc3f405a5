package middleware

import (
	"errors"
	"fmt"
	"net/http"
)

// The stable codes of policy refusals (403 unless noted).
const (
	CodeOrgNotMapped       = "org_not_mapped"
	CodeDomainNotAllowed   = "domain_not_allowed"
	CodeUserNotProvisioned = "user_not_provisioned"
	CodeSSORequired        = "sso_required" // 401 for a session, 403 for a password login
	CodePlanNotEntitled    = "plan_not_entitled"
	CodeAPIKeyDisabled     = "api_key_auth_disabled"
	CodeSessionRevoked     = "session_revoked" // 401
	CodeInvalidCredentials = "invalid_credentials"
	CodeRateLimited        = "rate_limited" // 429
	CodeNoEmail            = "email_missing"
)

// PolicyError is a refusal by the organization's rules rather than by the
// credential's validity. It unwraps to ErrForbidden (or ErrInvalidToken for
// a session that no longer counts) and carries the stable code and status.
type PolicyError struct {
	Code   string
	Status int
	Detail string
	Err    error
}

func (e *PolicyError) Error() string { return fmt.Sprintf("%v (%s): %s", e.Err, e.Code, e.Detail) }

// Unwrap returns the sentinel.
func (e *PolicyError) Unwrap() error { return e.Err }

func forbid(code, format string, args ...any) error {
	return &PolicyError{Code: code, Status: http.StatusForbidden, Detail: fmt.Sprintf(format, args...), Err: ErrForbidden}
}

func unauthorized(code, format string, args ...any) error {
	return &PolicyError{Code: code, Status: http.StatusUnauthorized, Detail: fmt.Sprintf(format, args...), Err: ErrInvalidToken}
}

// CodeOf returns the stable code a refusal answers with.
func CodeOf(err error) string {
	var pe *PolicyError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return Classify(err).Code
}
