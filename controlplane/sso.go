package controlplane

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ssokit/ssokit/admission"
	"github.com/ssokit/ssokit/api"
	"github.com/ssokit/ssokit/idp"
	"github.com/ssokit/ssokit/internal/state"
	"github.com/ssokit/ssokit/middleware"
)

// stateCookie holds the nonce that binds an SSO start's state to the
// browser that started it; clerkConnection names the Clerk path in it.
const (
	stateCookie     = "ssokit_sso_state"
	clerkConnection = "clerk"
)

// ssoStart: ?email= (or org=) -> the org's direct IdP connection, or the
// Clerk sign-in, with a signed, browser-bound state.
func (a *API) ssoStart(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	ret, err := state.LocalPath(q.Get("return_to"))
	if err != nil || strings.HasPrefix(ret, testSignInReturn) {
		ret = "/" // only ssoTestStart starts a test sign-in
	}
	email, orgID := strings.TrimSpace(q.Get("email")), q.Get("org")
	if orgID != "" {
		if org, err := a.st.GetOrg(r.Context(), orgID); err == nil && len(org.Connection) > 0 {
			conn, err := a.connector(r.Context(), org)
			if err != nil {
				a.browserFail(w, r, http.StatusBadGateway, codeConnectionError, "the organization's identity provider connection is unusable")
				return
			}
			if err := conn.Start(w, r, ret, email); err != nil {
				a.browserFail(w, r, http.StatusBadGateway, codeConnectionError, "the organization's identity provider connection is unusable")
			}
			return
		}
	}
	if a.cfg.ClerkSignInURL == "" || a.clerk == nil {
		a.browserFail(w, r, http.StatusBadRequest, codeSSOUnavailable, "no SSO path for this request")
		return
	}
	nonce, err := a.state.NewNonce()
	if err != nil {
		a.browserFail(w, r, http.StatusInternalServerError, codeSessionError, "could not start the sign-in")
		return
	}
	st, err := a.state.Encode(state.Payload{ConnectionID: clerkConnection, ReturnTo: ret, Nonce: nonce})
	if err != nil {
		a.browserFail(w, r, http.StatusInternalServerError, codeSessionError, "could not start the sign-in")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: stateCookie, Value: nonce, Path: "/auth/sso/", HttpOnly: true, Secure: a.sessions.SecureCookie(),
		SameSite: http.SameSiteLaxMode, MaxAge: int(a.state.TTL() / time.Second)})
	cb := strings.TrimSuffix(a.cfg.AppURL, "/") + "/auth/sso/callback?" + url.Values{"state": {st}}.Encode()
	v := url.Values{"redirect_url": {cb}}
	if email != "" {
		v.Set("email", email)
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, a.cfg.ClerkSignInURL+"?"+v.Encode(), http.StatusFound)
}

// ssoCallback: the state must be this browser's and fresh (its nonce
// cookie is cleared: one use); then verify the Clerk session, map, admit,
// role, cookie, redirect.
func (a *API) ssoCallback(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("Cache-Control", "no-store")
	q := r.URL.Query()
	nonce := ""
	if cs := r.CookiesNamed(stateCookie); len(cs) == 1 {
		nonce = cs[0].Value
	}
	http.SetCookie(w, &http.Cookie{Name: stateCookie, Value: "", Path: "/auth/sso/", HttpOnly: true, Secure: a.sessions.SecureCookie(),
		SameSite: http.SameSiteLaxMode, MaxAge: -1})
	st, err := a.state.Decode(q.Get("state"), nonce)
	if err == nil && (nonce == "" || st.ConnectionID != clerkConnection) {
		err = state.ErrInvalid
	}
	if err == nil {
		// One use, even if the cookie was copied along with the URL.
		err = a.cfg.ReplayCache.Consume(r.Context(), "sso-state:"+nonce, st.Expires)
	}
	if err != nil {
		a.log.Info("controlplane: SSO callback state refused", "err", err)
		if errors.Is(err, idp.ErrUpstream) {
			a.browserFail(w, r, http.StatusServiceUnavailable, codeUpstream, "the sign-in could not be checked; try again")
			return
		}
		a.browserFail(w, r, http.StatusBadRequest, codeInvalidState, "the sign-in expired or did not start in this browser; start again")
		return
	}
	if a.clerk == nil {
		a.browserFail(w, r, http.StatusBadRequest, codeSSOUnavailable, "Clerk is not configured")
		return
	}
	s, err := a.clerk.Verify(r.Context(), q.Get("session_token"))
	if err != nil {
		a.browserRefuse(w, r, err)
		return
	}
	l, err := a.auth.ClerkLogin(r.Context(), &middleware.Principal{Credential: middleware.CredentialClerkSession, Clerk: s})
	if err != nil {
		a.browserRefuse(w, r, err)
		return
	}
	a.finish(w, r, l, st.ReturnTo)
}

