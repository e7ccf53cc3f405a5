package controlplane

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/ssokit/ssokit/api"
	"github.com/ssokit/ssokit/idp"
	"github.com/ssokit/ssokit/middleware"
)

// ssoStart: ?email= (or org=) -> the org's direct IdP connection, or the
// Clerk sign-in, with a signed return path.
func (a *API) ssoStart(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	ret := localPath(q.Get("return_to"))
	if strings.HasPrefix(ret, testSignInReturn) {
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
	if a.cfg.ClerkSignInURL == "" {
		a.browserFail(w, r, http.StatusBadRequest, codeSSOUnavailable, "no SSO path for this request")
		return
	}
	cb := strings.TrimSuffix(a.cfg.AppURL, "/") + "/auth/sso/callback?" + url.Values{"state": {a.sign(ret + "\x00" + fmt.Sprint(a.now().Unix()))}}.Encode()
	v := url.Values{"redirect_url": {cb}}
	if email != "" {
		v.Set("email", email)
	}
	http.Redirect(w, r, a.cfg.ClerkSignInURL+"?"+v.Encode(), http.StatusFound)
}

// ssoCallback: verify the Clerk token, map, admit, role, cookie, redirect.
func (a *API) ssoCallback(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Referrer-Policy", "no-referrer")
	q := r.URL.Query()
	state, ok := a.unsign(q.Get("state"))
	ret, issued, _ := strings.Cut(state, "\x00")
	var t int64
	fmt.Sscan(issued, &t)
	if !ok || a.now().Unix()-t > 600 {
		a.browserFail(w, r, http.StatusBadRequest, codeInvalidState, "the sign-in expired or did not start here; start again")
		return
	}
	verifier := a.auth.Clerk()
	if verifier == nil {
		a.browserFail(w, r, http.StatusBadRequest, codeSSOUnavailable, "Clerk is not configured")
		return
	}
	p, err := verifier.Verify(r.Context(), q.Get("session_token"))
	if err != nil {
		a.browserRefuse(w, r, err)
		return
	}
	l, err := a.auth.ClerkLogin(r.Context(), p)
	if err != nil {
		a.browserRefuse(w, r, err)
		return
	}
	a.finish(w, r, l, ret)
}

// finish admits an SSO login (Clerk or direct), starts the app session and
// redirects to the return path.
func (a *API) finish(w http.ResponseWriter, r *http.Request, l middleware.SSOLogin, ret string) {
	ap, err := a.auth.Admit(r.Context(), l)
	if err != nil {
		a.browserRefuse(w, r, err)
		return
	}
	if err := a.auth.StartSession(w, ap); err != nil {
		a.browserFail(w, r, http.StatusInternalServerError, codeSessionError, "could not start the session")
		return
	}
	http.Redirect(w, r, localPath(ret), http.StatusFound)
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
	if err != nil {
		a.log.Info("controlplane: direct SSO refused", "org", org.ID, "reason", idp.ReasonOf(err), "err", err)
		a.browserFail(w, r, http.StatusUnauthorized, codeSSOFailed, "single sign-on failed")
		return
	}
	if ret == testSignInReturn {
		a.testSignInReport(w, id)
		return
	}
	a.finish(w, r, middleware.IdentityLogin(org.ID, id), ret)
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
