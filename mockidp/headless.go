package mockidp

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/ssokit/ssokit/idp"
	"github.com/ssokit/ssokit/mockidp/internal/autopost"
	"github.com/ssokit/ssokit/sso"
)

// LoginReport is the outcome of HeadlessLogin, step by step, with the
// Identity the connector returned when every step passed.
type LoginReport struct {
	// OK reports whether the login went through.
	OK bool `json:"ok"`
	// Steps are in order; the last failed one says where it stopped.
	Steps []idp.CheckStep `json:"steps"`
	// Identity is what the connector returned, when OK.
	Identity *idp.Identity `json:"identity,omitempty"`
}

func (r *LoginReport) step(name string, err error, detail string) bool {
	s := idp.CheckStep{Name: name, OK: err == nil, Detail: detail}
	if err != nil {
		s.Detail = err.Error()
	}
	r.Steps = append(r.Steps, s)
	return err == nil
}

// HeadlessLogin runs a whole login of conn against a mock persona as the
// user loginHint, in process and without a browser: it starts the login
// with conn, follows the redirect to the persona with client, which signs
// the hinted user in without a page, reads the persona's answer and
// finishes the login with conn. It reports each step and the Identity.
//
// The answer is read as a browser would take it, in each OIDC
// response_mode a connector may ask for:
//
//   - query (the default): the redirect back, whose URL conn.Finish gets;
//   - form_post: the IdP's auto-submitting form, whose fields (code,
//     state, id_token, session_state...) conn.Finish gets in a POST to the
//     form's action (an http or https URL), as Browse does;
//   - fragment: a server never sees a URL fragment, so the login stops at
//     "identity provider answered" with an error naming
//     response_mode=fragment (Browse returns the parameters, in a
//     *FragmentResponseError).
//
// For SAML it posts the IdP's SAMLResponse auto-post form to the ACS.
//
// Each request carries what a browser's page load sends
// (NavigationHeaders): the trip to the IdP and back are navigations from
// the app's page (its site is that of the connection's ACS or redirect
// URL), cross-site when the IdP is on another site; a form post (SAML, or
// OIDC form_post) comes from the IdP's page, with its Origin.
//
// It only works against an identity provider that honours login_hint
// without a page, as the mock personas do: a real IdP asks for a
// password, and the report says it stopped at a login page.
func HeadlessLogin(ctx context.Context, conn idp.Connector, client *http.Client, loginHint string) LoginReport {
	var rep LoginReport
	b := *client
	b.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	b.Jar = nil

	start := httptest.NewRecorder()
	err := conn.Start(start, httptest.NewRequest(http.MethodGet, "/sso/start", nil).WithContext(ctx), "/", loginHint)
	if !rep.step("authorization request", err, "redirect to "+trimQuery(start.Header().Get("Location"))) {
		return rep
	}
	cookies := start.Result().Cookies()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, start.Header().Get("Location"), nil)
	if err != nil {
		rep.step("identity provider reached", err, "")
		return rep
	}
	app := appURL(conn.Connection())
	NavigationHeaders(req, FetchSite(app, req.URL), false)
	resp, err := b.Do(req)
	if !rep.step("identity provider reached", err, "") {
		return rep
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	resp.Body.Close()

	var back *http.Request
	switch conn.Connection().Protocol {
	case sso.OIDC:
		loc := resp.Header.Get("Location")
		if action, form, ok := autopost.Form(resp.Request.URL, body); ok && loc == "" && (form.Has("code") || form.Has("error")) {
			// response_mode=form_post: the IdP's page posts the response.
			rep.step("identity provider answered", nil, "authorization response posted to "+trimQuery(action))
			back = httptest.NewRequest(http.MethodPost, action, strings.NewReader(form.Encode()))
			back.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			back.Header.Set("Origin", formOrigin(resp))
			NavigationHeaders(back, FetchSite(resp.Request.URL, back.URL), false)
			break
		}
		if resp.StatusCode != http.StatusFound || loc == "" {
			rep.step("identity provider answered", fmt.Errorf("mockidp: status %d without a redirect back or a form_post form: the IdP shows a login page a headless login cannot fill", resp.StatusCode), "")
			return rep
		}
		next, err := resp.Request.URL.Parse(loc)
		if err == nil {
			err = fragmentResponse(next)
		}
		if err != nil {
			rep.step("identity provider answered", err, "")
			return rep
		}
		rep.step("identity provider answered", nil, "redirect to "+trimQuery(loc))
		back = httptest.NewRequest(http.MethodGet, next.String(), nil)
		NavigationHeaders(back, FetchSite(app, req.URL, back.URL), false)
	case sso.SAML:
		action, form, ok := autopost.Form(resp.Request.URL, body)
		if !ok || form.Get("SAMLResponse") == "" {
			rep.step("identity provider answered", fmt.Errorf("mockidp: status %d without a SAMLResponse form: the IdP shows a login page a headless login cannot fill", resp.StatusCode), "")
			return rep
		}
		rep.step("identity provider answered", nil, "SAMLResponse posted to "+action)
		back = httptest.NewRequest(http.MethodPost, action, strings.NewReader(form.Encode()))
		back.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		back.Header.Set("Origin", formOrigin(resp))
		NavigationHeaders(back, FetchSite(resp.Request.URL, back.URL), false)
	default:
		rep.step("identity provider answered", fmt.Errorf("mockidp: protocol %q", conn.Connection().Protocol), "")
		return rep
	}
	for _, ck := range cookies {
		back.AddCookie(ck)
	}
	id, _, err := conn.Finish(httptest.NewRecorder(), back.WithContext(ctx))
	if !rep.step("response verified", err, "signature, audience, validity, replay and state checked") {
		return rep
	}
	rep.step("identity", nil, fmt.Sprintf("subject %s, email %s, %d groups", id.Subject, id.Email, len(id.Groups)))
	rep.Identity, rep.OK = id, true
	return rep
}

// appURL is where the connection's answers come back: the app's site.
func appURL(c idp.Connection) *url.URL {
	raw := ""
	switch {
	case c.SAML != nil:
		raw = c.SAML.ACSURL
	case c.OIDC != nil:
		raw = c.OIDC.RedirectURL
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil
	}
	return u
}

// trimQuery drops the query of a URL (SAMLRequest, state...) for a report.
func trimQuery(u string) string {
	if pu, err := url.Parse(u); err == nil {
		pu.RawQuery = ""
		return pu.String()
	}
	return u
}
