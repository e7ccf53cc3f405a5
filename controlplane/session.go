package controlplane

import (
	"net/http"

	clerksession "github.com/clerk/clerk-sdk-go/v2/session"
	"github.com/ssokit/ssokit/api"
	"github.com/ssokit/ssokit/middleware"
	"github.com/ssokit/ssokit/ssoerr"
)

// whoami is GET /v1/auth/whoami. A Clerk session that maps to no person
// of an app organization is refused: it has no app identity to report.
func (a *API) whoami(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	if p.OrgID == "" && !isPlatformAdmin(p) {
		a.refuse(w, r, ssoerr.New(ssoerr.ErrForbidden, ssoerr.ReasonOrgNotMapped, "the Clerk session maps to no person of an app organization"))
		return
	}
	writeJSON(w, http.StatusOK, a.whoamiOf(r.Context(), p))
}

// login is password sign-in: POST /v1/auth/login {org, email, password}.
func (a *API) login(w http.ResponseWriter, r *http.Request) {
	var body api.LoginRequest
	if !decode(w, r, &body) {
		return
	}
	ip := middleware.ClientIP(r, a.cfg.TrustedProxies)
	person, err := a.admit.PasswordLogin(r.Context(), body.Org, body.Email, body.Password, ip)
	a.recordPasswordSignIn(r.Context(), person, err)
	if err != nil {
		a.refuse(w, r, err)
		return
	}
	if _, err := a.auth.StartSession(w, person); err != nil {
		fail(w, http.StatusInternalServerError, codeSessionError, "could not start the session")
		return
	}
	writeJSON(w, http.StatusOK, personOut(person))
}

// logout ends the app session and, when Clerk's Backend API is
// configured, revokes the Clerk session the principal came from.
func (a *API) logout(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	if err := a.auth.Logout(r.Context(), w, p); err != nil {
		fail(w, http.StatusServiceUnavailable, codeUpstream, "could not record the logout")
		return
	}
	a.clearClerkCookies(w)
	if sid := clerkSessionOf(p); sid != "" && a.clerkAPI != nil {
		if _, err := a.clerkAPI.Revoke(r.Context(), &clerksession.RevokeParams{ID: sid}); err != nil {
			a.log.Warn("controlplane: revoking the Clerk session failed", "sid", sid, "err", err)
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

// clerkSessionOf is the Clerk session behind the principal: the csid of
// an app session that began with an SSO sign-in through Clerk, or the sid
// of a Clerk token; "" otherwise.
func clerkSessionOf(p *middleware.Principal) string {
	switch {
	case p.App != nil:
		return p.App.ClerkSID
	case p.Clerk != nil:
		return p.SessionID
	}
	return ""
}
