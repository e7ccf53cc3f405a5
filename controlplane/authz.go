package controlplane

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"

	"github.com/ssokit/ssokit/middleware"
	"github.com/ssokit/ssokit/rbac"
	"github.com/ssokit/ssokit/ssoerr"
)

// platformAdmin is the principal of the bootstrap key: its own credential
// kind, member of no organization and holding no organization role.
var platformAdmin = &middleware.Principal{Credential: middleware.CredentialPlatformAdmin}

// authenticated puts the request's principal in its context, or refuses:
// the bootstrap key (compared in constant time) is the platform
// administrator; anything else goes through the Authenticator.
func (a *API) authenticated(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if k := a.cfg.BootstrapAdminKey; k != "" {
			if scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " "); strings.EqualFold(scheme, "Bearer") &&
				subtle.ConstantTimeCompare([]byte(tok), []byte(k)) == 1 {
				h(w, r.WithContext(middleware.WithPrincipal(r.Context(), platformAdmin)))
				return
			}
		}
		p, err := a.auth.Authenticate(r)
		if err != nil {
			a.refuse(w, r, err)
			return
		}
		h(w, r.WithContext(middleware.WithPrincipal(r.Context(), p)))
	})
}

// principal is the request's principal; only handlers behind
// authenticated call it.
func principal(r *http.Request) *middleware.Principal {
	p, _ := middleware.PrincipalFrom(r.Context())
	return p
}

func isPlatformAdmin(p *middleware.Principal) bool {
	return p != nil && p.Credential == middleware.CredentialPlatformAdmin
}

// platformOnly admits the platform administrator only.
func (a *API) platformOnly(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !isPlatformAdmin(principal(r)) {
			a.refuse(w, r, ssoerr.New(ssoerr.ErrForbidden, ssoerr.ReasonRole, "platform administrator only"))
			return
		}
		h(w, r)
	}
}

// orgAdmin admits the organization's admins, and the platform
// administrator.
func (a *API) orgAdmin(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p := principal(r)
		if isPlatformAdmin(p) {
			h(w, r)
			return
		}
		if p.OrgID != r.PathValue("org") || !a.auth.Policy().AtLeast(rbac.Role(p.Role), rbac.Admin) {
			a.refuse(w, r, ssoerr.New(ssoerr.ErrForbidden, ssoerr.ReasonRole, "organization admins only"))
			return
		}
		h(w, r)
	}
}

// mayGrant reports whether the request's principal may give role to
// someone (a person, an API key, a settings rule): the platform
// administrator may give any role, anyone else only roles ranked at most
// as high as their own, so an admin cannot mint an owner.
func (a *API) mayGrant(r *http.Request, role string) bool {
	p := principal(r)
	return isPlatformAdmin(p) || a.auth.Policy().AtLeast(rbac.Role(p.Role), rbac.Role(role))
}

// errGrantAbove: a settings write would give, change or remove a role
// ranked above the caller's.
var errGrantAbove = errors.New("controlplane: a role ranked above the caller's")

// errClerkOrgLink: an organization admin's settings name a Clerk
// organization other than the stored one.
var errClerkOrgLink = errors.New("controlplane: only the platform admin links a Clerk organization")

// refuseGrant answers 403 forbidden for a role mayGrant refused.
func (a *API) refuseGrant(w http.ResponseWriter, r *http.Request) {
	a.refuse(w, r, ssoerr.New(ssoerr.ErrForbidden, ssoerr.ReasonRole, "a role ranked above your own cannot be given, nor a person ranked above you changed"))
}
