package controlplane

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/ssokit/ssokit/admission"
	"github.com/ssokit/ssokit/api"
	"github.com/ssokit/ssokit/clerkauth"
	"github.com/ssokit/ssokit/idp"
	"github.com/ssokit/ssokit/internal/state"
	"github.com/ssokit/ssokit/middleware"
	"github.com/ssokit/ssokit/store"
)

// clerkConnection names the Clerk path in an SSO state.
const clerkConnection = "clerk"

// ssoStart: ?email= (or org=) -> the org's direct IdP connection, or the
// Clerk sign-in, with a signed, browser-bound state.
func (a *API) ssoStart(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	ret, err := state.LocalPath(q.Get("return_to"))
	if err != nil || strings.HasPrefix(ret, testSignInReturn) {
		ret = "/" // only ssoTestStart starts a test sign-in
	}
	email, orgID := strings.TrimSpace(q.Get("email")), q.Get("org")
	if len(email) > maxEmailHint || strings.ContainsFunc(email, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		a.browserFail(w, r, http.StatusBadRequest, codeInvalidParameter, "the email is too long or malformed")
		return
	}
	if orgID != "" {
		org, err := a.st.GetOrg(r.Context(), orgID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			// An outage, not an organization without a direct
			// connection: its people are not sent down another path.
			a.browserFail(w, r, http.StatusServiceUnavailable, codeUpstream, "the sign-in could not start; try again")
			return
		}
		if err == nil && len(org.Connection) > 0 {
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
	if a.cfg.ClerkSignInURL == "" || a.hs == nil {
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
	a.setStateCookie(w, nonce)
	cb := strings.TrimSuffix(a.cfg.AppURL, "/") + "/auth/sso/callback?" + url.Values{"state": {st}}.Encode()
	v := url.Values{"redirect_url": {cb}}
	if email != "" {
		v.Set("email", email)
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, a.cfg.ClerkSignInURL+"?"+v.Encode(), http.StatusFound)
}

// ssoCallback is where the Clerk sign-in returns. The state must be this
// browser's and fresh; then the Clerk session is resolved the way Clerk's
// backend SDK does on a page load (clerkauth.Handshake: the __session
// cookie when fresh, else a handshake redirect through the Frontend API
// that comes back here with a signed payload). The state is consumed once
// a session is resolved (one use, even if its cookie was copied along with
// the URL): the person is then mapped, admitted, given a role and the
// app's own cookie, and sent to the return path.
func (a *API) ssoCallback(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("Cache-Control", "no-store")
	if a.hs == nil {
		a.browserFail(w, r, http.StatusBadRequest, codeSSOUnavailable, "Clerk is not configured")
		return
	}
	q := r.URL.Query()
	nonce, dup := a.stateNonce(r)
	var st state.Payload
	var err error
	if dup || len(q["state"]) != 1 {
		err = state.ErrInvalid // a tossed second cookie, or two states
	} else if st, err = a.state.Decode(q.Get("state"), nonce); err == nil && (nonce == "" || st.ConnectionID != clerkConnection) {
		err = state.ErrInvalid
	}
	if err != nil {
		a.clearStateCookie(w)
		a.log.Info("controlplane: SSO callback state refused", "err", err)
		a.browserFail(w, r, http.StatusBadRequest, codeInvalidState, "the sign-in expired or did not start in this browser; start again")
		return
	}
	res := a.hs.Authenticate(w, r)
	switch res.Status {
	case clerkauth.Redirect:
		res.WriteRedirect(w) // the state cookie stays for the way back
		return
	case clerkauth.SignedOut:
		a.clearStateCookie(w)
		if res.Err != nil {
			a.browserRefuse(w, r, res.Err)
			return
		}
		a.log.Info("controlplane: SSO callback without a Clerk session", "reason", res.Reason)
		a.browserFail(w, r, http.StatusUnauthorized, codeClerkSignedOut, "Clerk did not sign you in; start again")
		return
	}
	a.clearStateCookie(w)
	if err := a.cfg.ReplayCache.Consume(r.Context(), "sso-state:"+nonce, st.Expires); err != nil {
		a.log.Info("controlplane: SSO callback state reused", "err", err)
		if errors.Is(err, idp.ErrUpstream) {
			a.browserFail(w, r, http.StatusServiceUnavailable, codeUpstream, "the sign-in could not be checked; try again")
			return
		}
		a.browserFail(w, r, http.StatusBadRequest, codeInvalidState, "the sign-in expired or did not start in this browser; start again")
		return
	}
	l, err := a.auth.ClerkLogin(r.Context(), &middleware.Principal{Credential: middleware.CredentialClerkSession, Clerk: res.Session})
	if err != nil {
		a.recordSignIn(r.Context(), signIn{login: &l, err: err})
		a.browserRefuse(w, r, err)
		return
	}
	a.finish(w, r, l, st.ReturnTo, signIn{})
}

// finish admits an SSO login (Clerk or direct), starts the app session and
// redirects to the return path; rec says what is known of the sign-in for
// its record (recordSignIn).
func (a *API) finish(w http.ResponseWriter, r *http.Request, l admission.Login, ret string, rec signIn) {
	person, err := a.admit.Admit(r.Context(), l)
	rec.login, rec.err = &l, err
	if err == nil {
		rec.person = person
	}
	a.recordSignIn(r.Context(), rec)
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
// Its Subject (the OIDC sub, the SAML subject attribute or NameID) is bound
// to the person at the first login, so a later login that carries the same
// email under another subject is refused. A transient NameID names one
// session, not a person: it is not bound.
func identityLogin(orgID string, id *idp.Identity) admission.Login {
	subject := id.Subject
	if subject == id.NameID && id.NameIDFormat == transientNameID {
		subject = ""
	}
	return admission.Login{OrgID: orgID, Email: id.Email, Groups: id.Groups, IdPName: string(id.IdP), Subject: subject}
}

// transientNameID is SAML's one-time NameID format (SAML Core 8.3.8).
const transientNameID = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"

// directFinish is the ACS / OIDC callback of an org's direct connection.
func (a *API) directFinish(w http.ResponseWriter, r *http.Request) {
	org, err := a.st.GetOrg(r.Context(), r.PathValue("org"))
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		a.browserFail(w, r, http.StatusServiceUnavailable, codeUpstream, "the sign-in could not be checked; try again")
		return
	}
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
		// A response without this browser's sign-in state (refused as
		// state or unsolicited) is anyone's post to the ACS: it is not
		// kept in the organization's log, which it could otherwise flood.
		// Nor is any other answer the IdP did not vouch for (a bad
		// signature, a junk code) proof of anything: anyone can start a
		// sign-in for the state and post one. Those are kept, as
		// unverified, in a share of the log of their own.
		reason := idp.ReasonOf(err)
		a.recordSignIn(r.Context(), signIn{orgID: org.ID, id: id, err: err, unverified: !idp.Vouched(err),
			unlogged: reason == idp.ReasonState || reason == idp.ReasonUnsolicited})
	}
	if errors.Is(err, idp.ErrUpstream) {
		a.log.Warn("controlplane: identity provider unreachable", "org", org.ID, "reason", idp.ReasonOf(err), "err", err)
		a.browserFail(w, r, http.StatusServiceUnavailable, codeUpstream, "the identity provider could not be reached; start again")
		return
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
	a.finish(w, r, identityLogin(org.ID, id), ret, signIn{orgID: org.ID, id: id})
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
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		a.browserFail(w, r, http.StatusServiceUnavailable, codeUpstream, "could not read the organization")
		return
	}
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
