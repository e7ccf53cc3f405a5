package controlplane

import (
	"crypto/subtle"
	"fmt"
	"net/http"
	"strings"

	"github.com/ssokit/ssokit/middleware"
	"github.com/ssokit/ssokit/rbac"
)

// authenticated puts the request's principal in its context, or refuses:
// the bootstrap key (compared in constant time) is a platform
// administrator; anything else goes through the Authenticator.
func (a *API) authenticated(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if k := a.cfg.BootstrapAdminKey; k != "" {
			if scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " "); strings.EqualFold(scheme, "Bearer") &&
				subtle.ConstantTimeCompare([]byte(tok), []byte(k)) == 1 {
				h(w, r.WithContext(middleware.WithPrincipal(r.Context(), &middleware.Principal{UserID: "bootstrap", Role: PlatformAdmin, AuthMethod: middleware.MethodAPIKey})))
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

// platformOnly admits platform administrators only.
func (a *API) platformOnly(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if principal(r).Role != PlatformAdmin {
			a.refuse(w, r, fmt.Errorf("%w: platform administrators only", middleware.ErrForbidden))
			return
		}
		h(w, r)
	}
}

// orgAdmin admits the organization's admins (and platform admins).
func (a *API) orgAdmin(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p := principal(r)
		if p.Role == PlatformAdmin {
			h(w, r)
			return
		}
		if p.OrgID != r.PathValue("org") || !a.auth.Policy().AtLeast(rbac.Role(p.Role), rbac.Admin) {
			a.refuse(w, r, fmt.Errorf("%w: organization admins only", middleware.ErrForbidden))
			return
		}
		h(w, r)
	}
}
