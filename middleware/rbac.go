package middleware

import (
	"net/http"

	"github.com/ssokit/ssokit/rbac"
	"github.com/ssokit/ssokit/ssoerr"
)

// Allowed reports whether p holds at least role r in the policy's ranking.
// A principal of another kind than an organization member (the platform
// administrator) holds no organization role.
func (a *Authenticator) Allowed(p *Principal, r rbac.Role) error {
	if p == nil || p.Role == "" || !a.policy.AtLeast(rbac.Role(p.Role), r) {
		return ssoerr.Newf(ssoerr.ErrForbidden, ssoerr.ReasonRole, "role %q is below %q", roleOf(p), r)
	}
	return nil
}

// Permitted reports whether p's role grants perm.
func (a *Authenticator) Permitted(p *Principal, perm rbac.Permission) error {
	if p == nil || p.Role == "" || !a.policy.Allowed(rbac.Role(p.Role), perm) {
		return ssoerr.Newf(ssoerr.ErrForbidden, ssoerr.ReasonRole, "role %q lacks %q", roleOf(p), perm)
	}
	return nil
}

// RequireRole returns middleware answering 403 insufficient_scope unless
// the request's principal (set by Handler) has at least role r.
func (a *Authenticator) RequireRole(r rbac.Role) func(http.Handler) http.Handler {
	return a.require(func(p *Principal) error { return a.Allowed(p, r) })
}

// RequirePermission returns middleware answering 403 insufficient_scope
// unless the principal's role grants perm.
func (a *Authenticator) RequirePermission(perm rbac.Permission) func(http.Handler) http.Handler {
	return a.require(func(p *Principal) error { return a.Permitted(p, perm) })
}

func (a *Authenticator) require(check func(*Principal) error) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			p, _ := PrincipalFrom(req.Context())
			if err := check(p); err != nil {
				a.Refuse(w, req, err)
				return
			}
			next.ServeHTTP(w, req)
		})
	}
}

func roleOf(p *Principal) string {
	if p == nil {
		return ""
	}
	return p.Role
}