// finish admits an SSO login (Clerk or direct), starts the app session and
// redirects to the return path.
func (a *API) finish(w http.ResponseWriter, r *http.Request, l admission.Login, ret string) {
	person, err := a.admit.Admit(r.Context(), l)
	if err != nil {
		a.browserRefuse(w, r, err)
		return
	}
	if _, err := a.auth.StartSession(w, person); err != nil {
		a.browserFail(w, r, http.StatusInternalServerError, codeSessionError, "could not start the session")
		return
	}
	if ret, err = state.LocalPath(ret); err != nil || ret == "" {
		ret = "/"
	}
	http.Redirect(w, r, ret, http.StatusFound)
}

// identityLogin is the admission.Login of a direct connection's identity.
func identityLogin(orgID string, id *idp.Identity) admission.Login {
	return admission.Login{OrgID: orgID, Email: id.Email, Groups: id.Groups, IdPName: string(id.IdP)}
}

// directFinish is the ACS / OIDC callback of an org's direct connection.
func (a *API) directFinish(w http.ResponseWriter, r *http.Request) {
	org, err := a.st.GetOrg(r.Context(), r.PathValue("org"))
	if err != nil || len(org.Connection) == 0 {
		a.browserFail(w, r, http.StatusNotFound, codeNotFound, "no direct connection for this organization")
		return
	}
	conn, err := a.connector(r.Context(), org)
	if err != nil {
		a.browserFail(w, r, http.StatusBadGateway, codeConnectionError, "the organization's identity provider connection is unusable")
		return
	}
	id, ret, err := conn.Finish(w, r)
	if errors.Is(err, idp.ErrReauthenticate) {
		return // the connector has sent the browser back to the IdP (ForceAuthn)
	}
	if err != nil {
		a.log.Info("controlplane: direct SSO refused", "org", org.ID, "reason", idp.ReasonOf(err), "err", err)
		a.browserFail(w, r, http.StatusUnauthorized, codeSSOFailed, "single sign-on failed")
		return
	}
	if ret == testSignInReturn {
		a.testSignInReport(w, id)
		return
	}
	a.finish(w, r, identityLogin(org.ID, id), ret)
}

// testSignInReturn is the return path that marks a test sign-in. It
// travels inside the connector's signed, browser-bound state, and only
// ssoTestStart puts it there (ssoStart rewrites it), so a sign-in that
// comes back with it was started by an organization admin.
const testSignInReturn = "/.ssokit/sso-test"

// ssoTestStart is GET /v1/organizations/{org}/sso/test/start[?login_hint=]:
// an org admin's browser runs a real sign-in through the org's direct
// connection; the callback then answers with the normalized identity
// (testSignInReport) instead of admitting anyone or starting a session.
func (a *API) ssoTestStart(w http.ResponseWriter, r *http.Request) {
	org, err := a.st.GetOrg(r.Context(), r.PathValue("org"))
	if err != nil || len(org.Connection) == 0 {
		a.browserFail(w, r, http.StatusUnprocessableEntity, codeNoConnection, "the organization has no direct connection to test")
		return
	}
	conn, err := a.connector(r.Context(), org)
	if err == nil {
		err = conn.Start(w, r, testSignInReturn, strings.TrimSpace(r.URL.Query().Get("login_hint")))
	}
	if err != nil {
		a.log.Info("controlplane: test sign-in could not start", "org", org.ID, "err", err)
		a.browserFail(w, r, http.StatusBadGateway, codeConnectionError, "the organization's identity provider connection is unusable")
	}
}

// testSignInReport answers a test sign-in: the identity as the connector
// normalized it, step by step. Nobody is admitted and no session starts.
func (a *API) testSignInReport(w http.ResponseWriter, id *idp.Identity) {
	rep := api.SSOTestReport{Steps: []api.SSOTestStep{{Name: "response", OK: true, Detail: "the identity provider's response verified"}}}
	emailStep := api.SSOTestStep{Name: "email", OK: id.Email != "", Detail: "the identity carries an email"}
	if !emailStep.OK {
		emailStep.Detail = "the identity carries no email: check the connection's attribute mapping"
	}
	groups := api.SSOTestStep{Name: "groups", OK: true, Detail: fmt.Sprintf("%d groups", len(id.Groups))}
	rep.Steps = append(rep.Steps, emailStep, groups)
	rep.OK = emailStep.OK
	rep.Identity = identityOut(*id)
	writeJSON(w, http.StatusOK, rep)
}
